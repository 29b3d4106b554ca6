//! `gradscope sweep`: points from a sweep file, every point run once, results that do not depend
//! on how the sweep was split (jobs, shards) or interrupted (SIGKILL, a truncated line), and the
//! errors a user sees for a bad file. The Slurm job array runs in `scripts/slurm-test.sh`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use gradscope::labs::ExperimentSpec;
use gradscope::sweep::{self, PointResult, SweepPlan};
use serde_json::{Value, json};

const TINY: &str = include_str!("../fixtures/sweep-tiny.json");

fn gradscope(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradscope")).args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh folder under the target dir, named for the test.
fn workdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sweep-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn results(path: &Path) -> Vec<PointResult> {
    let text = std::fs::read_to_string(path).unwrap();
    let read = sweep::read_results(&text);
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    read.results
}

/// Results by point index, wall times zeroed (the one field that differs between equal runs).
fn comparable(mut r: Vec<PointResult>) -> Vec<PointResult> {
    r.sort_by_key(|r| r.index);
    r.iter().map(PointResult::without_wall_time).collect()
}

#[test]
fn axes_expand_to_the_cartesian_product_last_axis_fastest() {
    let plan = SweepPlan::from_json(TINY).unwrap();
    assert_eq!(plan.len(), 8);
    assert_eq!(plan.axes[0].path, "grokking.task.train_frac", "the lab key is added");
    assert_eq!(plan.axes[0].values, vec![json!(0.3), json!(0.4), json!(0.5), json!(0.6)]);
    assert_eq!(plan.axes[1].values, vec![json!(0), json!(1)]);
    let points: Vec<_> = plan.points().collect();
    let ExperimentSpec::Grokking(s3) = &points[3].spec else { panic!("grokking") };
    assert_eq!((s3.task.train_frac, s3.seed), (0.4, 1));
    assert_eq!(s3.task.p, 11, "the base is kept");
    let hashes: BTreeSet<_> = points.iter().map(|p| p.hash.clone()).collect();
    assert_eq!(hashes.len(), 8, "every point has its own hash");
    assert_eq!(points[3].hash, sweep::spec_hash(&points[3].spec));
}

#[test]
fn generators_follow_numpy_and_python() {
    let axis = |spec: Value| {
        let file = json!({"base": "pair-tiny-mlp", "axes": {"optimizer.lr": spec}});
        SweepPlan::from_json(&file.to_string()).map(|p| p.axes[0].values.clone())
    };
    // numpy.logspace(-3, -1, 3) = [0.001, 0.01, 0.1]; linspace includes both ends.
    assert_eq!(
        axis(json!({"logspace": [-3, -1, 3]})).unwrap(),
        vec![json!(0.001), json!(0.01), json!(0.1)]
    );
    assert_eq!(axis(json!({"linspace": [0.1, 0.2, 1]})).unwrap(), vec![json!(0.1)]);
    let steps = |spec: Value| {
        let file = json!({"base": "pair-tiny-mlp", "axes": {"training.steps": spec}});
        SweepPlan::from_json(&file.to_string()).map(|p| p.axes[0].values.clone())
    };
    // range(100, 400, 100) = [100, 200, 300]; an integer field takes linspace's whole numbers.
    assert_eq!(
        steps(json!({"range": [100, 400, 100]})).unwrap(),
        vec![json!(100), json!(200), json!(300)]
    );
    let plan = SweepPlan::from_json(
        &json!({"base": "pair-tiny-mlp", "axes": {"training.steps": {"linspace": [100, 300, 3]}}})
            .to_string(),
    )
    .unwrap();
    assert_eq!(plan.points().map(|p| p.spec.steps()).collect::<Vec<_>>(), vec![100, 200, 300]);
}

#[test]
fn bad_sweep_files_name_what_is_wrong() {
    let err = |file: Value| SweepPlan::from_json(&file.to_string()).unwrap_err().to_string();
    let e = err(json!({"base": "pair-tiny-mlp", "axes": {"optimizer.learning_rate": [0.1]}}));
    assert!(
        e.contains("optimizer.learning_rate") && e.contains("names no field") && e.contains("lr"),
        "{e}"
    );
    let e = err(json!({"base": "pair-tiny-mlp", "axes": {"task.p": [97, 1]}}));
    assert!(
        e.contains("task.p") && e.contains("at point 1") && e.contains("grokking.task.p=1"),
        "{e}"
    );
    let e = err(json!({"base": "no-such-preset"}));
    assert!(e.contains("base") && e.contains("neither a preset"), "{e}");
    let e = err(
        json!({"base": "pair-tiny-mlp", "axes": {"seed": {"seeds": 1000}, "optimizer.lr": {"linspace": [0.001, 0.1, 1000]}}}),
    );
    assert!(e.contains("more than 100000 points"), "{e}");
    let e = err(json!({"base": "pair-tiny-mlp", "axes": {"seed": {"range": [0, 10, 0]}}}));
    assert!(e.contains("axes.seed") && e.contains("step must not be 0"), "{e}");
    let e = err(json!({"base": "pair-tiny-mlp", "axes": {"seed": []}}));
    assert!(e.contains("has no values"), "{e}");
    let e = err(json!({"base": "pair-tiny-mlp", "axis": {}}));
    assert!(e.contains("axis"), "{e}");
    assert!(sweep::parse_shard("4/4").is_err() && sweep::parse_shard("1/0").is_err());
    assert_eq!(sweep::parse_shard("3/4"), Ok((3, 4)));
}

#[test]
fn a_point_recorded_by_the_sweep_is_the_run_gradscope_run_gives() {
    let dir = workdir("same-as-run");
    std::fs::write(dir.join("tiny.json"), TINY).unwrap();
    let o = gradscope(&["sweep", "tiny.json", "--jobs", "2"], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("train_frac") && table.contains("final_test_acc"), "{table}");
    let all = results(&dir.join("tiny.jsonl"));
    assert_eq!(all.len(), 8);
    // Point 5, rerun on its own with `gradscope run`: the same final metrics (one thread both).
    let r = all.iter().find(|r| r.index == 5).unwrap();
    std::fs::write(dir.join("p5.json"), r.spec.to_string()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gradscope"))
        .args(["run", "p5.json", "--quiet"])
        .env("RAYON_NUM_THREADS", "1")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(r.result.steps, 60);
    for k in ["train_acc", "test_acc", "train_loss", "test_loss"] {
        assert_eq!(r.result.verdict[&format!("final_{k}")], last[k], "{k}");
    }
    // Rerunning runs nothing and leaves the file as it was.
    let before = std::fs::read_to_string(dir.join("tiny.jsonl")).unwrap();
    let o = gradscope(&["sweep", "tiny.json"], &dir);
    assert!(stderr(&o).contains("0 to run, 8 already"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.join("tiny.jsonl")).unwrap(), before);
}

/// A sweep runs for hours, and `cargo build` may replace its binary meanwhile: its later points
/// still start, from the binary the sweep runs.
#[test]
fn a_sweep_whose_binary_is_gone_still_starts_its_points() {
    let dir = workdir("binary-gone");
    std::fs::write(dir.join("tiny.json"), TINY).unwrap();
    let exe = dir.join("gradscope-copy");
    std::fs::copy(env!("CARGO_BIN_EXE_gradscope"), &exe).unwrap();
    let child = Command::new(&exe)
        .args(["sweep", "tiny.json", "--jobs", "1", "--out", "out.jsonl"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `spawn` returns once the sweep runs the copy; its points start after this.
    std::fs::remove_file(&exe).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&dir.join("out.jsonl")).len(), 8);
}

#[test]
fn shards_merge_to_the_unsharded_results() {
    let dir = workdir("shards");
    std::fs::write(dir.join("tiny.json"), TINY).unwrap();
    let o = gradscope(&["sweep", "tiny.json", "--jobs", "1", "--out", "whole.jsonl"], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut files = Vec::new();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let o = gradscope(&["sweep", "tiny.json", "--shard", &shard, "--jobs", "2"], &dir);
        assert!(o.status.success(), "{}", stderr(&o));
        let file = format!("tiny.shard-{i}-of-3.jsonl");
        let indices: Vec<usize> = results(&dir.join(&file)).iter().map(|r| r.index).collect();
        let mut sorted = indices.clone();
        sorted.sort();
        assert_eq!(sorted, (i..8).step_by(3).collect::<Vec<_>>(), "shard {shard}");
        files.push(file);
    }
    let mut args = vec!["sweep", "merge"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--out", "merged.jsonl"]);
    let o = gradscope(&args, &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        comparable(results(&dir.join("merged.jsonl"))),
        comparable(results(&dir.join("whole.jsonl")))
    );
}

/// Worker processes working in `dir` (other tests run sweeps at the same time).
fn workers_in(dir: &Path) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| std::fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd == dir))
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("sweep-point"))
        })
        .count()
}

