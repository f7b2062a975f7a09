// gym-mame studio page: plain JavaScript, no build step, nothing loaded from outside.
"use strict";

const $ = (id) => document.getElementById(id);
const token = document.querySelector('meta[name="studio-token"]').content;
let info = null;            // /api/describe
let keymap = {};            // KeyboardEvent.code -> input name
const held = new Set();     // input names held now
const stats = { shown: 0, viewFps: 0 };
window.studioStats = stats; // read by tests and handy in the console

function hex(n) { return "0x" + n.toString(16).toUpperCase(); }

function showMessage(text, isError) {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "error" : "";
  box.hidden = !text;
}

// Every request carries this run's token: the server refuses any without it.
function send(path, options = {}) {
  return fetch(path, { ...options, headers: { ...options.headers, "X-Studio-Token": token } });
}

async function api(path, body) {
  const response = await send(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const reply = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok || reply.error) throw new Error(reply.error || `HTTP ${response.status}`);
  return reply.result;
}

// Run an action from a button; errors go to the message line, never a dead page.
function action(fn) {
  return async (event) => {
    if (event) event.preventDefault();
    try {
      const note = await fn();
      if (typeof note === "string") showMessage(note, false);
    } catch (error) {
      showMessage(error.message, true);
    }
  };
}

