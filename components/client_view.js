// UQ Lens client views (components/client_view.py): views that need no model call change in the browser, with
// no round trip to the server. Python precomputes every state; this code only swaps them in.
//
// data = {
//   controls: [
//     {kind: "radio", dimension, label, options: [[value, label], ...], help},
//     {kind: "slider", dimension, label, keys: [state key, ...] (in order; the label shows the key)},
//     {kind: "plot_click", figure: selector, renderer, panel, items: {"trace-point": item},
//      outline: {trace, count, width: [on, off], color: [on, off]} (restyled), select: [trace, ...] (item.select =
//      [trace, point] outlined on the SVG among those traces' bars), vline: [selector, ...] (a dashed line at
//      x = point), picked: "trace-point" or null (drawn picked at once)}: a click on a point with an item picks it
//   ],
//   panels: [{id, html}],            // this instance's panels, drawn after its controls
//   states: {dimension: {value: [update, ...]}},
//   initial: {dimension: value},
//   composite: null | {dimension, parts: [first, ...], uses: {first's value: [other parts it reads]}, sync}
//     (the controls of `parts` together pick states[dimension][key], key = first's value and the values of the
//     parts it uses joined by "|"; the parts it does not use are disabled; a plot_click item {set: {part: value}}
//     sets parts; sync: the state value set to the key, 500 ms after the last change, so Python follows;
//     drawn: the key of the state the figures were drawn at, applied over when the controls show another)
// }
// update = {figure: selector, traces: [i], restyle: {...}, pad: [attribute]} | {figure: selector, relayout: {...}}
//          | {panel: id, html: "..."}   (pad: a restyled matrix given as its rows up to the diagonal, padded with
//          nulls to a square: the causal part of an attention map sent once)
// A panel's element with data-uq-trigger="name" and data-uq-value="<json>" sends that value to Python as the
// trigger `name` when clicked (the only way back to the server).

const ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function figureIn(selector) {
  const area = document.querySelector(selector);
  return area ? area.querySelector(".js-plotly-plot") : null;
}

function padded(rows) {
  return rows.map((row) => row.concat(new Array(rows.length - row.length).fill(null)));
}

function drawOn(gd, update) {
  if (update.restyle && update.pad) {
    const values = {...update.restyle};
    for (const name of update.pad) values[name] = values[name].map(padded);
    window.Plotly.restyle(gd, values, update.traces);
  } else if (update.restyle) window.Plotly.restyle(gd, update.restyle, update.traces);
  if (update.relayout) window.Plotly.relayout(gd, update.relayout);
}

// A figure inside a closed expander is restyled when the expander opens (the latest update only), so that a
// switch costs only what is on screen.
function drawWhenOpen(gd, closed, update) {
  gd.__uqPending = update;
  if (closed.__uqWatching) return;
  closed.__uqWatching = true;
  closed.addEventListener("toggle", () => {
    for (const figure of closed.querySelectorAll(".js-plotly-plot")) {
      if (closed.open && figure.__uqPending) { drawOn(figure, figure.__uqPending); figure.__uqPending = null; }
    }
  });
}

// Updates of figures not drawn yet (Streamlit may draw a figure after the view), the latest per figure, traces and
// attributes, applied as soon as the figure is there (checked every 100 ms for up to 20 s).
const waiting = new Map();
let waitingSince = 0;

function retryWaiting() {
  for (const [slot, update] of waiting) if (drawNow(update)) waiting.delete(slot);
  if (waiting.size && performance.now() - waitingSince < 20000) setTimeout(retryWaiting, 100);
  else waiting.clear();
}

function drawNow(update) {
  const gd = figureIn(update.figure);
  if (!gd || !gd._fullLayout || !window.Plotly) return false;
  const closed = gd.closest("details:not([open])");
  if (closed) drawWhenOpen(gd, closed, update);
  else { gd.__uqPending = null; drawOn(gd, update); }
  return true;
}

