// Saved runs: every run's spec and metrics, kept in IndexedDB as it trains, so a reload or a
// closed tab loses nothing. One object store, `runs`, keyed by a run id; a record is
// `{ id, name, lab, spec, hash, backend, created, updated, step, history, note }`.
//
// Weights are not stored: reopening a run shows its curves and loads its spec, and training
// restarts from step 0 (same seed, so on the same backend it retraces the curve). The worker can
// write a checkpoint (Export → Checkpoint, CPU backend; `gradscope run --resume FILE` continues
// it natively), but not load one: burn 0.22's optimizer records load their state onto
// `Device::default()`, which in the wasm build is WebGPU — uninitialized (a panic) on a CPU-only
// page, and unreadable synchronously when the run is on the CPU.
//
// Storage can be missing (some private modes) or full: every call resolves, and failures reach
// `onProblem(message)` once, so the page shows a notice and training goes on.

const DB_NAME = 'gradscope';
const DB_VERSION = 1;
const STORE = 'runs';

export class RunStore {
  constructor(onProblem = () => {}) {
    this.onProblem = onProblem;
    this.problem = null;
    this.db = null;
    this.opening = this.open();
  }

  fail(what, error) {
    const message = `Saved runs are off: ${what} (${error?.name || 'error'}: ${error?.message || error}). Training goes on; export the metrics to keep them.`;
    if (!this.problem) {
      this.problem = message;
      // Later: the store is opened while its widget is still being built.
      queueMicrotask(() => this.onProblem(message));
    }
    return null;
  }

  open() {
    return new Promise((resolve) => {
      let request;
      try {
        if (!globalThis.indexedDB) { resolve(this.fail('this browser offers no IndexedDB', 'unavailable')); return; }
        request = indexedDB.open(DB_NAME, DB_VERSION);
      } catch (e) { resolve(this.fail('IndexedDB cannot be opened here', e)); return; }
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: 'id' });
        store.createIndex('updated', 'updated');
      };
      request.onsuccess = () => {
        this.db = request.result;
        // A newer gradscope in another tab upgrades the database: let it.
        this.db.onversionchange = () => { this.db.close(); this.db = null; this.opening = Promise.resolve(null); };
        resolve(this.db);
      };
      request.onerror = () => resolve(this.fail('IndexedDB cannot be opened here', request.error));
      request.onblocked = () => resolve(this.fail('another tab holds an older gradscope database', 'blocked'));
    });
  }

  async tx(mode, fn) {
    const db = this.db || (await this.opening);
    if (!db) return null;
    return new Promise((resolve) => {
      let result = null;
      try {
        const t = db.transaction(STORE, mode);
        const store = t.objectStore(STORE);
        const req = fn(store);
        if (req) req.onsuccess = () => { result = req.result; };
        t.oncomplete = () => resolve(result);
        t.onabort = t.onerror = () => resolve(this.fail(mode === 'readonly' ? 'reading saved runs failed' : 'the browser refused to store the run (storage full?)', t.error));
      } catch (e) {
        resolve(this.fail('IndexedDB failed', e));
      }
    });
  }

  /** Inserts or replaces a run. */
  put(run) { return this.tx('readwrite', (s) => s.put(run)); }

  /** One run by id. */
  get(id) { return this.tx('readonly', (s) => s.get(id)); }

  /** All runs, newest first, without their histories' bulk: `{ ...run, points }`. */
  async list() {
    const all = (await this.tx('readonly', (s) => s.getAll())) || [];
    return all.sort((a, b) => b.updated - a.updated)
      .map(({ history, ...rest }) => ({ ...rest, points: history?.length ?? 0 }));
  }

  /** Renames a run in one transaction (a save between a get and a put would be lost). */
  rename(id, name) {
    return this.tx('readwrite', (s) => {
      const req = s.get(id);
      req.onsuccess = () => { if (req.result) s.put({ ...req.result, name }); };
      return null;
    });
  }

  /** Closes the database (the widget is gone). */
  close() {
    this.db?.close();
    this.db = null;
    this.opening = Promise.resolve(null);
  }

  delete(id) { return this.tx('readwrite', (s) => s.delete(id)); }
}

/** A new run id: time-ordered and unique across tabs. */
export function newRunId() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
