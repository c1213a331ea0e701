// ildl playground: the page. Training runs in Python (ildl.nn); this file only asks the server
// for frames and draws them. The server owns the configuration: the page sends its controls as
// JSON and shows what comes back (the checked settings and the URL to share).
"use strict";

const state = {
  session: null,
  choices: null,
  config: null,        // the last configuration the server accepted
  description: null,   // points, layer names, plane extent (a full frame)
  frame: null,         // the last frame
  playing: false,
  pending: null,       // the step request on its way while playing
  curves: [],          // [epoch, train loss, test loss, train accuracy, test accuracy]
  frameTimes: [],
  framesShown: 0,      // frames drawn since the page opened (benchmarks/playground.py reads it)
};
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REGULARIZATION_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const SPEEDS = [1, 2, 5, 10, 20];
const MAX_CURVE_POINTS = 1000;
const HEARTBEAT_MS = 5000;
const $ = (id) => document.getElementById(id);

// -- the server --------------------------------------------------------------------------------
async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({session: state.session, ...body}),
  });
  const answer = await response.json().catch(() => ({error: `HTTP ${response.status}`}));
  if (response.status === 404 && path !== "/api/session") {
    await startSession();  // the server dropped this tab's session (or restarted): start anew
    throw new Error("the session had ended; the playground started again");
  }
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

async function startSession() {
  const answer = await post("/api/session", {query: location.search});
  state.session = answer.session;
  state.choices = answer.choices;
  buildControls();
  showFrame(answer.frame);
  $("export-model").href = `/api/export/model?session=${state.session}`;
  $("export-code").href = `/api/export/code?session=${state.session}`;
  if (answer.warning) showMessage(answer.warning, "error");
}

async function send(path, body = {}, {resume = false} = {}) {
  // Any change of settings: the server checks it, answers with a full frame or an error. A
  // frame still on its way is awaited first, so an old network's frame never follows a new one.
  const wasPlaying = state.playing;
  setPlaying(false);
  await (state.pending || Promise.resolve()).catch(() => {});
  let ok = false;
  try {
    showFrame((await post(path, body)).frame);
    showMessage("");
    ok = true;
  } catch (error) {
    showMessage(error.message, "error");
    if (state.config) setControls(state.config);  // back to what the server holds
  }
  if (resume && wasPlaying && ok) setPlaying(true);
  return ok;
}

function configure(changes) {
  return send("/api/configure", {config: {...state.config, ...changes}}, {resume: true});
}

// -- playing -----------------------------------------------------------------------------------
// The next frame is asked for before this one is drawn, so the server trains while the browser
// draws; state.pending is the request on its way (awaited before any change of settings).
async function loop() {
  let request = stepRequest(), started = performance.now();
  while (request) {
    let answer;
    try {
      answer = await request;
    } catch (error) {
      showMessage(error.message, "error");
      setPlaying(false);
      break;
    }
    const more = state.playing && !answer.frame.error;
    const began = started;
    request = more ? stepRequest() : null;
    started = performance.now();
    showFrame(answer.frame);
    countFrame(began);
    if (answer.frame.error) setPlaying(false);
  }
  state.pending = null;
}

function stepRequest() {
  state.pending = post("/api/step", {epochs: Number($("speed").value)});
  state.pending.catch(() => {});  // handled by the loop; a settings change only waits for it
  return state.pending;
}

function setPlaying(playing) {
  const starting = playing && !state.playing && !state.pending;
  state.playing = playing;
  $("play").classList.toggle("playing", playing);
  $("play").textContent = playing ? "❚❚" : "▶";
  $("play").setAttribute("aria-label", playing ? "pause" : "play");
  if (starting) loop();
}

function countFrame(started) {
  const now = performance.now();
  state.frameTimes.push(now);
  while (state.frameTimes.length && now - state.frameTimes[0] > 2000) state.frameTimes.shift();
  const fps = state.frameTimes.length / Math.min(2, (now - state.frameTimes[0]) / 1000 || 1);
  $("fps").textContent = `${fps.toFixed(0)} frames/s · last frame ${(now - started).toFixed(0)} ms`;
}

