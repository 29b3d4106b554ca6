// A run of several models trained by several workers at once: the labs that train models side
// by side (scans: S4D, gated S4D, Mamba; gradient flow: one stack per norm placement) give
// each worker a share of the models while the run trains, and join them back into one run
// when it stops. The results are the one-worker run's, bit for bit on the CPU backend
// (src/labs/team.rs says why; tests/native/team.rs and e2e/ui.test.mjs check it).
//
// `WorkerTeam` stands in for `WorkerClient` (client.js): the widget talks to it as to one
// worker, and sees one worker's events. Its first worker, the leader, holds the whole run
// whenever the run is not training as a team, so everything else (a step, saving the weights,
// a benchmark, a sweep, a lab's tools) works on the whole run as before. On Train, where the
// run has several models, trains on the CPU, and the widget may use several workers:
//
// 1. split: the leader cuts its run into shares (`split`, answered with each share's
//    checkpoint bytes, `labs::team::plan_shares` balancing them by cost); every member, the
//    leader included, continues its share (`restore`) and trains (`start`);
// 2. train: each member's evaluations wait until every member has posted the same step, and
//    are then passed on joined (their series united, the reports' per-model entries put
//    together); the heavier views are asked of every member and joined the same way;
// 3. join: on Pause, at the end of the budget, when a member stops by itself (a lab's tool
//    paused it), or before any other command, every member pauses, the ones behind train up
//    to the step of the one ahead (`run_to`), each saves its share (`checkpoint`), and the
//    leader joins them into the whole run (`merge`). Then the command waiting runs, and a run
//    that was training goes on as a team.
//
// A member whose models diverge stops at its evaluation, while the others are ahead of it:
// the shares cannot be joined at one step. The widget then shows the run to that step with
// the error, as one worker would; the team stays split (Train says the run is finished, the
// views still come from the members) until Reset or another load, and saving its weights is
// refused with a message.
//
// Helpers run the CPU-only build (the CPU backend is the same code in both builds) and stay
// alive between splits; `terminate()` ends them all.

import { WorkerClient } from './client.js';

/** Most workers one run may use: each holds a wasm instance (tens of MB). */
export const MAX_TEAM = 8;

/** Commands the team passes to the leader at any time: they do not touch the run. */
const ANY_TIME = new Set(['report', 'read_metrics', 'cancel_sweep', 'simulate_device_loss', 'divergence']);
/** Commands of the run: the team joins first, then passes them on. */
const CORE = new Set(['init', 'load', 'load_hash', 'start', 'pause', 'step', 'reset', 'analyse',
  'bench', 'checkpoint', 'restore', 'sweep', 'split', 'run_to', 'merge', ...ANY_TIME]);

/** Byte order of series names, as Rust's BTreeMap keeps them (names are ASCII). */
const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The shares' evaluations at one step, joined as the whole run's (`labs::team::merge_records`):
 * their series united in name order; the wall time is the longest share's. */
export function joinRecords(parts) {
  const series = {};
  for (const key of parts.flatMap((r) => Object.keys(r.series)).sort(byName)) {
    series[key] = parts.find((r) => key in r.series).series[key];
  }
  return { step: parts[0].step, wall_ms: Math.max(...parts.map((r) => r.wall_ms)), series };
}

/** The shares' reports or views joined: each list of per-model entries (`{name, …}`)
 * concatenated and sorted by `compare(nameA, nameB)`; every other field is the same in every
 * share (the step, the task, the example sequence), taken from the first. */
export function joinPerModel(parts, compare) {
  const out = { ...parts[0] };
  for (const [key, value] of Object.entries(parts[0])) {
    if (!Array.isArray(value) || !value.every((e) => e && typeof e.name === 'string')) continue;
    out[key] = parts.flatMap((p) => p[key]).sort((a, b) => compare(a.name, b.name));
  }
  return out;
}

/** A report lists its models in the order of their series' names (`<model>.test_acc`): the
 * models' names with a `.` after each, in byte order (src/labs/scans/analysis.rs). */
const reportOrder = (a, b) => byName(`${a}.`, `${b}.`);

