//! `gradscope run`: train a spec (or continue a checkpoint), writing one JSON line per
//! evaluation, checkpoints on schedule, and the lab's outcome and analysis at the end.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::args::{MetricsFormat, RunArgs};
use super::input::{bad_input, failed, load_spec, parse_tokens, with_steps};
use crate::backend::{self, BackendKind};
use crate::labs::{Checkpoint, ExperimentSpec, MetricsRecord, TrainingSession};
use crate::train::RunError;
use crate::train::metrics::metrics_file;
use crate::train::metrics_csv::CsvTable;
use crate::train::optim;

/// Where and how often `run` checkpoints.
struct Saving {
    dir: PathBuf,
    every: u64,
}

/// The checkpoint file in a checkpoint folder.
const CHECKPOINT_FILE: &str = "checkpoint.gsck";

pub(super) fn run(o: RunArgs) -> ExitCode {
    let resumed = match o.resume.as_deref().map(read_checkpoint).transpose() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let spec = match resumed.as_ref() {
        Some(c) => with_steps(c.spec.clone(), o.steps),
        None => load_spec(o.spec.as_deref()).and_then(|s| with_steps(s, o.steps)),
    };
    let spec = match spec {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    if o.stop_after_grok.is_some() && spec.lab() != "grokking" {
        return bad_input(&"--stop-after-grok applies to grokking runs only");
    }
    // A resumed file's run checkpoints into the folder beside it.
    let saving = match o.checkpoint.or(o.resume.map(checkpoint_dir)) {
        None => None,
        Some(dir) => match saving(&spec, dir, o.every) {
            Ok(s) => Some(s),
            Err(e) => return bad_input(&e),
        },
    };
    let example = match o.example.as_deref().map(parse_tokens).transpose() {
        Ok(e) => e,
        Err(e) => return bad_input(&format!("--example: {e}")),
    };
    let mut session = match build(spec, o.backend.into(), resumed, o.quiet) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // A bad example is refused before training, not after.
    if let Some(Err(e)) = example.as_deref().map(|t| session.check_example(t)) {
        return bad_input(&format!("--example: {e}"));
    }
    let out = o.out.as_deref().map(|path| {
        let csv = path.to_ascii_lowercase().ends_with(".csv");
        (path, o.format.unwrap_or(if csv { MetricsFormat::Csv } else { MetricsFormat::Jsonl }))
    });
    let mut metrics = match MetricsOut::open(out, &session, o.quiet) {
        Ok(m) => m,
        Err(e) => return bad_input(&e),
    };
    if let Err(e) = train(&mut session, &mut metrics, o.stop_after_grok, saving.as_ref()) {
        // The record that showed the divergence is kept with the rest (NaN written as null).
        if let (RunError::Diverged { .. }, Some(r)) = (&e, session.history().last()) {
            metrics.record(r);
        }
        return failed(&e);
    }
    if !o.quiet {
        let analyse = || pollster::block_on(session.analyse(false, None)).ok();
        for line in session.report().outcome_lines(session.history(), analyse) {
            eprintln!("{line}");
        }
    }
    match o.analysis {
        Some(path) => write_analysis(&session, &path, example.as_deref()),
        None => ExitCode::SUCCESS,
    }
}

/// The folder a `--resume` argument checkpoints to: itself, or a checkpoint file's folder.
fn checkpoint_dir(resume: String) -> String {
    let p = Path::new(&resume);
    if p.is_file() {
        p.parent().map_or_else(|| ".".into(), |d| d.display().to_string())
    } else {
        resume
    }
}

/// Checkpoints to `dir` every `every` steps (default: the multiple of the spec's eval_every
/// nearest 1000).
fn saving(spec: &ExperimentSpec, dir: String, every: Option<u64>) -> Result<Saving, String> {
    let eval_every = spec.training().eval_every;
    let every = every.unwrap_or_else(|| (1000 / eval_every).max(1) * eval_every);
    if every == 0 || every % eval_every != 0 {
        return Err(format!(
            "--every {every} must be a positive multiple of the spec's eval_every ({eval_every}): checkpoints are taken at evaluations"
        ));
    }
    Ok(Saving { dir: dir.into(), every })
}

/// The run on the `kind` backend: built from `spec`, or continued from `resumed`.
fn build(
    spec: ExperimentSpec,
    kind: BackendKind,
    resumed: Option<Checkpoint>,
    quiet: bool,
) -> Result<TrainingSession, ExitCode> {
    let backend = backend::native(kind).map_err(|e| failed(&e))?;
    let built = match resumed {
        Some(mut checkpoint) => {
            checkpoint.spec = spec;
            TrainingSession::resume(checkpoint, &backend.device, backend.limits)
        }
        None => TrainingSession::new(spec, &backend.device, backend.limits),
    };
    let session = built.map_err(|e| match e {
        RunError::Spec(e) => bad_input(&e),
        e => failed(&e),
    })?;
    if !quiet {
        if session.step() > 0 {
            let (step, saved) = (session.step(), session.history().len());
            eprintln!("resuming at step {step} ({saved} evaluations saved)");
        }
        let summary = session.summary();
        eprintln!(
            "backend: {} | {} | {} parameters | {} steps",
            backend.label,
            summary.facts.join(" | "),
            summary.parameters,
            session.spec().steps()
        );
    }
    if let Some(warning) = optim::subnormal_warning(session.spec().optimizer(), backend.limits) {
        eprintln!("warning: {warning}");
    }
    Ok(session)
}

/// Where each evaluation goes: the progress bar, the metrics file (`--out`), stdout (`--quiet`).
struct MetricsOut {
    bar: ProgressBar,
    file: Option<OutFile>,
    quiet: bool,
}

/// The `--out` file, written a line per evaluation as the run goes.
enum OutFile {
    Jsonl {
        w: BufWriter<File>,
        path: String,
    },
    /// The table so far: each row is appended, and the file is written anew when a record
    /// brings a column the header lacks.
    Csv {
        w: BufWriter<File>,
        table: CsvTable,
        path: String,
    },
}

impl OutFile {
    fn path(&self) -> &str {
        match self {
            OutFile::Jsonl { path, .. } | OutFile::Csv { path, .. } => path,
        }
    }
}

impl MetricsOut {
    /// Opens `--out` and writes the history so far (a resumed run's), with the JSON-lines
    /// file's header or the CSV header.
    fn open(
        out: Option<(&str, MetricsFormat)>,
        session: &TrainingSession,
        quiet: bool,
    ) -> Result<Self, String> {
        let file = match out {
            None => None,
            Some((path, format)) => {
                let cannot = |e: std::io::Error| format!("cannot write {path}: {e}");
                let mut w = BufWriter::new(File::create(path).map_err(cannot)?);
                let history = session.history();
                match format {
                    MetricsFormat::Jsonl => {
                        w.write_all(metrics_file(session.spec(), history).as_bytes())
                            .map_err(cannot)?;
                        Some(OutFile::Jsonl { w, path: path.to_string() })
                    }
                    MetricsFormat::Csv => {
                        let mut table = CsvTable::default();
                        for r in history {
                            table.push(r);
                        }
                        w.write_all(table.to_text().as_bytes()).map_err(cannot)?;
                        Some(OutFile::Csv { w, table, path: path.to_string() })
                    }
                }
            }
        };
        let bar =
            if quiet { ProgressBar::hidden() } else { ProgressBar::new(session.spec().steps()) };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} steps [{elapsed_precise}<{eta_precise}] {msg}",
            )
            .expect("static template"),
        );
        Ok(Self { bar, file, quiet })
    }

    fn record(&mut self, r: &MetricsRecord) {
        self.bar.set_position(r.step);
        self.bar.set_message(r.progress_text());
        let line = serde_json::to_string(r).expect("records serialize");
        let written = match self.file.as_mut() {
            None => Ok(()),
            Some(OutFile::Jsonl { w, .. }) => writeln!(w, "{line}").and_then(|_| w.flush()),
            Some(OutFile::Csv { w, table, path }) => {
                if table.push(r) {
                    // A new column: the header and every row so far are written again.
                    File::create(&*path).and_then(|f| {
                        *w = BufWriter::new(f);
                        w.write_all(table.to_text().as_bytes()).and_then(|_| w.flush())
                    })
                } else {
                    w.write_all(table.last_row().as_bytes()).and_then(|_| w.flush())
                }
            }
        };
        if let Err(e) = written {
            // A full disk or a removed directory must not stop the run (its checkpoints still
            // save), but a file that silently stops growing, or whose CSV rows no longer
            // match its header, would mislead whoever reads it: say so once, and stop writing.
            let path = self.file.take().map(|f| f.path().to_string()).unwrap_or_default();
            self.bar.suspend(|| {
                eprintln!(
                    "error: cannot write {path} at step {}: {e}; the run goes on without --out (the file stops at the step before)",
                    r.step
                )
            });
        }
        if self.quiet {
            println!("{line}");
        }
    }
}