// -- frames ------------------------------------------------------------------------------------
function showFrame(frame) {
  if (frame.config) {
    state.config = frame.config;
    state.description = frame;
    state.curves = [];
    history.replaceState(null, "", "?" + frame.query);
    setControls(frame.config);
    buildNetwork();
  }
  state.frame = frame;
  state.framesShown++;
  addCurvePoint(frame);
  $("epoch").textContent = String(frame.epoch).padStart(3, "0");
  const metrics = frame.metrics;
  $("test-loss").textContent = number(metrics.test_loss);
  $("train-loss").textContent = number(metrics.train_loss);
  $("test-accuracy").textContent = metrics.test_accuracy == null ? "–"
    : `${(100 * metrics.test_accuracy).toFixed(1)}%`;
  if (frame.error) showMessage(frame.error, "error");
  drawBoundary();
  drawNeurons();
  drawLinks();
  drawCurves();
}

function addCurvePoint(frame) {
  const last = state.curves[state.curves.length - 1];
  if (last && last[0] === frame.epoch) return;
  const m = frame.metrics;
  state.curves.push([frame.epoch, m.train_loss, m.test_loss, m.train_accuracy, m.test_accuracy]);
  if (state.curves.length > MAX_CURVE_POINTS) {  // keep every other point: the curve's shape stays
    state.curves = state.curves.filter((_, index) => index % 2 === 0 || index === state.curves.length - 1);
  }
}

const number = (value) => value == null ? "–" : value < 0.001 ? value.toExponential(2) : value.toFixed(3);

// -- colours -----------------------------------------------------------------------------------
let palette = null;
function colours() {
  if (palette) return palette;
  const style = getComputedStyle(document.documentElement);
  const rgb = (name) => {
    const hex = style.getPropertyValue(name).trim();
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  };
  palette = {neutral: rgb("--neutral"), pointShade: rgb("--point-shade"), negative: rgb("--negative"), positive: rgb("--positive"),
             edge: style.getPropertyValue("--point-edge").trim(),
             text: style.getPropertyValue("--text").trim(),
             muted: style.getPropertyValue("--muted").trim(),
             accent: style.getPropertyValue("--accent").trim()};
  // Colours of classes 2, 3, ... of a multiclass problem.
  palette.classes = [palette.negative, palette.positive, [76, 175, 80], [171, 71, 188],
                     [229, 57, 53], [120, 144, 156]];
  return palette;
}
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  palette = null;
  if (state.frame) showFrame(state.frame);
});

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// A value in [-1, 1]: orange below zero, blue above, the background colour at zero.
function diverging(t) {
  const c = colours();
  return t < 0 ? mix(c.neutral, c.negative, Math.min(1, -t)) : mix(c.neutral, c.positive, Math.min(1, t));
}

// The plane behind the points is paler than the points, so both stay visible.
const REGION_STRENGTH = 0.62;

function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// -- the output over the plane -----------------------------------------------------------------
const offscreen = document.createElement("canvas");

function drawBoundary() {
  const boundary = state.frame.boundary;
  const size = boundary.size, channels = boundary.channels;
  const bytes = decode(boundary.data);
  offscreen.width = offscreen.height = size;
  const context = offscreen.getContext("2d");
  const image = context.createImageData(size, size);
  const c = colours();
  for (let pixel = 0; pixel < size * size; pixel++) {
    let colour;
    if (channels === 1) {
      colour = diverging(((bytes[pixel] / 255) * 2 - 1) * REGION_STRENGTH);
    } else {  // each class's colour weighed by its probability, faded where the net hesitates
      colour = [0, 0, 0];
      let top = 0;
      for (let k = 0; k < channels; k++) {
        const p = bytes[pixel * channels + k] / 255;
        top = Math.max(top, p);
        const own = c.classes[k % c.classes.length];
        colour = [colour[0] + p * own[0], colour[1] + p * own[1], colour[2] + p * own[2]];
      }
      colour = mix(c.neutral, colour, REGION_STRENGTH * Math.max(0, (top - 1 / channels) / (1 - 1 / channels)));
    }
    image.data.set([colour[0], colour[1], colour[2], 255], pixel * 4);
  }
  context.putImageData(image, 0, 0);
  const canvas = $("boundary");
  const display = canvas.getContext("2d");
  display.imageSmoothingEnabled = true;
  display.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
  drawPoints(display, canvas.width);
}

