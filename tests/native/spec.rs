//! The spec: validation messages, JSON and URL-hash round trips, and the CLI's handling of bad
//! input (exit code 2, message naming the field).
#![cfg(not(target_arch = "wasm32"))]

use gradscope::labs::grokking::{Activation, GrokkingModel, GrokkingSpec, LossKind, ModOp};
use gradscope::labs::{ExperimentSpec, presets};
use gradscope::spec::{OptimizerKind, url_hash};

fn grokking(f: impl FnOnce(&mut GrokkingSpec)) -> ExperimentSpec {
    let mut s = GrokkingSpec::default();
    f(&mut s);
    ExperimentSpec::Grokking(s)
}

fn custom() -> ExperimentSpec {
    grokking(|s| {
        s.seed = 1234567890123;
        s.task.op = ModOp::Div;
        s.task.p = 113;
        s.task.train_frac = 0.3;
        s.task.label_noise = 0.25;
        let GrokkingModel::Mlp(m) = &mut s.model else { unreachable!() };
        m.width = 200;
        m.depth = 2;
        m.activation = Activation::Relu;
        m.bias = true;
        m.init_scale = 2.5;
        s.loss.kind = LossKind::CrossEntropy;
        s.optimizer.kind = OptimizerKind::Sgd;
        s.optimizer.lr = 3e-4;
        s.optimizer.eps = 1e-25;
        s.optimizer.momentum = 0.9;
        s.training.steps = 12345;
        s.training.batch_size = 512;
        s.training.eval_every = 7;
    })
}

#[test]
fn default_spec_is_the_doshi_preset_and_valid() {
    let spec = ExperimentSpec::default();
    spec.validate().unwrap();
    let ExperimentSpec::Grokking(s) = &spec else { panic!("a grokking spec") };
    assert_eq!((s.task.op.clone(), s.task.p, s.task.train_frac), (ModOp::Add, 97, 0.5));
    assert_eq!(s.loss.kind, LossKind::Mse);
    assert_eq!((s.optimizer.lr, s.optimizer.weight_decay), (1e-2, 5.0));
    assert_eq!((s.optimizer.beta1, s.optimizer.beta2), (0.9, 0.98));
    let GrokkingModel::Mlp(m) = &s.model else { panic!("the default is an MLP") };
    assert_eq!((m.width, m.activation, m.bias), (500, Activation::Quadratic, false));
    assert_eq!(presets::default_preset().name, "doshi-quick-grok");
}

#[test]
fn json_round_trips() {
    for spec in [ExperimentSpec::default(), custom()] {
        let back = ExperimentSpec::from_json(&spec.to_json_pretty()).unwrap();
        assert_eq!(back, spec);
        assert_eq!(ExperimentSpec::from_json(&spec.to_json()).unwrap(), spec);
    }
}

#[test]
fn url_hash_round_trips_and_is_readable() {
    for spec in [ExperimentSpec::default(), custom()] {
        let hash = url_hash::encode(&spec);
        assert_eq!(ExperimentSpec::from_hash(&hash).unwrap(), spec, "hash {hash}");
        assert_eq!(ExperimentSpec::from_hash(&format!("#{hash}")).unwrap(), spec);
    }
    let hash = url_hash::encode(&custom());
    assert!(hash.contains("grokking.task.p=113"), "{hash}");
    assert!(hash.contains("grokking.task.op=div"), "{hash}");
    assert!(hash.contains("grokking.seed=1234567890123"), "{hash}");
}