export class WorkerTeam {
  /** As `WorkerClient`'s, and `size()`: how many workers the run may use now. */
  constructor({ onEvent, onStartError, size }) {
    this.onEvent = onEvent;
    this.onStartError = onStartError;
    this.size = size;
    this.leader = new WorkerClient({ onEvent: (ev) => this.fromMember(0, ev), onStartError });
    /** Helper workers (WorkerClient), started at the first split. */
    this.helpers = [];
    this.phase = 'whole'; // 'splitting' | 'split' | 'joining' | 'diverged'
    /** What the leader last said of the whole run. */
    this.whole = { spec: null, backend: null, finished: false };
    this.resetSplit();
    /** Commands waiting for the whole run. */
    this.held = [];
  }

  // WorkerClient's face, for the widget.
  get ready() { return this.leader.ready; }
  get worker() { return this.leader.worker; }
  get queue() { return this.leader.queue; }
  get build() { return this.leader.build; }
  start(needs) { this.dissolve(); this.leader.start(needs); }
  spawn(build) { this.dissolve(); return this.leader.spawn(build); }
  markReady() { this.leader.markReady(); }
  markDead() { this.dissolve(); this.leader.markDead(); }
  terminate() { this.dissolve(); this.leader.terminate(); }
  post(cmd) { this.leader.post(cmd); }

  /** How many members a split run has (the leader and the helpers in use). */
  get members() { return this.split.names.length; }

  resetSplit() {
    this.split = {
      names: [], steps: [], running: [], finished: [], sps: [], restored: 0,
      records: [], reports: [], resume: false, analyses: null, asked: false,
      checkpoints: [], divergeStep: null, divergedAt: null, heldErrors: [], target: null,
      lastJoined: null, lastRecord: null, fallbackError: null, whileSplitting: [],
    };
  }

  member(i) { return i === 0 ? this.leader : this.helpers[i - 1]; }

  /** A command from the widget. */
  send(cmd) {
    const type = cmd.type;
    if (this.phase === 'whole') {
      if (type === 'start' && this.canSplit()) { this.beginSplit(); return; }
      this.leader.send(cmd);
      return;
    }
    if (!CORE.has(type) || ANY_TIME.has(type)) { this.leader.send(cmd); return; } // a lab's tool
    if (this.phase === 'diverged') { this.sendDiverged(cmd); return; }
    // The members are taking their shares: the command is for the split run, once it trains.
    if (this.phase === 'splitting') { this.split.whileSplitting.push(cmd); return; }
    if (this.split.divergeStep != null && type !== 'analyse') return; // stopping at a divergence
    if (type === 'start') {
      // Training already, or about to: a start after a pause that is still joining goes on after.
      if (this.phase === 'joining') this.split.resume = true;
      return;
    }
    if (type === 'pause') {
      this.split.resume = false;
      if (this.phase === 'split') this.beginJoin();
      return;
    }
    if (type === 'analyse' && this.phase === 'split' && !this.split.analyses) {
      this.split.analyses = new Array(this.members).fill(null);
      for (let i = 0; i < this.members; i++) this.member(i).send(cmd);
      return;
    }
    // Anything else wants the whole run: join, run it, and go on training if it was (a
    // checkpoint or an analysis does not stop a run; the rest stop it, as in one worker; a lab's
    // tools went to the leader above).
    const keepsRunning = type === 'checkpoint' || type === 'analyse';
    if (keepsRunning && this.phase === 'split') this.split.resume = true;
    if (!keepsRunning) this.split.resume = false;
    this.held.push(cmd);
    if (this.phase === 'split') this.beginJoin();
  }

  /** The run can train as a team: several models, the CPU backend, more than one worker. */
  canSplit() {
    const spec = this.whole.spec;
    const lab = spec && Object.keys(spec)[0];
    const models = lab && spec[lab].models ? Object.keys(spec[lab].models).length : 0;
    return this.whole.backend === 'cpu' && models > 1 && !this.whole.finished && this.size() > 1
      && this.leader.ready;
  }

  /** Compares two models by their place in the run (its checkpoints' and views' order). */
  modelOrder() {
    const spec = this.whole.spec;
    const names = Object.keys(spec[Object.keys(spec)[0]].models);
    return (a, b) => names.indexOf(a) - names.indexOf(b);
  }

