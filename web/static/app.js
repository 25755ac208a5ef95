// The page: controls, drawing, and messages to and from the worker. It
// computes nothing of the model: every number comes from worker.js.
"use strict";

const $ = (id) => document.getElementById(id);
// State read by the browser test (web/browsertest).
const pg = window.playground = {likSteps: -1, ready: false, steps: 0, losses: [], frames: 0, frameSteps: -1, frameT: -1, sps: 0, error: null};
let worker = null, frame = null, training = false, points = [];

function cfg() {
  const c = {dataset: $("dataset").value, path: $("path").value, coupling: $("coupling").value,
          size: $("size").value, batch: 128, lr: 3e-3, seed: 1};
  if (c.dataset === "drawn") c.points = points;
  return c;
}

function view() {
  const v = {t: +$("t").value, n: 200, traj: $("traj").checked ? 40 : 0, grid: 17, res: 48};
  if ($("cond").checked) v.cond = [+$("x1x").value || 0, +$("x1y").value || 0];
  return v;
}

function setTraining(on) {
  training = on;
  $("train").textContent = on ? "Pause" : "Train";
  $("train").setAttribute("aria-pressed", String(on));
  worker.postMessage({type: "train", on});
}

function newModel() {
  if (training) setTraining(false);
  pg.steps = 0; pg.losses = []; pg.sps = 0;
  if ($("dataset").value === "drawn" && points.length === 0) {
    $("status").textContent = "drawn dataset: click the left picture to place points";
    return;
  }
  worker.postMessage({type: "new", cfg: cfg()});
  worker.postMessage({type: "view", view: view()});
  drawLoss();
}

function start() {
  worker = new Worker("worker.js");
  worker.onmessage = (e) => {
    const m = e.data;
    if (m.type === "ready") {
      const sel = $("dataset"); sel.innerHTML = "";
      for (const d of m.datasets) {
        const o = document.createElement("option"); o.value = o.textContent = d; sel.appendChild(o);
      }
      const o = document.createElement("option"); o.value = "drawn"; o.textContent = "drawn (your points)"; sel.appendChild(o);
      sel.value = "8gaussians";
      $("train").disabled = $("reset").disabled = $("likbtn").disabled = $("addpt").disabled = $("clearpts").disabled = false;
      $("status").textContent = "ready";
      newModel();
    } else if (m.type === "created") {
      pg.ready = true;
      $("status").textContent = "new model: " + m.cfg.dataset + ", " + m.cfg.path + ", " + m.cfg.coupling + ", " + m.cfg.size;
    } else if (m.type === "progress") {
      pg.losses.push(...m.losses); pg.steps = m.steps; pg.sps = m.sps;
      const last = pg.losses.slice(-50), mean = last.reduce((a, b) => a + b, 0) / last.length;
      $("stats").textContent = m.steps + " steps · loss " + mean.toFixed(3) + " (mean of the last " + last.length + ") · " + m.sps.toFixed(0) + " steps/s";
      if (m.finished) { setTraining(false); $("status").textContent = "the run is over: start a new model"; }
      drawLoss();
    } else if (m.type === "frame") {
      frame = m.frame; pg.frames++; pg.frameSteps = frame.steps; pg.frameT = frame.t; pg.frameCond = !!frame.cond; draw();
    } else if (m.type === "loglik") {
      pg.likSteps = m.loglik.steps; drawLik(m.loglik);
      $("likstat").textContent = "at step " + m.loglik.steps + " (" + (m.ms / 1000).toFixed(1) + " s)";
    } else if (m.type === "error") {
      pg.error = m.message; $("status").textContent = "error: " + m.message;
      if (training) setTraining(false);
    }
  };
}

function sendView() {
  $("tval").textContent = (+$("t").value).toFixed(2);
  $("exact-caption").innerHTML = $("cond").checked
    ? "Exact: conditional path p<sub>t</sub>(x|x₁) and field u<sub>t</sub>(x|x₁) for the marked x₁ (Theorem 3)"
    : "Exact: marginal density p<sub>t</sub>(x) and field u<sub>t</sub>(x) (Theorem 1)";
  if (worker) worker.postMessage({type: "view", view: view()});
}

// Drawing.
function toPix(c, x, y) {
  const s = c.width / (frame.hi - frame.lo);
  return [(x - frame.lo) * s, c.height - (y - frame.lo) * s];
}

