//! `gradscope bench`: a spec's training speed per backend (steps/s without and with readbacks,
//! with the lab's per-step metrics, GPU dispatches per step; optionally the time to grok), or
//! a lab's own benchmark by name (`gradscope bench scans`: the scan race).

use std::process::ExitCode;

use web_time::Instant;

use super::args::{BackendArg, BenchArgs};
use super::input::{bad_input, failed, load_spec, sleep_ms};
use crate::backend::{self, Backend, BackendKind};
use crate::labs::{ExperimentSpec, LabExperiment, TrainingSession, run_lab_bench};
use crate::train::RunError;
use crate::train::bench::{Speed, measure};
use crate::train::lab_command::CommandError;

/// (the step test accuracy reached 0.99, if it did; steps run; seconds).
type GrokTime = (Option<u64>, u64, f64);

pub(super) fn bench(o: BenchArgs) -> ExitCode {
    let backends = if o.backend.is_empty() { vec![BackendArg::Cpu] } else { o.backend };
    let kinds: Vec<BackendKind> = backends.into_iter().map(Into::into).collect();
    if let Some(name) = o.spec.as_deref()
        && let Some(result) = run_lab_bench(name, &kinds, &o.lengths, o.cap_seconds)
    {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(CommandError::Input(e)) => bad_input(&e),
            Err(CommandError::Failed(e)) => failed(&e),
        };
    }
    let spec = match load_spec(o.spec.as_deref()) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    if o.steps == 0 {
        return bad_input(&"--steps must be at least 1");
    }
    if !o.json {
        println!("spec: {}", spec.to_hash());
    }
    // Before any GPU device exists: cubecl reads its configuration once.
    let counting = kinds.contains(&BackendKind::Wgpu) && backend::count_gpu_dispatches();
    let mut baseline: Option<f64> = None;
    for kind in kinds {
        let backend = match backend::native(kind) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{kind:?}: unavailable: {e}");
                continue;
            }
        };
        match measure_backend(&spec, &backend, counting, o.steps, o.to_grok) {
            Ok((speed, grok)) if o.json => print_json(&backend, &speed, grok),
            Ok((speed, grok)) => print_table(&backend, &speed, grok, &mut baseline),
            Err(RunError::Spec(e)) => return bad_input(&e),
            Err(e) => {
                eprintln!("{}: {e}", backend.label);
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

/// `spec`'s speed on `backend` (GPU dispatches counted if `counting`), and with `to_grok` its
/// time to grok.
fn measure_backend(
    spec: &ExperimentSpec,
    backend: &Backend,
    counting: bool,
    steps: u64,
    to_grok: bool,
) -> Result<(Speed, Option<GrokTime>), RunError> {
    // Kernel launches are counted on the GPU only.
    let gpu = counting && backend.kind == BackendKind::Wgpu;
    let count = || if gpu { backend::gpu_dispatches() } else { None };
    let (device, limits) = (&backend.device, backend.limits);
    let pause = async || sleep_ms(50);
    let speed =
        pollster::block_on(measure::<LabExperiment>(spec, device, limits, steps, count, pause))?;
    let grok = if to_grok { Some(time_to_grok(spec, backend)?) } else { None };
    Ok((speed, grok))
}

/// Trains `spec` from scratch until test accuracy ≥ 0.99 or its budget ends.
fn time_to_grok(spec: &ExperimentSpec, backend: &Backend) -> Result<GrokTime, RunError> {
    let mut run = TrainingSession::new(spec.clone(), &backend.device, backend.limits)?;
    let t = Instant::now();
    let mut reached = None;
    pollster::block_on(async {
        while !run.is_finished() && reached.is_none() {
            if let Some(r) = run.advance(u64::MAX).await? {
                reached = r.grokking().is_some_and(|m| m.test_acc >= 0.99).then_some(r.step);
            }
        }
        Ok::<_, RunError>(())
    })?;
    Ok((reached, run.step(), t.elapsed().as_secs_f64()))
}

/// One JSON object per backend, for scripts (`scripts/bench-browser.sh`).
fn print_json(backend: &Backend, speed: &Speed, grok: Option<GrokTime>) {
    let grok = grok.map(|(step, steps, seconds)| {
        serde_json::json!({ "step": step, "steps": steps, "seconds": seconds })
    });
    let line = serde_json::json!({
        "backend": backend.label,
        "kind": backend.kind,
        "speed": speed,
        "grok": grok,
    });
    println!("{line}");
}

/// The table's rows for one backend; `baseline`: the first backend's steps/s, for ratios
/// measured in this one run.
fn print_table(backend: &Backend, f: &Speed, grok: Option<GrokTime>, baseline: &mut Option<f64>) {
    let ratio = baseline
        .map(|b| format!("  ({:.2}× the first backend)", f.train_steps_per_sec / b))
        .unwrap_or_default();
    baseline.get_or_insert(f.train_steps_per_sec);
    println!(
        "{:<44} {:>8.2} steps/s ({:.2} ms/step){ratio}; first step {:.0} ms",
        backend.label,
        f.train_steps_per_sec,
        1e3 / f.train_steps_per_sec,
        f.first_step_ms,
    );
    println!(
        "{:<44} {:>8.2} steps/s with an evaluation every step (×{:.2} slower)",
        "",
        f.eval_steps_per_sec,
        f.readback_overhead(),
    );
    println!(
        "{:<44} {:>8.2} steps/s with the per-step metrics on every step (×{:.2} slower)",
        "",
        f.instrumented_steps_per_sec,
        f.instrumentation_overhead(),
    );
    if let Some(bare) = f.bare_steps_per_sec {
        println!(
            "{:<44} {bare:>8.2} steps/s without the per-step divergence flag (×{:.3} faster)",
            "",
            bare / f.train_steps_per_sec,
        );
    }
    if let Some(d) = f.gpu_dispatches_per_step {
        println!("{:<44} {d:>8.1} GPU dispatches per training step", "");
    }
    match grok {
        Some((Some(s), _, secs)) => {
            println!("{:<44} test acc ≥ 0.99 at step {s} after {secs:.2} s", "")
        }
        Some((None, steps, secs)) => {
            println!("{:<44} test acc < 0.99 after all {steps} steps ({secs:.2} s)", "")
        }
        None => {}
    }
}