function drawPoints(context, width) {
  const d = state.description;
  const [x1min, x1max, x2min, x2max] = d.domain;
  const c = colours();
  const regression = d.config.problem === "regression";
  const [low, high] = d.target_range;
  const draw = (points, test) => {
    for (const [x1, x2, label] of points) {
      const x = ((x1 - x1min) / (x1max - x1min)) * width;
      const y = ((x2max - x2) / (x2max - x2min)) * width;
      const colour = regression ? diverging(((label - low) / (high - low || 1)) * 2 - 1)
        : c.classes[label % c.classes.length];
      context.beginPath();
      context.arc(x, y, test ? 3.5 : 3, 0, 2 * Math.PI);
      context.fillStyle = `rgb(${mix(colour, c.pointShade, 0.2).map(Math.round).join(",")})`;
      context.fill();
      context.lineWidth = test ? 1.6 : 1;
      context.strokeStyle = test ? c.text : c.edge;
      context.stroke();
    }
  };
  draw(d.points.train, false);
  if ($("show-test").checked) draw(d.points.test, true);
}

function drawCurves() {
  const canvas = $("curves");
  const context = canvas.getContext("2d");
  const c = colours();
  const width = canvas.width, height = canvas.height;
  context.clearRect(0, 0, width, height);
  const points = state.curves.filter((p) => p[1] != null && p[2] != null);
  if (points.length < 2) return;
  const top = Math.max(...points.map((p) => Math.max(p[1], p[2]))) || 1;
  const first = points[0][0], last = points[points.length - 1][0] || 1;
  // losses on a scale up to their largest value, accuracies (dashed) on 0 to 100%
  const line = (index, scale, colour, widthPx, dash) => {
    context.beginPath();
    points.forEach((p, i) => {
      const x = ((p[0] - first) / (last - first || 1)) * (width - 2) + 1;
      const y = height - 2 - (p[index] / scale) * (height - 18);  // below the legend
      i ? context.lineTo(x, y) : context.moveTo(x, y);
    });
    context.strokeStyle = colour;
    context.lineWidth = widthPx;
    context.setLineDash(dash);
    context.stroke();
  };
  const accuracy = points[0][3] != null;
  if (accuracy) {
    line(3, 1, c.accent, 1, [3, 3]);
    line(4, 1, c.accent, 1.8, [3, 3]);
  }
  line(1, top, c.muted, 1.2, []);
  line(2, top, c.text, 2, []);
  context.setLineDash([]);
  context.fillStyle = c.muted;
  context.font = "11px system-ui, sans-serif";
  context.fillText(`loss ≤ ${top.toPrecision(3)}: test bold, training thin`
                   + (accuracy ? "; accuracy dashed, 0-100%" : ""), 4, 11);
}

// -- the network -------------------------------------------------------------------------------
const NEURON_GAP = 8, LAYER_GAP = 70, TOP = 46;

function neuronSize() {
  const tallest = Math.max(...state.description.layers.map((layer) => layer.length),
                           Object.keys(state.choices.features).length);
  return tallest > 16 ? 20 : tallest > 10 ? 28 : 38;
}

// Where each layer's neurons sit: [{x, y}] per layer; the features come first, all seven drawn.
function layout() {
  const size = neuronSize();
  const columns = [Object.keys(state.choices.features), ...state.description.layers.slice(1)];
  return columns.map((column, layer) => column.map((_, index) => ({
    x: 64 + layer * (size + LAYER_GAP), y: TOP + index * (size + NEURON_GAP), size,
  })));
}

function buildNetwork() {
  const network = $("network");
  network.querySelectorAll(".neuron, .layer-head, .feature-label").forEach((e) => e.remove());
  const positions = layout();
  const config = state.config;
  const names = Object.keys(state.choices.features);
  const size = positions[0][0].size;
  names.forEach((name, index) => {
    const p = positions[0][index];
    const label = document.createElement("div");
    label.className = "feature-label";
    label.textContent = state.choices.features[name];
    Object.assign(label.style, {left: `${p.x - 62}px`, top: `${p.y + size / 2 - 8}px`});
    network.append(label);
    const canvas = neuronCanvas(p, "neuron feature" + (config.features.includes(name) ? "" : " off"));
    canvas.dataset.feature = name;
    canvas.addEventListener("click", () => toggleFeature(name));
    network.append(canvas);
  });
  positions.slice(1).forEach((column, offset) => {
    const layer = offset + 1;
    column.forEach((p, unit) => {
      const canvas = neuronCanvas(p, "neuron unit");
      canvas.dataset.layer = layer;
      canvas.dataset.unit = unit;
      network.append(canvas);
    });
    network.append(layerHead(layer, column[0].x, size));
  });
  const last = positions[positions.length - 1];
  const bottom = Math.max(...positions.map((column) => column[column.length - 1].y)) + size + 10;
  const svg = $("links");
  svg.setAttribute("width", last[0].x + size + 10);
  svg.setAttribute("height", bottom);
  network.style.height = `${bottom}px`;
  network.style.minWidth = `${last[0].x + size + 10}px`;
  svg.replaceChildren();
  state.links = [];
  const shown = config.features;
  const from = positions.map((column, layer) => layer === 0
    ? shown.map((name) => column[names.indexOf(name)]) : column);
  for (let layer = 1; layer < from.length; layer++) {
    from[layer - 1].forEach((a, i) => from[layer].forEach((b, j) => {
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      const middle = (a.x + size + b.x) / 2;
      path.setAttribute("d", `M${a.x + size},${a.y + size / 2} C${middle},${a.y + size / 2} `
        + `${middle},${b.y + size / 2} ${b.x},${b.y + size / 2}`);
      path.dataset.layer = layer;
      path.dataset.from = i;
      path.dataset.to = j;
      svg.append(path);
      state.links.push(path);
    }));
  }
  $("layer-count").textContent = `${config.hidden.length} hidden layer${config.hidden.length === 1 ? "" : "s"}`;
}