/// Trains to the end of the budget (or `stop_after_grok` steps past the grok), recording each
/// evaluation and checkpointing on schedule.
fn train(
    session: &mut TrainingSession,
    metrics: &mut MetricsOut,
    stop_after_grok: Option<u64>,
    saving: Option<&Saving>,
) -> Result<(), RunError> {
    let result = pollster::block_on(async {
        while !session.is_finished() {
            let stop = stop_after_grok.and_then(|m| session.report().grok_stop(session.step(), m));
            if let (Some(margin), Some(at)) = (stop_after_grok, stop) {
                if !metrics.quiet {
                    eprintln!("stopping {margin} steps after test acc ≥ 0.99 (step {at})");
                }
                break;
            }
            if let Some(record) = session.advance(u64::MAX).await? {
                metrics.record(&record);
                if let Some(saving) = saving
                    && (record.step % saving.every == 0 || session.is_finished())
                {
                    write_checkpoint(session, saving).map_err(RunError::Device)?;
                }
            }
        }
        Ok::<_, RunError>(())
    });
    metrics.bar.finish();
    result
}

/// Writes the final weights' views (`--analysis`).
fn write_analysis(session: &TrainingSession, path: &str, example: Option<&[u32]>) -> ExitCode {
    let analysis = match pollster::block_on(session.analyse(true, example)) {
        Ok(a) => a,
        Err(e) => return failed(&e),
    };
    let json = serde_json::to_string(&analysis).expect("analyses serialize");
    match std::fs::write(path, json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => bad_input(&format!("cannot write {path}: {e}")),
    }
}

/// Reads `DIR/checkpoint.gsck`, or the file itself (the page's "Checkpoint" export).
fn read_checkpoint(dir: &str) -> Result<Checkpoint, ExitCode> {
    let given = Path::new(dir);
    let path = if given.is_file() { given.to_path_buf() } else { given.join(CHECKPOINT_FILE) };
    let bytes = std::fs::read(&path)
        .map_err(|e| bad_input(&format!("--resume: cannot read {}: {e}", path.display())))?;
    Checkpoint::from_bytes(&bytes)
        .map_err(|e| bad_input(&format!("--resume: {}: {e}", path.display())))
}

/// Writes the checkpoint next to the old one, then renames it over it: a kill mid-write
/// leaves the previous checkpoint whole.
fn write_checkpoint(session: &TrainingSession, saving: &Saving) -> Result<(), String> {
    let checkpoint = session.checkpoint().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&saving.dir)
        .map_err(|e| format!("cannot create {}: {e}", saving.dir.display()))?;
    let path = saving.dir.join(CHECKPOINT_FILE);
    let tmp = saving.dir.join(format!("{CHECKPOINT_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&checkpoint.to_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}
