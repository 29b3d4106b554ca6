//! `gradscope sweep`: runs a sweep file's points in worker processes, appends one result line
//! per run, and resumes where a killed sweep stopped; `--shard i/N` runs one slice,
//! `--emit slurm` prints a job-array script over the slices, `sweep merge` joins them.
//!
//! Why processes and not threads: a run's numbers depend on its thread count (Flex splits its
//! matmuls across rayon's pool), so every point runs in its own `gradscope sweep-point` process
//! with `RAYON_NUM_THREADS` pinned (`--threads`, default 1), which makes a sharded sweep, a local
//! one and a rerun of one point give the same numbers. A child watches its parent and exits when
//! the parent dies, so a killed sweep leaves nothing running and loses only the runs in flight.
//!
//! SIGTERM (Slurm's warning before a time limit, `scancel --signal=TERM`, `kill`) loses nothing:
//! the sweep starts no new point, asks each child (a line on its stdin) to stop at its next
//! evaluation and save the point there, in `OUT.inflight/HASH.gsck`, and exits with
//! [`INTERRUPTED_EXIT`]. The same command run again resumes each such point from its checkpoint
//! (the weights, the optimizer's state, the random generator and the history), and it ends as
//! the uninterrupted run would have, bit for bit at the same thread count. The Slurm script
//! (`--emit slurm`) asks for the signal 5 minutes before the time limit and requeues the task.

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::backend::{self, BackendKind};
use crate::labs::{Checkpoint, ExperimentSpec, TrainingSession};
use crate::sweep::{self, Point, PointEnd, PointResult, RunResult, SweepPlan};
use crate::train::Experiment;
use crate::train::RunError;
use crate::train::metrics::metrics_file;

/// What `sweep` was asked to do, from its flags.
pub struct SweepOptions {
    pub file: String,
    pub out: Option<String>,
    pub jobs: Option<usize>,
    pub threads: usize,
    pub shard: Option<String>,
    pub dry_run: bool,
    pub emit_slurm: bool,
    /// Stop each point this many steps after it groks (grokking sweeps).
    pub stop_after_grok: Option<u64>,
    /// Write each point's metrics file to this folder, named by the point's hash.
    pub curves: Option<String>,
    pub tasks: Option<usize>,
    /// More `#SBATCH` options (`--emit slurm`), as given: each may hold several.
    pub sbatch: Vec<String>,
    pub out_dir: Option<String>,
    pub backend: BackendKind,
}

/// What the parent sends a `sweep-point` child on its stdin (one JSON line).
#[derive(Serialize, Deserialize)]
struct PointRequest {
    spec: serde_json::Value,
    backend: String,
    /// Measure this many steps' speed instead of running the point (`--dry-run`'s estimate).
    #[serde(default)]
    probe_steps: Option<u64>,
    /// `--stop-after-grok`.
    #[serde(default)]
    stop_after_grok: Option<u64>,
    /// Write the point's metrics file here (`--curves`).
    #[serde(default)]
    curve: Option<String>,
    /// Continue the point from this checkpoint (one an interrupted sweep saved).
    #[serde(default)]
    resume: Option<String>,
    /// When told to stop (a `checkpoint` line on stdin, or SIGTERM), save the point here at its
    /// next evaluation and answer [`PointReply::Checkpointed`].
    #[serde(default)]
    checkpoint: Option<String>,
}

/// What a `sweep-point` child prints (one JSON line).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PointReply {
    Done(RunResult),
    Probe {
        step_ms: f64,
        eval_ms: f64,
    },
    Failed(String),
    /// Stopped when asked, and saved at this step (to the request's `checkpoint`).
    Checkpointed {
        step: u64,
    },
    /// Done, having continued from the request's `resume` checkpoint, saved at `from_step`.
    Resumed {
        from_step: u64,
        result: RunResult,
    },
}

/// The exit status of a sweep stopped by SIGTERM with points left to run or resume (EX_TEMPFAIL
/// in sysexits.h): the Slurm script requeues its task on it.
pub const INTERRUPTED_EXIT: u8 = 75;

/// Set when this process gets SIGTERM (the sweep: stop and checkpoint; a child: the same as a
/// `checkpoint` line).
static TERM: AtomicBool = AtomicBool::new(false);

