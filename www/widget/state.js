// A widget's state: everything it knows about the run on screen, declared here in one place.

import SCHEMA from '../form-schema.js';

/** The state of a new widget; `options` as start() takes them. */
export function newState(options) {
  return {
    // ---- the worker and its backend
    /** The backend asked for: 'auto' | 'webgpu' | 'cpu'. */
    backend: options.backend || 'auto',
    /** The active backend's kind ('cpu' | 'wgpu'), once the worker says. */
    backendKind: null,
    /** Whether float64 losses run on the active backend. */
    float64: true,
    /** The worker trapped (a Rust panic): its next error event is not a failed start. */
    crashed: false,
    /** The widget was removed: events that still arrive are dropped. */
    stopped: false,

    // ---- the spec and the lab
    /** Every lab's presets, default first: the build-written copy (form-schema.js, the same
     * list the worker's `ready` event carries), so the menu and the first form show before the
     * worker has loaded. */
    presets: SCHEMA.presets,
    /** The loaded spec, and the last one the worker accepted. */
    spec: null,
    lastGood: null,
    /** The first run's spec as the page read it, shown in the form until the worker loads it
     * (then `spec`). */
    painted: null,
    /** Its URL hash (without view options). */
    specHash: '',
    /** The lab module shown, and the view it mounted. */
    lab: null,
    view: null,
    /** The paths of the form's fields, to rebuild it only when they change. */
    fieldSignature: '',
    /** An error message that must survive the next load (a bad link's). */
    keepError: false,
    /** What the worker built: facts, parameters, series names. */
    summary: null,

    // ---- training
    running: false,
    finished: false,
    /** Train was pressed and the worker has not yet said it runs. */
    startRequested: false,
    /** The reader pressed Train: an embed may then train its models in several workers. */
    readerStarted: false,
    /** The first GPU step is compiling its kernels. */
    compiling: false,
    step: 0,
    /** Every evaluation so far, and the lab's report of them. */
    history: [],
    report: null,
    /** Analysis snapshots: one in flight at a time, at most about once a second. */
    analysis: { inFlight: false, last: 0, cost: 0, wantFinal: false },
    /** Benchmarks on each backend, and callers of handle.bench() waiting for one. */
    benches: [],
    benchWaiters: [],

    // ---- drawing and visibility
    pendingDraw: false,
    lastDraw: null,
    /** Visible on screen and in a visible tab (embeds pause while hidden). */
    visible: !options.pauseWhenHidden || document.visibilityState !== 'hidden',
    onScreen: true,
    resumeOnShow: false,
    autoplayed: false,
    /** An off-screen embed's worker given back (sleep.js): null, `{ phase: 'saving' }` or
     * `{ phase: 'asleep', bytes }`; the timer that puts it to sleep; what the page keeps while
     * the new worker continues the run (`{ history, report, run, step }`). */
    sleep: null,
    sleepTimer: null,
    waking: null,
    /** A recorded run on show (replay.js): `{ url, name, step, records, reported }`. */
    replay: null,
    /** The canvases a sleeping widget emptied, with their sizes. */
    releasedCanvases: null,

    // ---- compare, saved runs, exports
    /** Runs overlaid on the charts: { name, history, report, finished }. */
    pinned: [],
    /** Pinned runs waiting for the worker's report of their history. */
    pendingReports: [],
    /** A saved run to pin once its spec has loaded. */
    pendingPin: null,
    /** The saved run on screen ({ id, created, name }), when it was last saved, the trailing
     * save's timer, whether the user deleted it, and whether its name is being edited. */
    run: null,
    lastSave: 0,
    saveTimer: null,
    runDeleted: false,
    renaming: false,
    /** The file stem of a checkpoint download in flight. */
    checkpointStem: null,
  };
}
