// The installer builder's page. The WebAssembly validator (the same Go code
// the installer runs) checks the text on every change; nothing is sent to the
// server until it says the file is valid. No framework and no build step.
"use strict";

const MAX_BYTES = 1 << 20; // the server's upload limit

const PLATFORM_NAMES = {
  "linux-amd64": ["Linux", "x86-64 (Intel, AMD)"],
  "linux-arm64": ["Linux", "ARM64 (Raspberry Pi 4/5, ARM servers)"],
  "darwin-amd64": ["macOS", "Intel"],
  "darwin-arm64": ["macOS", "Apple silicon (M1 and later)"],
  "windows-amd64": ["Windows", "x86-64"],
};

// The vessels' colours are --vessel-1 … --vessel-N of common.css, the
// stylesheet the donor's install window loads too, so a vessel has the same
// colour on both (TestPagesShareOneStylesheet). Read once the stylesheet is
// in (it is before deferred scripts run).
const palette = [];
function vesselColour(i) {
  if (!palette.length) {
    const cs = getComputedStyle(document.documentElement);
    for (let n = 1, c; (c = cs.getPropertyValue(`--vessel-${n}`).trim()); n++) palette.push(c);
  }
  return palette.length ? palette[i % palette.length] : "currentColor";
}

const SAMPLE = [
  "Percent 40",
  "Owner 65537 137800150089349549931290734063405384817",
  "User 65537 231049875493264950739472690375328470111",
  "Percent 60",
  "Owner 65537 305875496542036409182476198734109982413",
  "",
].join("\n");

const $ = (id) => document.getElementById(id);
const el = {
  text: $("text"), gutter: $("gutter"), notes: $("notes"), editor: $("editor"),
  status: $("status"), errorList: $("error-list"), dropHint: $("drop-hint"),
  fileInput: $("file-input"), sample: $("sample-button"),
  composeToggle: $("compose-toggle"), composer: $("composer"), vesselForms: $("vessel-forms"),
  addVessel: $("add-vessel"), composerSum: $("composer-sum"),
  split: $("split"), splitPicture: $("split-picture"), splitLegend: $("split-legend"),
  build: $("build"), buildStatus: $("build-status"), downloads: $("downloads"),
  downloadRows: $("download-rows"), buildId: $("build-id"),
  donorLink: $("donor-link"), reserveNote: $("reserve-note"),
  userRows: $("user-rows"), addUserButton: $("add-user"), keyFiles: $("key-files"),
  saveAllKeys: $("save-all-keys"), keysStatus: $("keys-status"), composerWait: $("composer-wait"),
};

const state = {
  ready: false,     // the validator has loaded
  result: null,     // the last validation result
  builtText: null,  // the text the shown downloads were built from
  building: false,
  buildError: null, // why the last build failed, and for which text: {text, message}
  reserve: null,    // {percent, owner}: the vessel this server adds to every build
  users: [],        // [{name, publicKey, privateKey, saved, generated}]
  formVessels: [],  // the form's vessels: [{percent, owner: name, users: [names]}]
  confirmUnsaved: false, // Build was pressed once with private keys not saved
  formOwnsText: false,   // the form wrote the text last (the editor did not)
};

// ---- the validator ----

async function loadValidator() {
  try {
    const go = new Go();
    // The server names the validator by its content (validator.HASH.wasm),
    // so browsers and caches keep it for good.
    const wasm = document.querySelector('meta[name="validator"]')?.content || "validator.wasm";
    const res = await WebAssembly.instantiateStreaming(fetch(wasm), go.importObject);
    go.run(res.instance); // never returns: the module keeps serving calls
    state.ready = true;
    validateNow();
  } catch (err) {
    setStatus("bad", "The validator could not be loaded (" + err + "). Reload the page; nothing can be built without it.");
  }
}

function validate(text) {
  if (new TextEncoder().encode(text).length > MAX_BYTES) {
    return { valid: false, vessels: [], errors: [{ line: 1, message: "the text is larger than 1 MiB, the most the server accepts; a real vesselinfo is a few kilobytes" }] };
  }
  return applyReserve(text, globalThis.seattleValidateVesselinfo(text));
}

// The server's configuration, written into the page by the server (and at
// GET /api/config for scripts): whether it adds a vessel of its own,
// "PERCENT E N".
function loadConfig() {
  const m = /^(\d+) (\d+ \d+)$/.exec(document.querySelector('meta[name="reserve"]')?.content || "");
  if (m && Number(m[1]) > 0) state.reserve = { percent: Number(m[1]), owner: m[2] };
  if (state.reserve && el.reserveNote) {
    el.reserveNote.textContent = `This server adds a vessel of ${state.reserve.percent}% owned by its service key to every build, after yours: your vessels add up to ${100 - state.reserve.percent}%.`;
    el.reserveNote.hidden = false;
  }
  validateNow();
}