/// Turns SIGTERM into [`TERM`] instead of death.
fn catch_term() {
    #[cfg(unix)]
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        if let Err(e) =
            signal_hook_registry::register(libc::SIGTERM, || TERM.store(true, Ordering::SeqCst))
        {
            eprintln!(
                "warning: cannot catch SIGTERM ({e}): a stopped sweep loses its runs in flight"
            );
        }
    }
}

/// Where an interrupted point is checkpointed: `OUT.inflight/HASH.gsck`.
fn inflight_path(out: &str, hash: &str) -> PathBuf {
    PathBuf::from(format!("{out}.inflight")).join(format!("{hash}.gsck"))
}

fn fail(msg: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(code)
}

fn read_plan(file: &str) -> Result<SweepPlan, ExitCode> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| fail(format!("cannot read sweep file {file}: {e}"), 2))?;
    SweepPlan::from_json(&text).map_err(|e| fail(format!("{file}: {e}"), 2))
}

fn stem(file: &str) -> String {
    Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or("sweep").to_string()
}

/// `gradscope sweep FILE …`.
pub fn sweep(opts: SweepOptions) -> ExitCode {
    let plan = match read_plan(&opts.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if opts.threads == 0 {
        return fail("--threads must be at least 1", 2);
    }
    if opts.stop_after_grok.is_some() && plan.base.lab() != "grokking" {
        return fail(
            format!(
                "--stop-after-grok applies to grokking sweeps only (this one is {})",
                plan.base.lab()
            ),
            2,
        );
    }
    if let Some(dir) = &opts.curves
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        return fail(format!("--curves: cannot create {dir}: {e}"), 2);
    }
    if opts.emit_slurm {
        if opts.shard.is_some() {
            return fail("--emit slurm writes the shards itself; leave out --shard", 2);
        }
        return emit_slurm(&opts, &plan);
    }
    let shard = match opts.shard.as_deref().map(sweep::parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => return fail(format!("--shard: {e}"), 2),
    };
    let jobs = opts.jobs.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores / opts.threads).max(1)
    });
    if jobs == 0 {
        return fail("--jobs must be at least 1", 2);
    }
    let out = opts.out.clone().unwrap_or_else(|| match shard {
        Some((i, n)) => format!("{}.shard-{i}-of-{n}.jsonl", stem(&opts.file)),
        None => format!("{}.jsonl", stem(&opts.file)),
    });
    if Path::new(&out) == Path::new(&opts.file) {
        return fail(format!("--out {out} is the sweep file itself"), 2);
    }
    let (shard_i, shards) = shard.unwrap_or((0, 1));
    let in_shard: Vec<usize> = sweep::shard_indices(plan.len(), shard_i, shards).collect();

    let (existing, pending) = match pending_points(&plan, &in_shard, &out) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let already = in_shard.len() - pending.len();
    if let Some(dir) = &opts.curves {
        let pending_hashes: HashSet<&str> = pending.iter().map(|q| q.hash.as_str()).collect();
        let without: Vec<usize> = in_shard
            .iter()
            .map(|&i| plan.point(i).expect("validated"))
            .filter(|p| !pending_hashes.contains(p.hash.as_str()))
            .filter(|p| !curve_path(dir, &p.hash).exists())
            .map(|p| p.index)
            .collect();
        if !without.is_empty() {
            eprintln!(
                "note: {} point(s) already in {out} have no curve in {dir} (run before --curves: #{}); delete their lines from {out} to run them again",
                without.len(),
                without.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", #")
            );
        }
    }
    if opts.dry_run {
        return dry_run(&plan, &pending, in_shard.len(), already, shard, jobs, &opts);
    }
    let mut file = match open_for_append(&out, existing) {
        Ok(f) => f,
        Err(code) => return code,
    };
    eprintln!(
        "{} points{}: {} to run, {} already in {out} · {jobs} job{} × {} thread{}",
        plan.len(),
        shard.map(|(i, n)| format!(" (shard {i}/{n}: {})", in_shard.len())).unwrap_or_default(),
        pending.len(),
        already,
        if jobs == 1 { "" } else { "s" },
        opts.threads,
        if opts.threads == 1 { "" } else { "s" },
    );
    catch_term();
    let ran = run_points(pending, jobs, &opts, &mut file, &out);
    let failures = ran.failures;
    print_table(&plan, &in_shard, &out);
    // A finished sweep's in-flight folder is empty: leave nothing behind.
    let _ = std::fs::remove_dir(format!("{out}.inflight"));
    if ran.checkpointed + ran.unstarted > 0 {
        eprintln!(
            "stopped by SIGTERM: {} point(s) checkpointed in {out}.inflight/, {} not started; run the same command again to resume them",
            ran.checkpointed, ran.unstarted
        );
        return ExitCode::from(INTERRUPTED_EXIT);
    }
    if failures > 0 {
        return fail(format!("{failures} point(s) failed (see above); rerun to retry them"), 1);
    }
    ExitCode::SUCCESS
}