function neuronCanvas(p, className) {
  const canvas = document.createElement("canvas");
  canvas.className = className;
  canvas.width = canvas.height = 25;  // the server's neuron maps are 25 x 25
  Object.assign(canvas.style, {left: `${p.x}px`, top: `${p.y}px`, width: `${p.size}px`,
                               height: `${p.size}px`});
  return canvas;
}

function layerHead(layer, x, size) {
  const head = document.createElement("div");
  head.className = "layer-head";
  const output = layer === state.description.layers.length - 1;
  Object.assign(head.style, {left: `${x - 24}px`, top: "0px", width: `${size + 48}px`});
  if (output) {
    head.innerHTML = `<div>output</div><div>${state.description.layers[layer][0]}</div>`;
    return head;
  }
  const [units, activation] = state.config.hidden[layer - 1];
  const minus = button("−", `fewer units in layer ${layer}`, () => setUnits(layer - 1, units - 1));
  const plus = button("+", `more units in layer ${layer}`, () => setUnits(layer - 1, units + 1));
  const select = document.createElement("select");
  select.title = `activation of layer ${layer}`;
  select.className = "activation";
  for (const name of state.choices.activations) select.add(new Option(name, name, false, name === activation));
  select.addEventListener("change", () => {
    const hidden = state.config.hidden.map((h) => [...h]);
    hidden[layer - 1][1] = select.value;
    configure({hidden});
  });
  const row = document.createElement("div");
  row.append(minus, ` ${units} `, plus);
  head.append(row, select);
  return head;
}

function button(text, title, onclick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.title = title;
  b.addEventListener("click", onclick);
  return b;
}

function setUnits(index, units) {
  if (units < 1 || units > state.choices.max_units) return;
  const hidden = state.config.hidden.map((h) => [...h]);
  hidden[index][0] = units;
  configure({hidden});
}

function toggleFeature(name) {
  const features = state.config.features.includes(name)
    ? state.config.features.filter((f) => f !== name)
    : Object.keys(state.choices.features).filter((f) => f === name || state.config.features.includes(f));
  configure({features});
}

// Each neuron's 25x25 map; the unused features are drawn too (greyed out by CSS).
function drawNeurons() {
  const neurons = state.frame.neurons;
  const bytes = decode(neurons.data);
  const area = neurons.size * neurons.size;
  const offsets = new Map();  // "layer/unit" -> index of its map
  let index = 0;
  Object.keys(state.choices.features).forEach((name) => offsets.set(`0/${name}`, index++));
  state.description.layers.slice(1).forEach((layer, l) => layer.forEach((_, unit) => offsets.set(`${l + 1}/${unit}`, index++)));
  document.querySelectorAll("#network canvas.neuron").forEach((canvas) => {
    const key = canvas.dataset.feature ? `0/${canvas.dataset.feature}` : `${canvas.dataset.layer}/${canvas.dataset.unit}`;
    const map = offsets.get(key);
    const context = canvas.getContext("2d");
    if (map === undefined) { context.clearRect(0, 0, canvas.width, canvas.height); return; }
    const image = context.createImageData(neurons.size, neurons.size);
    for (let i = 0; i < area; i++) {
      const colour = diverging(bytes[map * area + i] / 127.5 - 1);
      image.data.set([colour[0], colour[1], colour[2], 255], i * 4);
    }
    context.putImageData(image, 0, 0);
    canvas.dataset.scale = neurons.scales[map];
  });
}