// applyReserve checks a file as a server with a reserved vessel does
// (reserve.go, Reserve.complete): the user's vessels add up to 100 minus the
// reserve, or the file already ends with the reserved vessel. The reserved
// vessel is added to the result, marked service, for the picture.
function applyReserve(text, r) {
  const res = state.reserve;
  if (!res) return r;
  const n = r.vessels.length;
  if (r.valid && n > 1) {
    const last = r.vessels[n - 1];
    if (last.percent === res.percent && last.owner === res.owner && last.users.length === 0) {
      return { ...r, vessels: r.vessels.map((v, i) => (i === n - 1 ? { ...v, service: true } : v)) };
    }
  }
  let sum = 100, sumLine = 0;
  const errors = [];
  for (const e of r.errors) {
    const m = /^the percentages add up to (\d+);/.exec(e.message);
    if (m) { sum = Number(m[1]); sumLine = e.line; continue; }
    errors.push(e);
  }
  if (sumLine === 0 && n > 0) sumLine = Math.max(1, (text.match(/\n/g) || []).length + (text.endsWith("\n") ? 0 : 1));
  const want = 100 - res.percent;
  if (sum !== want && sumLine > 0) {
    errors.push({ line: sumLine, message: `the percentages add up to ${sum}; they must add up to ${want}, because this server adds a vessel of ${res.percent}% owned by its service key to every build, so your vessels must add up to ${want}%` });
  }
  if (errors.length) return { valid: false, vessels: [], errors: errors.sort((a, b) => a.line - b.line) };
  // The validator returns no vessels for a file with a wrong sum: check the
  // file as the server stores it, with the reserved vessel after the user's.
  const full = (text === "" || text.endsWith("\n") ? text : text + "\n") + `Percent ${res.percent}\nOwner ${res.owner}\n`;
  const all = globalThis.seattleValidateVesselinfo(full);
  if (all.valid) all.vessels[all.vessels.length - 1].service = true;
  return all;
}

let pending = false;
function scheduleValidation() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; validateNow(); });
}

function validateNow() {
  const text = el.text.value;
  renderGutter(text);
  if (!state.ready) return;
  if (text === "") {
    state.result = null;
    el.editor.dataset.state = "empty";
    el.notes.replaceChildren();
    el.errorList.hidden = true;
    el.split.hidden = true;
    setStatus("", "Write, paste or drop a vesselinfo file, or compose one with the form.");
    updateBuild();
    if (!el.composer.hidden) renderComposer();
    saveState();
    return;
  }
  const r = validate(text);
  state.result = r;
  el.editor.dataset.state = r.valid ? "valid" : "invalid";
  renderNotes(r.errors);
  renderErrorList(r.errors);
  if (r.valid) {
    const users = r.vessels.reduce((n, v) => n + v.users.length, 0);
    setStatus("good", `Valid: ${plural(r.vessels.length, "vessel")}, ${plural(users, "user key")}.`);
    renderSplit(r.vessels);
  } else {
    setStatus("bad", `${plural(r.errors.length, "problem")} to fix before building. Each one is shown beside its line.`);
    el.split.hidden = true;
  }
  updateBuild();
  if (!el.composer.hidden) renderComposer();
  updateRemovable();
  saveState();
}

function setStatus(kind, msg) {
  el.status.textContent = msg;
  el.status.dataset.kind = kind;
}

function plural(n, word) {
  return n + " " + word + (n === 1 ? "" : "s");
}

// ---- the line-numbered editor ----

