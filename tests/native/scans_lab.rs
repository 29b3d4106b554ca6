//! The scans lab as a user meets it: its spec (validation by field, links), the memory tasks,
//! the CLI (`run`, `bench scans`, `inspect ssm`) and the training smoke test.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

use gradscope::backend;
use gradscope::backend::DeviceLimits;
use gradscope::labs::ExperimentSpec;
use gradscope::labs::TrainingSession;
use gradscope::labs::scans::ScansSpec;
use gradscope::labs::scans::memory::{ANSWER_SLOT, MemoryTask, NOISE, TRIGGER, TaskKind};
use gradscope::labs::scans::spec::{MixerKind, ScanModelSpec};
use gradscope::rng::{Stream, stream};
use gradscope::spec::url_hash;
use gradscope::train::RunError;

fn scans(f: impl FnOnce(&mut ScansSpec)) -> ExperimentSpec {
    let mut s = ScansSpec::default();
    f(&mut s);
    ExperimentSpec::Scans(s)
}

fn refused(spec: ExperimentSpec, field: &str, words: &[&str]) {
    let e = spec.validate().expect_err(field);
    assert_eq!(e.field, field, "{e}");
    for w in words {
        assert!(e.message.contains(w), "`{w}` not in {e}");
    }
}

#[test]
fn bad_scans_fields_are_refused_by_name() {
    refused(scans(|s| s.task.len = 100_000), "scans.task.len", &["4096", "100000"]);
    refused(scans(|s| s.task.len = 10), "scans.task.len", &["16..=4096", "data tokens"]);
    refused(scans(|s| s.task.vocab = 0), "scans.task.vocab", &["2..=256"]);
    refused(
        scans(|s| s.models.get_mut("s4d").unwrap().d_state = 7),
        "scans.models.s4d.d_state",
        &["even"],
    );
    refused(
        scans(|s| s.models.get_mut("mamba").unwrap().d_model = 0),
        "scans.models.mamba.d_model",
        &["1..=512"],
    );
    refused(
        scans(|s| s.models.get_mut("mamba").unwrap().dt_max = 1e-4),
        "scans.models.mamba.dt_max",
        &["dt_min"],
    );
    refused(scans(|s| s.models.clear()), "scans.models", &["1..=4"]);
    refused(
        scans(|s| {
            s.models.insert("Bad Name".into(), ScanModelSpec::default());
        }),
        "scans.models",
        &["Bad Name"],
    );
    refused(scans(|s| s.training.batch_size = 0), "scans.training.batch_size", &["at least 1"]);
    refused(scans(|s| s.optimizer.lr = f64::NAN), "scans.optimizer.lr", &["(0, 1000]"]);
    refused(scans(|s| s.eval.extrapolation = 64), "scans.eval.extrapolation", &["1..=16"]);
    // Through the URL hash, the field path is the same.
    let e = ExperimentSpec::from_hash("#scans.models.mamba.layers=99").unwrap_err();
    assert_eq!(e.field, "scans.models.mamba.layers");
    let e = ExperimentSpec::from_hash("#scans.models.mamba.mixer=lstm").unwrap_err();
    assert!(e.field.contains("scans.models.mamba.mixer"), "{e}");
}

#[test]
fn a_scans_link_names_its_models_and_round_trips() {
    let spec = scans(|s| s.models.get_mut("mamba").unwrap().d_state = 8);
    let hash = url_hash::encode(&spec);
    assert!(hash.contains("scans.models.mamba.d_state=8"), "{hash}");
    assert!(hash.contains("scans.models.s4d.mixer=s4d"), "{hash}");
    assert_eq!(ExperimentSpec::from_hash(&hash).unwrap(), spec);
    // A partial link: two models with every other field defaulted.
    let short =
        ExperimentSpec::from_hash("#scans.models.a.mixer=s4d&scans.models.b.mixer=gated_s4d")
            .unwrap();
    let ExperimentSpec::Scans(s) = short else { panic!("a scans spec") };
    assert_eq!(s.models.len(), 2);
    assert_eq!(s.models["b"].mixer, MixerKind::GatedS4d);
    assert_eq!(s.models["b"].layers, ScanModelSpec::default().layers);
}

