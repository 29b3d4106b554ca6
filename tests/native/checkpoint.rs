//! Runs that resume: a run checkpointed at step k and resumed (in this process, or after the
//! CLI was killed) continues bitwise as the uninterrupted run, in every lab, on the CPU backend.
//! And a damaged checkpoint is refused with a message, never a panic.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use gradscope::backend;
use gradscope::labs::{Checkpoint, MetricsRecord, TrainingSession};
use gradscope::labs::{ExperimentSpec, presets};
use gradscope::train::RunError;

pub(crate) fn with_budget(mut spec: ExperimentSpec, steps: u64, eval_every: u64) -> ExperimentSpec {
    spec.training_mut().steps = steps;
    spec.training_mut().eval_every = eval_every;
    spec.validate().unwrap();
    spec
}

/// A minibatched grokking run (so the epoch's batch order matters), three scans models, four
/// 24-block gradient-flow stacks (with their divergence flags).
fn lab_specs() -> Vec<ExperimentSpec> {
    let grokking = ExperimentSpec::from_hash(
        "grokking.task.p=23&grokking.model.mlp.width=64&grokking.training.batch_size=64",
    )
    .unwrap();
    let mut scans = presets::find("selective-copying").unwrap().spec;
    scans.training_mut().batch_size = 8;
    // Weight decay on, so the resumed optimizer must rebuild its no-decay group (S4D's A and Δ,
    // Mamba's A_log and D) for the run to continue to the same numbers.
    let ExperimentSpec::Scans(s) = &mut scans else { unreachable!() };
    s.optimizer.weight_decay = 0.1;
    vec![
        with_budget(grokking, 120, 20),
        with_budget(scans, 24, 6),
        with_budget(presets::find("norm-placement").unwrap().spec, 24, 6),
    ]
}

pub(crate) fn without_wall_time(history: &[MetricsRecord]) -> Vec<MetricsRecord> {
    history.iter().map(|r| MetricsRecord { wall_ms: 0.0, ..r.clone() }).collect()
}

async fn train_to(session: &mut TrainingSession, step: u64) -> Result<(), RunError> {
    while session.step() < step || session.history().last().map(|r| r.step) != Some(session.step())
    {
        session.advance(step - session.step()).await?;
    }
    Ok(())
}

#[test]
fn a_resumed_run_equals_the_uninterrupted_one_in_every_lab() {
    let cpu = backend::cpu();
    for spec in lab_specs() {
        let lab = spec.lab();
        let budget = spec.steps();
        let whole = pollster::block_on(async {
            let mut s = TrainingSession::new(spec.clone(), &cpu.device, cpu.limits).unwrap();
            s.run_to_end(|_| {}).await.unwrap();
            s.history().to_vec()
        });
        let resumed = pollster::block_on(async {
            let mut s = TrainingSession::new(spec.clone(), &cpu.device, cpu.limits).unwrap();
            train_to(&mut s, budget / 2).await.unwrap();
            // Through bytes, as a file or the page's storage carries it.
            let bytes = s.checkpoint().unwrap().to_bytes();
            drop(s);
            let checkpoint = Checkpoint::from_bytes(&bytes).unwrap();
            assert_eq!(checkpoint.state.step, budget / 2, "{lab}");
            let mut s = TrainingSession::resume(checkpoint, &cpu.device, cpu.limits).unwrap();
            assert_eq!(s.step(), budget / 2);
            s.run_to_end(|_| {}).await.unwrap();
            s.history().to_vec()
        });
        assert_eq!(whole.len() as u64, budget / spec.training().eval_every + 1, "{lab}");
        assert_eq!(
            without_wall_time(&resumed),
            without_wall_time(&whole),
            "{lab}: resumed ≠ uninterrupted"
        );
    }
}

#[test]
fn damaged_checkpoints_are_refused_with_a_message() {
    let cpu = backend::cpu();
    let spec = lab_specs().remove(0);
    let bytes = pollster::block_on(async {
        let mut s = TrainingSession::new(spec.clone(), &cpu.device, cpu.limits).unwrap();
        train_to(&mut s, 20).await.unwrap();
        // Before the first evaluation there is no checkpoint to take.
        let fresh = TrainingSession::new(spec.clone(), &cpu.device, cpu.limits).unwrap();
        assert!(fresh.checkpoint().unwrap_err().to_string().contains("after the first evaluation"));
        train_to(&mut s, 20).await.unwrap();
        s.checkpoint().unwrap().to_bytes()
    });
    let err = |b: &[u8]| Checkpoint::from_bytes(b).unwrap_err();
    assert!(err(b"hello").contains("not a gradscope checkpoint"));
    assert!(err(&bytes[..bytes.len() - 10]).contains("truncated"));
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(err(&extra).contains("trailing bytes"));
    // A checkpoint whose weights do not fit its spec (a wider model) is refused when resumed.
    let mut c = Checkpoint::from_bytes(&bytes).unwrap();
    c.spec = ExperimentSpec::from_hash(
        "grokking.task.p=23&grokking.model.mlp.width=65&grokking.training.batch_size=64",
    )
    .unwrap();
    let Err(e) = TrainingSession::resume(c, &cpu.device, cpu.limits) else {
        panic!("a mismatched checkpoint loaded")
    };
    assert!(e.to_string().contains("does not fit its spec"), "{e}");
}

fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r.get("step").is_some())
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("wall_ms");
            r
        })
        .collect()
}

#[test]
fn a_killed_cli_run_resumes_to_the_same_metrics() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("checkpoint-cli");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let spec = "#grokking.task.p=23&grokking.model.mlp.width=64&grokking.training.batch_size=64\
                &grokking.training.steps=30000&grokking.training.eval_every=100";
    let gradscope = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gradscope"));
        c.args(args).env("RAYON_NUM_THREADS", "1").current_dir(&dir);
        c
    };
    let o = gradscope(&["run", spec, "--quiet", "--out", "whole.jsonl"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut child = gradscope(&[
        "run",
        spec,
        "--quiet",
        "--out",
        "cut.jsonl",
        "--checkpoint",
        "ck",
        "--every",
        "500",
    ])
    .stdout(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let started = Instant::now();
    while !dir.join("ck/checkpoint.gsck").exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first checkpoint");
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL, mid-run
    child.wait().unwrap();
    let cut = records(&dir.join("cut.jsonl"));
    assert!(cut.len() < 301, "killed before the end ({} records)", cut.len());

    let o =
        gradscope(&["run", "--resume", "ck", "--quiet", "--out", "cut.jsonl"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let whole = records(&dir.join("whole.jsonl"));
    assert_eq!(whole.len(), 301);
    assert_eq!(records(&dir.join("cut.jsonl")), whole, "the resumed run's metrics differ");

    // Refusals: --every off the evaluation grid, a folder with no checkpoint, a spec beside --resume.
    let o = gradscope(&["run", spec, "--checkpoint", "ck2", "--every", "150"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("multiple of the spec's eval_every (100)"));
    let o = gradscope(&["run", "--resume", "nowhere"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read nowhere/checkpoint.gsck"));
    let o = gradscope(&["run", "doshi-quick-grok", "--resume", "ck"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}