function lineCount(text) {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function renderGutter(text) {
  const n = lineCount(text);
  const errs = new Set((state.result && !state.result.valid ? state.result.errors : []).map((e) => e.line));
  const frag = document.createDocumentFragment();
  for (let i = 1; i <= n; i++) {
    const d = document.createElement("div");
    d.textContent = i;
    if (errs.has(i)) d.className = "bad";
    frag.append(d);
  }
  el.gutter.replaceChildren(frag);
  syncScroll();
}

// Each error sits in the column beside its line, at the line's height.
function renderNotes(errors) {
  const byLine = new Map();
  for (const e of errors) {
    if (!byLine.has(e.line)) byLine.set(e.line, []);
    byLine.get(e.line).push(e.message);
  }
  const n = lineCount(el.text.value);
  const frag = document.createDocumentFragment();
  for (let i = 1; i <= Math.max(n, ...byLine.keys()); i++) {
    const d = document.createElement("div");
    const msgs = byLine.get(i);
    if (msgs) {
      d.className = "note";
      d.textContent = msgs.join(" · ");
      d.title = `line ${i}: ` + msgs.join("\n");
      d.dataset.line = i;
    }
    frag.append(d);
  }
  el.notes.replaceChildren(frag);
  renderGutter(el.text.value);
}

function renderErrorList(errors) {
  el.errorList.replaceChildren();
  el.errorList.hidden = errors.length === 0;
  for (const e of errors) {
    const li = document.createElement("li");
    const a = document.createElement("button");
    a.type = "button";
    a.className = "linelink";
    a.textContent = "line " + e.line;
    a.addEventListener("click", () => selectLine(e.line));
    li.append(a, " " + e.message);
    el.errorList.append(li);
  }
}

function selectLine(line) {
  const lines = el.text.value.split("\n");
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  const end = start + (lines[line - 1] || "").length;
  el.text.focus();
  el.text.setSelectionRange(start, end);
  const lh = parseFloat(getComputedStyle(el.text).lineHeight) || 20;
  el.text.scrollTop = Math.max(0, (line - 3) * lh);
  syncScroll();
}

function syncScroll() {
  el.gutter.scrollTop = el.text.scrollTop;
  el.notes.scrollTop = el.text.scrollTop;
}

// ---- the picture of the split ----

const SVG = "http://www.w3.org/2000/svg";

function svg(name, attrs, text) {
  const n = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

function abbreviate(key) {
  const [e, n] = key.split(" ");
  return n.length > 16 ? `${e} ${n.slice(0, 6)}…${n.slice(-6)}` : key;
}

function renderSplit(vessels) {
  const W = 600, H = 64, gap = 3;
  const pic = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", class: "split-svg" });
  pic.append(svg("title", {}, "Share of the donation per vessel: " +
    vessels.map((v, i) => `v${i + 1} ${v.percent}%`).join(", ")));
  let x = 0;
  vessels.forEach((v, i) => {
    const w = (W * v.percent) / 100;
    const color = vesselColour(i);
    pic.append(svg("rect", { x: x + (i ? gap / 2 : 0), y: 0, width: Math.max(1, w - gap), height: H, rx: 6, fill: color }));
    if (w >= 56) {
      pic.append(svg("text", { x: x + w / 2, y: 28, "text-anchor": "middle", class: "seg-name" }, `v${i + 1}`));
      pic.append(svg("text", { x: x + w / 2, y: 48, "text-anchor": "middle", class: "seg-pct" }, `${v.percent}%`));
    }
    x += w;
  });
  el.splitPicture.replaceChildren(pic);
  el.splitLegend.replaceChildren();
  vessels.forEach((v, i) => {
    const li = document.createElement("li");
    const sw = document.createElementNS(SVG, "svg");
    sw.setAttribute("viewBox", "0 0 12 12");
    sw.setAttribute("class", "swatch");
    sw.append(svg("rect", { width: 12, height: 12, rx: 3, fill: vesselColour(i) }));
    const name = document.createElement("strong");
    name.textContent = `v${i + 1} · ${v.percent}%`;
    const detail = document.createElement("span");
    detail.className = "muted";
    detail.textContent = ` owner ${abbreviate(v.owner)}, ${plural(v.users.length, "user key")}`;
    li.append(sw, name, detail);
    el.splitLegend.append(li);
  });
  el.split.hidden = false;
}

// ---- loading files ----

async function loadFile(file) {
  if (!file) return;
  if (file.size > MAX_BYTES) {
    setStatus("bad", `${file.name} is ${formatSize(file.size)}; a vesselinfo file is a few kilobytes and the limit is 1 MiB. Is it the right file?`);
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  state.formOwnsText = false;
  el.text.value = new TextDecoder("utf-8").decode(bytes);
  validateNow();
  setStatus(el.status.dataset.kind, `${file.name}: ` + el.status.textContent);
}

function setupDrop() {
  let depth = 0;
  const show = (on) => { el.dropHint.hidden = !on; el.editor.classList.toggle("dragging", on); };
  document.addEventListener("dragenter", (e) => { if (hasFiles(e)) { depth++; show(true); } });
  document.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; show(false); } });
  document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault(); // never let the browser navigate to the file
    depth = 0; show(false);
    loadFile(e.dataTransfer.files[0]);
  });
}

function hasFiles(e) {
  return e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
}

// ---- users and their keys ----
//
// The operator names the people who own and use vessels and gives each a
// public key: pasted, loaded from NAME.publickey, or generated here. A key
// pair generated here is made in a Web Worker by Go's crypto/rsa compiled to
// WebAssembly (keygen.wasm); its private key stays in this page's memory:
// it is offered as NAME.privatekey (or all of them in one zip), never sent to
// the server and never stored in the browser.

const USER_NAME = /^[0-9A-Za-z][0-9A-Za-z_]{2,39}$/;
const KEY_BITS = 2048;

function userNameProblem(name, except) {
  if (!USER_NAME.test(name)) return "a user name is 3 to 40 letters, digits or _, starting with a letter or digit";
  if (state.users.some((u) => u !== except && u.name === name)) return `there is already a user named ${name}`;
  return "";
}