  beginSplit() {
    this.phase = 'splitting';
    this.resetSplit();
    this.leader.send({ type: 'split', workers: Math.min(MAX_TEAM, this.size()) });
  }

  /** The leader's shares: every member continues one. */
  takeShares(ev) {
    const s = this.split;
    s.names = ev.names;
    const n = ev.names.length;
    Object.assign(s, {
      steps: new Array(n).fill(ev.step), running: new Array(n).fill(false),
      finished: new Array(n).fill(false), sps: new Array(n).fill(0),
      records: Array.from({ length: n }, () => []), reports: new Array(n).fill(null),
      restored: 0,
    });
    while (this.helpers.length < n - 1) {
      const i = this.helpers.length + 1;
      const helper = new WorkerClient({
        onEvent: (e) => this.fromMember(i, e),
        onStartError: (message) => this.helperFailed(message),
      });
      helper.spawn('cpu');
      helper.send({ type: 'init', backend: 'cpu' });
      this.helpers.push(helper);
    }
    ev.parts.forEach((bytes, i) => this.member(i).send({ type: 'restore', bytes }));
  }

  /** Every member stands at the split step with its share: train. */
  restored() {
    const s = this.split;
    this.phase = 'split';
    for (let i = 0; i < this.members; i++) { s.running[i] = true; this.member(i).send({ type: 'start' }); }
    this.postState();
    for (const cmd of s.whileSplitting.splice(0)) this.send(cmd);
  }

  /** The state the widget sees while the team trains: the step every member has passed, the
   * speed of the slowest. */
  postState() {
    const s = this.split;
    this.onEvent({
      type: 'state', step: Math.min(...s.steps), running: true, finished: false,
      steps_per_sec: Math.min(...s.sps), compiling: false, first_step_ms: null,
    });
  }

  /** Every member pauses and meets at the step of the one ahead, saves its share, and the
   * leader joins them. */
  beginJoin() {
    this.phase = 'joining';
    const s = this.split;
    s.target = null;
    s.checkpoints = new Array(this.members).fill(null);
    for (let i = 0; i < this.members; i++) {
      if (s.running[i]) this.member(i).send({ type: 'pause' });
    }
    this.maybeMeet();
  }

  /** Once every member has stopped: the ones behind train up to the step ahead; once all
   * stand there, each saves its share. */
  maybeMeet() {
    const s = this.split;
    if (this.phase !== 'joining' || s.running.some(Boolean)) return;
    const ahead = Math.max(...s.steps);
    if (s.target == null) {
      s.target = ahead;
      for (let i = 0; i < this.members; i++) {
        if (s.steps[i] < ahead) { s.running[i] = true; this.member(i).send({ type: 'run_to', step: ahead }); }
      }
      if (s.running.some(Boolean)) return;
    }
    if (!s.asked) {
      s.asked = true;
      for (let i = 0; i < this.members; i++) this.member(i).send({ type: 'checkpoint' });
    }
  }

  /** Every share is saved: the leader joins them into the whole run. */
  maybeMerge() {
    const s = this.split;
    if (s.checkpoints.some((c) => c === null)) return;
    this.phase = 'merging';
    this.leader.send({ type: 'merge', spec: JSON.stringify(this.whole.spec), parts: s.checkpoints });
  }

  /** The leader holds the whole run again: run what waited, and train on if asked. */
  joined() {
    const resume = this.split.resume;
    this.phase = 'whole';
    this.resetSplit();
    const held = this.held.splice(0);
    for (const cmd of held) this.send(cmd);
    if (resume && this.phase === 'whole') this.send({ type: 'start' });
  }