function drawLinks() {
  const c = colours();
  const weights = state.frame.weights;
  const largest = Math.max(1e-9, ...weights.flatMap((w) => w.kernel.flat().map(Math.abs)));
  for (const path of state.links) {
    const w = weights[path.dataset.layer - 1].kernel[path.dataset.from][path.dataset.to];
    const t = Math.abs(w) / largest;
    const colour = diverging(Math.sign(w) * (0.35 + 0.65 * t));
    path.setAttribute("stroke", `rgb(${colour.map(Math.round).join(",")})`);
    path.setAttribute("stroke-width", (0.5 + 5 * t).toFixed(2));
    path.dataset.weight = w;
  }
}

// -- hover values ------------------------------------------------------------------------------
function tooltipText(target) {
  const layers = state.description.layers;
  if (target.matches("path")) {
    const layer = Number(target.dataset.layer);
    const source = layer === 1 ? layers[0][target.dataset.from] : `unit ${Number(target.dataset.from) + 1} of layer ${layer - 1}`;
    const to = layer === layers.length - 1 ? `output ${Number(target.dataset.to) + 1}` : `unit ${Number(target.dataset.to) + 1} of layer ${layer}`;
    return `weight ${source} → ${to}: ${Number(target.dataset.weight).toFixed(4)}`;
  }
  if (target.dataset.feature) {
    const name = target.dataset.feature;
    const on = state.config.features.includes(name);
    return `${state.choices.features[name]}: ${on ? "an input (click to remove)" : "not used (click to add)"}`
      + (on ? `; from −${Number(target.dataset.scale).toFixed(3)} to ${Number(target.dataset.scale).toFixed(3)} on the plane` : "");
  }
  const layer = Number(target.dataset.layer), unit = Number(target.dataset.unit);
  const bias = state.frame.weights[layer - 1].bias[unit];
  const kind = layer === layers.length - 1 ? `output ${unit + 1}` : `layer ${layer}, unit ${unit + 1}`;
  return `${kind} (${layers[layer][unit]}): bias ${bias.toFixed(4)}; |value| up to ${Number(target.dataset.scale).toFixed(3)} on the plane (orange negative, blue positive)`;
}

function onHover(event) {
  const tip = $("tooltip");
  const target = event.target.closest("path, canvas.neuron");
  if (!target || !state.frame) { tip.hidden = true; return; }
  tip.textContent = tooltipText(target);
  tip.hidden = false;
  tip.style.left = `${event.clientX + 12}px`;
  tip.style.top = `${event.clientY + 12}px`;
}

// -- controls ----------------------------------------------------------------------------------
function fillSelect(id, values, label = (v) => v) {
  const select = $(id);
  select.replaceChildren(...values.map((v) => new Option(label(v), v)));
}