// keyProblem checks a public key "e n" as the validator will: two decimal
// numbers, 0 < e < n.
function keyProblem(key) {
  const m = /^\s*([0-9]+)\s+([0-9]+)\s*$/.exec(key);
  if (!m) return "a public key is two whole numbers, e n";
  try {
    if (!(BigInt(m[1]) > 0n && BigInt(m[1]) < BigInt(m[2]))) return "e must be more than 0 and smaller than n";
  } catch (err) {
    return "a public key is two whole numbers, e n";
  }
  return "";
}

function normKey(key) { return key.trim().split(/\s+/).join(" "); }

function freeName(base) {
  for (let i = 1; ; i++) {
    const n = `${base}${i}`;
    if (!state.users.some((u) => u.name === n)) return n;
  }
}

function addUser(name, publicKey, generated) {
  const u = { name, publicKey: publicKey ? normKey(publicKey) : "", privateKey: null, saved: true, generated: !!generated };
  state.users.push(u);
  return u;
}

function userByKey(key) { return state.users.find((u) => u.publicKey && u.publicKey === key); }

function renderUsers() {
  el.userRows.replaceChildren(...state.users.map(userRow));
  const unsaved = state.users.filter((u) => u.privateKey && !u.saved).length;
  el.saveAllKeys.disabled = !state.users.some((u) => u.privateKey);
  el.keysStatus.textContent = unsaved
    ? `${plural(unsaved, "private key")} made here ${unsaved === 1 ? "is" : "are"} not saved yet: save ${unsaved === 1 ? "it" : "them"} before you build, and give each to its user. They are not kept anywhere else.`
    : state.users.length ? "" : "No users yet: add one, generate a key pair, or load .publickey files.";
  el.keysStatus.dataset.kind = unsaved ? "bad" : "";
  if (!el.composer.hidden) renderComposer();
}