// -- the live frame: one request per frame shown, so a slow page skips frames --
async function frameLoop() {
  let seq = 0;
  const canvas = $("screen");
  const context = canvas.getContext("2d");
  for (;;) {
    try {
      const response = await send(`/api/frame?after=${seq}`);
      if (response.ok) {
        seq = Number(response.headers.get("X-Seq"));
        // createImageBitmap decodes off the main thread; an <img> per frame was 3x slower.
        const bitmap = await createImageBitmap(await response.blob());
        if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
          canvas.width = bitmap.width;
          canvas.height = bitmap.height;
        }
        context.drawImage(bitmap, 0, 0);
        bitmap.close();
        stats.shown += 1;
      } else {
        await new Promise((r) => setTimeout(r, 300));
      }
    } catch (error) {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function countViewFps() {
  let last = stats.shown;
  setInterval(() => {
    stats.viewFps = stats.shown - last;
    last = stats.shown;
    $("view-fps").textContent = stats.viewFps;
  }, 1000);
}

// -- status: running, values, reward ------------------------------------------
async function statusLoop() {
  for (;;) {
    try {
      const s = await (await send("/api/status")).json();
      renderStatus(s);
    } catch (error) { /* the server may be restarting a machine */ }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function renderStatus(s) {
  $("run-toggle").textContent = s.running ? "Pause" : "Run";
  $("frame-no").textContent = s.frame;
  $("emu-fps").textContent = s.running ? s.fps : 0;
  $("held").textContent = s.held.length ? s.held.join(" + ") : "–";
  $("reward").textContent = Number(s.reward).toFixed(2);
  $("episode-return").textContent = Number(s.episode_return).toFixed(2);
  $("done").textContent = s.done ? "YES" : "no";
  $("done").className = s.done ? "yes" : "";
  $("search-count").textContent = s.search_count === null ? "–" : s.search_count;
  $("boot-note").textContent = s.boot_known ? "" : "(inputs since power-on unknown: no boot sequence)";
  for (const [name, value] of Object.entries(s.values)) {
    const cell = document.querySelector(`#variables td[data-value="${CSS.escape(name)}"]`);
    if (cell) cell.textContent = value;
  }
  for (const id of ["slot-list", "write-slot"]) {
    const select = $(id);
    const names = Array.from(select.options).map((o) => o.value);
    if (names.join() !== s.slots.join()) {
      const keep = select.value;
      select.replaceChildren(...s.slots.map((n) => new Option(n, n)));
      if (s.slots.includes(keep)) select.value = keep;
    }
  }
  if (s.error) showMessage(s.error, true);
}

// -- keyboard -------------------------------------------------------------------
function typing(event) {
  const tag = event.target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
}

async function sendHeld() {
  try { await api("/api/input", { held: Array.from(held) }); }
  catch (error) { showMessage(error.message, true); }
}

let captureKey = null;  // set while "Add a key…" waits for a key

window.addEventListener("keydown", (event) => {
  if (captureKey) { event.preventDefault(); captureKey(event.code); return; }
  if (typing(event)) return;
  const name = keymap[event.code];
  if (!name) return;
  event.preventDefault();
  if (!held.has(name)) { held.add(name); sendHeld(); }
});
window.addEventListener("keyup", (event) => {
  const name = keymap[event.code];
  if (!name || !held.has(name)) return;
  // Another key may map to the same input and still be down: keep it simple, release.
  held.delete(name);
  sendHeld();
});
window.addEventListener("blur", () => { if (held.size) { held.clear(); sendHeld(); } });

function storageKey() { return `gym-mame-studio-keys:${info.integration || info.machine}`; }

async function setKeymap(map) {
  await api("/api/keymap", { keymap: map });
  keymap = map;
  localStorage.setItem(storageKey(), JSON.stringify(map));
  renderKeymap();
}

function renderKeymap() {
  const choices = info.inputs.filter((i) => i.kind !== "analog").map((i) => i.name);
  const rows = Object.entries(keymap).map(([code, name]) => {
    const row = document.createElement("tr");
    const select = document.createElement("select");
    select.replaceChildren(...choices.map((c) => new Option(c, c)));
    select.value = name;
    select.onchange = action(() => setKeymap({ ...keymap, [code]: select.value }));
    const remove = document.createElement("button");
    remove.textContent = "remove";
    remove.onclick = action(() => { const m = { ...keymap }; delete m[code]; return setKeymap(m); });
    const cells = [code, select, remove].map((c) => {
      const td = document.createElement("td");
      td.append(c);
      return td;
    });
    row.append(...cells);
    return row;
  });
  document.querySelector("#keymap tbody").replaceChildren(...rows);
}

// -- search -----------------------------------------------------------------------
function searchType() { return $("search-order").value + $("search-kind").value + $("search-size").value; }

async function renderResults() {
  const r = await (await send("/api/search")).json();
  const body = document.querySelector("#results tbody");
  if (!r.active) { body.replaceChildren(); return; }
  $("search-count").textContent = r.count;
  const rows = r.results.map((c) => {
    const row = document.createElement("tr");
    const where = c.entry !== undefined ? c.entry : hex(c.address);
    row.innerHTML = `<td class="mono"></td><td></td><td></td><td><button>use</button></td>`;
    row.cells[0].textContent = where;
    row.cells[1].textContent = c.value;
    row.cells[2].textContent = c.previous;
    row.dataset.where = where;
    row.querySelector("button").onclick = () => {
      $("var-address").value = c.entry !== undefined ? "" : hex(c.address);
      $("var-state").value = c.entry !== undefined ? c.entry : "";
      $("var-type").value = r.kind === "memory" ? r.type : "";
      $("var-device").value = r.device;
      $("var-space").value = r.space;
      $("var-name").focus();
    };
    return row;
  });
  body.replaceChildren(...rows);
}

function sourceChanged() {
  const source = $("search-source").selectedOptions[0];
  if (!source) return;
  const isState = source.dataset.kind === "state";
  for (const id of ["search-start", "search-length", "search-order", "search-kind", "search-size"]) {
    $(id).disabled = isState;
  }
  if (!isState) {
    const size = Number(source.dataset.size);
    $("search-start").value = source.dataset.start || "0x0";
    $("search-length").value = hex(Number(source.dataset.length) || Math.min(size, 1 << 20));
  }
}

// -- variables ----------------------------------------------------------------------
function renderVariables(specs) {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const row = document.createElement("tr");
    row.innerHTML = `<td></td><td class="mono"></td><td></td><td><button>remove</button></td>`;
    row.cells[0].textContent = name;
    row.cells[1].textContent = JSON.stringify(spec);
    row.cells[2].dataset.value = name;
    row.querySelector("button").onclick = action(async () => {
      await api("/api/variables/remove", { name });
      await refreshDescription();
    });
    return row;
  });
  document.querySelector("#variables tbody").replaceChildren(...rows);
}

async function refreshDescription() {
  info = await (await send("/api/describe")).json();
  renderVariables(info.variables);
  return info;
}

// -- start-up ---------------------------------------------------------------------
async function init() {
  await refreshDescription();
  $("machine-title").textContent = `${info.title} — MAME ${info.mame_version}`;
  const saved = localStorage.getItem(storageKey());
  keymap = saved ? JSON.parse(saved) : info.keymap;
  if (saved) await setKeymap(keymap).catch(() => { keymap = info.keymap; });
  renderKeymap();
  const sources = [];
  for (const r of info.ram) {
    const o = new Option(`RAM ${r.device} ${r.space} ${hex(r.start)}+${r.length}`, `${r.device}|${r.space}`);
    Object.assign(o.dataset, { kind: "memory", start: hex(r.start), length: r.length, size: r.length });
    sources.push(o);
  }
  for (const s of info.spaces) {
    const o = new Option(`${s.device} ${s.space} (${s.size} bytes)`, `${s.device}|${s.space}`);
    Object.assign(o.dataset, { kind: "memory", size: s.size });
    sources.push(o);
  }
  for (const d of info.state_devices) {
    const o = new Option(`${d} state entries`, `state|${d}`);
    o.dataset.kind = "state";
    sources.push(o);
  }
  $("search-source").replaceChildren(...sources);
  sourceChanged();
  $("scenario").value = info.scenario;
  $("write-actions").value = JSON.stringify(info.actions);
  $("write-folder").value = `${info.out_dir}/${info.integration || info.machine}-studio`;
  $("write-title").value = info.title;
  $("screen").classList.toggle("aspect", $("aspect").checked);
  frameLoop();
  countViewFps();
  statusLoop();
}

$("search-source").onchange = sourceChanged;
$("aspect").onchange = () => $("screen").classList.toggle("aspect", $("aspect").checked);
$("screen-box").onclick = () => $("screen-box").focus();
$("run-toggle").onclick = action(async () => {
  const running = $("run-toggle").textContent === "Run";
  await api("/api/run", { running, speed: Number($("speed").value) });
  $("run-toggle").textContent = running ? "Pause" : "Run";
});
$("speed").onchange = action(() => api("/api/run", {
  running: $("run-toggle").textContent === "Pause", speed: Number($("speed").value) }));
$("step-button").onclick = action(async () => {
  const frame = await api("/api/step", { frames: Number($("step-frames").value) });
  $("run-toggle").textContent = "Run";
  return `stepped to frame ${frame}`;
});
$("save-state").onclick = action(async () => {
  const name = $("slot-name").value.trim();
  await api("/api/state/save", { name });
  return `saved state ${name}`;
});
$("load-state").onclick = action(async () => {
  const name = $("slot-list").value;
  await api("/api/state/load", { name });
  return `loaded state ${name}`;
});
$("add-key").onclick = action(() => {
  $("add-key").textContent = "press a key…";
  return new Promise((resolve) => {
    captureKey = (code) => {
      captureKey = null;
      $("add-key").textContent = "Add a key…";
      const first = info.inputs.find((i) => i.kind !== "analog");
      resolve(setKeymap({ ...keymap, [code]: keymap[code] || first.name }));
    };
  });
});
$("default-keys").onclick = action(() => setKeymap({ ...info.keymap }));

$("search-form").onsubmit = action(async () => {
  const source = $("search-source").value.split("|");
  const body = source[0] === "state"
    ? { source: "state", device: source[1] }
    : { source: "memory", device: source[0], space: source[1], start: $("search-start").value,
        length: $("search-length").value, type: searchType() };
  const count = await api("/api/search/start", body);
  await renderResults();
  return `new search: ${count} candidates`;
});
$("narrow-form").onsubmit = action(async () => {
  const count = await api("/api/search/narrow", { op: $("narrow-op").value, value: $("narrow-value").value });
  await renderResults();
  return `${$("narrow-op").value}: ${count} left`;
});
$("undo-button").onclick = action(async () => {
  const count = await api("/api/search/undo");
  await renderResults();
  return `undo: ${count} left`;
});
$("variable-form").onsubmit = action(async () => {
  const name = $("var-name").value.trim();
  const entry = $("var-state").value.trim();
  const spec = entry ? { state: entry } : { address: $("var-address").value.trim(), type: $("var-type").value.trim() };
  if ($("var-device").value) spec.device = $("var-device").value;
  if (!entry && $("var-space").value) spec.space = $("var-space").value;
  await api("/api/variables", { name, spec });
  await refreshDescription();
  return `variable ${name} added`;
});
$("apply-scenario").onclick = action(async () => {
  await api("/api/scenario", { text: $("scenario").value });
  return "scenario applied: reward and done are evaluated from now on";
});
$("reset-return").onclick = action(() => api("/api/reset-return"));
$("write-form").onsubmit = action(async () => {
  const result = await api("/api/write", {
    folder: $("write-folder").value.trim(), title: $("write-title").value.trim(),
    slot: $("write-slot").value, actions: $("write-actions").value,
    overwrite: $("write-overwrite").checked,
  });
  $("write-result").textContent = `wrote ${result.folder}; load it with ${result.use}`;
  return `wrote ${result.folder}`;
});
$("open-form").onsubmit = action(async () => {
  await api("/api/open", { target: $("open-target").value, cart: $("open-cart").value });
  location.reload();
});

init().catch((error) => showMessage(error.message, true));