function arrows(ctx, c, vec, cap, colour) {
  const g = frame.grid, cell = c.width / (g - 1);
  ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = 1.3;
  for (let r = 0; r < g; r++) for (let k = 0; k < g; k++) {
    const i = r * g + k, vx = vec[2 * i], vy = vec[2 * i + 1], n = Math.hypot(vx, vy);
    if (!(n > 0)) continue;
    const len = Math.min(n, cap) / cap * cell * 0.85;
    const x = frame.lo + (frame.hi - frame.lo) * k / (g - 1), y = frame.lo + (frame.hi - frame.lo) * r / (g - 1);
    const [px, py] = toPix(c, x, y), dx = vx / n * len, dy = -vy / n * len;
    ctx.beginPath(); ctx.moveTo(px, py); ctx.lineTo(px + dx, py + dy); ctx.stroke();
    const a = Math.atan2(dy, dx);
    ctx.beginPath(); ctx.moveTo(px + dx, py + dy);
    ctx.lineTo(px + dx - 4 * Math.cos(a - 0.5), py + dy - 4 * Math.sin(a - 0.5));
    ctx.lineTo(px + dx - 4 * Math.cos(a + 0.5), py + dy - 4 * Math.sin(a + 0.5));
    ctx.fill();
  }
}

function capOf(vec) {
  const n = [];
  for (let i = 0; i < vec.length; i += 2) n.push(Math.hypot(vec[i], vec[i + 1]));
  n.sort((a, b) => a - b);
  return n[Math.floor(0.9 * (n.length - 1))] || 1;
}

function draw() {
  if (!frame) return;
  const cap = capOf(frame.exact);
  // Learned.
  let c = $("learned"), ctx = c.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  ctx.strokeStyle = "rgba(120,120,120,0.35)"; ctx.lineWidth = 1;
  for (const tr of frame.traj || []) {
    ctx.beginPath();
    for (let i = 0; i < tr.length; i += 2) { const [px, py] = toPix(c, tr[i], tr[i + 1]); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); }
    ctx.stroke();
  }
  ctx.fillStyle = "rgba(30,80,200,0.75)";
  for (let i = 0; i < frame.samples.length; i += 2) {
    const [px, py] = toPix(c, frame.samples[i], frame.samples[i + 1]); ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
  }
  arrows(ctx, c, frame.learned, cap, "rgba(200,90,0,0.9)");
  ctx.strokeStyle = "#c00"; ctx.lineWidth = 1.5;
  if ($("dataset").value === "drawn") for (const p of points) {
    const [px, py] = toPix(c, p[0], p[1]); ctx.beginPath(); ctx.arc(px, py, 5, 0, 2 * Math.PI); ctx.stroke();
  }
  label(ctx, "learned  t = " + frame.t.toFixed(2) + "  step " + frame.steps);
  // Exact: density heatmap, then the field.
  c = $("exact"); ctx = c.getContext("2d");
  const R = frame.res, img = new ImageData(R, R);
  let mx = -Infinity;
  for (const l of frame.logp) if (l > mx) mx = l;
  for (let r = 0; r < R; r++) for (let k = 0; k < R; k++) {
    const p = Math.exp(frame.logp[r * R + k] - mx), o = 4 * ((R - 1 - r) * R + k);
    img.data[o] = 255 - 225 * p; img.data[o + 1] = 255 - 175 * p; img.data[o + 2] = 255 - 55 * p; img.data[o + 3] = 255;
  }
  const off = new OffscreenCanvas(R, R); off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, c.width, c.height);
  arrows(ctx, c, frame.exact, cap, "rgba(200,90,0,0.9)");
  if (frame.cond) {
    const [px, py] = toPix(c, frame.cond[0], frame.cond[1]);
    ctx.strokeStyle = "#d00"; ctx.lineWidth = 2.5;
    ctx.beginPath(); ctx.moveTo(px - 7, py - 7); ctx.lineTo(px + 7, py + 7); ctx.moveTo(px + 7, py - 7); ctx.lineTo(px - 7, py + 7); ctx.stroke();
  }
  label(ctx, (frame.cond ? "conditional on x₁" : "exact marginal") + "  t = " + frame.t.toFixed(2));
}