function userRow(u) {
  const tr = document.createElement("tr");
  tr.className = "user";
  tr.dataset.name = u.name;
  const name = document.createElement("input");
  name.className = "u-name";
  name.value = u.name;
  name.setAttribute("aria-label", "user name");
  name.spellcheck = false;
  const key = document.createElement("input");
  key.className = "u-key";
  key.value = u.publicKey;
  key.placeholder = "public key: e n (paste, load or generate)";
  key.setAttribute("aria-label", `public key of ${u.name}`);
  key.spellcheck = false;
  const problem = document.createElement("div");
  problem.className = "u-problem";
  const showProblem = () => {
    const p = userNameProblem(name.value, u) || (key.value.trim() ? keyProblem(key.value) : "");
    problem.textContent = p;
    tr.classList.toggle("bad", !!p);
    return p;
  };
  name.addEventListener("change", () => {
    if (userNameProblem(name.value, u)) { showProblem(); return; }
    u.name = name.value;
    saveState();
    renderUsers();
  });
  key.addEventListener("change", () => {
    const k = normKey(key.value);
    if (k && keyProblem(k)) { showProblem(); return; }
    replaceKey(u, k);
    if (u.privateKey) { u.privateKey = null; u.saved = true; } // a pasted key replaces a generated pair
    u.generated = false;
    saveState();
    renderUsers();
  });
  const gen = document.createElement("button");
  gen.type = "button";
  gen.className = "u-generate";
  gen.textContent = u.publicKey ? "New key pair" : "Generate key pair";
  gen.addEventListener("click", () => generateFor(u, gen));
  const actions = document.createElement("td");
  actions.className = "u-actions";
  actions.append(gen);
  if (u.privateKey) {
    const save = document.createElement("button");
    save.type = "button";
    save.className = "u-save" + (u.saved ? "" : " primary");
    save.textContent = u.saved ? "Save private key again" : "Save private key";
    save.addEventListener("click", () => { downloadBlob(u.name + ".privatekey", u.privateKey + "\n"); u.saved = true; renderUsers(); });
    actions.append(save);
  } else if (u.generated) {
    const note = document.createElement("span");
    note.className = "muted small";
    note.textContent = "made here before a reload: its private key is gone unless you saved it";
    actions.append(note);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "u-remove";
  remove.textContent = "Remove";
  remove.setAttribute("aria-label", `Remove user ${u.name}`);
  remove.disabled = usedByVessels(u);
  if (remove.disabled) remove.title = "A vessel uses this user: change the vessel first";
  remove.addEventListener("click", () => {
    state.users = state.users.filter((x) => x !== u);
    saveState();
    renderUsers();
  });
  actions.append(remove);
  const tdName = document.createElement("td");
  tdName.append(name);
  const tdKey = document.createElement("td");
  tdKey.append(key, problem);
  tr.append(tdName, tdKey, actions);
  showProblem();
  return tr;
}

// replaceKey gives u a new public key and rewrites the vesselinfo lines
// that held its old one, so that vessels follow their user.
function replaceKey(u, key) {
  const old = u.publicKey;
  u.publicKey = key;
  if (old && old !== key && el.text.value.includes(old)) {
    el.text.value = el.text.value.split("\n").map((line) => {
      const m = /^(\s*(?:Owner|User)[ \t]+)(.*?)(\s*)$/.exec(line);
      return m && normKey(m[2]) === old ? m[1] + key + m[3] : line;
    }).join("\n");
    validateNow();
  }
}

// updateRemovable enables Remove only for users no vessel uses.
function updateRemovable() {
  for (const tr of el.userRows.querySelectorAll("tr.user")) {
    const u = state.users.find((x) => x.name === tr.dataset.name);
    const b = tr.querySelector(".u-remove");
    if (!u || !b) continue;
    b.disabled = usedByVessels(u);
    b.title = b.disabled ? "A vessel uses this user: change the vessel first" : "";
  }
}

function usedByVessels(u) {
  const r = state.result;
  if (!u.publicKey || !r || !r.valid) return false;
  return r.vessels.some((v) => !v.service && (v.owner === u.publicKey || v.users.includes(u.publicKey)));
}

let keygenWorker = null;
let keygenSeq = 0;
const keygenWaiting = new Map();

function keygen(bits) {
  if (!keygenWorker) {
    keygenWorker = new Worker(document.querySelector('meta[name="keygen-worker"]').content);
    keygenWorker.onmessage = (ev) => {
      const w = keygenWaiting.get(ev.data.id);
      keygenWaiting.delete(ev.data.id);
      if (w) ev.data.error ? w.reject(new Error(ev.data.error)) : w.resolve(ev.data);
    };
  }
  const id = ++keygenSeq;
  return new Promise((resolve, reject) => {
    keygenWaiting.set(id, { resolve, reject });
    keygenWorker.postMessage({
      id, bits,
      wasmExec: new URL(document.querySelector('script[src*="wasm_exec"]').getAttribute("src"), location.href).href,
      keygen: new URL(document.querySelector('meta[name="keygen"]').content, location.href).href,
    });
  });
}

async function generateFor(u, button) {
  button.disabled = true;
  button.textContent = "Generating…";
  el.keysStatus.textContent = `Generating a ${KEY_BITS}-bit key pair for ${u.name} in this browser (a second or two)…`;
  try {
    const pair = await keygen(KEY_BITS);
    replaceKey(u, pair.publicKey);
    u.privateKey = pair.privateKey;
    u.saved = false;
    u.generated = true;
    saveState();
  } catch (err) {
    el.keysStatus.textContent = `Could not generate a key pair: ${err.message}.`;
    button.disabled = false;
    return;
  }
  renderUsers();
}

async function loadKeyFiles(files) {
  const problems = [];
  for (const f of files) {
    const m = /^(.*)\.publickey$/.exec(f.name);
    if (!m) { problems.push(`${f.name}: a public key file is named NAME.publickey`); continue; }
    if (f.size > 10000) { problems.push(`${f.name}: too large for a public key`); continue; }
    const key = normKey(await f.text());
    const p = keyProblem(key);
    if (p) { problems.push(`${f.name}: ${p}`); continue; }
    const existing = state.users.find((u) => u.name === m[1]);
    if (existing) { replaceKey(existing, key); existing.privateKey = null; existing.saved = true; existing.generated = false; continue; }
    if (userNameProblem(m[1])) { problems.push(`${f.name}: ${userNameProblem(m[1])}`); continue; }
    addUser(m[1], key, false);
  }
  saveState();
  renderUsers();
  if (problems.length) el.keysStatus.textContent = problems.join("; ") + ".";
}

function downloadBlob(name, text) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(text instanceof Blob ? text : new Blob([text], { type: "application/octet-stream" }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function saveAllKeys() {
  const files = [];
  for (const u of state.users) {
    if (!u.privateKey) continue;
    files.push([u.name + ".privatekey", u.privateKey + "\n"], [u.name + ".publickey", u.publicKey + "\n"]);
    u.saved = true;
  }
  downloadBlob("seattle-keys.zip", zipFiles(files));
  renderUsers();
}

// zipFiles makes a zip of small text files, stored (not compressed): a
// key is random digits, which deflate would barely shrink.
function zipFiles(files) {
  const enc = new TextEncoder();
  const parts = [], central = [];
  let offset = 0;
  for (const [name, text] of files) {
    const n = enc.encode(name), d = enc.encode(text), crc = crc32(d);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true); local.setUint16(4, 20, true);
    local.setUint16(10, 0, true); local.setUint16(12, 0x21, true); // 1980-01-01
    local.setUint32(14, crc, true); local.setUint32(18, d.length, true); local.setUint32(22, d.length, true);
    local.setUint16(26, n.length, true);
    const c = new DataView(new ArrayBuffer(46));
    c.setUint32(0, 0x02014b50, true); c.setUint16(4, 20, true); c.setUint16(6, 20, true);
    c.setUint16(14, 0x21, true); c.setUint32(16, crc, true); c.setUint32(20, d.length, true); c.setUint32(24, d.length, true);
    c.setUint16(28, n.length, true); c.setUint32(42, offset, true);
    parts.push(local, n, d);
    central.push(c, n);
    offset += 30 + n.length + d.length;
  }
  const size = central.reduce((a, x) => a + x.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true); end.setUint16(8, files.length, true); end.setUint16(10, files.length, true);
  end.setUint32(12, size, true); end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end], { type: "application/zip" });
}

