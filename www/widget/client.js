// The widget's side of the training worker: which build to start (with WebGPU or CPU-only),
// starting it (same origin or a cross-origin embed), and a queue that holds commands until the
// worker says it is ready.

/** The site's root (where index.html, embed.html and the worker's files are). */
export const SITE = new URL('../../', import.meta.url);
const WORKER_LOADER = new URL('../worker-loader.js', import.meta.url);

/** The worker comes in two builds (Cargo.toml's `webgpu` feature): `webgpu` (burn-wgpu and
 * cubecl inside; it also trains on the CPU) and `cpu` (the CPU backend alone, about a third of
 * the download). A page that will train on the CPU starts the small one. */
export const WORKER_BUILDS = {
  webgpu: 'gradscope-worker',
  cpu: 'gradscope-worker-cpu',
};

/** Whether this browser hands out a WebGPU adapter: asked once per page, on the page's thread
 * (the worker asks again for its own device). */
let gpuAdapter = null;
export function hasWebGpu() {
  gpuAdapter ??= (async () => {
    try {
      return !!(navigator.gpu && await navigator.gpu.requestAdapter());
    } catch {
      return false;
    }
  })();
  return gpuAdapter;
}

/** The build a widget needs: the CPU-only one where the browser has no WebGPU adapter (the
 * worker would train on the CPU anyway, with the same notice), or where the widget trains on
 * the CPU (`backend` 'cpu') and shows no backend menu to switch with. Otherwise the WebGPU
 * build, which also trains on the CPU: switching backends stays inside one worker, which keeps
 * the run when a switch is refused. */
export async function workerBuild({ backend, canSwitch }) {
  if (backend === 'cpu' && !canSwitch) return 'cpu';
  return (await hasWebGpu()) ? 'webgpu' : 'cpu';
}

/** Starts the training worker of `build` ('webgpu' | 'cpu'). From the site's own origin it is
 * www/worker-loader.js (told the build in its query); a page on another origin (an embed on a
 * blog) may not start a worker from a cross-origin URL, so it starts one from a same-origin blob
 * holding the same two lines — importScripts may load the glue across origins, and the wasm is
 * fetched with CORS (the host must send Access-Control-Allow-Origin, as GitHub Pages does). */
export function newWorker(build = 'webgpu') {
  const name = WORKER_BUILDS[build] || WORKER_BUILDS.webgpu;
  if (WORKER_LOADER.origin === location.origin) {
    const loader = new URL(WORKER_LOADER);
    loader.searchParams.set('build', name);
    return new Worker(loader);
  }
  const js = new URL(`${name}.js`, SITE);
  const wasm = new URL(`${name}_bg.wasm`, SITE);
  const source = `importScripts(${JSON.stringify(js.href)});\n` +
    `wasm_bindgen({ module_or_path: ${JSON.stringify(wasm.href)} }).catch((e) => setTimeout(() => { throw e; }));\n`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return worker;
}

/** One worker at a time: `spawn()` starts a fresh one, `send()` queues until it is `ready`. */
export class WorkerClient {
  /** `onEvent(ev)`: each event (JSON text parsed; checkpoints arrive as objects);
   * `onStartError(message)`: the worker could not start or failed while starting. */
  constructor({ onEvent, onStartError }) {
    this.onEvent = onEvent;
    this.onStartError = onStartError;
    this.worker = null;
    /** The running worker's build ('webgpu' | 'cpu'). */
    this.build = null;
    this.ready = false;
    this.queue = [];
    /** Counts [`start`] calls: a start still waiting for its build is dropped by a later
     * start or a terminate. */
    this.starts = 0;
  }

  /** Starts a worker of the build `needs` asks for ([`workerBuild`]; the old worker, if any,
   * must have been terminated): the choice waits on the page's WebGPU probe, and commands sent
   * meanwhile wait in the queue. */
  start(needs) {
    this.ready = false;
    const attempt = ++this.starts;
    workerBuild(needs).then((build) => {
      if (attempt === this.starts) this.spawn(build);
    });
  }

  /** Starts a worker of `build` now. False if it could not. */
  spawn(build) {
    this.ready = false;
    let worker;
    try {
      worker = newWorker(build);
    } catch (e) {
      this.onStartError(`The training worker could not be started here: ${e.message}`);
      return false;
    }
    this.build = build;
    // Events are JSON text, except checkpoints: `{type: 'checkpoint', step, bytes}`.
    worker.onmessage = (e) => this.onEvent(typeof e.data === 'string' ? JSON.parse(e.data) : e.data);
    worker.onerror = (e) => this.onStartError(`The training worker failed to start: ${e.message || 'unknown error (is the site reachable, and its .wasm served with CORS when embedded from another origin?)'}`, true);
    this.worker = worker;
    return true;
  }

  /** Posts `cmd`, or holds it until the worker is ready. */
  send(cmd) {
    if (!this.ready) { this.queue.push(cmd); return; }
    this.post(cmd);
  }

  /** Commands are JSON text, except `{type: 'restore', bytes}` and `{type: 'merge', spec,
   * parts}`, whose checkpoint bytes are transferred as they are (src/web/protocol.rs
   * `Command::Restore`, `Command::Merge`). */
  post(cmd) {
    if (cmd.bytes instanceof Uint8Array) this.worker.postMessage(cmd, [cmd.bytes.buffer]);
    else if (Array.isArray(cmd.parts)) this.worker.postMessage(cmd, cmd.parts.map((p) => p.buffer));
    else this.worker.postMessage(JSON.stringify(cmd));
  }

  /** The worker said it is ready: post what was held. */
  markReady() {
    this.ready = true;
    for (const cmd of this.queue) this.post(cmd);
    this.queue = [];
  }

  /** The worker died: hold commands until a new one is ready. */
  markDead() {
    this.ready = false;
  }

  /** Ends the worker; commands wait in the queue for the next one. */
  terminate() {
    this.starts += 1;
    this.ready = false;
    this.worker?.terminate();
  }
}