#[test]
fn memory_tasks_put_the_answers_where_they_say() {
    let copying =
        MemoryTask { kind: TaskKind::SelectiveCopying, len: 40, vocab: 5, data_tokens: 6 };
    let batch = copying.sample(50, &mut stream(1, Stream::Sequences));
    assert_eq!(batch.answer_len, 6);
    for i in 0..50 {
        let row = &batch.tokens[i * 40..(i + 1) * 40];
        let answers = &batch.answers[i * 6..(i + 1) * 6];
        let data: Vec<u32> = row[..34].iter().copied().filter(|&t| t != NOISE).collect();
        assert_eq!(data, answers, "the data tokens, in order, are the answers");
        assert!(row[34..].iter().all(|&t| t == ANSWER_SLOT));
        assert!(answers.iter().all(|&t| (2..7).contains(&t)));
    }
    let induction =
        MemoryTask { kind: TaskKind::InductionHeads, len: 30, vocab: 7, data_tokens: 0 };
    let batch = induction.sample(50, &mut stream(1, Stream::Sequences));
    for i in 0..50 {
        let row = &batch.tokens[i * 30..(i + 1) * 30];
        let triggers: Vec<usize> = (0..30).filter(|&j| row[j] == TRIGGER).collect();
        assert_eq!(triggers.len(), 2, "{row:?}");
        assert_eq!(triggers[1], 29);
        assert_eq!(row[triggers[0] + 1], batch.answers[i], "the value after the first trigger");
    }
    // A typed sequence gets the task's answers, or a message that says what is wrong.
    let typed = |task: &MemoryTask, t: &[u32]| task.typed(t, 12);
    let ok = typed(&copying, &[0, 3, 0, 0, 6, 0, 1, 1]).unwrap();
    assert_eq!((ok.batch, ok.len, ok.answer_len), (1, 8, 2));
    assert_eq!(ok.answers, [3, 6]);
    let e = typed(&copying, &[0, 3, 0, 1, 1]).unwrap_err();
    assert!(e.contains("1 data tokens") && e.contains("2 answer slots"), "{e}");
    let e = typed(&copying, &[0, 3, 9, 1, 1]).unwrap_err();
    assert!(e.contains("token 9 at position 2") && e.contains("0…6"), "{e}");
    let e = typed(&copying, &[0; 13]).unwrap_err();
    assert!(e.contains("13 tokens") && e.contains("12"), "{e}");
    assert_eq!(
        typed(&induction, &[2, 0, 5, 3, 0, 4, 0]).unwrap().answers,
        [4],
        "the last trigger's"
    );
    let e = typed(&induction, &[2, 0, 5, 3]).unwrap_err();
    assert!(e.contains("trigger (0) last"), "{e}");
    assert!(typed(&induction, &[2, 3, 5, 0]).is_err(), "no earlier trigger");

    // The same seed, the same sequences; another stream, others.
    assert_eq!(
        copying.sample(4, &mut stream(1, Stream::Sequences)),
        copying.sample(4, &mut stream(1, Stream::Sequences))
    );
    assert_ne!(
        copying.sample(4, &mut stream(1, Stream::Sequences)),
        copying.sample(4, &mut stream(1, Stream::EvalSequences))
    );
}