function drawLik(l) {
  const c = $("lik"), ctx = c.getContext("2d"), R = l.res, img = new ImageData(R, R);
  let mx = -Infinity;
  for (const v of l.logp) if (v > mx) mx = v;
  const lo = mx - 8; // colours span 8 nats below the maximum
  for (let r = 0; r < R; r++) for (let k = 0; k < R; k++) {
    const p = Math.max(0, (l.logp[r * R + k] - lo) / (mx - lo)), o = 4 * ((R - 1 - r) * R + k);
    img.data[o] = 255 - 200 * p; img.data[o + 1] = 255 - 120 * p; img.data[o + 2] = 255 - 230 * p; img.data[o + 3] = 255;
  }
  const off = new OffscreenCanvas(R, R); off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, c.width, c.height);
  label(ctx, "log p₁(x), max " + mx.toFixed(2) + ", colours over 8 nats");
}

function label(ctx, s) {
  ctx.font = "13px system-ui, sans-serif"; ctx.fillStyle = "rgba(255,255,255,0.8)"; ctx.fillRect(4, 4, ctx.measureText(s).width + 8, 19);
  ctx.fillStyle = "#222"; ctx.fillText(s, 8, 18);
}

function drawLoss() {
  const c = $("loss"), ctx = c.getContext("2d"), L = pg.losses;
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  if (L.length < 2) return;
  // an exponential moving average, drawn on a log scale
  const s = []; let m = L[0];
  for (const l of L) { m = 0.95 * m + 0.05 * l; s.push(m); }
  let lo = Infinity, hi = -Infinity;
  for (const v of s) { lo = Math.min(lo, Math.log(v)); hi = Math.max(hi, Math.log(v)); }
  if (hi - lo < 1e-9) hi = lo + 1;
  ctx.strokeStyle = "#1e50c8"; ctx.lineWidth = 1.5; ctx.beginPath();
  s.forEach((v, i) => {
    const x = 30 + (c.width - 40) * i / (s.length - 1), y = 10 + (c.height - 30) * (hi - Math.log(v)) / (hi - lo);
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = "#444"; ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(Math.exp(hi).toFixed(2), 2, 14); ctx.fillText(Math.exp(lo).toFixed(2), 2, c.height - 20);
  ctx.fillText("step " + L.length, c.width - 70, c.height - 5);
}

// Controls.
for (const id of ["dataset", "path", "coupling", "size"]) $(id).addEventListener("change", newModel);
$("reset").addEventListener("click", newModel);
$("train").addEventListener("click", () => setTraining(!training));
$("likbtn").addEventListener("click", () => {
  $("likstat").textContent = "computing…";
  worker.postMessage({type: "loglik", view: {res: 28, steps: 8, lo: -6, hi: 6}});
});
for (const id of ["t", "traj", "cond", "x1x", "x1y"]) $(id).addEventListener("input", sendView);
$("exact").addEventListener("click", (e) => {
  if (!frame) return;
  const c = $("exact"), r = c.getBoundingClientRect(), s = (frame.hi - frame.lo) / r.width;
  $("x1x").value = (frame.lo + (e.clientX - r.left) * s).toFixed(2);
  $("x1y").value = (frame.lo + (r.bottom - e.clientY) * s).toFixed(2);
  $("cond").checked = true;
  sendView();
});
function addPoint(x, y) {
  points.push([x, y]);
  $("dataset").value = "drawn";
  $("ptsinfo").textContent = points.length + " drawn point(s); the model restarts on each new point.";
  newModel();
}
$("addpt").addEventListener("click", () => addPoint(+$("x1x").value || 0, +$("x1y").value || 0));
$("clearpts").addEventListener("click", () => { points = []; $("ptsinfo").textContent = "no drawn points"; if ($("dataset").value === "drawn") newModel(); });
$("learned").addEventListener("click", (e) => {
  const c = $("learned"), r = c.getBoundingClientRect(), lo = frame ? frame.lo : -6, hi = frame ? frame.hi : 6, s = (hi - lo) / r.width;
  if ($("dataset").value !== "drawn") return; // clicks place points only on the drawn dataset
  addPoint(+(lo + (e.clientX - r.left) * s).toFixed(2), +(lo + (r.bottom - e.clientY) * s).toFixed(2));
});
start();
