// The Web Worker: loads playground.wasm (cmd/playground-wasm) and trains and
// computes frames with it, off the page's thread. Messages in:
//   {type: "new", cfg}, {type: "train", on}, {type: "view", view}
// Messages out: ready, created, progress, frame, error.
importScripts("wasm_exec.js");

let running = false, view = null, wantFrame = false, wantLik = null, scheduled = false;
let chunk = 10, lastFrame = 0, frameMs = 0, trainMs = 0, trainSteps = 0;

function call(f, arg) {
  const r = JSON.parse(f(arg));
  if (r.error) throw new Error(r.error);
  return r.ok;
}

function schedule() {
  if (!scheduled && (running || wantFrame || wantLik)) { scheduled = true; setTimeout(tick, 0); }
}

function tick() {
  scheduled = false;
  try {
    if (running) {
      const t0 = performance.now();
      const r = call(self.fmTrain, String(chunk));
      const ms = performance.now() - t0;
      trainMs += ms; trainSteps += r.losses.length;
      // aim at about 60 ms a chunk, so that the slider is answered quickly
      chunk = Math.max(1, Math.min(500, Math.round(chunk * 60 / Math.max(ms, 1))));
      postMessage({type: "progress", losses: r.losses, steps: r.steps,
                   sps: trainSteps / (trainMs / 1000), finished: r.finished});
      if (r.finished) running = false;
      // redraw while training, but spend at most a fifth of the time on it
      if (performance.now() - lastFrame > Math.max(1500, 5 * frameMs)) wantFrame = true;
    }
    if (wantFrame && view) {
      wantFrame = false;
      const t0 = performance.now();
      const f = call(self.fmFrame, JSON.stringify(view));
      lastFrame = performance.now(); frameMs = lastFrame - t0;
      postMessage({type: "frame", frame: f, ms: frameMs});
    }
    if (wantLik) {
      const v = wantLik; wantLik = null;
      const t0 = performance.now();
      const l = call(self.fmLogLik, JSON.stringify(v));
      postMessage({type: "loglik", loglik: l, ms: performance.now() - t0});
    }
  } catch (e) {
    running = false;
    postMessage({type: "error", message: e.message});
  }
  schedule();
}

onmessage = (e) => {
  const m = e.data;
  try {
    if (m.type === "new") {
      running = false; trainMs = 0; trainSteps = 0; chunk = 10;
      postMessage({type: "created", cfg: call(self.fmNew, JSON.stringify(m.cfg))});
      wantFrame = true;
    } else if (m.type === "train") {
      running = m.on;
      if (!running) wantFrame = true; // the paused model's picture
    } else if (m.type === "loglik") {
      wantLik = m.view;
    } else if (m.type === "view") {
      view = m.view; wantFrame = true;
    }
  } catch (err) {
    postMessage({type: "error", message: err.message});
  }
  schedule();
};

self.fmReady = () => postMessage({type: "ready", datasets: self.fmDatasets()});
const go = new Go();
WebAssembly.instantiateStreaming(fetch("playground.wasm"), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((err) => postMessage({type: "error", message: "loading playground.wasm: " + err}));