#[test]
fn oversized_scans_runs_are_refused_with_the_estimate() {
    let cpu = backend::cpu();
    let small_gpu = DeviceLimits {
        max_buffer_bytes: 128 << 20,
        max_total_bytes: 4 << 30,
        float64: false,
        flushes_subnormals: false,
    };
    let spec = scans(|s| {
        s.task.len = 4096;
        s.training.batch_size = 64;
        s.models.retain(|k, _| k == "mamba");
        s.models.get_mut("mamba").unwrap().d_model = 256;
    });
    match TrainingSession::new(spec, &cpu.device, small_gpu).err().unwrap() {
        RunError::Spec(e) => {
            assert_eq!(e.field, "scans.training.batch_size", "{e}");
            assert!(
                e.message.contains("MiB")
                    && e.message.contains("128 MiB")
                    && e.message.contains("mamba"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// Selective copying at the lab's default size — 8 data tokens of 8 symbols among noise in 64
/// positions — a Mamba and an S4D (d_model 32, 2 layers, N = 16) trained on the same 600 batches
/// of 32. Calibrated natively (docs/reproductions.md): held-out accuracy per answer token at step
/// 600 was Mamba 0.548 vs S4D 0.393 (seed 0) and 0.551 vs 0.409 (seed 1), after both sat at
/// chance (0.125) for ~150–300 steps; since the init follows mamba_ssm's `_init_weights`
/// (2026-12-03), 0.570 vs 0.475 on seed 0; on a brand-new CI machine (2026-12-04) 0.558 vs
/// 0.480: the CPU backend's matmul kernels differ by CPU (instruction set, threads), so the
/// sums round differently and the numbers move by about 0.01 between machines. Asserted on seed 0:
/// Mamba ≥ S4D + 0.04, the published direction (LTI fails selective copying, selection solves it)
/// at CI size. The margin is set from the spread seen, not from a sampling error: the gap was 0.155
/// and 0.142 on two seeds before the init change, 0.095 and 0.078 on two machines since, so 0.04
/// leaves about twice the machine-to-machine drift seen (0.017) under the smallest gap. (A binomial
/// error over the 1024 answer tokens, σ ≈ 0.015, would understate it: the 8 tokens of one sequence
/// are not independent draws, and the 128 sequences bound it at ≈ 0.044; the held-out set is fixed
/// by the seed, so it does not move between machines: training does.) The single machine's margin
/// that failed elsewhere was 0.08, against a gap of 0.078.
#[test]
fn mamba_beats_s4d_on_selective_copying_within_a_ci_budget() {
    let spec = scans(|s| {
        s.seed = 0;
        s.models.retain(|k, _| k == "mamba" || k == "s4d");
        s.training.steps = 600;
        s.training.eval_every = 600;
        s.eval.sequences = 128;
    });
    let cpu = backend::cpu();
    let mut session = TrainingSession::new(spec, &cpu.device, cpu.limits).unwrap();
    pollster::block_on(session.run_to_end(|_| {})).unwrap();
    let last = session.history().last().unwrap();
    let (mamba, s4d) =
        (last.series("mamba.test_acc").unwrap(), last.series("s4d.test_acc").unwrap());
    eprintln!("step {}: mamba {mamba:.3}, s4d {s4d:.3}", last.step);
    assert_eq!(last.step, 600);
    assert!(mamba >= s4d + 0.04, "Mamba {mamba:.3} vs S4D {s4d:.3}");
}

fn gradscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gradscope")).args(args).output().unwrap()
}

#[test]
fn cli_runs_a_scans_spec_and_writes_named_series() {
    let dir = std::env::temp_dir().join(format!("gradscope-scans-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("spec.json");
    let tiny = scans(|s| {
        s.task.len = 16;
        s.task.data_tokens = 2;
        s.training.steps = 4;
        s.training.batch_size = 4;
        s.training.eval_every = 2;
        s.eval.sequences = 8;
        for m in s.models.values_mut() {
            m.d_model = 8;
        }
    });
    std::fs::write(&spec, tiny.to_json()).unwrap();
    let (out, analysis) = (dir.join("m.jsonl"), dir.join("a.json"));
    let o = gradscope(&[
        "run",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--analysis",
        analysis.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["lab"], "scans");
    assert_eq!(lines.len(), 1 + 3, "header + steps 0, 2, 4");
    for line in &lines[1..] {
        assert!(line["series"]["mamba.test_acc"].as_f64().unwrap().is_finite(), "{line}");
        assert!(line["series"]["s4d.test_loss"].as_f64().unwrap().is_finite(), "{line}");
    }
    // As CSV (chosen by the extension): a header of dotted names, then one row per evaluation
    // holding the numbers of the JSON lines the same run prints with --quiet.
    let csv = dir.join("m.csv");
    let run =
        gradscope(&["run", spec.to_str().unwrap(), "--quiet", "--out", csv.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let printed: Vec<serde_json::Value> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(!text.contains('"'), "no cell here needs quoting: {text}");
    let mut rows = text.lines().map(|l| l.split(',').collect::<Vec<_>>());
    let header = rows.next().unwrap();
    let rows: Vec<Vec<&str>> = rows.collect();
    assert_eq!(rows.len(), 3, "{text}");
    // The first evaluation (step 0) has no training loss yet: those columns come later, and
    // the file is written anew with them.
    let series: std::collections::BTreeSet<&String> =
        printed.iter().flat_map(|r| r["series"].as_object().unwrap().keys()).collect();
    assert!(series.len() > printed[0]["series"].as_object().unwrap().len());
    assert_eq!(header.len(), 2 + series.len(), "step, wall_ms and every series: {header:?}");
    assert_eq!(header[0], "step");
    let mut sorted = header[1..].to_vec();
    sorted.sort();
    assert_eq!(header[1..], sorted, "the rest by name");
    assert_eq!(printed.len(), rows.len());
    for (row, line) in rows.iter().zip(&printed) {
        assert_eq!(row.len(), header.len());
        for (name, cell) in header.iter().zip(row) {
            let want = match name.strip_prefix("series.") {
                Some(key) => &line["series"][key],
                None => &line[*name],
            };
            if want.is_null() {
                assert_eq!(*cell, "", "{name} at step {}: not in that record", line["step"]);
                continue;
            }
            let got: f64 = cell.parse().unwrap_or_else(|e| panic!("{name} = {cell:?}: {e}"));
            assert_eq!(Some(got), want.as_f64(), "{name} at step {}", line["step"]);
        }
    }
    // A file that cannot be written (a full disk: /dev/full takes the open and refuses every
    // write) is reported by name once, and the run still ends and prints every evaluation.
    for format in ["jsonl", "csv"] {
        let full = gradscope(&[
            "run",
            spec.to_str().unwrap(),
            "--quiet",
            "--out",
            "/dev/full",
            "--format",
            format,
        ]);
        let stderr = String::from_utf8_lossy(&full.stderr);
        assert!(full.status.success(), "{format}: {stderr}");
        assert_eq!(
            stderr.matches("cannot write /dev/full at step 0").count(),
            1,
            "{format}: {stderr}"
        );
        assert_eq!(
            String::from_utf8_lossy(&full.stdout).lines().count(),
            printed.len(),
            "{format}"
        );
    }
    let refused = gradscope(&["run", spec.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(refused.status.code(), Some(2), "--format without --out is refused");
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&analysis).unwrap()).unwrap();
    let models = a["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for m in models {
        assert_eq!(m["memory_decay"].as_array().unwrap().len(), 16, "{}", m["name"]);
        let points = m["extrapolation"].as_array().unwrap();
        assert_eq!(points.len(), 3, "16, 32, 64");
        for p in points {
            // [length, accuracy, its standard error over the sequences]
            let [_, acc, se] = [0, 1, 2].map(|i| p[i].as_f64().unwrap());
            assert!((0.0..=1.0).contains(&acc) && (0.0..=0.5).contains(&se), "{p}");
        }
    }
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("mamba") && stderr.contains("held-out accuracy"), "{stderr}");
    // The views on a typed sequence: its answers, and Δ_t over each of its positions.
    let typed = "0 3 0 0 5 0 1 1";
    let o = gradscope(&[
        "run",
        spec.to_str().unwrap(),
        "--quiet",
        "--analysis",
        analysis.to_str().unwrap(),
        "--example",
        typed,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&analysis).unwrap()).unwrap();
    assert_eq!(a["example"]["tokens"], serde_json::json!([0, 3, 0, 0, 5, 0, 1, 1]));
    assert_eq!(a["example"]["answers"], serde_json::json!([3, 5]));
    assert_eq!(a["len"], 8);
    for m in a["models"].as_array().unwrap() {
        assert_eq!(m["prediction"].as_array().unwrap().len(), 2, "{}", m["name"]);
        let delta = &m["delta"];
        match m["mixer"].as_str().unwrap() {
            "mamba" => assert_eq!(delta.as_array().unwrap().len(), 8),
            _ => assert!(delta.is_null(), "S4D has no Δ_t"),
        }
    }
    // A typed sequence that breaks the task's layout is refused before any training.
    let never = dir.join("never.jsonl");
    let o = gradscope(&[
        "run",
        spec.to_str().unwrap(),
        "--out",
        never.to_str().unwrap(),
        "--analysis",
        analysis.to_str().unwrap(),
        "--example",
        "0 3 0 1 1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("--example") && stderr.contains("1 data tokens"), "{stderr}");
    assert!(!never.exists(), "refused before the run started");
    // grokking-only options are refused for a scans run.
    let o = gradscope(&["run", spec.to_str().unwrap(), "--stop-after-grok", "5"]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_inspect_ssm_and_init_write_the_scans_numbers() {
    let o = gradscope(&["inspect", "ssm", "selective-copying", "--len", "32"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dump: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let shape = |v: &serde_json::Value| -> Vec<usize> {
        let mut shape = Vec::new();
        let mut v = v;
        while let Some(a) = v.as_array() {
            shape.push(a.len());
            v = &a[0];
        }
        shape
    };
    let scan = &dump["scan"];
    assert_eq!(shape(&scan["u"]), vec![2, 4, 32]);
    assert_eq!(shape(&scan["A"]), vec![4, 16]);
    assert_eq!(shape(&scan["B"]), vec![2, 16, 32]);
    assert_eq!(scan["delta_softplus"], true);
    for m in ["sequential", "parallel", "chunked", "fused"] {
        assert_eq!(shape(&scan[format!("out_{m}")]), vec![2, 4, 32], "{m}");
    }
    let s4d = &dump["s4d"];
    assert_eq!(shape(&s4d["kernel"]), vec![4, 32]);
    assert_eq!(shape(&s4d["A_re"])[0], 4);
    assert_eq!(s4d["discretization"], "zoh");
    assert!(dump["spec"]["scans"].is_object());
    // A grokking spec is refused with a pointer to `inspect init`.
    let o = gradscope(&["inspect", "ssm", "doshi-quick-grok"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("inspect init"));

    // `inspect init` of a scans spec: each model's weights by name and the first batch, the
    // input of scripts/reference/scans_net_torch.py (its values: `scans_reference.rs`).
    let o = gradscope(&["inspect", "init", "selective-copying"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dump: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let models = dump["models"].as_array().expect("models");
    let mixers: Vec<&str> = models.iter().map(|m| m["mixer"].as_str().unwrap()).collect();
    assert_eq!(mixers, ["gated_s4d", "mamba", "s4d_no_gate"]);
    // The preset's plain S4D reads out by a linear map d → d, not s4d.py's d → 2d GLU.
    let readout = models[2]["params"].as_array().unwrap();
    let out = readout.iter().find(|p| p["name"] == "layers.0.mixer.out.weight").expect("out");
    assert_eq!(out["shape"], serde_json::json!([64, 64]));
    let mamba = models[1]["params"].as_array().unwrap();
    let a_log = mamba.iter().find(|p| p["name"] == "layers.0.mixer.mixer.a_log").expect("A_log");
    // d_inner = expand × d_model = 2 × 64 (the preset's models are the paper's width), N = 16.
    assert_eq!(a_log["shape"], serde_json::json!([128, 16]));
    assert_eq!(
        shape(&dump["batch"]["tokens"]),
        vec![16, 64],
        "the preset's batch of 16 over L = 64"
    );
    assert_eq!(dump["step"], 0);
    // A gradient-flow spec is refused with a pointer to `inspect gradients`.
    let o = gradscope(&["inspect", "init", "norm-placement"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("inspect gradients"));
}

#[test]
fn cli_bench_scans_prints_the_race_table() {
    let o = gradscope(&["bench", "scans", "--lengths", "16,64", "--cap-seconds", "5"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for row in [
        "sequential scan",
        "parallel scan",
        "chunked scan",
        "fused scan",
        "S4D convolution",
        "sequential / parallel",
    ] {
        assert!(out.contains(row), "`{row}` in:\n{out}");
    }
    assert!(out.contains("L=16") && out.contains("L=64") && out.contains("CPU (Flex)"), "{out}");
    let o = gradscope(&["bench", "scans", "--lengths", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A gated S4D (S4D in Mamba's block) discretizes as its spec says: the LTI layer inside the
/// block carries the spec's discretization, and ZOH and bilinear give different outputs from the
/// same weights (once, the block hard-coded ZOH and ignored the field).
#[test]
fn a_gated_s4d_follows_the_specs_discretization() {
    use burn::tensor::{Int, Tensor, TensorData};
    use gradscope::labs::scans::experiment::net_config;
    use gradscope::labs::scans::spec::Discretization;
    use gradscope::labs::scans::ssm::mamba::Mixer;
    use gradscope::labs::scans::ssm::net::LayerMixer;

    let device = backend::cpu().device;
    let task = MemoryTask { kind: TaskKind::SelectiveCopying, len: 16, vocab: 4, data_tokens: 2 };
    let tokens: Vec<i64> = (0..16).map(|i| (i * 5 % 6) as i64).collect(); // vocab 4 + noise + answer slot
    let output = |discretization: Discretization| {
        let model = ScanModelSpec {
            mixer: MixerKind::GatedS4d,
            discretization,
            ..ScanModelSpec::default()
        };
        let net = net_config(&model, &task, 3).init(&device);
        for layer in &net.layers {
            let LayerMixer::Mamba(block) = &layer.mixer else { panic!("a gated block") };
            let Mixer::Lti(s4d) = &block.mixer else { panic!("an LTI mixer") };
            assert_eq!(s4d.discretization, discretization);
        }
        let x = Tensor::<2, Int>::from_data(TensorData::new(tokens.clone(), [1, 16]), &device);
        net.forward(x).into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    };
    let (zoh, bilinear) = (output(Discretization::Zoh), output(Discretization::Bilinear));
    let diff = zoh.iter().zip(&bilinear).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff > 1e-4, "ZOH and bilinear give the same logits (largest difference {diff})");
}

/// Weight decay spares what the sources spare: one AdamW step (lr 0.1, weight decay 0.5) on
/// zero gradients leaves A_log and D of Mamba (mamba_simple.py's `_no_weight_decay`) and A and
/// log Δ of S4D, alone or in a gated block (state-spaces/s4 registers them with weight decay 0),
/// exactly as they were, and shrinks every other weight by 1 − lr·wd = 0.95 (once, decay
/// reached them all). The lists are written out here by field name, not taken from the model.
#[test]
fn weight_decay_spares_the_state_space_parameters_as_the_sources_do() {
    use burn::module::Param;
    use burn::optim::GradientsParams;
    use burn::tensor::{Int, Tensor, TensorData};
    use gradscope::labs::scans::experiment::{net_config, optimizer_for};
    use gradscope::labs::scans::ssm::mamba::Mixer;
    use gradscope::labs::scans::ssm::net::{LayerMixer, SsmNet};
    use gradscope::labs::scans::ssm::s4d::S4d;
    use gradscope::spec::{OptimizerKind, OptimizerSpec};

    fn vals<const D: usize>(p: &Param<Tensor<D>>) -> Vec<f32> {
        p.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }
    /// (name, before, after) of every parameter the test looks at, and whether it must decay.
    type Seen = Vec<(String, Vec<f32>, Vec<f32>, bool)>;
    fn s4d_params(name: &str, before: &S4d, after: &S4d, seen: &mut Seen) {
        for (field, b, a, decays) in [
            ("log_a_re", &before.log_a_re, &after.log_a_re, false),
            ("a_im", &before.a_im, &after.a_im, false),
            ("c_re", &before.c_re, &after.c_re, true),
            ("c_im", &before.c_im, &after.c_im, true),
        ] {
            seen.push((format!("{name}.{field}"), vals(b), vals(a), decays));
        }
        seen.push((format!("{name}.log_dt"), vals(&before.log_dt), vals(&after.log_dt), false));
        seen.push((format!("{name}.d"), vals(&before.d), vals(&after.d), true));
    }

    let device = backend::cpu().device.autodiff();
    let task = MemoryTask { kind: TaskKind::SelectiveCopying, len: 16, vocab: 4, data_tokens: 2 };
    let tokens: Vec<i64> = (0..16).map(|i| (i * 5 % 6) as i64).collect();
    let optimizer = OptimizerSpec {
        kind: OptimizerKind::AdamW,
        lr: 0.1,
        weight_decay: 0.5,
        ..OptimizerSpec::default()
    };
    for mixer in MixerKind::ALL {
        let net: SsmNet = net_config(&ScanModelSpec::with_mixer(mixer), &task, 5).init(&device);
        let x = Tensor::<2, Int>::from_data(TensorData::new(tokens.clone(), [1, 16]), &device);
        let loss = net.forward(x).sum() * 0.0;
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let mut opt = optimizer_for(&optimizer, &net);
        let after = opt.step(optimizer.lr, net.clone(), grads);

        let mut seen: Seen = vec![("embed".into(), vals(&net.embed), vals(&after.embed), true)];
        for (i, (b, a)) in net.layers.iter().zip(&after.layers).enumerate() {
            match (&b.mixer, &a.mixer) {
                (LayerMixer::S4d(b), LayerMixer::S4d(a)) => {
                    s4d_params(&format!("layer {i} s4d"), &b.s4d, &a.s4d, &mut seen)
                }
                (LayerMixer::Mamba(b), LayerMixer::Mamba(a)) => {
                    seen.push((
                        format!("layer {i} in_proj"),
                        vals(&b.in_proj.weight),
                        vals(&a.in_proj.weight),
                        true,
                    ));
                    seen.push((
                        format!("layer {i} conv"),
                        vals(&b.conv_weight),
                        vals(&a.conv_weight),
                        true,
                    ));
                    match (&b.mixer, &a.mixer) {
                        (Mixer::Selective(b), Mixer::Selective(a)) => {
                            seen.push((
                                format!("layer {i} A_log"),
                                vals(&b.a_log),
                                vals(&a.a_log),
                                false,
                            ));
                            seen.push((format!("layer {i} D"), vals(&b.d), vals(&a.d), false));
                            seen.push((
                                format!("layer {i} x_proj"),
                                vals(&b.x_proj.weight),
                                vals(&a.x_proj.weight),
                                true,
                            ));
                        }
                        (Mixer::Lti(b), Mixer::Lti(a)) => {
                            s4d_params(&format!("layer {i} gated s4d"), b, a, &mut seen)
                        }
                        _ => panic!("the mixer changed kind"),
                    }
                }
                _ => panic!("the layer changed kind"),
            }
        }
        for (name, before, after, decays) in seen {
            assert_eq!(before.len(), after.len(), "{mixer:?} {name}: shape");
            for (b, a) in before.iter().zip(&after) {
                let want = if decays { b * 0.95 } else { *b };
                assert!(
                    (a - want).abs() <= 1e-6 * b.abs().max(1.0),
                    "{mixer:?} {name}: {b} became {a}, want {want} (decays: {decays})"
                );
            }
        }
    }
}

/// The memory-decay view is the exact Frobenius norm ‖∂y_T/∂u_t‖_F of the last position's
/// logits with respect to each embedding: against central differences of the logits over every
/// coordinate of every embedding (2·L·d forward passes, step 1e-3: the embeddings are N(0, 0.02²)), for an S4D and a Mamba
/// model, within 1% (plus 1e-4 of the largest norm, for the far positions that have all but
/// forgotten). The single random projection it once was is 0.6–1.4× off and fails this.
#[test]
fn memory_decay_is_the_exact_jacobian_norm() {
    use burn::tensor::{Int, Tensor, TensorData};
    use gradscope::labs::scans::experiment::{memory_decay, net_config};

    let device = backend::cpu().device.autodiff();
    let task = MemoryTask { kind: TaskKind::SelectiveCopying, len: 8, vocab: 3, data_tokens: 2 };
    let tokens: Vec<i64> = vec![3, 0, 3, 3, 2, 3, 4, 4]; // noise, data, …, answer slots
    let (len, h) = (tokens.len(), 1e-3f32);
    for mixer in [MixerKind::S4d, MixerKind::Mamba] {
        let model =
            ScanModelSpec { mixer, layers: 2, d_model: 6, d_state: 4, ..ScanModelSpec::default() };
        let net = net_config(&model, &task, 11).init(&device);
        let x = Tensor::<2, Int>::from_data(TensorData::new(tokens.clone(), [1, len]), &device);
        let got: Vec<f32> =
            memory_decay(&net, x.clone()).unwrap().into_data().try_to_vec::<f32>().unwrap();
        let embedded = net.embed(x).detach(); // [1, L, d]
        let d = embedded.dims()[2];
        let base: Vec<f32> = embedded.into_data().try_to_vec::<f32>().unwrap();
        let last_logits = |e: &[f32]| -> Vec<f32> {
            let t = Tensor::<3>::from_data(TensorData::new(e.to_vec(), [1, len, d]), &device);
            net.forward_embedded(t).narrow(1, len - 1, 1).into_data().try_to_vec::<f32>().unwrap()
        };
        let want: Vec<f64> = (0..len)
            .map(|t| {
                let mut squares = 0f64;
                for j in 0..d {
                    let (mut up, mut down) = (base.clone(), base.clone());
                    up[t * d + j] += h;
                    down[t * d + j] -= h;
                    for (a, b) in last_logits(&up).iter().zip(last_logits(&down)) {
                        squares += (((a - b) / (2.0 * h)) as f64).powi(2);
                    }
                }
                squares.sqrt()
            })
            .collect();
        let largest = want.iter().cloned().fold(0f64, f64::max);
        assert_eq!(got.len(), len);
        for t in 0..len {
            let (g, w) = (got[len - 1 - t] as f64, want[t]); // got is indexed by ℓ = T − t
            assert!(
                (g - w).abs() <= 0.01 * w + 1e-4 * largest,
                "{mixer:?}, t = {t}: {g} vs finite differences {w}"
            );
        }
    }
}

/// The extrapolation curve's error bar: the mean of per-sequence accuracies and its standard
/// error s/√n with the sample standard deviation, against values worked by hand.
#[test]
fn extrapolation_points_carry_the_standard_error_over_sequences() {
    use gradscope::labs::scans::experiment::mean_and_stderr;
    // mean 0.75; s² = (3·0.25² + 0.75²)/3 = 0.25; s/√4 = 0.25.
    assert_eq!(mean_and_stderr(&[1.0, 0.0, 1.0, 1.0]), [0.75, 0.25]);
    // All alike: no spread; one sequence: no estimate of it (0).
    assert_eq!(mean_and_stderr(&[0.5; 16]), [0.5, 0.0]);
    assert_eq!(mean_and_stderr(&[0.25]), [0.25, 0.0]);
}

/// The model's init follows mamba_ssm's `_init_weights`: embeddings N(0, 0.02²), and each
/// block's out_proj nn.Linear's U(±1/√d_inner) divided by √n_layer — read from the weights of a
/// 4-layer Mamba (sample standard deviation within 10%, the largest |w| within the bound and
/// within 5% of it over 2048 draws).
#[test]
fn the_scans_model_is_initialised_as_mamba_ssm_does() {
    use gradscope::labs::scans::experiment::net_config;
    use gradscope::labs::scans::ssm::net::LayerMixer;

    let device = backend::cpu().device;
    let task = MemoryTask { kind: TaskKind::SelectiveCopying, len: 16, vocab: 8, data_tokens: 2 };
    let model = ScanModelSpec {
        mixer: MixerKind::Mamba,
        layers: 4,
        d_model: 32,
        expand: 2,
        ..ScanModelSpec::default()
    };
    let net = net_config(&model, &task, 1).init(&device);
    let embed: Vec<f32> = net.embed.val().into_data().try_to_vec::<f32>().unwrap();
    let n = embed.len() as f64;
    let mean = embed.iter().map(|&x| x as f64).sum::<f64>() / n;
    let std = (embed.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!((std - 0.02).abs() < 0.002, "embedding std {std}, want 0.02");
    let bound = 1.0 / (64f64).sqrt() / (4f64).sqrt(); // d_inner = 2 × 32; 4 layers
    for layer in &net.layers {
        let LayerMixer::Mamba(block) = &layer.mixer else { panic!("a Mamba block") };
        let w: Vec<f32> = block.out_proj.weight.val().into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(w.len(), 64 * 32);
        let largest = w.iter().map(|x| x.abs() as f64).fold(0.0, f64::max);
        assert!(
            largest <= bound && largest >= 0.95 * bound,
            "out_proj max |w| {largest}, bound {bound}"
        );
    }
}
