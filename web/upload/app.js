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

// One colour per vessel, readable with white text, repeating after eight.
const COLORS = ["#2563eb", "#0d9488", "#c2410c", "#7c3aed", "#be185d", "#4d7c0f", "#0369a1", "#a16207"];

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
};

const state = {
  ready: false,     // the validator has loaded
  result: null,     // the last validation result
  builtText: null,  // the text the shown downloads were built from
  building: false,
  buildError: null, // why the last build failed, and for which text: {text, message}
  reserve: null,    // {percent, owner}: the vessel this server adds to every build
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
    const color = COLORS[i % COLORS.length];
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
    sw.append(svg("rect", { width: 12, height: 12, rx: 3, fill: COLORS[i % COLORS.length] }));
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

// ---- the form ----

function vesselForm(v, index) {
  const box = document.createElement("fieldset");
  box.className = "vessel";
  const legend = document.createElement("legend");
  legend.textContent = `Vessel v${index + 1}`;
  box.append(legend);

  const pct = document.createElement("select");
  pct.className = "f-percent";
  for (let p = 10; p <= 100; p += 10) pct.append(new Option(p + "%", p, false, p === v.percent));
  const owner = document.createElement("input");
  owner.className = "f-owner";
  owner.value = v.owner;
  owner.placeholder = "e n, e.g. 65537 1378001…";
  owner.spellcheck = false;
  const users = document.createElement("textarea");
  users.className = "f-users";
  users.rows = 2;
  users.value = v.users.join("\n");
  users.placeholder = "one key per line (optional)";
  users.spellcheck = false;
  users.wrap = "off";

  box.append(field("Share", pct), field("Owner key", owner), field("User keys", users));
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "remove";
  remove.textContent = "Remove";
  remove.setAttribute("aria-label", `Remove vessel v${index + 1}`);
  remove.addEventListener("click", () => { box.remove(); renumber(); formToText(); });
  box.append(remove);
  for (const c of [pct, owner, users]) c.addEventListener("input", formToText);
  return box;
}

function field(label, control) {
  const l = document.createElement("label");
  const s = document.createElement("span");
  s.textContent = label;
  l.append(s, control);
  return l;
}

function renumber() {
  el.vesselForms.querySelectorAll("fieldset.vessel").forEach((box, i) => {
    box.querySelector("legend").textContent = `Vessel v${i + 1}`;
    box.querySelector(".remove").setAttribute("aria-label", `Remove vessel v${i + 1}`);
  });
}

function formToText() {
  const lines = [];
  let sum = 0;
  for (const box of el.vesselForms.querySelectorAll("fieldset.vessel")) {
    const pct = Number(box.querySelector(".f-percent").value);
    sum += pct;
    lines.push("Percent " + pct);
    lines.push("Owner " + box.querySelector(".f-owner").value.trim().split(/\s+/).join(" "));
    for (const u of box.querySelector(".f-users").value.split("\n")) {
      if (u.trim() !== "") lines.push("User " + u.trim().split(/\s+/).join(" "));
    }
  }
  const want = 100 - (state.reserve ? state.reserve.percent : 0);
  el.composerSum.textContent = `Shares add up to ${sum}%` + (sum === want ? "." : ` (they must add up to ${want}%).`);
  el.composerSum.dataset.kind = sum === want ? "good" : "bad";
  el.text.value = lines.length ? lines.join("\n") + "\n" : "";
  validateNow();
}

function textToForm() {
  let vessels = [{ percent: 100 - (state.reserve ? state.reserve.percent : 0), owner: "", users: [] }];
  // The server adds its reserved vessel itself: the form holds the user's.
  if (state.result && state.result.valid) vessels = state.result.vessels.filter((v) => !v.service);
  el.vesselForms.replaceChildren(...vessels.map(vesselForm));
  formToText();
}

function toggleComposer() {
  const open = el.composer.hidden;
  if (open && el.text.value.trim() !== "" && !(state.result && state.result.valid) &&
      !confirm("The text has problems, so the form cannot show it. Start over with the form? (This replaces the text.)")) {
    return;
  }
  el.composer.hidden = !open;
  el.composeToggle.setAttribute("aria-expanded", String(open));
  el.composeToggle.textContent = open ? "Close the form" : "Compose with a form";
  if (open) textToForm();
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

el.text.addEventListener("input", scheduleValidation);
el.text.addEventListener("scroll", syncScroll);
el.fileInput.addEventListener("change", () => { loadFile(el.fileInput.files[0]); el.fileInput.value = ""; });
el.sample.addEventListener("click", () => { el.text.value = SAMPLE; validateNow(); if (!el.composer.hidden) textToForm(); });
el.composeToggle.addEventListener("click", toggleComposer);
el.addVessel.addEventListener("click", () => {
  el.vesselForms.append(vesselForm({ percent: 10, owner: "", users: [] }, el.vesselForms.children.length));
  formToText();
});
el.build.addEventListener("click", build);
setupDrop();
renderGutter("");
loadValidator();
loadConfig();