#[test]
fn partial_specs_take_defaults() {
    let spec = ExperimentSpec::from_json(r#"{"grokking":{"task":{"p":113}}}"#).unwrap();
    let ExperimentSpec::Grokking(s) = &spec else { panic!("a grokking spec") };
    assert_eq!(s.task.p, 113);
    assert_eq!(s.task.train_frac, 0.5);
    let spec =
        ExperimentSpec::from_hash("#grokking.optimizer.lr=0.001&grokking.task.op=mul").unwrap();
    let ExperimentSpec::Grokking(s) = &spec else { panic!("a grokking spec") };
    assert_eq!((s.optimizer.lr, s.task.op.clone(), s.task.p), (1e-3, ModOp::Mul, 97));
}

/// Asserts `json` is refused with an error naming `field` and containing every `words`.
fn refused(json: &str, field: &str, words: &[&str]) {
    let err = ExperimentSpec::from_json(json).expect_err(json);
    assert_eq!(err.field, field, "{json}: {err}");
    for w in words {
        assert!(err.message.contains(w), "{json}: `{err}` lacks `{w}`");
    }
}

#[test]
fn out_of_range_fields_are_refused_with_field_and_range() {
    refused(r#"{"grokking":{"task":{"p":100}}}"#, "grokking.task.p", &["prime", "3..=257", "100"]);
    refused(r#"{"grokking":{"task":{"p":2}}}"#, "grokking.task.p", &["prime", "3..=257"]);
    refused(r#"{"grokking":{"task":{"p":263}}}"#, "grokking.task.p", &["3..=257", "263"]);
    refused(r#"{"grokking":{"task":{"train_frac":0}}}"#, "grokking.task.train_frac", &["(0, 1)"]);
    refused(r#"{"grokking":{"task":{"train_frac":1}}}"#, "grokking.task.train_frac", &["(0, 1)"]);
    refused(r#"{"grokking":{"task":{"train_frac":1.5}}}"#, "grokking.task.train_frac", &["1.5"]);
    refused(r#"{"grokking":{"task":{"label_noise":1}}}"#, "grokking.task.label_noise", &["[0, 1)"]);
    refused(
        r#"{"grokking":{"optimizer":{"lr":-0.1}}}"#,
        "grokking.optimizer.lr",
        &["(0, 1000]", "-0.1"],
    );
    refused(r#"{"grokking":{"optimizer":{"lr":0}}}"#, "grokking.optimizer.lr", &["(0, 1000]"]);
    refused(
        r#"{"grokking":{"optimizer":{"grad_clip":-1}}}"#,
        "grokking.optimizer.grad_clip",
        &["0 = off"],
    );
    refused(
        r#"{"grokking":{"loss":{"output_scale":0}}}"#,
        "grokking.loss.output_scale",
        &["(0, 10000]"],
    );
    refused(
        r#"{"grokking":{"model":{"transformer":{"d_model":128,"heads":5}}}}"#,
        "grokking.model.transformer.heads",
        &["must divide d_model = 128"],
    );
    refused(
        r#"{"grokking":{"task":{"op":"sub","pairs":"unordered"}}}"#,
        "grokking.task.pairs",
        &["commutative"],
    );
    refused(
        r#"{"grokking":{"model":{"mlp":{"input":{"embedding":{"dim":0}}}}}}"#,
        "grokking.model.mlp.input.embedding.dim",
        &["1..=4096"],
    );
    refused(
        r#"{"grokking":{"optimizer":{"weight_decay":-1}}}"#,
        "grokking.optimizer.weight_decay",
        &["[0, 100]"],
    );
    refused(r#"{"grokking":{"optimizer":{"beta2":1.0}}}"#, "grokking.optimizer.beta2", &["[0, 1)"]);
    refused(
        r#"{"grokking":{"model":{"mlp":{"width":0}}}}"#,
        "grokking.model.mlp.width",
        &["1..=4096"],
    );
    refused(
        r#"{"grokking":{"model":{"mlp":{"depth":9}}}}"#,
        "grokking.model.mlp.depth",
        &["1..=4"],
    );
    refused(
        r#"{"grokking":{"training":{"steps":0}}}"#,
        "grokking.training.steps",
        &["1..=10000000"],
    );
    refused(
        r#"{"grokking":{"training":{"batch_size":100000}}}"#,
        "grokking.training.batch_size",
        &["4704"],
    );
    // p = 3, frac 0.1: ⌊0.9⌋ = 0 training pairs.
    refused(
        r#"{"grokking":{"task":{"p":3,"train_frac":0.1}}}"#,
        "grokking.task.train_frac",
        &["0 of 9"],
    );
}

#[test]
fn unknown_names_and_malformed_input_are_refused() {
    refused(
        r#"{"grokking":{"task":{"op":"pow"}}}"#,
        "grokking.task.op",
        &["unknown variant `pow`", "add"],
    );
    refused(
        r#"{"grokking":{"task":{"q":3}}}"#,
        "grokking.task.q",
        &["unknown field `q`", "train_frac"],
    );
    refused(r#"{"grokking":{"task":{"p":"ninety"}}}"#, "grokking.task.p", &["invalid type"]);
    refused(r#"{"physics":{}}"#, "(spec)", &["unknown variant `physics`", "grokking"]);
    assert!(ExperimentSpec::from_json(r#"{"grokking":{"#).is_err());
    assert!(ExperimentSpec::from_json("").is_err());

    let hash_err = |h: &str| ExperimentSpec::from_hash(h).expect_err(h);
    assert_eq!(hash_err("#grokking.task.p=100").field, "grokking.task.p");
    assert_eq!(hash_err("#grokking.task.op=pow").field, "grokking.task.op");
    assert_eq!(hash_err("#grokking.optimizer.lr=nan").field, "grokking.optimizer.lr");
    assert_eq!(hash_err("#garbage").field, "(url hash)");
    assert_eq!(hash_err("#").field, "(url hash)");
    assert_eq!(hash_err("#grokking..p=3").field, "(url hash)");
    assert_eq!(hash_err("#grokking.task=1&grokking.task.p=3").field, "grokking.task");
    assert_eq!(hash_err("#grokking.seed=1&grokking.seed=2").field, "grokking.seed");
}

mod cli {
    use std::process::Command;

    use gradscope::labs::{ExperimentSpec, presets};

    fn gradscope(args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_gradscope")).args(args).output().unwrap()
    }

    #[test]
    fn invalid_spec_file_exits_2_naming_the_field() {
        let dir = std::env::temp_dir().join(format!("gradscope-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.json");
        std::fs::write(&path, r#"{"grokking":{"task":{"p":100}}}"#).unwrap();
        let out = gradscope(&["run", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("grokking.task.p") && err.contains("prime"), "{err}");

        let out = gradscope(&["run", "no-such-preset"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("doshi-quick-grok"));
    }

    /// The page's "Run natively" line: `gradscope run '#<hash>'` (or a whole link) trains that
    /// spec, view options (`controls=`, `*_hide`) ignored; a bad hash is refused by field.
    #[test]
    fn run_takes_a_link_or_its_hash() {
        let dir = std::env::temp_dir().join(format!("gradscope-cli-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out_path = dir.join("m.jsonl");
        let link = "http://127.0.0.1:8080/#grokking.task.p=23&grokking.model.mlp.width=16\
                    &grokking.seed=18446744073709551557&grokking.training.steps=4&grokking.training.eval_every=2\
                    &controls=train,lr&lr_hide=true&optimizer.weight_decay_hide=true&views=charts";
        let out = gradscope(&["run", link, "--out", out_path.to_str().unwrap(), "--quiet"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&out_path).unwrap();
        let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(header["spec"]["grokking"]["task"]["p"], 23);
        // Above 2^53 the seed is written as a string, exactly.
        assert_eq!(header["spec"]["grokking"]["seed"], "18446744073709551557");
        assert_eq!(text.lines().count(), 1 + 3, "header + evaluations at steps 0, 2, 4");

        let out = gradscope(&["run", "#grokking.task.p=100"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("grokking.task.p"));

        // `report` reads the file back (the page's JSON export has the same format).
        let out = gradscope(&["report", out_path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (report["lab"].as_str(), report["records"].as_u64(), report["last_step"].as_u64()),
            (Some("grokking"), Some(3), Some(4))
        );
        assert!(report["report"]["verdict"].is_string(), "{report}");
        // A broken file is refused by line and field, exit code 2.
        let broken = dir.join("broken.jsonl");
        std::fs::write(
            &broken,
            format!(
                "{}\n{{\"step\": 1, \"train_loss\": \"high\"}}\n",
                text.lines().next().unwrap()
            ),
        )
        .unwrap();
        let out = gradscope(&["report", broken.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("line 2, `train_loss`"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn presets_lists_the_default_preset() {
        let out = gradscope(&["presets"]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("doshi-quick-grok"));
    }

    /// `--stop-after-grok N` ends the run N steps after test accuracy first reaches 0.99
    /// (the default preset gets there near step 41 of its 60-step budget here).
    #[test]
    fn run_stops_a_given_number_of_steps_after_grokking() {
        let out = gradscope(&["run", "--steps", "60", "--stop-after-grok", "2", "--quiet"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let grokked = records
            .iter()
            .find(|r| r["test_acc"].as_f64().unwrap() >= 0.99)
            .map(|r| r["step"].as_u64().unwrap())
            .expect("the default preset groks within 60 steps");
        assert!(grokked < 58, "groks at {grokked}, too late to see the stop");
        assert_eq!(records.last().unwrap()["step"].as_u64().unwrap(), grokked + 2);
    }

    /// `inspect init` writes the spec, every parameter by name with its shape and row-major
    /// values, and the split: what scripts/reference/transformer_torch.py starts from.
    #[test]
    fn inspect_init_writes_named_parameters_and_the_split() {
        let out = gradscope(&["inspect", "init", "nanda-1l-transformer"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let dump: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let spec = ExperimentSpec::from_value(dump["spec"].clone()).unwrap();
        assert_eq!(spec, presets::find("nanda-1l-transformer").unwrap().spec);
        assert_eq!(dump["step"], 0);
        let params = dump["params"].as_array().unwrap();
        let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names[..3], ["embed", "pos_embed", "blocks.0.w_q"]);
        assert_eq!(*names.last().unwrap(), "unembed");
        for p in params {
            let numel: u64 =
                p["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).product();
            assert_eq!(p["values"].as_array().unwrap().len() as u64, numel, "{}", p["name"]);
        }
        assert_eq!(params[0]["shape"], serde_json::json!([114, 128]));
        // 30% of 113² pairs for training; a, b and the label of each.
        for (split, n) in [("train", 3830), ("test", 12769 - 3830)] {
            for key in ["a", "b", "labels"] {
                assert_eq!(dump[split][key].as_array().unwrap().len(), n, "{split}.{key}");
            }
        }
        let (a, b, y) =
            (&dump["train"]["a"][0], &dump["train"]["b"][0], &dump["train"]["labels"][0]);
        assert_eq!((a.as_u64().unwrap() + b.as_u64().unwrap()) % 113, y.as_u64().unwrap());
    }

    #[test]
    fn run_writes_one_json_object_per_evaluation() {
        let dir = std::env::temp_dir().join(format!("gradscope-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out_path = dir.join("metrics.jsonl");
        let out = gradscope(&["run", "--steps", "3", "--out", out_path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&out_path).unwrap();
        let mut lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        // A header line first (format version 2): which lab, and the spec that ran.
        let header = lines.remove(0);
        assert_eq!(header["format"], "gradscope-metrics");
        assert_eq!(header["version"], 2);
        assert_eq!(header["lab"], "grokking");
        let ran = ExperimentSpec::from_value(header["spec"].clone()).unwrap();
        let ExperimentSpec::Grokking(mut want) = presets::default_preset().spec else {
            panic!("a grokking spec")
        };
        want.training.steps = 3;
        assert_eq!(ran, ExperimentSpec::Grokking(want));
        assert_eq!(lines.len(), 4, "{text}"); // steps 0, 1, 2, 3
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["step"], i as u64);
            for key in
                ["train_loss", "train_acc", "test_loss", "test_acc", "weight_norm", "wall_ms"]
            {
                assert!(line[key].as_f64().unwrap().is_finite(), "{key} in {line}");
            }
        }
    }
}

/// Every preset — transformers, embeddings, StableMax in f64, ⊥Grad — is a valid spec and
/// survives both link forms exactly.
#[test]
fn every_preset_round_trips_through_json_and_the_url_hash() {
    for p in presets::all() {
        p.spec.validate().unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_eq!(ExperimentSpec::from_json(&p.spec.to_json()).unwrap(), p.spec, "{}", p.name);
        let hash = url_hash::encode(&p.spec);
        assert_eq!(ExperimentSpec::from_hash(&hash).unwrap(), p.spec, "{}: {hash}", p.name);
    }
    let names: Vec<_> = presets::all().iter().map(|p| p.name).collect();
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(names.len(), unique.len(), "preset names are unique: {names:?}");
    assert!(
        url_hash::encode(&presets::find("nanda-1l-transformer").unwrap().spec)
            .contains("grokking.model.transformer.d_model=128")
    );
    assert!(
        url_hash::encode(&presets::find("pair-tiny-mlp").unwrap().spec)
            .contains("grokking.model.mlp.input.embedding.dim=500")
    );
}

// ---- Seeds as JSON (spec::seed) ----

use gradscope::spec::seed::MAX_SAFE_INTEGER;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct S {
    #[serde(with = "gradscope::spec::seed")]
    seed: u64,
}

#[test]
fn large_seeds_are_strings_and_every_seed_round_trips() {
    for seed in [0, 42, MAX_SAFE_INTEGER, MAX_SAFE_INTEGER + 2, u64::MAX] {
        let json = serde_json::to_string(&S { seed }).unwrap();
        assert_eq!(
            json.contains('"') && json.matches('"').count() == 4,
            seed > MAX_SAFE_INTEGER,
            "{json}"
        );
        assert_eq!(serde_json::from_str::<S>(&json).unwrap().seed, seed);
    }
    assert_eq!(serde_json::from_str::<S>(r#"{"seed":"7"}"#).unwrap().seed, 7);
    assert_eq!(serde_json::from_str::<S>(r#"{"seed":7.0}"#).unwrap().seed, 7);
    for bad in [
        r#"{"seed":-1}"#,
        r#"{"seed":2.5}"#,
        r#"{"seed":1e300}"#,
        r#"{"seed":"x"}"#,
        r#"{"seed":true}"#,
    ] {
        assert!(serde_json::from_str::<S>(bad).is_err(), "{bad}");
    }
}