let crcTable = null;
function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- the page's state across reloads ----
//
// The text, the users with their public keys and whether the form is open
// are kept in localStorage; private keys never are.

const STORE = "seattle-builder-page-v1";

function saveState() {
  try {
    localStorage.setItem(STORE, JSON.stringify({
      text: el.text.value,
      composer: !el.composer.hidden,
      users: state.users.map((u) => ({ name: u.name, publicKey: u.publicKey, generated: u.generated })),
    }));
  } catch (err) {
    // Storage full or refused (a private window): the page works without.
  }
}

function restoreState() {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(STORE) || "null"); } catch (err) { saved = null; }
  if (!saved || typeof saved !== "object") return false;
  if (Array.isArray(saved.users)) {
    for (const u of saved.users) {
      if (u && typeof u.name === "string" && !userNameProblem(u.name) && typeof u.publicKey === "string") addUser(u.name, u.publicKey, !!u.generated);
    }
  }
  if (typeof saved.text === "string" && saved.text.length <= MAX_BYTES) el.text.value = saved.text;
  if (saved.composer) setComposer(true);
  return true;
}

// ---- the form ----
//
// The form and the text editor edit the same vesselinfo. The form shows the
// text's vessels by their users' names (a key no user has yet gets a user,
// key1, key2, ...); a change in the form rewrites the text, and a change in
// the text redraws the form. While the text has errors the form waits
// (disabled), so that neither overwrites the other.

function formVessels() {
  const r = state.result;
  if (!r || !r.valid) return null;
  return r.vessels.filter((v) => !v.service).map((v) => ({
    percent: v.percent,
    owner: nameForKey(v.owner),
    users: v.users.map(nameForKey),
  }));
}

function nameForKey(key) {
  let u = userByKey(key);
  if (!u) {
    u = addUser(freeName("key"), key, false);
    saveState();
    setTimeout(renderUsers);
  }
  return u.name;
}

function userPercent() { return 100 - (state.reserve ? state.reserve.percent : 0); }

function renderComposer() {
  let vessels = formVessels();
  const text = el.text.value;
  // Text with errors that the form did not write: the form waits for it.
  const waiting = !!text && !vessels && !state.formOwnsText;
  el.composer.classList.toggle("waiting", waiting);
  el.composerWait.hidden = !waiting;
  if (!vessels) vessels = text ? state.formVessels || [] : [];
  state.formVessels = vessels;
  el.vesselForms.replaceChildren(...vessels.map(vesselForm));
  el.addVessel.disabled = waiting;
  const sum = vessels.reduce((a, v) => a + v.percent, 0);
  const want = userPercent();
  el.composerSum.textContent = vessels.length ? `Shares add up to ${sum}%` + (sum === want ? "." : ` (they must add up to ${want}%).`) : "";
  el.composerSum.dataset.kind = sum === want ? "good" : "bad";
}

function vesselForm(v, index, all) {
  const box = document.createElement("fieldset");
  box.className = "vessel";
  box.disabled = el.composer.classList.contains("waiting");
  const legend = document.createElement("legend");
  legend.textContent = `Vessel v${index + 1}`;
  box.append(legend);

  const pct = document.createElement("select");
  pct.className = "f-percent";
  for (let p = 10; p <= 100; p += 10) pct.append(new Option(p + "%", p, false, p === v.percent));
  pct.addEventListener("input", () => setShare(index, Number(pct.value)));

  const named = state.users.filter((u) => u.publicKey && !keyProblem(u.publicKey));
  const owner = document.createElement("select");
  owner.className = "f-owner";
  if (!named.some((u) => u.name === v.owner)) owner.append(new Option("choose a user…", "", true, true));
  for (const u of named) owner.append(new Option(u.name, u.name, false, u.name === v.owner));
  owner.addEventListener("input", () => { state.formVessels[index].owner = owner.value; formToText(); });

  const users = document.createElement("div");
  users.className = "f-users";
  for (const u of named) {
    const l = document.createElement("label");
    const c = document.createElement("input");
    c.type = "checkbox";
    c.value = u.name;
    c.checked = v.users.includes(u.name);
    c.addEventListener("input", () => {
      const list = state.formVessels[index].users;
      state.formVessels[index].users = c.checked ? list.concat([u.name]) : list.filter((n) => n !== u.name);
      formToText();
    });
    l.append(c, " " + u.name);
    users.append(l);
  }
  if (!named.length) users.textContent = "Add users with keys above first.";

  box.append(field("Share", pct), field("Owner", owner), field("Users", users));
  const buttons = document.createElement("div");
  buttons.className = "f-buttons";
  const button = (cls, label, aria, enabled, fn) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = label;
    b.setAttribute("aria-label", aria);
    b.disabled = !enabled;
    b.addEventListener("click", fn);
    buttons.append(b);
  };
  const n = state.formVessels.length;
  button("split", "Split", `Split vessel v${index + 1} in two`, v.percent >= 20, () => splitVessel(index));
  button("merge", "Merge with next", `Merge vessel v${index + 1} with v${index + 2}`, index < n - 1, () => mergeVessel(index));
  button("remove", "Remove", `Remove vessel v${index + 1}`, n > 1, () => removeVessel(index));
  box.append(buttons);
  return box;
}