function apply(updates) {
  for (const update of updates || []) {
    if (update.panel) {
      const element = document.getElementById(update.panel);
      if (element) element.innerHTML = update.html;
      continue;
    }
    const slot = JSON.stringify([update.figure, update.traces || [], Object.keys(update.restyle || {}),
                                 Object.keys(update.relayout || {})]);
    if (drawNow(update)) { waiting.delete(slot); continue; }
    if (!waiting.size) { waitingSince = performance.now(); setTimeout(retryWaiting, 100); }
    waiting.set(slot, update);
  }
}

function bar(label, prob, chosen) {
  const width = Math.max(0, Math.min(1, prob)) * 100;
  return `<div class="uq-bar-row${chosen ? " uq-chosen" : ""}"><span class="uq-bar-label">${esc(label)}</span>` +
    `<span class="uq-bar-track"><span class="uq-bar" style="width:${width.toFixed(2)}%"></span></span>` +
    `<span class="uq-bar-value">${prob.toFixed(3)}</span></div>`;
}

function metric(label, value, help) {
  return `<div class="uq-metric" title="${esc(help)}"><div class="uq-metric-label">${esc(label)}</div>` +
    `<div class="uq-metric-value">${esc(value)}</div></div>`;
}

// One token's detail: its numbers, where it came from, its alternatives, and a branch button per other one.
function tokenDetail(item) {
  const parts = [`<p class="uq-heading"><b>Selected token</b> ${esc(item.heading)}</p>`,
    `<div class="uq-metrics">${item.metrics.map((m) => metric(m[0], m[1], m[2])).join("")}</div>`];
  if (item.note) parts.push(`<p class="uq-note">${esc(item.note)}</p>`);
  parts.push(`<div class="uq-bars" role="list" aria-label="alternatives">` +
    item.bars.map((b) => bar(b[0], b[1], b[2])).join("") + `</div>`);
  if (item.branches && item.branches.length) {
    parts.push(`<p><b>What if?</b> Keep the answer up to here, force an alternative, and generate the rest:</p>`);
    for (const branch of item.branches) {
      parts.push(`<button class="uq-button" data-uq-trigger="continue_from" ` +
        `data-uq-value="${esc(JSON.stringify(branch.value))}">${esc(branch.label)}</button>`);
    }
  }
  return parts.join("");
}

const RENDERERS = {token_detail: tokenDetail, html: (item) => item.html};

function outline(gd, spec, point) {
  const widths = new Array(spec.count).fill(spec.width[1]);
  const colours = new Array(spec.count).fill(spec.color[1]);
  widths[point] = spec.width[0];
  colours[point] = spec.color[0];
  window.Plotly.restyle(gd, {"marker.line.width": [widths], "marker.line.color": [colours]}, [spec.trace]);
}

function vline(x) {
  return {shapes: [{type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1,
                    line: {color: "#555555", width: 1, dash: "dash"}}]};
}

// Outlines the picked bar (item.select = [trace, point]) among the bars of the traces in control.select, on the
// drawn SVG itself: a highlight of the interaction, not of the data, so plotly's figure (and its download) stay
// as they are, and no restyle (tens of milliseconds on a two-panel figure) is paid.
function showSelected(gd, control, item) {
  for (const group of gd.querySelectorAll("g.trace.bars")) {
    const data = group.__data__;
    const trace = data && data[0] && data[0].trace ? data[0].trace.index : -1;
    if (!control.select.includes(trace)) continue;
    group.querySelectorAll("g.point path").forEach((path, point) => {
      const picked = item.select && item.select[0] === trace && item.select[1] === point;
      path.style.stroke = picked ? "#111111" : "";
      path.style.strokeWidth = picked ? "3px" : "";
    });
  }
}

function pick(control, key) {
  const item = control.items[key];
  if (!item) return;
  if (item.set) { control.onSet(item.set); return; }
  const point = Number(key.split("-")[1]);
  const gd = figureIn(control.figure);
  if (gd && window.Plotly && control.outline) outline(gd, control.outline, point);
  if (gd && control.select) showSelected(gd, control, item);
  const panel = document.getElementById(control.panel);
  if (panel) panel.innerHTML = RENDERERS[control.renderer](item);
  for (const selector of control.vline || []) {
    const curve = figureIn(selector);
    if (curve && curve._fullLayout && window.Plotly) window.Plotly.relayout(curve, vline(point));
  }
}