let controlsBuilt = false;
function buildControls() {
  if (controlsBuilt) return;
  controlsBuilt = true;
  const choices = state.choices;
  fillSelect("problem", choices.problems, (p) => ({binary: "Binary classification", multiclass: "Multiclass (softmax)", regression: "Regression (MSE)"}[p] || p));
  fillSelect("optimizer", choices.optimizers, (o) => ({sgd: "SGD", momentum: "SGD + momentum", adam: "Adam", rmsprop: "RMSprop"}[o] || o));
  fillSelect("learning_rate", LEARNING_RATES);
  fillSelect("regularization", choices.regularizations, (r) => ({none: "None", l1: "L1", l2: "L2"}[r] || r));
  fillSelect("regularization_rate", REGULARIZATION_RATES);
  fillSelect("dropout", DROPOUTS);
  fillSelect("speed", SPEEDS);
  $("speed").value = 5;
  $("points").min = choices.points[0];
  $("points").max = choices.points[1];
  $("points").step = 10;
  $("classes").max = choices.max_classes;

  const number = (id, parse) => $(id).addEventListener("change", () => configure({[id]: parse($(id).value)}));
  ["problem", "optimizer", "regularization"].forEach((id) => $(id).addEventListener("change", () => {
    const changes = {[id]: $(id).value};
    if (id === "problem" && !choices.datasets[$(id).value].includes(state.config.dataset)) {
      changes.dataset = choices.datasets[$(id).value][0];
    }
    configure(changes);
  }));
  number("learning_rate", Number);
  number("regularization_rate", Number);
  number("dropout", Number);
  number("batch_size", (v) => parseInt(v, 10));
  for (const id of ["noise", "points", "train_ratio", "classes"]) {
    $(id).addEventListener("input", () => { $(`${id}-value`).textContent = $(id).value; });
    number(id, id === "points" || id === "classes" ? (v) => parseInt(v, 10) : Number);
  }
  $("play").addEventListener("click", () => setPlaying(!state.playing));
  $("step").addEventListener("click", () => send("/api/step", {epochs: 1}));
  $("reset").addEventListener("click", () => { setPlaying(false); send("/api/reset", {new_seed: false}); });
  $("reseed").addEventListener("click", () => { setPlaying(false); send("/api/reset", {new_seed: true}); });
  $("regenerate").addEventListener("click", () => send("/api/regenerate"));
  $("add-layer").addEventListener("click", () => {
    if (state.config.hidden.length >= choices.max_hidden_layers) return;
    const last = state.config.hidden[state.config.hidden.length - 1] || [4, "tanh"];
    configure({hidden: [...state.config.hidden, [...last]]});
  });
  $("remove-layer").addEventListener("click", () => {
    if (state.config.hidden.length) configure({hidden: state.config.hidden.slice(0, -1)});
  });
  $("show-test").addEventListener("change", () => drawBoundary());
  $("csv").addEventListener("change", upload);
  $("copy-link").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(location.href); showMessage("link copied", "ok"); }
    catch { showMessage(location.href, "ok"); }
  });
  $("network").addEventListener("mousemove", onHover);
  $("network").addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
  document.addEventListener("keydown", (event) => {
    if (event.code === "Space" && !event.target.matches("input, select, button")) {
      event.preventDefault();
      setPlaying(!state.playing);
    }
  });
}

function setControls(config) {
  for (const id of ["problem", "optimizer", "regularization", "batch_size", "noise", "points", "train_ratio", "classes"]) {
    $(id).value = config[id];
  }
  selectClosest("learning_rate", LEARNING_RATES, config.learning_rate);
  selectClosest("regularization_rate", REGULARIZATION_RATES, config.regularization_rate);
  selectClosest("dropout", DROPOUTS, config.dropout);
  for (const id of ["noise", "points", "train_ratio", "classes"]) $(`${id}-value`).textContent = config[id];
  $("regularization_rate").disabled = config.regularization === "none";
  const multiclass = config.problem === "multiclass" && state.choices.multiclass_datasets.includes(config.dataset);
  $("classes-label").hidden = !multiclass;
  const uploaded = config.dataset === "csv";
  for (const id of ["noise", "points", "regenerate"]) $(id).disabled = uploaded;
  const datasets = $("datasets");
  const names = [...state.choices.datasets[config.problem], ...(state.description?.csv_name ? ["csv"] : [])];
  datasets.replaceChildren(...names.map((name) => {
    const b = button(name === "csv" ? "your CSV" : name, `dataset: ${name}`, () => configure({dataset: name}));
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(name === config.dataset));
    b.dataset.dataset = name;
    return b;
  }));
}

// A value the list lacks (from a shared link) is added, so the control shows what is used.
function selectClosest(id, values, value) {
  const select = $(id);
  if (!values.includes(value) && ![...select.options].some((o) => Number(o.value) === value)) {
    select.add(new Option(value, value));
  }
  select.value = [...select.options].find((o) => Number(o.value) === value).value;
}

async function upload(event) {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  const message = $("csv-message");
  if (file.size > 1_000_000) {
    message.textContent = `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the playground takes files up to 1 MB`;
    message.className = "message error";
    return;
  }
  try {
    showFrame((await post("/api/upload", {name: file.name, text: await file.text()})).frame);
    message.textContent = `${file.name}: ${state.description.points.train.length + state.description.points.test.length} points`;
    message.className = "message ok";
  } catch (error) {
    message.textContent = error.message;
    message.className = "message error";
  }
}

function showMessage(text, kind = "") {
  $("message").textContent = text;
  $("message").className = `message ${kind}`;
}

// -- the session's life ------------------------------------------------------------------------
setInterval(() => { if (state.session && !state.playing) post("/api/heartbeat", {}).catch(() => {}); }, HEARTBEAT_MS);
addEventListener("pagehide", () => {
  if (state.session) navigator.sendBeacon("/api/close", JSON.stringify({session: state.session}));
});
startSession().catch((error) => showMessage(`cannot start: ${error.message}`, "error"));