function field(label, control) {
  const l = document.createElement("label");
  const s = document.createElement("span");
  s.textContent = label;
  l.append(s, control);
  return l;
}

// setShare changes a vessel's share and takes the difference from (or
// gives it to) the last other vessel that can take it, so that the sum
// stays right.
function setShare(i, p) {
  const vs = state.formVessels;
  const diff = p - vs[i].percent;
  vs[i].percent = p;
  for (let j = vs.length - 1; j >= 0; j--) {
    if (j !== i && vs[j].percent - diff >= 10 && vs[j].percent - diff <= 100) { vs[j].percent -= diff; break; }
  }
  formToText();
}

function splitVessel(i) {
  const v = state.formVessels[i];
  const a = Math.ceil(v.percent / 20) * 10;
  state.formVessels.splice(i, 1, { ...v, percent: a, users: [...v.users] }, { ...v, percent: v.percent - a, users: [...v.users] });
  formToText();
}

function mergeVessel(i) {
  const [v, w] = state.formVessels.slice(i, i + 2);
  const users = [...v.users];
  for (const u of w.users) if (!users.includes(u)) users.push(u);
  state.formVessels.splice(i, 2, { percent: v.percent + w.percent, owner: v.owner, users });
  formToText();
}

function removeVessel(i) {
  const vs = state.formVessels;
  const [gone] = vs.splice(i, 1);
  vs[Math.max(0, i - 1)].percent += gone.percent; // its share goes to its neighbour
  formToText();
}

function addVessel() {
  const vs = state.formVessels || [];
  const want = userPercent();
  const sum = vs.reduce((a, v) => a + v.percent, 0);
  let pct = Math.max(10, want - sum);
  if (sum >= want) {
    // Take a tenth from the largest vessel that can spare one.
    const big = vs.reduce((b, v) => (v.percent >= 20 && (!b || v.percent > b.percent) ? v : b), null);
    if (big) { big.percent -= 10; pct = 10; }
  }
  const first = state.users.find((u) => u.publicKey && !keyProblem(u.publicKey));
  vs.push({ percent: pct, owner: first ? first.name : "", users: [] });
  state.formVessels = vs;
  formToText();
}

function formToText() {
  state.formOwnsText = true;
  const lines = [];
  for (const v of state.formVessels) {
    const owner = state.users.find((u) => u.name === v.owner);
    lines.push("Percent " + v.percent);
    lines.push("Owner " + (owner ? owner.publicKey : ""));
    for (const name of v.users) {
      const u = state.users.find((x) => x.name === name);
      if (u) lines.push("User " + u.publicKey);
    }
  }
  el.text.value = lines.length ? lines.join("\n") + "\n" : "";
  validateNow();
}

function setComposer(open) {
  el.composer.hidden = !open;
  el.composeToggle.setAttribute("aria-expanded", String(open));
  el.composeToggle.textContent = open ? "Close the form" : "Compose with a form";
}

function toggleComposer() {
  setComposer(el.composer.hidden);
  if (!el.composer.hidden) {
    if (!el.text.value) addVessel();
    else renderComposer();
  }
  saveState();
}

// ---- building ----

function updateBuild() {
  const valid = !!(state.ready && state.result && state.result.valid);
  el.buildStatus.dataset.kind = "";
  el.build.disabled = !valid || state.building;
  if (state.building) return;
  if (state.builtText !== null && state.builtText !== el.text.value) {
    el.downloads.classList.add("stale");
    el.buildStatus.textContent = valid
      ? "The file changed since these installers were built: build again."
      : "The file changed since these installers were built, and is not valid now.";
  } else if (state.buildError && state.buildError.text === el.text.value) {
    // A failure stays on screen until the text changes or a build succeeds.
    el.buildStatus.textContent = "Could not build: " + state.buildError.message + ".";
    el.buildStatus.dataset.kind = "bad";
    return;
  } else if (state.builtText === null) {
    el.buildStatus.textContent = valid ? "Ready to build." : "Build is available once the file is valid.";
  } else {
    el.downloads.classList.remove("stale");
    el.buildStatus.textContent = el.downloadRows.children.length
      ? "Built. Download an installer for each platform your donors use."
      : "Built, but this server has no base installers: its operator needs to run make dist.";
  }
}