  /** An event of member `i` (0: the leader). */
  fromMember(i, ev) {
    if (ev.type === 'ready' && i > 0) { this.helpers[i - 1].markReady(); return; }
    if (ev.type === 'backend' && i > 0) return;
    if (i === 0) {
      if (ev.type === 'shares') { this.takeShares(ev); return; }
      if (this.phase === 'whole' || (this.phase === 'splitting' && this.split.names.length === 0)) {
        this.fromWhole(ev);
        return;
      }
      if (this.phase === 'merging') {
        if (ev.type === 'loaded') { this.noteWhole(ev); return; }
        if (ev.type === 'state') { this.noteWhole(ev); this.onEvent(ev); this.joined(); return; }
        if (ev.type === 'error') { this.mergeFailed(ev); return; }
      }
    }
    if (ev.type === 'panic') { this.dissolve(); this.onEvent(ev); return; }
    if (ev.type === 'divergence') { if (this.phase === 'diverged') this.diverged(ev); return; }
    const s = this.split;
    switch (ev.type) {
      case 'loaded': return; // a member took its share
      case 'state': return this.memberState(i, ev);
      case 'metrics': return this.memberRecord(i, ev);
      case 'analysis': return this.memberAnalysis(i, ev.analysis, null);
      case 'checkpoint':
        if (this.phase === 'joining') { s.checkpoints[i] = ev.bytes; this.maybeMerge(); }
        return;
      case 'error':
        if (ev.field === 'example' && s.analyses) return this.memberAnalysis(i, null, ev);
        if (/diverged/.test(ev.message)) {
          if (this.phase !== 'diverged') s.heldErrors.push({ i, ev, step: null });
          return;
        }
        if (this.phase === 'joining' && s.target != null) { this.mergeFailed(ev); return; }
        this.onEvent(ev);
        return;
      default:
        this.onEvent(ev); // a lab's own answer
    }
  }

  /** An event of the leader holding the whole run. */
  fromWhole(ev) {
    this.noteWhole(ev);
    this.onEvent(ev);
  }

  noteWhole(ev) {
    if (ev.type === 'loaded') this.whole.spec = ev.spec;
    if (ev.type === 'backend') this.whole.backend = ev.kind;
    if (ev.type === 'state') this.whole.finished = ev.finished;
    if (ev.type === 'error' && this.phase === 'splitting') {
      // The split was refused: train in one worker, then what the widget sent meanwhile.
      const waiting = this.split.whileSplitting;
      this.phase = 'whole';
      this.resetSplit();
      this.leader.send({ type: 'start' });
      for (const cmd of waiting) this.send(cmd);
    }
  }

  memberState(i, ev) {
    const s = this.split;
    if (this.phase === 'diverged') return;
    if (this.phase === 'splitting') {
      if (++s.restored === this.members) this.restored();
      return;
    }
    s.steps[i] = ev.step;
    s.sps[i] = ev.steps_per_sec;
    s.finished[i] = ev.finished;
    const wasRunning = s.running[i];
    // Training up to the meeting step (`run_to`) reports `running: false` until it is there.
    s.running[i] = ev.running || (s.target != null && ev.step < s.target && !ev.finished);
    const diverged = s.heldErrors.find((h) => h.i === i && h.step == null);
    if (diverged && !ev.running) {
      // This member diverged at its last evaluation. The run stops at the earliest such step;
      // members stopped before it train up to it, for their evaluation of it.
      diverged.step = ev.step;
      s.divergeStep = Math.min(ev.step, s.divergeStep ?? Infinity);
      s.target = s.divergeStep;
      for (let k = 0; k < this.members; k++) {
        if (!s.running[k] && s.steps[k] < s.target && !s.heldErrors.some((h) => h.i === k)) {
          s.running[k] = true;
          this.member(k).send({ type: 'run_to', step: s.target });
        }
      }
      this.maybeDiverged();
      return;
    }
    if (s.divergeStep != null) return;
    if (this.phase === 'split') {
      // The end of the budget (once every member is there), or a member paused by a lab's tool.
      if (wasRunning && !s.running[i] && (!ev.finished || s.finished.every(Boolean))) {
        this.beginJoin();
        return;
      }
      if (!s.finished.some(Boolean)) this.postState();
    } else if (this.phase === 'joining') {
      this.maybeMeet();
    }
  }

  /** Member `i`'s evaluation: passed on joined once every member has posted its step. */
  memberRecord(i, ev) {
    const s = this.split;
    s.records[i].push(ev.record);
    s.reports[i] = ev.report;
    while (s.records.every((q) => q.length > 0)) {
      const heads = s.records.map((q) => q[0]);
      const step = Math.min(...heads.map((r) => r.step));
      if (heads.some((r) => r.step !== step)) {
        // A member evaluated a step the others skip (not in a split run): drop it.
        s.records.forEach((q) => { if (q[0].step === step) q.shift(); });
        continue;
      }
      s.records.forEach((q) => q.shift());
      const record = joinRecords(heads);
      this.onEvent({ type: 'metrics', record, report: joinPerModel(s.reports, reportOrder) });
      s.lastJoined = step;
      s.lastRecord = record;
    }
    this.maybeDiverged();
  }