/// What `out` already holds (its text, if it exists) and the points of `in_shard` it lacks:
/// points are matched by spec hash, not index, so an edited sweep file reruns what changed.
fn pending_points(
    plan: &SweepPlan,
    in_shard: &[usize],
    out: &str,
) -> Result<(Option<String>, Vec<Point>), ExitCode> {
    let existing = match std::fs::read_to_string(out) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(format!("cannot read {out}: {e}"), 2)),
    };
    let previous = existing.as_deref().map(sweep::read_results).unwrap_or_default();
    for (line, why) in &previous.skipped {
        eprintln!("warning: {out} line {line} is not a sweep result ({why}); its point reruns");
    }
    let done: HashSet<String> = previous.results.iter().map(|r| r.hash.clone()).collect();
    let pending = in_shard
        .iter()
        .map(|&i| plan.point(i).expect("validated"))
        .filter(|p| !done.contains(&p.hash))
        .collect();
    Ok((existing, pending))
}

/// Opens `out` for appending; a truncated last line (a killed write) is cut off first.
fn open_for_append(out: &str, existing: Option<String>) -> Result<File, ExitCode> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|e| fail(format!("cannot write {out}: {e}"), 2))?;
    if let Some(text) = &existing {
        let complete_len = sweep::read_results(text).complete_len;
        if complete_len < text.len() {
            file.set_len(complete_len as u64)
                .map_err(|e| fail(format!("cannot repair {out}: {e}"), 2))?;
            eprintln!("note: dropped a truncated last line from {out}; its point reruns");
        }
    }
    Ok(file)
}

/// The table of this shard's points, as `out` holds them now.
fn print_table(plan: &SweepPlan, in_shard: &[usize], out: &str) {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    let mine: HashSet<String> =
        in_shard.iter().map(|&i| plan.point(i).expect("validated").hash).collect();
    let results: Vec<PointResult> = sweep::merge(sweep::read_results(&text).results)
        .into_iter()
        .filter(|r| mine.contains(&r.hash))
        .collect();
    print!("{}", sweep::table(&results));
}

/// How [`run_points`] went: points that failed, points checkpointed when SIGTERM came, and
/// points it never started because of it.
struct Ran {
    failures: usize,
    checkpointed: usize,
    unstarted: usize,
}