// Hands the figure under `selector` its click handler, now or when it appears (Streamlit may draw it later),
// then calls onReady(). The figure listens once and calls whichever handler the latest render gave it
// (gd.__uqClick).
function whenFigure(selector, onClick, onReady) {
  const tryBind = () => {
    const gd = figureIn(selector);
    if (!gd || typeof gd.on !== "function" || !gd._fullLayout) return false;
    gd.__uqClick = onClick;
    setTimeout(onReady, 0);
    if (!gd.__uqBound) {
      gd.__uqBound = true;
      gd.on("plotly_click", (event) => gd.__uqClick(event));
    }
    return true;
  };
  if (tryBind()) return;
  const observer = new MutationObserver(() => { if (tryBind()) observer.disconnect(); });
  observer.observe(document.body, {childList: true, subtree: true});
  setTimeout(() => observer.disconnect(), 120000);
}

function radio(control, name, initial, onChange) {
  const group = document.createElement("div");
  group.className = "uq-radio";
  group.setAttribute("role", "radiogroup");
  group.setAttribute("aria-label", control.label);
  const title = document.createElement("span");
  title.className = "uq-control-label";
  title.textContent = control.label;
  if (control.help) title.title = control.help;
  group.appendChild(title);
  for (const [value, label] of control.options) {
    const option = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = value;
    input.checked = value === initial;
    input.addEventListener("change", () => { if (input.checked) onChange(value); });
    option.appendChild(input);
    option.appendChild(document.createTextNode(label));
    group.appendChild(option);
  }
  group.uqSet = (value) => {
    for (const input of group.querySelectorAll("input")) input.checked = input.value === value;
  };
  group.uqDisable = () => {};
  return group;
}

function slider(control, initial, onChange) {
  const box = document.createElement("label");
  box.className = "uq-slider";
  if (control.help) box.title = control.help;
  const title = document.createElement("span");
  title.className = "uq-control-label";
  const input = document.createElement("input");
  input.type = "range";
  input.min = 0;
  input.max = control.keys.length - 1;
  input.step = 1;
  input.value = Math.max(0, control.keys.indexOf(initial));
  input.setAttribute("aria-label", control.label);
  const shown = () => { title.textContent = `${control.label}: ${control.keys[input.value]}`; };
  shown();
  input.addEventListener("input", () => { shown(); onChange(control.keys[input.value]); });
  box.appendChild(title);
  box.appendChild(input);
  box.uqSet = (key) => { input.value = Math.max(0, control.keys.indexOf(key)); shown(); };
  box.uqDisable = (disabled) => { input.disabled = disabled; box.classList.toggle("uq-disabled", disabled); };
  return box;
}

// A press outside the client views (Save, another widget) sends a composite's pending change first, so the run
// that press starts sees it (one listener for the page; the latest composite's flush). Presses on the figures
// the composite's own clicks read (a head grid) start no run, so they send nothing.
let flushPending = null;
let flushIgnored = [];
document.addEventListener("pointerdown", (event) => {
  const inside = (selector) => event.target.closest && event.target.closest(selector);
  if (flushPending && !inside(".uq-client-view") && !flushIgnored.some(inside)) flushPending();
}, true);

