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
  const COLORS = ['#1f6feb', '#e36209', '#2da44e', '#8250df', '#bf3989', '#0a7ea4', '#9a6700', '#57606a'];

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
        setStatus('Installing ' + fmtNum(m.percent) + ' %');
        break;
      case 'progress': onProgress(m); break;
      case 'benchmark': onBenchmark(m); break;
      case 'plan': onPlan(m); break;
      case 'prompt': onPrompt(m); break;
      case 'answered': closePrompt(m.id); break;
      case 'log': appendLog(m.line); break;
      case 'result': onResult(m); break;
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
    finished = false;
    started = false;
    startSent = false;
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
    validateVessels(m).then(() => {
      if (document.body.dataset.stage === 'before' && valid) $('percent').focus();
    });
  }

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
    const body = $('vessels').tBodies[0];
    body.textContent = '';
    res.vessels.forEach((v, i) => {
      const tr = body.insertRow();
      cell(tr, 'v' + (i + 1));
      cell(tr, v.percent + ' %', 'num');
      cell(tr, v.owner, 'key').title = v.owner;
      cell(tr, String(v.users.length), 'num').title = v.users.join('\n');
    });
    $('vessels').hidden = !valid;
    const list = $('vessel-error-list');
    list.textContent = '';
    for (const e of res.errors) {
      const li = document.createElement('li');
      li.textContent = (e.line ? 'line ' + e.line + ': ' : '') + e.message;
      list.appendChild(li);
    }
    $('vessel-errors').hidden = valid;
    $('start-form').hidden = !valid;
    applyRole();
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
    if (role !== 'control') return;
    if (send({ type: 'start', percent: p.value })) {
      startSent = true;
      $('install').disabled = true;
      setStatus('Starting…');
    }
  });

  // ---- during ---------------------------------------------------------

  function onProgress(m) {
    if (document.body.dataset.stage === 'before') { started = true; stage('during'); }
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
      cell(tr, r.label).title = r.name;
      cell(tr, fmt(r.value, r.unit), 'num');
      const how = tr.insertCell();
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
    const legend = $('legend');
    legend.textContent = '';
    m.vessels.forEach((v, i) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = COLORS[i % COLORS.length];
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

    const chart = $('chart');
    chart.textContent = '';
    m.resources.forEach((r, k) => {
      if (!(r.donated > 0)) return;
      const row = document.createElement('div');
      row.className = 'chart-row';
      const lab = document.createElement('span');
      lab.className = 'label';
      lab.textContent = r.label;
      lab.title = r.label + ' (' + r.name + ')';
      const total = document.createElement('span');
      total.className = 'total';
      total.textContent = fmt(r.donated, r.unit);
      total.title = 'donated ' + fmt(r.donated, r.unit) + ' of ' + fmt(r.maximum, r.unit);
      row.append(lab, bars(m.vessels, k, r), total);
      chart.appendChild(row);
    });
    $('plan').hidden = false;
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
    svg.setAttribute('aria-label', r.label + ': ' + vessels.map((v, i) => v.name + ' ' + fmt(parts[i], r.unit)).join(', '));
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
    vessels.forEach((v, i) => rect(parts[i] * scale, COLORS[i % COLORS.length], v.name + ': ' + fmt(parts[i], r.unit)));
    rect(1000 - x, '#c9d1db', 'cost of running the vessels: ' + fmt(Math.max(0, r.donated - given), r.unit));
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
    const view = role !== 'control';
    document.body.dataset.role = role;
    $('percent').disabled = view;
    $('install').disabled = view || !valid || startSent;
    $('quit').disabled = view;
    $('cancel').disabled = view;
    $('prompt-choices').querySelectorAll('button').forEach((b) => { b.disabled = view; });
    $('prompt-watching').hidden = !view;
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

  function onResult(m) {
    finished = true;
    closePrompt(openPrompt);
    closeHandover();
    $('watching').hidden = true;
    document.body.dataset.result = m.ok ? 'ok' : 'failed';
    if (m.ok) setOverall(1);
    if (m.ok) $('phase').textContent = 'All steps done';
    stage('after');
    $('after-title').textContent = m.ok ? 'Installed' : 'The install did not finish';
    $('summary-message').textContent = m.message;
    // What became of the node: running, start at boot, how to uninstall.
    const nodeList = $('node-summary');
    nodeList.replaceChildren(...(m.node || []).map((line) => {
      const li = document.createElement('li');
      li.textContent = line;
      return li;
    }));
    nodeList.hidden = !(m.node && m.node.length);
    const n = m.vessels.length;
    $('vessels-created-label').textContent = 'Vessels';
    $('vessels-created').textContent = m.ok ? n + ' created: ' + m.vessels.join(', ') : 'none created';
    $('state-path').textContent = m.dir || '(none)';
    $('state-path').title = m.dir || '';
    $('log-path').textContent = m.log || '(none)';
    $('log-path').title = m.log || '';
    document.querySelector('#after .paths').hidden = !m.dir && !m.log;
    $('after-hint').textContent = m.ok
      ? 'You can close this window. Thank you for donating to Seattle!'
      : (m.log ? 'Please send the log file above, together with the vesselinfo file, to whoever gave you this installer.' : '');
    setStatus(m.ok ? 'Installed' : 'Not installed');
    if (!m.ok && $('log').textContent) $('log-box').open = true;
    $('after-title').focus();
  }

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

  // fmt shows a value in its unit: SI prefixes for bytes (1 MB = 10^6 B,
  // as the node manager counts), cores to three decimals.
  function fmt(v, unit) {
    if (unit === 'cores') return fmtNum(v) + (v === 1 ? ' core' : ' cores');
    if (unit === 'bytes' || unit === 'bytes/s') {
      const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
      let i = 0;
      while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
      const s = (i === 0 || v >= 100 ? Math.round(v) : Math.round(v * 10) / 10) + ' ' + units[i];
      return unit === 'bytes/s' ? s + '/s' : s;
    }
    return Math.round(v).toLocaleString('en-US');
  }

  connect();
  loadValidator().catch(() => {}); // start fetching while the hello is on its way
})();
