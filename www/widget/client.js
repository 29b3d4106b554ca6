// The widget's side of the training worker: starting it (same origin or a cross-origin embed),
// and a queue that holds commands until the worker says it is ready.

/** The site's root (where index.html, embed.html and the worker's files are). */
export const SITE = new URL('../../', import.meta.url);
const WORKER_JS = new URL('gradscope-worker.js', SITE);
const WORKER_WASM = new URL('gradscope-worker_bg.wasm', SITE);
const WORKER_LOADER = new URL('../worker-loader.js', import.meta.url);

/** Starts the training worker. From the site's own origin it is www/worker-loader.js; a page on
 * another origin (an embed on a blog) may not start a worker from a cross-origin URL, so it
 * starts one from a same-origin blob holding the same two lines — importScripts may load the
 * glue across origins, and the wasm is fetched with CORS (the host must send
 * Access-Control-Allow-Origin, as GitHub Pages does). */
export function newWorker() {
  if (WORKER_LOADER.origin === location.origin) return new Worker(WORKER_LOADER);
  const source = `importScripts(${JSON.stringify(WORKER_JS.href)});\n` +
    `wasm_bindgen({ module_or_path: ${JSON.stringify(WORKER_WASM.href)} }).catch((e) => setTimeout(() => { throw e; }));\n`;
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
    this.ready = false;
    this.queue = [];
  }

  /** Starts a worker (the old one, if any, must have been terminated). False if it could not. */
  spawn() {
    this.ready = false;
    let worker;
    try {
      worker = newWorker();
    } catch (e) {
      this.onStartError(`The training worker could not be started here: ${e.message}`);
      return false;
    }
    // Events are JSON text, except checkpoints: `{type: 'checkpoint', step, bytes}`.
    worker.onmessage = (e) => this.onEvent(typeof e.data === 'string' ? JSON.parse(e.data) : e.data);
    worker.onerror = (e) => this.onStartError(`The training worker failed to start: ${e.message || 'unknown error (is the site reachable, and its .wasm served with CORS when embedded from another origin?)'}`, true);
    this.worker = worker;
    return true;
  }

  /** Posts `cmd`, or holds it until the worker is ready. */
  send(cmd) {
    if (!this.ready) { this.queue.push(cmd); return; }
    this.worker.postMessage(JSON.stringify(cmd));
  }

  /** The worker said it is ready: post what was held. */
  markReady() {
    this.ready = true;
    for (const cmd of this.queue) this.worker.postMessage(JSON.stringify(cmd));
    this.queue = [];
  }

  /** The worker died: hold commands until a new one is ready. */
  markDead() {
    this.ready = false;
  }

  terminate() {
    this.worker?.terminate();
  }
}