/// Runs `pending` on `jobs` child processes, appending each result to `file` as it arrives.
/// On SIGTERM it starts no new point and has the running ones checkpoint (module docs).
fn run_points(
    pending: Vec<Point>,
    jobs: usize,
    opts: &SweepOptions,
    file: &mut File,
    out: &str,
) -> Ran {
    let total = pending.len() as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} points [{elapsed_precise}<{eta_precise}] {msg}",
        )
        .expect("static template"),
    );
    let queue = Mutex::new(VecDeque::from(pending));
    let (tx, rx) = mpsc::channel::<(Point, Result<PointReply, String>)>();
    let mut ran = Ran { failures: 0, checkpointed: 0, unstarted: 0 };
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let queue = &queue;
            let bar = &bar;
            scope.spawn(move || {
                loop {
                    if TERM.load(Ordering::SeqCst) {
                        break;
                    }
                    let Some(point) = queue.lock().expect("queue lock").pop_front() else { break };
                    let checkpoint = inflight_path(out, &point.hash);
                    let resume = checkpoint.is_file().then(|| checkpoint.display().to_string());
                    if let Some(path) = &resume {
                        bar.suspend(|| {
                            eprintln!(
                                "point #{} ({}): resuming from {path}",
                                point.index,
                                describe(&point)
                            )
                        });
                    }
                    let request = PointRequest {
                        stop_after_grok: opts.stop_after_grok,
                        curve: (opts.curves.as_deref())
                            .map(|d| curve_path(d, &point.hash).display().to_string()),
                        resume,
                        checkpoint: Some(checkpoint.display().to_string()),
                        ..PointRequest::new(&point.spec, opts.backend)
                    };
                    let reply = run_child(request, opts.threads);
                    if tx.send((point, reply)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (point, reply) in rx {
            let result = match reply {
                Ok(PointReply::Done(r)) => Ok(r),
                Ok(PointReply::Resumed { from_step, result }) => {
                    bar.suspend(|| {
                        eprintln!(
                            "point #{} ({}): resumed from step {from_step}",
                            point.index,
                            describe(&point)
                        )
                    });
                    Ok(result)
                }
                Ok(PointReply::Checkpointed { step }) => {
                    bar.suspend(|| {
                        eprintln!(
                            "point #{} ({}): checkpointed at step {step} in {}",
                            point.index,
                            describe(&point),
                            inflight_path(out, &point.hash).display()
                        )
                    });
                    ran.checkpointed += 1;
                    continue;
                }
                Ok(PointReply::Failed(e)) => Err(e),
                Ok(PointReply::Probe { .. }) => Err("the child answered a probe".into()),
                Err(e) => Err(e),
            };
            bar.inc(1);
            match result {
                Ok(r) => {
                    let line = PointResult::new(&point, r).to_line();
                    // One write per line, flushed: a kill leaves at most a truncated last line.
                    let written =
                        file.write_all(format!("{line}\n").as_bytes()).and_then(|_| file.flush());
                    if let Err(e) = written {
                        // (suspend, not println: a hidden bar's println prints nothing)
                        bar.suspend(|| eprintln!("error: cannot write {out}: {e}"));
                        ran.failures += 1;
                    } else {
                        // Its result is safe: a checkpoint it resumed from is spent.
                        let _ = std::fs::remove_file(inflight_path(out, &point.hash));
                    }
                    bar.set_message(format!("#{} {}", point.index, describe(&point)));
                }
                Err(e) => {
                    bar.suspend(|| {
                        eprintln!("error: point #{} ({}): {e}", point.index, describe(&point))
                    });
                    ran.failures += 1;
                }
            }
        }
    });
    bar.finish();
    ran.unstarted = queue.lock().expect("queue lock").len();
    ran
}

fn describe(point: &Point) -> String {
    point
        .values
        .iter()
        .map(|(p, v)| format!("{}={v}", p.rsplit('.').next().unwrap_or(p)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where `--curves DIR` puts a point's metrics file.
fn curve_path(dir: &str, hash: &str) -> PathBuf {
    Path::new(dir).join(format!("{hash}.jsonl"))
}

impl PointRequest {
    /// Run `spec` to its budget on `backend`, nothing more.
    fn new(spec: &ExperimentSpec, backend: BackendKind) -> Self {
        PointRequest {
            spec: serde_json::from_str(&spec.to_json()).expect("specs serialize"),
            backend: match backend {
                BackendKind::Cpu => "cpu".into(),
                BackendKind::Wgpu => "wgpu".into(),
            },
            probe_steps: None,
            stop_after_grok: None,
            curve: None,
            resume: None,
            checkpoint: None,
        }
    }
}

/// The binary this process runs, for its children. On Linux that is `/proc/self/exe`, which
/// names the running file even after `cargo build` has replaced it on disk: a sweep runs for
/// hours, and `current_exe()` then names a file that is gone (a sweep's third point failed so,
/// "cannot start a worker process"), while a path to the new build would mix two builds in one
/// sweep.
fn running_binary() -> Result<std::path::PathBuf, String> {
    let own = std::path::Path::new("/proc/self/exe");
    if own.exists() {
        return Ok(own.to_path_buf());
    }
    std::env::current_exe().map_err(|e| format!("cannot find the gradscope binary: {e}"))
}

/// Runs one point (or a speed probe) in a `gradscope sweep-point` child with `threads` threads.
/// When this process gets SIGTERM, the child is told (a `checkpoint` line on its stdin) and
/// answers at its next evaluation.
fn run_child(request: PointRequest, threads: usize) -> Result<PointReply, String> {
    let mut child = Command::new(running_binary()?)
        .arg("sweep-point")
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env(PARENT_ENV, std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a worker process: {e}"))?;
    let line = serde_json::to_string(&request).expect("requests serialize");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(format!("{line}\n").as_bytes())
        .and_then(|()| stdin.flush())
        .map_err(|e| format!("cannot reach the worker: {e}"))?;
    // Drained while the child runs: a full pipe would stall it.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let mut told = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("worker process: {e}"))? {
            break status;
        }
        if !told && TERM.load(Ordering::SeqCst) {
            // A child that has just finished no longer reads: its answer is a result anyway.
            let _ = stdin.write_all(b"checkpoint\n").and_then(|()| stdin.flush());
            told = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match stdout.lines().last().map(serde_json::from_str::<PointReply>) {
        Some(Ok(reply)) => Ok(reply),
        _ => {
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            Err(format!(
                "the worker process ended ({status}) without a result{}",
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | "))
                }
            ))
        }
    }
}

/// Reads a child's pipe to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// `gradscope sweep-point` (internal): reads a [`PointRequest`] from stdin, runs it, prints a
/// [`PointReply`]. Exits when its parent does.
pub fn sweep_point() -> ExitCode {
    watch_parent();
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        return fail(format!("sweep-point: cannot read the request: {e}"), 2);
    }
    let request: PointRequest = match serde_json::from_str(&line) {
        Ok(r) => r,
        Err(e) => return fail(format!("sweep-point: bad request: {e}"), 2),
    };
    // Told to stop: by a `checkpoint` line from the sweep, or by SIGTERM itself (a time limit
    // signals every process of the job).
    catch_term();
    std::thread::spawn(|| {
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(l) if l.trim() == "checkpoint" => TERM.store(true, Ordering::SeqCst),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let reply = match ExperimentSpec::from_value(request.spec.clone()) {
        Err(e) => PointReply::Failed(format!("invalid spec: {e}")),
        Ok(spec) => {
            let kind = if request.backend == "wgpu" { BackendKind::Wgpu } else { BackendKind::Cpu };
            match backend::native(kind) {
                Err(e) => PointReply::Failed(e.to_string()),
                Ok(b) => match request.probe_steps {
                    Some(steps) => probe(spec, &b, steps),
                    None => run_request(&request, spec, &b),
                },
            }
        }
    };
    println!("{}", serde_json::to_string(&reply).expect("replies serialize"));
    ExitCode::SUCCESS
}

/// Runs a point's request to its end, or to a checkpoint when told to stop.
fn run_request(request: &PointRequest, spec: ExperimentSpec, b: &backend::Backend) -> PointReply {
    let session = match request.resume.as_deref() {
        Some(path) => resume_point(path, &spec, b),
        None => TrainingSession::new(spec, &b.device, b.limits).map_err(|e| e.to_string()),
    };
    let mut session = match session {
        Ok(s) => s,
        Err(e) => return PointReply::Failed(e),
    };
    let resumed_at = request.resume.is_some().then(|| session.step());
    let done = |result: RunResult| match resumed_at {
        Some(from_step) => PointReply::Resumed { from_step, result },
        None => PointReply::Done(result),
    };
    let can_stop = request.checkpoint.is_some();
    let trained = sweep::train_point(&mut session, request.stop_after_grok, || {
        can_stop && TERM.load(Ordering::SeqCst)
    });
    match pollster::block_on(trained) {
        Err(e) => PointReply::Failed(e.to_string()),
        Ok(PointEnd::Interrupted) => {
            let path = request.checkpoint.as_deref().expect("only a point that can stop stops");
            let bytes = match session.checkpoint() {
                Ok(c) => c.to_bytes(),
                Err(e) => return PointReply::Failed(format!("cannot checkpoint the point: {e}")),
            };
            match write_atomically(path, &bytes) {
                Ok(()) => PointReply::Checkpointed { step: session.step() },
                Err(e) => PointReply::Failed(format!("cannot checkpoint the point to {path}: {e}")),
            }
        }
        Ok(PointEnd::Done(r)) => match request.curve.as_deref() {
            Some(path) => match write_curve(&session, path) {
                Ok(()) => done(r),
                Err(e) => PointReply::Failed(e),
            },
            None => done(r),
        },
    }
}

/// Continues an interrupted point from the checkpoint at `path`, which must be of `spec`.
fn resume_point(
    path: &str,
    spec: &ExperimentSpec,
    b: &backend::Backend,
) -> Result<TrainingSession, String> {
    let cannot = |why: String| {
        format!("cannot resume from {path}: {why}; delete it to run the point from step 0")
    };
    let bytes = std::fs::read(path).map_err(|e| cannot(e.to_string()))?;
    let checkpoint = Checkpoint::from_bytes(&bytes).map_err(|e| cannot(e.to_string()))?;
    if checkpoint.spec.to_json() != spec.to_json() {
        return Err(cannot("it holds another spec".into()));
    }
    TrainingSession::resume(checkpoint, &b.device, b.limits).map_err(|e| cannot(e.to_string()))
}

/// Writes `bytes` beside `path`, then renames them over it: a kill mid-write leaves no half file.
fn write_atomically(path: &str, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = Path::new(path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = format!("{path}.tmp-{}", std::process::id());
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Writes a point's metrics file (`--curves`) beside its final place, then renames it there: a
/// killed point leaves no half curve.
fn write_curve(session: &TrainingSession, path: &str) -> Result<(), String> {
    let text = metrics_file(session.spec(), session.history());
    let tmp = format!("{path}.tmp-{}", std::process::id());
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write the curve {path}: {e}"))
}

/// The sweep's process id, given to each worker: a worker whose parent is no longer that
/// process was orphaned (the sweep was killed).
const PARENT_ENV: &str = "GRADSCOPE_SWEEP_PARENT";

/// Exits this process when the sweep that started it goes away: the child is re-parented, so
/// its parent id is no longer the one the sweep passed down ([`PARENT_ENV`]; compared with that,
/// not with the parent seen at start, since the sweep may be killed before the child looks).
/// Polled every 200 ms.
fn watch_parent() {
    #[cfg(unix)]
    {
        let expected = std::env::var(PARENT_ENV).ok().and_then(|v| v.parse::<u32>().ok());
        let parent = expected.unwrap_or_else(std::os::unix::process::parent_id);
        std::thread::spawn(move || {
            loop {
                if std::os::unix::process::parent_id() != parent {
                    std::process::exit(3);
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
    }
}

/// Times `steps` training steps and one evaluation of `spec`, after a warm-up.
fn probe(spec: ExperimentSpec, b: &backend::Backend, steps: u64) -> PointReply {
    let run = async {
        let mut session = TrainingSession::new(spec, &b.device, b.limits)?;
        session.evaluate().await?;
        session.experiment_mut().train_step(false);
        session.evaluate().await?;
        let started = Instant::now();
        for _ in 0..steps {
            session.experiment_mut().train_step(false);
        }
        session.evaluate().await?;
        let train_and_eval = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        session.evaluate().await?;
        let eval_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok::<_, RunError>(((train_and_eval - eval_ms).max(0.0) / steps as f64, eval_ms))
    };
    match pollster::block_on(run) {
        Ok((step_ms, eval_ms)) => PointReply::Probe { step_ms, eval_ms },
        Err(e) => PointReply::Failed(e.to_string()),
    }
}

fn dry_run(
    plan: &SweepPlan,
    pending: &[Point],
    in_shard: usize,
    already: usize,
    shard: Option<(usize, usize)>,
    jobs: usize,
    opts: &SweepOptions,
) -> ExitCode {
    println!("points: {}", plan.len());
    for axis in &plan.axes {
        let values: Vec<String> = axis.values.iter().map(|v| v.to_string()).collect();
        println!("  {} ({}): {}", axis.path, values.len(), values.join(", "));
    }
    if let Some((i, n)) = shard {
        println!("shard {i}/{n}: {in_shard} points");
    }
    println!("already done: {already}");
    println!("to run: {}", pending.len());
    let Some(first) = pending.first() else { return ExitCode::SUCCESS };
    let probe_steps = first.spec.steps().clamp(1, 10);
    let request = PointRequest {
        probe_steps: Some(probe_steps),
        ..PointRequest::new(&first.spec, opts.backend)
    };
    match run_child(request, opts.threads) {
        Ok(PointReply::Probe { step_ms, eval_ms }) => {
            let ms: f64 = pending
                .iter()
                .map(|p| {
                    let steps = p.spec.steps() as f64;
                    let evals = (p.spec.steps() / p.spec.training().eval_every) as f64 + 1.0;
                    steps * step_ms + evals * eval_ms
                })
                .sum();
            let parallel = jobs.min(pending.len()).max(1);
            println!(
                "estimated time: {} with {parallel} job{} × {} thread{} (point #{}: {step_ms:.2} ms/step, {eval_ms:.1} ms/evaluation; points of other sizes run at other speeds)",
                human_duration(ms / 1e3 / parallel as f64),
                if parallel == 1 { "" } else { "s" },
                opts.threads,
                if opts.threads == 1 { "" } else { "s" },
                first.index,
            );
            ExitCode::SUCCESS
        }
        Ok(PointReply::Failed(e)) | Err(e) => {
            fail(format!("measuring point #{}: {e}", first.index), 1)
        }
        Ok(PointReply::Done(_) | PointReply::Checkpointed { .. } | PointReply::Resumed { .. }) => {
            fail("the probe ran the whole point", 1)
        }
    }
}

fn human_duration(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 5400.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// A shell word for `s`, single-quoted where needed.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn absolute(path: &str) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path))
}

/// The `--sbatch` options, one per `#SBATCH` line. Those lines are not shell words (nothing in
/// them can be quoted or expanded), and the array, the task count, the CPUs and the log are the
/// script's own: options that would change what a task runs are refused.
fn sbatch_options(given: &[String]) -> Result<Vec<String>, String> {
    const OWN: [&str; 5] = ["--array", "--ntasks", "--cpus-per-task", "--output", "--job-name"];
    let mut out = Vec::new();
    for option in given.iter().flat_map(|g| g.split_whitespace()) {
        if !option.starts_with('-') {
            return Err(format!(
                "`{option}` is not an option; give each as --name=value (e.g. --time=2:00:00)"
            ));
        }
        if option.chars().any(|c| "'\"$`\\".contains(c)) {
            return Err(format!("`{option}`: #SBATCH lines cannot hold quotes, $ or backslashes"));
        }
        let name = option.split('=').next().unwrap_or(option);
        // A short option may carry its value (`-c4`).
        let name = if name.starts_with("--") { name } else { &name[..name.len().min(2)] };
        if OWN.contains(&name) || ["-a", "-n", "-c", "-o", "-J"].contains(&name) {
            return Err(format!(
                "`{option}`: the script sets {name} itself (--tasks, --jobs and --threads, --out-dir)"
            ));
        }
        out.push(option.to_string());
    }
    Ok(out)
}

/// `--emit slurm`: a job-array script, one task per shard.
fn emit_slurm(opts: &SweepOptions, plan: &SweepPlan) -> ExitCode {
    // Slurm's default MaxArraySize is 1001 (indices 0–1000).
    let tasks = opts.tasks.unwrap_or(plan.len().min(1000));
    if tasks == 0 || tasks > plan.len() {
        return fail(format!("--tasks must be in 1..={} (the number of points)", plan.len()), 2);
    }
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "gradscope".into());
    let file = absolute(&opts.file).display().to_string();
    let name = stem(&opts.file);
    let out_dir = absolute(opts.out_dir.as_deref().unwrap_or(&format!("{name}.shards")))
        .display()
        .to_string();
    let jobs = opts.jobs.unwrap_or(1);
    let backend = match opts.backend {
        BackendKind::Cpu => "cpu",
        BackendKind::Wgpu => "wgpu",
    };
    // Slurm opens a task's log before the script runs, so the folder must exist already; and
    // `#SBATCH` lines are not shell words: a path there cannot be quoted.
    if out_dir.chars().any(|c| c.is_whitespace() || "'\"$`\\%".contains(c)) {
        return fail(
            format!(
                "--out-dir `{out_dir}`: Slurm's #SBATCH lines cannot hold spaces, quotes, $ or %; pick a plainer path"
            ),
            2,
        );
    }
    let site_options = match sbatch_options(&opts.sbatch) {
        Ok(o) => o,
        Err(e) => return fail(format!("--sbatch: {e}"), 2),
    };
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        return fail(format!("cannot create {out_dir}: {e}"), 2);
    }
    // Flags every task passes on: the point's stopping rule, and where curves go (absolute,
    // since the tasks may start in another folder).
    let mut passed = String::new();
    if let Some(margin) = opts.stop_after_grok {
        passed += &format!(" --stop-after-grok {margin}");
    }
    if let Some(dir) = &opts.curves {
        passed += &format!(" --curves {}", shell_quote(&absolute(dir).display().to_string()));
    }
    let q = shell_quote;
    println!("#!/bin/bash");
    println!(
        "# {name}: {} points as {tasks} Slurm array tasks; task i runs points i, i+{tasks}, …",
        plan.len()
    );
    println!(
        "# Submit: sbatch THIS_FILE   Merge: {} sweep merge {}/*.jsonl --out {}",
        q(&exe),
        q(&out_dir),
        q(&format!("{name}.jsonl"))
    );
    println!(
        "# A task that is killed or requeued resumes: its output keeps the points it finished."
    );
    println!(
        "# Before the time limit Slurm sends SIGTERM (--signal below): the sweep checkpoints the"
    );
    println!(
        "# points in flight (OUT.inflight/) and exits {INTERRUPTED_EXIT}, and the task requeues itself to resume them."
    );
    println!(
        "#SBATCH --job-name=gradscope-{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_', "_")
    );
    println!("#SBATCH --array=0-{}", tasks - 1);
    println!("#SBATCH --ntasks=1");
    println!("#SBATCH --cpus-per-task={}", jobs * opts.threads);
    println!("#SBATCH --output={out_dir}/slurm-%A_%a.log");
    // SIGTERM to the batch shell (B:) 5 minutes before the time limit, and leave to requeue:
    // unless the site's options say otherwise.
    if !site_options.iter().any(|o| o.starts_with("--signal")) {
        println!("#SBATCH --signal=B:TERM@300");
    }
    if !site_options.iter().any(|o| o == "--no-requeue") {
        println!("#SBATCH --requeue");
    }
    // A requeued task writes on in the same log, after its first run's lines.
    if !site_options.iter().any(|o| o.starts_with("--open-mode")) {
        println!("#SBATCH --open-mode=append");
    }
    for option in &site_options {
        println!("#SBATCH {option}");
    }
    println!("set -uo pipefail");
    println!(
        "{} sweep {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{tasks}\" --jobs {jobs} --threads {} --backend {backend}{passed} --out {}/{}.\"${{SLURM_ARRAY_TASK_ID}}\".jsonl &",
        q(&exe),
        q(&file),
        opts.threads,
        q(&out_dir),
        q(&name),
    );
    // The shell runs a trap only between commands: the sweep runs in the background, and the
    // trap hands the signal on to it.
    println!("sweep=$!");
    println!("trap 'kill -TERM \"$sweep\" 2>/dev/null' TERM");
    println!("wait \"$sweep\"; status=$?");
    println!(
        "# wait returns early when the trap runs: wait for the sweep to finish checkpointing."
    );
    println!("while kill -0 \"$sweep\" 2>/dev/null; do wait \"$sweep\"; status=$?; done");
    println!("if [ \"$status\" -eq {INTERRUPTED_EXIT} ]; then");
    println!(
        "  echo \"gradscope: points checkpointed; requeueing ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\""
    );
    println!("  scontrol requeue \"${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\"");
    println!("fi");
    println!("exit \"$status\"");
    ExitCode::SUCCESS
}

/// `gradscope sweep merge FILES… [--out FILE]`: one line per point hash, in point order.
pub fn merge(files: &[String], out: Option<&str>) -> ExitCode {
    let mut all = Vec::new();
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => return fail(format!("cannot read {f}: {e}"), 2),
        };
        let read = sweep::read_results(&text);
        for (line, why) in &read.skipped {
            eprintln!("warning: {f} line {line} skipped: {why}");
        }
        all.extend(read.results);
    }
    let merged = sweep::merge(all);
    let text: String = merged.iter().map(|r| format!("{}\n", r.to_line())).collect();
    match out {
        Some(path) => {
            let mut f = match File::create(path) {
                Ok(f) => f,
                Err(e) => return fail(format!("cannot write {path}: {e}"), 2),
            };
            if let Err(e) = f.write_all(text.as_bytes()) {
                return fail(format!("cannot write {path}: {e}"), 2);
            }
            eprintln!("{} results from {} file(s) → {path}", merged.len(), files.len());
            print!("{}", sweep::table(&merged));
        }
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    ExitCode::SUCCESS
}