#[test]
fn a_killed_sweep_resumes_and_runs_every_point_once() {
    let dir = workdir("killed");
    // Three short points, then a long one (~7 s) that is in flight when the sweep is killed.
    let file = json!({
        "base": {"grokking": {"task": {"p": 11}, "model": {"mlp": {"width": 32}}, "training": {"steps": 2000, "eval_every": 500}}},
        "axes": {"training.steps": [2000, 2001, 2002, 100000]}
    });
    std::fs::write(dir.join("slow.json"), file.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gradscope"))
        .args(["sweep", "slow.json", "--jobs", "1"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = dir.join("slow.jsonl");
    let started = Instant::now();
    let lines = || std::fs::read_to_string(&out).map(|t| t.lines().count()).unwrap_or(0);
    while lines() < 3 {
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended before it was killed");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(lines(), 3, "killed while the long point ran");
    // Its worker notices the parent is gone (polled every 200 ms) and exits, mid-run.
    let killed = Instant::now();
    while workers_in(&dir) > 0 {
        assert!(
            killed.elapsed() < Duration::from_millis(2500),
            "the killed sweep's worker kept running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A write cut short by the kill: the rerun drops the partial line.
    let mut text = std::fs::read_to_string(&out).unwrap();
    text.push_str(r#"{"format":"gradscope-sweep","version":1,"hash":"#);
    std::fs::write(&out, &text).unwrap();
    let o = gradscope(&["sweep", "slow.json", "--jobs", "2"], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 to run, 3 already"), "{}", stderr(&o));
    let all = results(&out);
    assert_eq!(all.len(), 4, "every point once");
    let indices: BTreeSet<usize> = all.iter().map(|r| r.index).collect();
    assert_eq!(indices, (0..4).collect());
}

/// SIGTERM (Slurm's warning before a time limit) loses no work: the points in flight stop at
/// their next evaluation and are checkpointed, the sweep exits 75, and the rerun resumes them
/// inside the point, ending bit for bit where an uninterrupted sweep ends (wall times aside).
#[test]
fn a_terminated_sweep_checkpoints_its_points_in_flight_and_resumes_them_exactly() {
    let dir = workdir("term");
    // Two points of ~4 s each, one per worker, evaluated every 5000 steps.
    let file = json!({
        "base": {"grokking": {"task": {"p": 11}, "model": {"mlp": {"width": 32}}, "training": {"steps": 60000, "eval_every": 5000}}},
        "axes": {"grokking.seed": [0, 1]}
    });
    std::fs::write(dir.join("long.json"), file.to_string()).unwrap();
    let sweep = |out: &str, curves: &str| {
        Command::new(env!("CARGO_BIN_EXE_gradscope"))
            .args(["sweep", "long.json", "--jobs", "2", "--out", out, "--curves", curves])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let whole = sweep("whole.jsonl", "whole-curves").wait_with_output().unwrap();
    assert!(whole.status.success(), "{}", stderr(&whole));

    let child = sweep("cut.jsonl", "cut-curves");
    // Both workers are past their first evaluation (step 0) well before the end.
    let started = Instant::now();
    while workers_in(&dir) < 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "the workers did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success()
    );
    let cut = child.wait_with_output().unwrap();
    let said = stderr(&cut);
    assert_eq!(cut.status.code(), Some(75), "{said}");
    assert!(said.contains("stopped by SIGTERM: 2 point(s) checkpointed"), "{said}");
    let steps: Vec<u64> = said
        .lines()
        .filter_map(|l| l.split("checkpointed at step ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(steps.len(), 2, "{said}");
    assert!(
        steps.iter().all(|&s| s > 0 && s < 60000 && s % 5000 == 0),
        "inside the points, at evaluations: {steps:?}"
    );
    let inflight = dir.join("cut.jsonl.inflight");
    assert_eq!(std::fs::read_dir(&inflight).unwrap().count(), 2, "one checkpoint per point");
    assert!(
        std::fs::read_to_string(dir.join("cut.jsonl")).unwrap_or_default().is_empty(),
        "no result yet"
    );

    let rerun = sweep("cut.jsonl", "cut-curves").wait_with_output().unwrap();
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    // Each point went on from where it was saved (the child says so, having read the checkpoint).
    let resumed: Vec<u64> = stderr(&rerun)
        .lines()
        .filter_map(|l| l.split("resumed from step ").nth(1))
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let (mut a, mut b) = (resumed.clone(), steps.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b, "{}", stderr(&rerun));
    assert!(!inflight.exists(), "spent checkpoints are removed");
    assert_eq!(
        comparable(results(&dir.join("cut.jsonl"))),
        comparable(results(&dir.join("whole.jsonl")))
    );
    // Each curve, record by record, wall times aside.
    let without_wall = |path: PathBuf| -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                if let Some(o) = v.as_object_mut() {
                    o.remove("wall_ms");
                }
                v
            })
            .collect()
    };
    for entry in std::fs::read_dir(dir.join("whole-curves")).unwrap() {
        let name = entry.unwrap().file_name();
        let whole = without_wall(dir.join("whole-curves").join(&name));
        assert_eq!(whole.len(), 1 + 13, "header + steps 0, 5000, …, 60000");
        assert_eq!(without_wall(dir.join("cut-curves").join(&name)), whole, "{name:?}");
    }
}

#[test]
fn points_are_recognized_by_their_spec_not_their_index() {
    let dir = workdir("by-hash");
    std::fs::write(dir.join("s.json"), TINY).unwrap();
    assert!(gradscope(&["sweep", "s.json"], &dir).status.success());
    // A new value at the front of the first axis shifts every index; only its 2 points run.
    let mut file: Value = serde_json::from_str(TINY).unwrap();
    file["axes"]["task.train_frac"] = json!([0.2, 0.3, 0.4, 0.5, 0.6]);
    std::fs::write(dir.join("s.json"), file.to_string()).unwrap();
    let o = gradscope(&["sweep", "s.json", "--dry-run"], &dir);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("points: 10")
            && text.contains("already done: 8")
            && text.contains("to run: 2"),
        "{text}"
    );
    assert!(text.contains("estimated time:"), "{text}");
    let o = gradscope(&["sweep", "s.json"], &dir);
    assert!(stderr(&o).contains("2 to run, 8 already"), "{}", stderr(&o));
    assert_eq!(results(&dir.join("s.jsonl")).len(), 10);
}

#[test]
fn the_slurm_script_runs_each_shard_with_the_same_flags() {
    let dir = workdir("emit");
    std::fs::write(dir.join("tiny.json"), TINY).unwrap();
    let o = gradscope(
        &["sweep", "tiny.json", "--emit", "slurm", "--tasks", "4", "--out-dir", "shards"],
        &dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let script = String::from_utf8_lossy(&o.stdout);
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    assert!(script.contains("#SBATCH --array=0-3\n"), "{script}");
    assert!(script.contains("--shard \"${SLURM_ARRAY_TASK_ID}/4\""), "{script}");
    // SIGTERM 5 minutes before the time limit reaches the sweep, which checkpoints and exits 75;
    // the task then requeues itself.
    for line in [
        "#SBATCH --signal=B:TERM@300\n",
        "#SBATCH --requeue\n",
        "trap 'kill -TERM \"$sweep\" 2>/dev/null' TERM\n",
        "if [ \"$status\" -eq 75 ]; then\n",
        "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n",
    ] {
        assert!(script.contains(line), "{line} in {script}");
    }
    assert!(
        dir.join("shards").is_dir(),
        "Slurm opens the log before the script runs: the folder must exist"
    );
    // The tasks pass on the point's stopping rule and where curves go (as an absolute path).
    // And the site's options become #SBATCH lines.
    let o = gradscope(
        &[
            "sweep",
            "tiny.json",
            "--emit",
            "slurm",
            "--stop-after-grok",
            "50",
            "--curves",
            "c",
            "--sbatch",
            "--time=2:00:00 --partition=gpu",
            "--sbatch=--gres=gpu:1",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let script = String::from_utf8_lossy(&o.stdout);
    let curves = format!("--curves {}", dir.join("c").display());
    assert!(script.contains("--stop-after-grok 50 ") && script.contains(&curves), "{script}");
    for line in ["#SBATCH --time=2:00:00\n", "#SBATCH --partition=gpu\n", "#SBATCH --gres=gpu:1\n"]
    {
        assert!(script.contains(line), "{line} in {script}");
    }
    for (bad, why) in [
        ("--array=0-3", "sets --array itself"),
        ("-c4", "sets -c itself"),
        ("--comment=$HOME", "cannot hold quotes, $"),
        ("gpu", "is not an option"),
    ] {
        let o = gradscope(&["sweep", "tiny.json", "--emit", "slurm", "--sbatch", bad], &dir);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains(why), "{bad}: {}", stderr(&o));
    }
    let o = gradscope(&["sweep", "tiny.json", "--emit", "slurm", "--tasks", "9"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--tasks must be in 1..=8"), "{}", stderr(&o));
    let o = gradscope(&["sweep", "tiny.json", "--shard", "4/4"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--shard"), "{}", stderr(&o));
}

/// `--stop-after-grok N` stops each point N steps after its test accuracy first reached 0.99,
/// as `run --stop-after-grok` does; `--curves DIR` writes each point's metrics file to
/// DIR/HASH.jsonl, which reads back as a metrics file whose last evaluation is the verdict's.
#[test]
fn sweep_points_stop_after_grokking_and_write_their_curves() {
    let dir = workdir("curves");
    // The default preset groks near step 40 of a 60-step budget here, evaluating every step.
    let file =
        json!({"base": "doshi-quick-grok", "axes": {"training.steps": [60], "seed": [0, 1, 2]}});
    std::fs::write(dir.join("grok.json"), file.to_string()).unwrap();
    let o = gradscope(&["sweep", "grok.json", "--out", "full.jsonl"], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let full = comparable(results(&dir.join("full.jsonl")));
    let margin = 5;
    let o = gradscope(
        &["sweep", "grok.json", "--stop-after-grok", "5", "--curves", "curves", "--out", "s.jsonl"],
        &dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let stopped = comparable(results(&dir.join("s.jsonl")));
    assert_eq!((stopped.len(), full.len()), (3, 3));
    let mut early = 0;
    for (r, whole) in stopped.iter().zip(&full) {
        let grokked = r.result.verdict["test_step_99"].as_u64();
        assert_eq!(grokked, whole.result.verdict["test_step_99"].as_u64(), "#{}", r.index);
        // The first evaluation `margin` or more steps after the grok, within the budget.
        let every = r.spec["grokking"]["training"]["eval_every"].as_u64().unwrap();
        let expected = grokked.map_or(60, |s| (s + margin).div_ceil(every) * every).min(60);
        assert_eq!(r.result.steps, expected, "#{}: {:?}", r.index, r.result.verdict);
        early += usize::from(expected < 60);

        let text = std::fs::read_to_string(dir.join("curves").join(format!("{}.jsonl", r.hash)))
            .unwrap_or_else(|e| panic!("#{}: no curve: {e}", r.index));
        let curve = gradscope::labs::read_metrics_file(&text).unwrap();
        assert_eq!(curve.spec.as_ref(), Some(&r.spec), "#{}: the curve's spec", r.index);
        let last = curve.records.last().unwrap();
        assert_eq!(last.step, r.result.steps, "#{}", r.index);
        let test_acc = serde_json::to_value(last).unwrap()["test_acc"].clone();
        assert_eq!(test_acc, r.result.verdict["final_test_acc"], "#{}", r.index);
        assert_eq!(curve.records.len() as u64, r.result.steps / every + 1, "#{}", r.index);
    }
    assert!(early > 0, "no point grokked early enough to be stopped: the test shows nothing");
    // A lab that does not grok refuses the flag before running anything.
    let scans = json!({"base": "selective-copying", "axes": {"seed": [0, 1]}});
    std::fs::write(dir.join("scans.json"), scans.to_string()).unwrap();
    let o = gradscope(&["sweep", "scans.json", "--stop-after-grok", "10"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("grokking sweeps only"), "{}", stderr(&o));
}

/// Lines of format 1 wrote a step never reached as the string "never"; they read as format 2
/// writes it (`null`, a gap in a column of numbers), and the table shows "never" for both.
#[test]
fn format_1_lines_read_as_format_2() {
    let text = include_str!("../../docs/reproductions/sweeps/doshi-noise-phases.jsonl");
    let never = text.matches("\"test_step_99\":\"never\"").count();
    assert!(never > 0 && text.contains("\"version\":1,"), "a format-1 file with some never");
    let read = sweep::read_results(text);
    assert!(read.skipped.is_empty());
    assert!(read.results.iter().all(|r| r.version == 2));
    let steps: Vec<&Value> =
        read.results.iter().map(|r| &r.result.verdict["test_step_99"]).collect();
    assert_eq!(steps.iter().filter(|v| v.is_null()).count(), never);
    assert!(steps.iter().all(|v| v.is_null() || v.is_u64()), "{steps:?}");
    let table = sweep::table(&read.results);
    let never_anywhere = text.matches("_step_99\":\"never\"").count(); // train's too
    assert_eq!(table.matches("never").count(), never_anywhere, "{table}");
    // A line written now has null there too, and merging it with old lines gives one format.
    let mut fresh = read.results[0].clone();
    fresh.hash = "0".repeat(16);
    let line = fresh.to_line();
    assert!(line.contains("\"test_step_99\":null") && line.contains("\"version\":2"), "{line}");
}