  /** Member `i`'s views (or its refusal of the example sequence): passed on joined once every
   * member has answered. */
  memberAnalysis(i, analysis, error) {
    const s = this.split;
    if (!s.analyses) return;
    s.analyses[i] = analysis ?? { error };
    if (s.analyses.some((a) => a === null)) return;
    const answers = s.analyses;
    s.analyses = null;
    const refused = answers.find((a) => a.error);
    if (refused) { this.onEvent(refused.error); return; }
    this.onEvent({ type: 'analysis', analysis: joinPerModel(answers, this.modelOrder()) });
  }

  /** A member diverged at `divergeStep`: once every member's evaluation of that step is
   * joined and shown, the run stops there with the error, and stays split. */
  maybeDiverged() {
    const s = this.split;
    if (s.divergeStep == null || (s.lastJoined ?? -1) < s.divergeStep) return;
    for (let i = 0; i < this.members; i++) this.member(i).send({ type: 'pause' });
    s.running.fill(false);
    this.phase = 'diverged';
    this.held = [];
    s.divergedAt = s.divergeStep;
    s.divergeStep = null;
    // A member's message names its own models only: the leader words the joined record's,
    // as one worker would (the state follows, in `fromMember`).
    s.fallbackError = (s.heldErrors.find((h) => h.step === s.divergedAt) ?? s.heldErrors[0]).ev;
    s.heldErrors = [];
    this.leader.send({ type: 'divergence', record: s.lastRecord });
  }

  /** The leader's words for the divergence, then the state: the run stopped there. */
  diverged(ev) {
    const s = this.split;
    this.onEvent(ev.message ? { type: 'error', message: ev.message, field: null } : s.fallbackError);
    this.onEvent({ type: 'state', step: s.divergedAt, running: false, finished: true, steps_per_sec: 0, compiling: false, first_step_ms: null });
  }

  /** Commands to a split run that diverged. */
  sendDiverged(cmd) {
    const s = this.split;
    const step = s.divergedAt;
    switch (cmd.type) {
      case 'start': case 'step': case 'pause':
        this.onEvent({ type: 'state', step, running: false, finished: true, steps_per_sec: 0, compiling: false, first_step_ms: null });
        return;
      case 'analyse':
        if (!s.analyses) {
          s.analyses = new Array(this.members).fill(null);
          for (let i = 0; i < this.members; i++) this.member(i).send(cmd);
        }
        return;
      case 'checkpoint':
        this.onEvent({ type: 'error', field: null, message: `this run diverged while its models trained in ${this.members} workers, each stopped at another step, so it cannot be saved as one run; press Reset to train it again` });
        return;
      default: {
        // Reset, a new run, a backend, a benchmark or a sweep: the leader takes the whole run
        // from step 0 again (Reset's meaning), then the command.
        this.phase = 'whole';
        this.resetSplit();
        this.leader.send({ type: 'load', spec: this.whole.spec });
        if (cmd.type !== 'reset') this.leader.send(cmd);
      }
    }
  }

  /** Joining failed (a member could not save, or the leader could not join): say so, and
   * rebuild the whole run from step 0 in the leader (the curves so far stay on the page). */
  mergeFailed(ev) {
    this.phase = 'whole';
    this.resetSplit();
    this.held = [];
    this.onEvent({ ...ev, message: `${ev.message} — the run restarts from step 0 in one worker` });
    this.leader.send({ type: 'load', spec: this.whole.spec });
  }

  helperFailed(message) {
    this.dissolve();
    this.onStartError(message, true);
  }

  /** Ends the helpers; the leader's run is whatever it holds (the caller replaces it). */
  dissolve() {
    for (const h of this.helpers) h.terminate();
    this.helpers = [];
    if (this.phase !== 'whole') this.phase = 'whole';
    this.resetSplit();
    this.held = [];
  }
}

