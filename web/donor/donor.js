// The donor page. It talks to the installer over the bridge (see package
// bridge): every host message has a seq, and after a dropped connection the
// page resumes with ?since=SEQ. The page keeps no state the host does not
// send: a reload replays all.
//
// Credentials: the address holds either the session's secret (#SECRET, the
// address the installer prints) or a one-time launch token (#launch=TOKEN,
// what it gives a browser it starts, or its window), which the installer
// exchanges for the secret once. The page keeps the secret, and the key that
// gives control back after a reload, in sessionStorage (this tab only) and
// takes them out of the address bar.
//
// One page controls the install; any other only watches, and may ask for
// control, which the page in control must grant.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const store = {
    get: (k) => { try { return sessionStorage.getItem(k) || ''; } catch (e) { return ''; } },
    set: (k, v) => { try { if (v) sessionStorage.setItem(k, v); else sessionStorage.removeItem(k); } catch (e) { /* private mode: no reload shortcut */ } },
  };
  let secret = store.get('seattle.secret');
  let launch = '';
  {
    const frag = location.hash.slice(1);
    if (frag.startsWith('launch=')) {
      if (!secret) launch = frag.slice('launch='.length); // else: this tab spent it already
    } else if (frag) {
      secret = frag;
      store.set('seattle.secret', secret);
    }
    if (frag) history.replaceState(null, '', location.pathname + location.search);
  }
  let role = '';           // 'control' or 'view', as the host said
  let asking = false;      // this page asked for control
  let startSent = false;   // Install was pressed and sent
  let handoverID = 0;      // the request for control on screen
  const PHASES = {
    vesselinfo: 'Reading the vessel list',
    benchmark: 'Measuring this computer',
    check: 'Checking the measurements',
    plan: 'Working out the donation',
    write: 'Creating the vessels',
    log: 'Saving the install log',
  };
  // The vessels' colours are --vessel-1 … --vessel-N of common.css, the
  // stylesheet the builder's page loads too, so a vessel has the same
  // colour on both (TestPagesShareOneStylesheet). Read once the stylesheet
  // is in (it is before deferred scripts run).
  let palette = [];
  function vesselColour(i) {
    if (!palette.length) {
      const cs = getComputedStyle(document.documentElement);
      for (let n = 1, c; (c = cs.getPropertyValue('--vessel-' + n).trim()); n++) palette.push(c);
    }
    return palette.length ? palette[i % palette.length] : 'currentColor';
  }

  // Messages to this page only: not kept by the host, their seq is the
  // last kept one, so they never move the resume point.
  const ONE_PAGE = { error: true, role: true, session: true, 'takeover-asked': true, 'takeover-ended': true };

  let ws = null;
  let since = 0;           // seq of the last host message handled
  let valid = false;       // vesselinfo passed the WebAssembly validator
  let finished = false;    // a result arrived
  let retry = 250;         // reconnect delay, ms
  let openPrompt = null;   // id of the question on screen
  let started = false;     // the host accepted start: there is progress to show
  let hello = null;        // the hello: the vesselinfo text, the mode
  let review = null;       // the review: maximums, offcut, failures
  let view = null;         // the plan on screen (seattlePlan), for the percentage shown

  // ---- the connection -------------------------------------------------

  function connect() {
    if (!secret && !launch) {
      setStatus('No secret in the address');
      banner('This page must be opened from the address the installer printed (it ends in #…).');
      return;
    }
    setStatus(since ? 'Reconnecting…' : 'Connecting to the installer…');
    const protocols = ['seattle.bridge.v1', secret ? 'secret.' + secret : 'launch.' + launch];
    const key = store.get('seattle.control');
    if (key) protocols.push('control.' + key);
    const sock = new WebSocket('ws://' + location.host + '/bridge?since=' + since, protocols);
    const byLaunch = !secret;
    let opened = false;
    ws = sock;
    sock.onopen = () => { opened = true; retry = 250; setStatus('Connected'); hideBanner(); };
    sock.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (err) { console.error('bridge: not JSON', e.data); return; }
      if (!ONE_PAGE[m.type]) {
        if (typeof m.seq !== 'number' || m.seq <= since) return; // already handled
        since = m.seq;
      }
      try { handle(m); } catch (err) { console.error('bridge: handling', m.type, err); }
    };
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null;
      if (byLaunch && !opened && !secret) {
        // The installer refuses a launch address it has seen before.
        setStatus('This address was used already');
        banner('This address opens the installer only once, and it has been used. Open the address the installer printed in its terminal (the line that starts with UI:).');
      } else if (e.code === 4002 || finished) {
        if (!finished) {
          setStatus('The installer has ended');
          banner('The installer has ended.');
        }
      } else if (e.code === 1009) {
        setStatus('Disconnected');
        banner('The installer closed the connection: a message was too large.', 'Reconnect', () => { hideBanner(); connect(); });
      } else {
        setStatus('Connection lost; retrying…');
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 4000);
        if (retry >= 2000) banner('Cannot reach the installer. Is it still running?');
      }
    };
  }

  function send(msg) {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      banner('Not connected to the installer; try again in a moment.');
      return false;
    }
    ws.send(JSON.stringify(msg));
    return true;
  }

  function handle(m) {
    switch (m.type) {
      case 'session':
        secret = m.secret;
        launch = '';
        store.set('seattle.secret', secret);
        break;
      case 'role': onRole(m); break;
      case 'takeover-asked': onTakeoverAsked(m); break;
      case 'takeover-ended': if (m.id === handoverID) closeHandover(); break;
      case 'hello': onHello(m); break;
      case 'started':
        started = true;
        stage('during');
        $('percent').value = fmtNum(m.percent);
        setStatus('Installing: you give ' + fmtNum(m.percent) + ' % of this computer');
        break;
      case 'progress': onProgress(m); break;
      case 'benchmark': onBenchmark(m); break;
      case 'plan': onPlan(m); break;
      case 'prompt': onPrompt(m); break;
      case 'answered': closePrompt(m.id); break;
      case 'log': appendLog(m.line); break;
      case 'result': onResult(m); break;
      case 'review': onReview(m); break;
      case 'uninstalled': onUninstalled(m); break;
      case 'error': banner('The installer said: ' + m.message); break;
      default: console.warn('bridge: unknown message', m.type);
    }
  }

  // ---- before ---------------------------------------------------------

  function onHello(m) {
    if (m.version !== 1) {
      banner('This page does not speak the installer\u2019s protocol version ' + m.version + '.');
      return;
    }
    // A replay from the start: forget what an earlier session drew.
    hello = m;
    review = null;
    view = null;
    finished = false;
    started = false;
    startSent = false;
    $('start-form').hidden = true;
    $('measuring').hidden = false;
    $('installed-note').hidden = true;
    $('review-problem').hidden = true;
    setMeasured(0);
    $('resource-rows').textContent = '';
    $('chart').textContent = '';
    $('legend').textContent = '';
    $('log').textContent = '';
    $('measured').hidden = $('plan').hidden = $('log-box').hidden = true;
    document.body.removeAttribute('data-result');
    $('dir').textContent = m.dir;
    $('dir').title = m.dir;
    $('percent').value = fmtNum(m.percent || 10);
    stage('before');
    validateVessels(m);
  }

  // ---- the review -----------------------------------------------------

  function setMeasured(f) {
    const pct = Math.max(0, Math.min(100, Math.round((f || 0) * 100)));
    $('mfill').style.width = pct + '%';
    $('mbar').setAttribute('aria-valuenow', String(pct));
    $('moverall').textContent = pct + '%';
  }

  // onReview shows what the donor would give: measured (or safe
  // defaults), then worked out for the percentage chosen.
  function onReview(m) {
    review = m;
    finished = false;
    started = false;
    startSent = false;
    document.body.removeAttribute('data-result');
    stage('before');
    $('measuring').hidden = true;
    $('installed-dir').textContent = hello ? hello.dir : '';
    $('installed-note').hidden = !m.installed;
    $('review-problem').textContent = m.problem;
    $('review-problem').hidden = !m.problem;
    const fl = $('review-failure-list');
    fl.textContent = '';
    for (const f of m.failures) {
      const r = m.resources.find((x) => x.name === f.resource);
      const li = document.createElement('li');
      li.textContent = (r ? r.label + ': ' + r.text + ' at most' : f.resource);
      fl.appendChild(li);
    }
    $('review-failures').hidden = m.failures.length === 0;
    $('install').textContent = m.failures.length ? 'Install with safe defaults' : 'Install';
    $('percent').value = fmtNum(m.percent || 10);
    $('start-form').hidden = !valid || !!m.problem;
    updatePreview();
    applyRole();
    if (valid && !m.problem && role === 'control') $('percent-range').focus();
  }

  // updatePreview works the plan out for the percentage in the field with
  // the install's own plan code (seattlePlan, WebAssembly) and shows it.
  async function updatePreview() {
    if (!review || !hello || review.problem) return;
    const p = parsePercent($('percent').value);
    if (p.error) { showView(null, p.error); return; }
    $('percent-range').value = String(Math.max(1, Math.min(100, Math.round(p.value))));
    try {
      await loadValidator();
      const v = window.seattlePlan(hello.vesselinfo, review.maximums, review.offcut, p.value);
      showView(v, v.ok ? '' : v.problem);
    } catch (err) {
      console.error('plan', err);
      showView(null, 'The plan could not be worked out in this page.');
    }
  }

  function showView(v, problem) {
    view = v && v.ok ? v : null;
    document.body.dataset.plan = view ? 'ok' : 'none';
    $('percent-error').textContent = problem || '';
    if (problem) $('percent').setAttribute('aria-invalid', 'true'); else $('percent').removeAttribute('aria-invalid');
    $('give').textContent = view ? 'You give ' + view.headline + ', and limits on the rest below.' : '';
    drawPlan($('review-legend'), $('review-chart'), view);
    const dl = $('resource-words');
    dl.textContent = '';
    if (view) {
      for (const r of view.resources) {
        const dt = document.createElement('dt');
        dt.textContent = r.label + ': ' + r.donatedText;
        const dd = document.createElement('dd');
        dd.textContent = r.explain;
        dl.append(dt, dd);
      }
      fillVessels(view.vessels);
    }
    applyRole();
  }

  $('percent-range').addEventListener('input', () => {
    $('percent').value = $('percent-range').value;
    updatePreview();
  });

  let validator = null;
  function loadValidator() {
    if (!validator) {
      validator = (async () => {
        const go = new Go(); // from /wasm_exec.js
        const r = await WebAssembly.instantiateStreaming(fetch('/validator.wasm'), go.importObject);
        go.run(r.instance); // registers seattleValidateVesselinfo, then waits
        for (let i = 0; i < 100 && typeof window.seattleValidateVesselinfo !== 'function'; i++) {
          await new Promise((ok) => setTimeout(ok, 10));
        }
        if (typeof window.seattleValidateVesselinfo !== 'function') throw new Error('the validator did not start');
        return window.seattleValidateVesselinfo;
      })();
    }
    return validator;
  }

  async function validateVessels(m) {
    let res;
    try {
      const validate = await loadValidator();
      res = validate(m.vesselinfo);
    } catch (err) {
      // The host validated too (m.vessels, m.problem); show that, and say so.
      console.error('validator', err);
      res = { valid: !m.problem, vessels: m.vessels, errors: m.problem ? [{ line: 0, message: m.problem }] : [] };
    }
    if (m.problem && res.valid) {
      res = { valid: false, vessels: [], errors: [{ line: 0, message: m.problem }] };
    }
    valid = res.valid;
    document.body.dataset.vessels = valid ? 'valid' : 'invalid';
    fillVessels(res.vessels.map((v, i) => ({ name: 'v' + (i + 1), percent: v.percent, owner: v.owner, fingerprint: fingerprint(v.owner), users: v.users.length })));
    $('vessels').hidden = !valid;
    if (!valid) $('measuring').hidden = true;
    const list = $('vessel-error-list');
    list.textContent = '';
    for (const e of res.errors) {
      const li = document.createElement('li');
      li.textContent = (e.line ? 'line ' + e.line + ': ' : '') + e.message;
      list.appendChild(li);
    }
    $('vessel-errors').hidden = valid;
    $('start-form').hidden = !valid || !review || !!review.problem;
    applyRole();
  }

  // fillVessels lists the vessels: each owner key as a short fingerprint,
  // the whole key on demand.
  function fillVessels(vessels) {
    const body = $('vessels').tBodies[0];
    body.textContent = '';
    vessels.forEach((v, i) => {
      const tr = body.insertRow();
      const name = cell(tr, '', 'name');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = vesselColour(i);
      name.append(sw, document.createTextNode(' ' + v.name));
      cell(tr, v.percent + ' %', 'num');
      const key = cell(tr, '', 'key');
      const d = document.createElement('details');
      const sum = document.createElement('summary');
      sum.textContent = v.fingerprint;
      sum.setAttribute('aria-label', 'Owner key ' + v.fingerprint + ': show the whole key');
      const full = document.createElement('code');
      full.className = 'wrap';
      full.textContent = v.owner;
      d.append(sum, full);
      key.appendChild(d);
      cell(tr, String(v.users), 'num');
      tr.cells[0].dataset.label = 'Vessel';
      tr.cells[1].dataset.label = 'Part of the donation';
      tr.cells[2].dataset.label = 'Owner';
      tr.cells[3].dataset.label = 'Users';
    });
  }

  // fingerprint shortens a key "e n" to n's first and last four digits, as
  // the installer's plan does.
  function fingerprint(key) {
    const n = key.slice(key.lastIndexOf(' ') + 1);
    return n.length <= 9 ? n : n.slice(0, 4) + '\u2026' + n.slice(-4);
  }

  function cell(tr, text, cls) {
    const td = tr.insertCell();
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  // parsePercent follows the CLI: a number in (0, 100].
  function parsePercent(text) {
    const t = text.trim().replace(/%$/, '').trim();
    // The decimal forms Go's ParseFloat takes, as --percent does.
    if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(t)) return { error: 'Give a number, such as 10.' };
    const p = Number(t);
    if (!(p > 0) || p > 100) return { error: 'Give a number above 0 and at most 100.' };
    return { value: p };
  }

  $('percent').addEventListener('input', () => {
    $('percent').removeAttribute('aria-invalid');
    $('percent-error').textContent = '';
    updatePreview();
  });

  $('start-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!valid || document.body.dataset.stage !== 'before') return;
    const p = parsePercent($('percent').value);
    if (p.error) {
      $('percent').setAttribute('aria-invalid', 'true');
      $('percent-error').textContent = p.error;
      $('percent').focus();
      return;
    }
    if (role !== 'control' || !review || review.problem || typeof window.seattlePlan !== 'function') return;
    // The plan for exactly this percentage, worked out now: what Install
    // writes is what the page shows.
    const v = window.seattlePlan(hello.vesselinfo, review.maximums, review.offcut, p.value);
    showView(v, v.ok ? '' : v.problem);
    if (!v.ok) return;
    // defaults: the donor saw the failed measurements above and the
    // defaults used instead; the installer does not ask again.
    if (send({ type: 'start', percent: p.value, defaults: !!(review && review.failures.length) })) {
      startSent = true;
      $('install').disabled = true;
      setStatus('Starting…');
    }
  });

  // ---- during ---------------------------------------------------------

  function onProgress(m) {
    if (m.phase === 'uninstall') { stage('during'); $('during-title').textContent = 'Uninstalling'; $('phase').textContent = 'Removing the install…'; $('cancel').hidden = true; return; }
    if (!started && !startSent) {
      // Before Install: the measuring, for the review.
      if (m.phase === 'benchmark') setMeasured(m.fraction);
      return;
    }
    if (document.body.dataset.stage !== 'during') { started = true; stage('during'); }
    if (!m.phase) return; // the last event only says the install ended; the result tells how
    setOverall(m.overall);
    let text = PHASES[m.phase] || m.phase;
    if (m.state === 'failed') text += ' failed';
    if (m.detail && m.detail.toLowerCase() !== text.toLowerCase()) text += ': ' + m.detail;
    $('phase').textContent = text;
    $('phase').title = text;
    document.body.dataset.phase = m.phase || '';
  }

  function setOverall(f) {
    const pct = Math.max(0, Math.min(100, Math.round((f || 0) * 100)));
    $('fill').style.width = pct + '%';
    $('bar').setAttribute('aria-valuenow', String(pct));
    $('overall').textContent = pct + '%';
  }

  $('quit').addEventListener('click', () => {
    if (send({ type: 'cancel' })) $('quit').disabled = true;
  });

  $('cancel').addEventListener('click', () => {
    if (send({ type: 'cancel' })) {
      $('cancel').disabled = true;
      $('phase').textContent = 'Cancelling…';
    }
  });

  function onBenchmark(m) {
    const rows = $('resource-rows');
    rows.textContent = '';
    for (const r of m.resources) {
      const tr = rows.insertRow();
      cell(tr, r.label).title = r.explain;
      cell(tr, r.text, 'num');
      const how = tr.insertCell();
      tr.cells[0].dataset.label = 'Resource';
      tr.cells[1].dataset.label = 'Maximum';
      how.dataset.label = 'Source';
      const tag = document.createElement('span');
      if (r.failed) {
        tag.className = 'tag failed';
        tag.textContent = 'failed: default';
        const f = m.failures.find((x) => x.resource === r.name);
        if (f) tag.title = f.error;
      } else if (r.measured) {
        tag.className = 'tag';
        tag.textContent = 'measured';
      } else {
        tag.className = 'tag default';
        tag.textContent = 'default';
      }
      how.appendChild(tag);
    }
    $('measured').hidden = false;
  }

  function onPrompt(m) {
    const d = $('prompt');
    openPrompt = m.id;
    $('prompt-question').textContent = m.question;
    const fl = $('prompt-failures');
    fl.textContent = '';
    const rows = $('resource-rows').querySelectorAll('.tag.failed');
    rows.forEach((tag) => {
      const li = document.createElement('li');
      li.textContent = tag.closest('tr').cells[0].textContent + ': ' + (tag.title || 'failed');
      fl.appendChild(li);
    });
    const box = $('prompt-choices');
    box.textContent = '';
    m.choices.forEach((c, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label(c);
      b.dataset.choice = c;
      b.disabled = role !== 'control';
      if (i === 0) b.className = 'primary';
      b.addEventListener('click', () => {
        if (send({ type: 'answer', id: m.id, choice: c })) {
          box.querySelectorAll('button').forEach((x) => { x.disabled = true; });
        }
      });
      box.appendChild(b);
    });
    $('prompt-watching').hidden = role === 'control';
    if (!d.open) d.showModal();
    const first = box.querySelector('button');
    if (first) first.focus();
  }

  // Escape must not leave the question unanswered and the install waiting.
  $('prompt').addEventListener('cancel', (e) => e.preventDefault());

  function closePrompt(id) {
    if (openPrompt !== id) return;
    openPrompt = null;
    if ($('prompt').open) $('prompt').close();
  }

  function label(choice) {
    const words = { continue: 'Continue with safe defaults', cancel: 'Cancel the install', yes: 'Yes', no: 'No' };
    return words[choice] || choice;
  }

  function onPlan(m) {
    drawPlan($('legend'), $('chart'), m);
    $('plan').hidden = false;
  }

  // drawPlan draws the split of a plan among the vessels: a legend and a
  // stacked bar per resource.
  function drawPlan(legend, chart, m) {
    legend.textContent = '';
    chart.textContent = '';
    if (!m) return;
    m.vessels.forEach((v, i) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = vesselColour(i);
      const name = document.createElement('span');
      name.textContent = v.name + ' (' + v.percent + ' %)';
      li.append(sw, name);
      legend.appendChild(li);
    });
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = '#c9d1db';
    li.append(sw, document.createTextNode('cost of running them'));
    legend.appendChild(li);

    m.resources.forEach((r, k) => {
      if (!(r.donated > 0)) return;
      const row = document.createElement('div');
      row.className = 'chart-row';
      const lab = document.createElement('span');
      lab.className = 'label';
      lab.textContent = r.label;
      lab.title = r.explain || r.label;
      const total = document.createElement('span');
      total.className = 'total';
      total.textContent = r.donatedText;
      total.title = 'you give ' + r.donatedText + ' of ' + r.maximumText;
      row.append(lab, bars(m.vessels, k, r), total);
      chart.appendChild(row);
    });
  }

  const SVG = 'http://www.w3.org/2000/svg';
  // bars draws one stacked bar: each vessel's part of resource k, then the
  // rest of the donation (the per-vessel cost and rounding) in grey.
  function bars(vessels, k, r) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 1000 20');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    const parts = vessels.map((v) => v.values[k]);
    const given = parts.reduce((a, b) => a + b, 0);
    svg.setAttribute('aria-label', r.label + ': ' + vessels.map((v) => v.name + ' ' + v.texts[k]).join(', '));
    let x = 0;
    const scale = 1000 / Math.max(r.donated, given);
    const rect = (w, color, title) => {
      const el = document.createElementNS(SVG, 'rect');
      el.setAttribute('x', String(x));
      el.setAttribute('y', '0');
      el.setAttribute('width', String(Math.max(0, w)));
      el.setAttribute('height', '20');
      el.setAttribute('fill', color);
      const t = document.createElementNS(SVG, 'title');
      t.textContent = title;
      el.appendChild(t);
      svg.appendChild(el);
      x += w;
    };
    vessels.forEach((v, i) => rect(parts[i] * scale, vesselColour(i), v.name + ': ' + v.texts[k]));
    rect(1000 - x, '#c9d1db', 'the cost of running the vessels');
    return svg;
  }

  function appendLog(line) {
    const log = $('log');
    log.textContent += line + '\n';
    $('log-box').hidden = false;
  }

  // ---- who controls ---------------------------------------------------

  function onRole(m) {
    const was = role;
    role = m.role;
    if (role === 'control') {
      store.set('seattle.control', m.key || '');
      asking = false;
      $('watching').hidden = true;
      if (m.note) banner(m.note);
      else if (was === 'view') hideBanner();
    } else {
      store.set('seattle.control', '');
      asking = false;
      closeHandover();
      $('watching-text').textContent = m.note || 'Another window controls this install. You can watch it here.';
      $('takeover').disabled = $('prompt-takeover').disabled = false;
      $('watching').hidden = finished;
    }
    applyRole();
  }

  // applyRole lets the controls act only in the page in control; the
  // installer refuses what a watching page sends anyway.
  function applyRole() {
    const watching = role !== 'control';
    document.body.dataset.role = role;
    $('percent').disabled = watching;
    $('install').disabled = watching || !valid || startSent || !view;
    $('percent-range').disabled = watching;
    $('close-before').disabled = watching;
    $('uninstall-first').disabled = watching;
    $('quit').disabled = watching;
    $('cancel').disabled = watching;
    $('prompt-choices').querySelectorAll('button').forEach((b) => { b.disabled = watching; });
    $('prompt-watching').hidden = !watching;
  }

  function requestControl() {
    if (asking || !send({ type: 'takeover' })) return;
    asking = true;
    $('takeover').disabled = $('prompt-takeover').disabled = true;
    $('watching-text').textContent = 'Asking the window that controls the install. Agree there to continue here.';
  }
  $('takeover').addEventListener('click', requestControl);
  $('prompt-takeover').addEventListener('click', requestControl);

  function onTakeoverAsked(m) {
    handoverID = m.id;
    const d = $('handover');
    if (!d.open) d.showModal();
    $('handover-keep').focus();
  }

  function answerHandover(allow) {
    if (!handoverID) return;
    send({ type: 'handover', id: handoverID, allow: allow });
    closeHandover();
  }

  function closeHandover() {
    handoverID = 0;
    if ($('handover').open) $('handover').close();
  }

  $('handover-allow').addEventListener('click', () => answerHandover(true));
  $('handover-keep').addEventListener('click', () => answerHandover(false));
  // Escape keeps control here, as the safe answer.
  $('handover').addEventListener('cancel', (e) => { e.preventDefault(); answerHandover(false); });

  // ---- after ----------------------------------------------------------

  const ACTIONS = {
    close: 'Close',
    'try-again': 'Try again',
    'open-log': 'Open the log',
    'open-folder': 'Open the folder',
    uninstall: 'Uninstall',
  };

  function onResult(m) {
    finished = true;
    closePrompt(openPrompt);
    closeHandover();
    $('watching').hidden = true;
    // ok, neutral (the donor's choice, or nothing changed) or failed
    document.body.dataset.result = m.tone || (m.ok ? 'ok' : 'failed');
    if (m.ok) setOverall(1);
    if (m.ok) $('phase').textContent = 'All steps done';
    if (m.tone === 'neutral') $('phase').textContent = 'Stopped';
    stage('after');
    $('after-title').textContent = m.title;
    $('summary-message').textContent = m.message;
    // What became of the node: running, start at boot, how to uninstall.
    const nodeList = $('node-summary');
    nodeList.replaceChildren(...(m.node || []).map((line) => {
      const li = document.createElement('li');
      li.textContent = line;
      return li;
    }));
    nodeList.hidden = !(m.node && m.node.length);
    details(m.details);
    $('after-next').textContent = m.next || '';
    const n = m.vessels.length;
    $('vessels-created-label').textContent = 'Vessels';
    $('vessels-created').textContent = m.ok ? n + ' created: ' + m.vessels.join(', ') : 'none created';
    $('state-path').textContent = m.dir || '(none)';
    $('log-path').textContent = m.log || '(none)';
    document.querySelector('#after .paths').hidden = !m.dir && !m.log;
    actions(m.actions);
    setStatus(m.ok ? 'Installed' : 'Not installed');
    if (m.tone === 'failed' && $('log').textContent) $('log-box').open = true;
    $('after-title').focus();
  }

  // onUninstalled shows how an Uninstall went.
  function onUninstalled(m) {
    finished = true;
    document.body.dataset.result = m.ok ? 'ok' : 'failed';
    stage('after');
    $('during').hidden = true;
    $('after-title').textContent = m.title;
    $('summary-message').textContent = m.message;
    details([]);
    $('node-summary').hidden = true;
    $('after-next').textContent = m.next || '';
    document.querySelector('#after .paths').hidden = true;
    actions(m.actions);
    setStatus(m.title);
    $('after-title').focus();
  }

  function details(list) {
    const ul = $('summary-details');
    ul.textContent = '';
    for (const d of list || []) {
      const li = document.createElement('li');
      li.textContent = d;
      ul.appendChild(li);
    }
    ul.hidden = !ul.children.length;
  }

  // actions offers the next steps as buttons. In a browser the installer
  // has ended with the result, so there is nothing left to ask it.
  function actions(list) {
    const box = $('after-actions');
    box.textContent = '';
    const browser = hello && hello.mode !== 'webview';
    $('after-hint').textContent = browser ? 'The installer has ended; you can close this tab.' : '';
    if (browser) return;
    (list || []).forEach((a, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = ACTIONS[a] || a;
      b.dataset.action = a;
      if (i === 0) b.className = 'primary';
      b.disabled = role !== 'control';
      box.appendChild(b);
    });
  }

  // Every button with a data-action asks the installer for it.
  document.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-action]');
    if (!b || role !== 'control') return;
    const a = b.dataset.action;
    if (a === 'close' && hello && hello.mode !== 'webview' && !finished) {
      // A browser tab cannot close itself: the installer stops, nothing written.
      if (send({ type: 'cancel' })) b.disabled = true;
      return;
    }
    if (send({ type: 'act', action: a })) {
      if (a === 'uninstall' || a === 'try-again' || a === 'close') b.disabled = true;
    }
  });

  // ---- helpers --------------------------------------------------------

  function stage(s) {
    document.body.dataset.stage = s;
    $('before').hidden = s !== 'before';
    $('during').hidden = !(s === 'during' || (s === 'after' && started));
    $('after').hidden = s !== 'after';
    $('cancel').hidden = s !== 'during';
    $('cancel').disabled = role !== 'control';
    if (s === 'during') $('during-title').textContent = 'Installing';
    if (s === 'after') $('during-title').textContent = 'Progress';
  }

  function setStatus(t) { $('status').textContent = t; }

  function banner(text, action, onAction) {
    $('banner-text').textContent = text;
    const b = $('banner-action');
    b.hidden = !action;
    if (action) {
      b.textContent = action;
      b.onclick = onAction;
    }
    $('banner').hidden = false;
  }
  function hideBanner() { $('banner').hidden = true; }

  function fmtNum(x) {
    if (Number.isInteger(x)) return String(x);
    return String(Math.round(x * 1000) / 1000);
  }

  connect();
  loadValidator().catch(() => {}); // start fetching while the hello is on its way
})();