// The controls of a composite's parts pick one state together (see the data layout above). Returns
// {initialKey, change(part, value), set({part: value}), current()}.
function composite(spec, initial, elements, states, setStateValue) {
  const values = {};
  for (const part of spec.parts) values[part] = initial[part];
  let timer = null;
  const keyOf = () => {
    const first = values[spec.parts[0]];
    return [first].concat((spec.uses[first] || []).map((part) => values[part])).join("|");
  };
  const send = () => { timer = null; setStateValue(spec.sync, keyOf()); };
  const refresh = () => {
    const used = spec.uses[values[spec.parts[0]]] || [];
    for (const part of spec.parts.slice(1)) if (elements[part]) elements[part].uqDisable(!used.includes(part));
    apply(states[keyOf()]);
    if (!spec.sync) return;
    clearTimeout(timer);
    timer = setTimeout(send, 500);
  };
  if (spec.sync) flushPending = () => { if (timer !== null) { clearTimeout(timer); send(); } };
  flushIgnored = spec.ignore || [];
  const initialKey = keyOf();
  for (const part of spec.parts.slice(1)) {
    if (elements[part]) elements[part].uqDisable(!(spec.uses[values[spec.parts[0]]] || []).includes(part));
  }
  return {
    initialKey,
    current: keyOf,
    change: (part, value) => { values[part] = value; refresh(); },
    set: (parts) => {
      for (const [part, value] of Object.entries(parts)) {
        values[part] = value;
        if (elements[part]) elements[part].uqSet(value);
      }
      refresh();
    },
  };
}

// The figures were drawn at another state than the controls show (a rerun drew them before the browser's
// latest change reached Python): the controls' state is applied now and again as late-drawn figures appear.
function reapply(updates) {
  for (const delay of [0, 250, 750, 1500]) setTimeout(() => apply(updates), delay);
}

export default function (component) {
  const {data, parentElement, setTriggerValue, setStateValue} = component;
  const signature = JSON.stringify({...data, initial: null});
  let root = parentElement.querySelector(":scope > .uq-client-view");
  if (root && root.dataset.signature === signature) return;
  if (!root) {
    root = document.createElement("div");
    root.className = "uq-client-view";
    parentElement.appendChild(root);
    root.addEventListener("click", (event) => {
      const trigger = event.target.closest("[data-uq-trigger]");
      if (trigger) setTriggerValue(trigger.dataset.uqTrigger, JSON.parse(trigger.dataset.uqValue));
    });
  }
  root.dataset.signature = signature;
  root.innerHTML = "";
  const name = `uq-${Math.random().toString(36).slice(2)}`;
  const spec = data.composite;
  const parts = spec ? spec.parts : [];
  const elements = {};
  let joint = null;
  let row = null;
  const onChange = (control, states) => (value) => {
    if (joint && parts.includes(control.dimension)) joint.change(control.dimension, value);
    else apply(states[value]);
  };
  for (const control of data.controls || []) {
    const states = (data.states || {})[control.dimension] || {};
    const initial = (data.initial || {})[control.dimension];
    if (control.kind === "radio") elements[control.dimension] = radio(control, name, initial, onChange(control, states));
    else if (control.kind === "slider") elements[control.dimension] = slider(control, initial, onChange(control, states));
    else if (control.kind === "plot_click") {
      const keyOf = (p) => `${p.curveNumber}-${p.pointNumber}`;
      control.onSet = (values) => { if (joint) joint.set(values); };
      whenFigure(control.figure, (event) => {
        const point = (event.points || []).find((p) => control.items[keyOf(p)]);
        if (point) pick(control, keyOf(point));
      }, () => { if (control.picked) pick(control, control.picked); });
    }
    if (!elements[control.dimension]) continue;
    if (!parts.includes(control.dimension)) root.appendChild(elements[control.dimension]);
    else {
      if (!row) { row = document.createElement("div"); row.className = "uq-columns"; root.appendChild(row); }
      row.appendChild(elements[control.dimension]);
    }
  }
  if (spec) {
    const clicked = (data.controls || []).filter((c) => c.kind === "plot_click").map((c) => c.figure);
    joint = composite({...spec, ignore: clicked}, data.initial || {}, elements, data.states[spec.dimension] || {},
                      setStateValue);
    if (spec.drawn && joint.initialKey !== spec.drawn) reapply(data.states[spec.dimension][joint.initialKey]);
  }
  for (const panel of data.panels || []) {
    const element = document.createElement("div");
    element.id = panel.id;
    element.className = "uq-panel";
    element.innerHTML = panel.html;
    root.appendChild(element);
  }
}