async function build() {
  // The button is disabled while the file is invalid; check again anyway, so
  // that nothing is ever sent that the validator has not passed.
  const text = el.text.value;
  if (!state.ready || !validate(text).valid) return;
  const unsaved = state.users.filter((u) => u.privateKey && !u.saved);
  if (unsaved.length && !state.confirmUnsaved) {
    state.confirmUnsaved = true;
    el.buildStatus.textContent = `Save the private keys first: ${unsaved.map((u) => u.name).join(", ")} ${unsaved.length === 1 ? "has a private key" : "have private keys"} that exist only in this page (Save all private keys). Press Build again to build without saving them.`;
    el.buildStatus.dataset.kind = "bad";
    return;
  }
  state.confirmUnsaved = false;
  state.building = true;
  updateBuild();
  el.buildStatus.textContent = "Building…";
  try {
    const res = await fetch("api/builds", { method: "POST", body: text, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    const body = await res.json().catch(() => ({}));
    if (res.status === 422 && body.errors) {
      renderNotes(body.errors);
      renderErrorList(body.errors);
      throw new Error("the server found problems in the file");
    }
    if (res.status !== 201) throw new Error(body.error || `the server answered ${res.status}`);
    state.builtText = text;
    state.buildError = null;
    showDownloads(body);
  } catch (err) {
    // fetch's own message for a server that went away is "Failed to fetch".
    const message = err instanceof TypeError ? "the server could not be reached (" + err.message + ")" : err.message;
    state.buildError = { text, message };
  } finally {
    state.building = false;
    updateBuild();
  }
}

function showDownloads(body) {
  el.buildId.textContent = body.id;
  if (el.donorLink) {
    const page = new URL(body.page || "builds/" + body.id, location.href);
    el.donorLink.href = page.href;
    el.donorLink.textContent = page.href;
  }
  el.downloads.classList.remove("stale");
  el.downloadRows.replaceChildren();
  const platforms = Object.keys(PLATFORM_NAMES).filter((p) => body.installers[p]);
  for (const p of platforms) {
    const url = body.installers[p];
    const tr = document.createElement("tr");
    tr.dataset.platform = p;
    const name = document.createElement("th");
    name.scope = "row";
    const [os, arch] = PLATFORM_NAMES[p];
    const strong = document.createElement("strong");
    strong.textContent = os;
    const small = document.createElement("span");
    small.className = "muted";
    small.textContent = " " + arch;
    name.append(strong, small);
    const link = document.createElement("td");
    const a = document.createElement("a");
    a.href = url;
    a.className = "download";
    a.textContent = p + (p.startsWith("windows") ? ".zip" : ".tar.gz");
    a.setAttribute("download", "");
    link.append(a);
    const size = document.createElement("td");
    size.className = "num muted";
    size.textContent = "preparing…";
    tr.append(name, link, size);
    el.downloadRows.append(tr);
    // HEAD tells the size; the server counts it without building.
    fetch(url, { method: "HEAD" }).then((res) => {
      const n = Number(res.headers.get("Content-Length"));
      size.textContent = res.ok && n > 0 ? formatSize(n) : "unavailable";
      const cd = res.headers.get("Content-Disposition") || "";
      const m = cd.match(/filename="([^"]+)"/);
      if (m) a.textContent = m[1];
    }).catch(() => { size.textContent = "unavailable"; });
  }
  el.downloads.hidden = false;
}

function formatSize(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(1) + " MB";
  if (n >= 1e3) return Math.round(n / 1e3) + " kB";
  return n + " bytes";
}

// ---- wiring ----

el.text.addEventListener("input", () => { state.formOwnsText = false; scheduleValidation(); });
el.text.addEventListener("scroll", syncScroll);
el.fileInput.addEventListener("change", () => { loadFile(el.fileInput.files[0]); el.fileInput.value = ""; });
el.sample.addEventListener("click", () => { state.formOwnsText = false; el.text.value = SAMPLE; validateNow(); });
el.composeToggle.addEventListener("click", toggleComposer);
el.addVessel.addEventListener("click", addVessel);
el.addUserButton.addEventListener("click", () => { addUser(freeName("user"), "", false); saveState(); renderUsers(); });
el.keyFiles.addEventListener("change", () => { loadKeyFiles([...el.keyFiles.files]); el.keyFiles.value = ""; });
el.saveAllKeys.addEventListener("click", saveAllKeys);
el.build.addEventListener("click", build);
window.addEventListener("beforeunload", (e) => {
  // Private keys made here exist nowhere else until saved.
  if (state.users.some((u) => u.privateKey && !u.saved)) e.preventDefault();
});
setupDrop();
restoreState();
renderGutter(el.text.value);
renderUsers();
loadValidator();
loadConfig();
