//! Checks of the grokking transformer against references that share no code with it, run on
//! any device: natively on the CPU (`tests/native/transformer_reference.rs`) and in headless Chromium on
//! WebGPU and the CPU-wasm backend (`tests/web.rs`). Every read is async, as WebGPU requires.
//!
//! Why these exist: the causal mask was once built with burn's `triu_mask`, whose `true` marks
//! the entries *outside* the upper triangle, so every query attended only to later tokens. The
//! fast path and its slow reference shared that mask, so comparing them could not see it. Each
//! check here compares with something computed without the model's code: hand-derived numbers,
//! a float64 loop written out below, or a PyTorch run stored as a fixture.

use burn::module::Param;
use burn::tensor::{Device, Int, Tensor, TensorData};
use gradscope::backend::DeviceLimits;
use gradscope::labs::ExperimentSpec;
use gradscope::labs::TrainingSession;
use gradscope::labs::grokking::models::transformer::{Block, TransformerConfig};

/// PyTorch fixtures (scripts/make-fixtures.sh): a 1-layer model like nanda-1l-transformer and a
/// 2-layer pre-LayerNorm one like power-division, 20 full-batch AdamW steps each, in float64.
pub const FIXTURES: [(&str, &str); 2] = [
    ("nanda-tiny", include_str!("../fixtures/transformer-nanda-tiny.json")),
    ("power-tiny", include_str!("../fixtures/transformer-power-tiny.json")),
];

async fn read<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    let n: usize = t.dims().iter().product();
    let data = t.reshape([n]).into_data_async().await.expect("readback");
    data.try_to_vec().expect("f32 values")
}

fn matrix(values: &[f64], rows: usize, cols: usize, d: &Device) -> Param<Tensor<2>> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Param::from_data(TensorData::new(v, [rows, cols]), d)
}

/// A block with the given attention weights (`[d, d]` row-major, x·W convention) and an MLP
/// that outputs exactly 0 (zero weights and biases), so the block is x + attention(x).
fn attention_block(w: [&[f64]; 4], d_model: usize, dev: &Device) -> Block {
    let zeros = |r: usize, c: usize| matrix(&vec![0.0; r * c], r, c, dev);
    let zeros1 = |n: usize| Param::from_data(TensorData::new(vec![0f32; n], [n]), dev);
    Block {
        w_q: matrix(w[0], d_model, d_model, dev),
        w_k: matrix(w[1], d_model, d_model, dev),
        w_v: matrix(w[2], d_model, d_model, dev),
        w_o: matrix(w[3], d_model, d_model, dev),
        w_in: zeros(d_model, 4),
        b_in: zeros1(4),
        w_out: zeros(4, d_model),
        b_out: zeros1(d_model),
        ln_attn: None,
        ln_mlp: None,
    }
}

/// Multi-head causal attention written out in float64 loops: query i attends to keys 0..=i.
/// `x`: t rows of d; `w`: W_q, W_k, W_v, W_o as `[d, d]` row-major (x·W).
fn attention_f64(x: &[Vec<f64>], w: [&[f64]; 4], heads: usize, causal: bool) -> Vec<Vec<f64>> {
    let (t, d) = (x.len(), x[0].len());
    let dh = d / heads;
    let proj = |m: &[f64]| -> Vec<Vec<f64>> {
        x.iter()
            .map(|row| (0..d).map(|j| (0..d).map(|k| row[k] * m[k * d + j]).sum()).collect())
            .collect()
    };
    let (q, k, v) = (proj(w[0]), proj(w[1]), proj(w[2]));
    let mut z = vec![vec![0.0; d]; t];
    for h in 0..heads {
        let cols = h * dh..(h + 1) * dh;
        for i in 0..t {
            let visible = if causal { i + 1 } else { t };
            let scores: Vec<f64> = (0..visible)
                .map(|j| cols.clone().map(|c| q[i][c] * k[j][c]).sum::<f64>() / (dh as f64).sqrt())
                .collect();
            let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f64 = e.iter().sum();
            for c in cols.clone() {
                z[i][c] = (0..visible).map(|j| e[j] / total * v[j][c]).sum();
            }
        }
    }
    z.iter()
        .map(|row| (0..d).map(|j| (0..d).map(|k| row[k] * w[3][k * d + j]).sum()).collect())
        .collect()
}

fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-12);
    let worst = got.iter().zip(want).map(|(g, w)| (*g as f64 - w).abs()).fold(0f64, f64::max);
    eprintln!("{what}: max |error| {:.2e} of max |want| {scale:.3} (tolerance {tol:.0e})", worst);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (*g as f64 - w).abs() <= tol * scale,
            "{what}: element {i}: got {g}, want {w} (tolerance {tol} × max |want| {scale})"
        );
    }
}

/// 3 tokens, 1 head, d = 2, every weight the identity: numbers derived by hand.
/// x = [[1, 0], [0, 1], [1, 1]], scores x_i·x_j / √2. Query 0 sees only itself → attends
/// [1, 0]. Query 1 sees scores (0, 1/√2) → weight σ(1/√2) on token 1. Query 2 sees
/// (1/√2, 1/√2, 2/√2). The block adds x. An inverted mask would give query 0 the mix of
/// tokens 1 and 2, and query 2 nothing (a uniform average).
pub async fn attention_matches_a_hand_computed_example(dev: &Device) {
    let id = [1.0, 0.0, 0.0, 1.0];
    let block = attention_block([&id, &id, &id, &id], 2, dev);
    let x = Tensor::<3>::from_data(TensorData::new(vec![1f32, 0., 0., 1., 1., 1.], [1, 3, 2]), dev);
    let out = read(block.forward(x, 1, true)).await; // [1, 3, 2]
    let r = 1.0 / 2f64.sqrt();
    let w1 = 1.0 / (1.0 + (-r).exp()); // query 1's weight on token 1
    let (e0, e2) = (r.exp(), (2.0 * r).exp()); // query 2: exp(1/√2) for tokens 0 and 1
    let total = 2.0 * e0 + e2;
    let q2 = [(e0 + e2) / total, (e0 + e2) / total];
    let want = [1.0 + 1.0, 0.0, 0.0 + (1.0 - w1), 1.0 + w1, 1.0 + q2[0], 1.0 + q2[1]];
    assert_close(&out, &want, 1e-6, "hand-computed causal attention");
}

/// Random weights, 2 heads, d = 4, t = 3: the block's attention against [`attention_f64`], causal
/// and not; the fast path (last query only) against the same reference.
pub async fn attention_matches_a_float64_loop(dev: &Device) {
    let (t, d) = (3, 4);
    let val = |i: usize, salt: f64| (i as f64 * 0.7 + salt).sin() * 0.9;
    let w: Vec<Vec<f64>> =
        (0..4).map(|m| (0..d * d).map(|i| val(i, m as f64 + 0.3)).collect()).collect();
    let wr = [&w[0][..], &w[1][..], &w[2][..], &w[3][..]];
    let x: Vec<Vec<f64>> =
        (0..t).map(|i| (0..d).map(|j| val(i * d + j, 5.1) * 2.0).collect()).collect();
    let flat: Vec<f32> = x.iter().flatten().map(|&v| v as f32).collect();
    let block = attention_block(wr, d, dev);
    for causal in [true, false] {
        let xt = Tensor::<3>::from_data(TensorData::new(flat.clone(), [1, t, d]), dev);
        let got = read(block.attention(xt.clone(), 0, 2, causal)).await; // [1, t, d]
        let want: Vec<f64> = attention_f64(&x, wr, 2, causal).into_iter().flatten().collect();
        assert_close(&got, &want, 1e-5, &format!("attention (causal {causal})"));
        let last = read(block.attention(xt, t - 1, 2, causal)).await; // [1, 1, d]
        assert_close(&last, &want[(t - 1) * d..], 1e-5, &format!("last query (causal {causal})"));
    }
}

/// Changing a token changes the block's outputs at its own and later positions only.
pub async fn later_tokens_do_not_change_earlier_outputs(dev: &Device) {
    let (t, d) = (3, 8);
    let val = |i: usize, salt: f64| (i as f64 * 1.3 + salt).cos() * 0.8;
    let w: Vec<Vec<f64>> = (0..4).map(|m| (0..d * d).map(|i| val(i, m as f64)).collect()).collect();
    let block = attention_block([&w[0], &w[1], &w[2], &w[3]], d, dev);
    let base: Vec<f32> = (0..t * d).map(|i| val(i, 9.0) as f32).collect();
    let run = |x: Vec<f32>| {
        let xt = Tensor::<3>::from_data(TensorData::new(x, [1, t, d]), dev);
        read(block.forward(xt, 2, true))
    };
    let before = run(base.clone()).await;
    for changed in 0..t {
        let mut x = base.clone();
        for v in &mut x[changed * d..(changed + 1) * d] {
            *v += 1.5;
        }
        let after = run(x).await;
        for pos in 0..t {
            let diff = (0..d)
                .map(|j| (after[pos * d + j] - before[pos * d + j]).abs())
                .fold(0f32, f32::max);
            if pos < changed {
                assert_eq!(
                    diff, 0.0,
                    "changing token {changed} moved the output at earlier position {pos}"
                );
            } else {
                assert!(
                    diff > 1e-3,
                    "changing token {changed} left position {pos} unchanged ({diff})"
                );
            }
        }
    }
}

/// At initialisation the model tells (a, b) from (b, a): position embeddings reach the readout.
/// (With the inverted mask every logit pair was exactly equal.)
pub async fn logits_distinguish_swapped_operands(dev: &Device) {
    let p = 7;
    for (layers, layer_norm) in [(1, false), (2, true)] {
        let model = TransformerConfig::new(p, p)
            .with_layers(layers)
            .with_layer_norm(layer_norm)
            .with_d_model(16)
            .with_heads(2)
            .with_d_mlp(32)
            .init(dev);
        let pairs: Vec<(i32, i32)> = (0..p as i32)
            .flat_map(|a| (0..p as i32).map(move |b| (a, b)))
            .filter(|(a, b)| a != b)
            .collect();
        let ints =
            |v: Vec<i32>| Tensor::<1, Int>::from_data(TensorData::new(v.clone(), [v.len()]), dev);
        let (a, b): (Vec<i32>, Vec<i32>) = pairs.iter().cloned().unzip();
        let ab = read(model.forward(ints(a.clone()), ints(b.clone()))).await;
        let ba = read(model.forward(ints(b), ints(a))).await;
        let scale = ab.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (i, row) in ab.chunks(p).enumerate() {
            let diff = row
                .iter()
                .zip(&ba[i * p..(i + 1) * p])
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(
                diff > 1e-4 * scale,
                "layers {layers}: logits of {:?} and its swap agree to {diff} (max |logit| {scale})",
                pairs[i]
            );
        }
    }
}

/// The fixture's JSON (see scripts/reference/transformer_torch.py).
#[derive(serde::Deserialize)]
struct Fixture {
    init: serde_json::Value,
    history: Vec<FixtureRecord>,
    logits_start: Vec<f64>,
    logits_end: Vec<f64>,
}

#[derive(serde::Deserialize)]
struct FixtureRecord {
    step: u64,
    train_loss: f64,
    test_loss: f64,
    train_acc: f64,
    test_acc: f64,
}

async fn all_logits(session: &TrainingSession) -> Vec<f32> {
    let e = session.experiment().as_grokking().expect("a grokking experiment");
    let d = &e.dataset();
    let dev = session_device(session);
    let ints = |v: Vec<u32>| {
        let v: Vec<i32> = v.into_iter().map(|x| x as i32).collect();
        Tensor::<1, Int>::from_data(TensorData::new(v.clone(), [v.len()]), &dev)
    };
    let a = ints(d.train.a.iter().chain(&d.test.a).cloned().collect());
    let b = ints(d.train.b.iter().chain(&d.test.b).cloned().collect());
    read(e.model().forward(a, b)).await
}

fn session_device(session: &TrainingSession) -> Device {
    let e = session.experiment().as_grokking().expect("a grokking experiment");
    let gradscope::labs::grokking::models::GrokkingNet::Transformer(t) = e.model() else {
        panic!("a transformer")
    };
    t.embed.val().device()
}

/// Tolerances, float32 here against the fixture's float64 (measured natively: logits 4e-7 at
/// init and 8e-6 after 20 steps, relative to the largest; losses 1.3e-6 relative): logits 1e-5
/// at init and 2e-4 after 20 AdamW steps (Adam divides by √v̂, so rounding in small gradient
/// entries is amplified, more so with another reduction order on a GPU); losses 1e-4 relative;
/// accuracies within one pair whose top two logits are within rounding of each other.
pub async fn training_matches_the_pytorch_fixture(
    name: &str,
    json: &str,
    dev: &Device,
    limits: DeviceLimits,
    steps: usize,
) {
    let fixture: Fixture = serde_json::from_str(json).expect("fixture parses");
    let mut spec = ExperimentSpec::from_value(fixture.init["spec"].clone()).expect("fixture spec");
    let ExperimentSpec::Grokking(s) = &mut spec else { panic!("a grokking spec") };
    s.training.steps = steps as u64;
    let mut session = TrainingSession::new(spec, dev, limits).expect("valid spec");

    // Same starting point: gradscope's init and split are the ones the fixture trained from.
    let e = session.experiment().as_grokking().expect("a grokking experiment");
    let ours = serde_json::to_value(e.weights_and_split().await.expect("dump")).unwrap();
    for key in ["params", "train", "test"] {
        assert_eq!(
            ours[key], fixture.init[key],
            "{name}: gradscope's initial {key} no longer equal the fixture's; if the init or split \
             changed on purpose, regenerate with scripts/make-fixtures.sh"
        );
    }
    assert_close(
        &all_logits(&session).await,
        &fixture.logits_start,
        1e-5,
        &format!("{name}: logits at init"),
    );

    session.run_to_end(|_| {}).await.expect("no divergence");
    let history: Vec<_> = session.history().iter().map(|r| r.to_grokking().unwrap()).collect();
    assert_eq!(history.len(), steps + 1, "{name}: one record per step");
    assert!(
        fixture.history.len() >= history.len(),
        "{name}: the fixture has only {} records",
        fixture.history.len()
    );
    let n_train = fixture.init["train"]["a"].as_array().unwrap().len() as f64;
    let n_test = fixture.init["test"]["a"].as_array().unwrap().len() as f64;
    let mut worst_loss = 0f64;
    for (ours, want) in history.iter().zip(&fixture.history) {
        assert_eq!(ours.step, want.step);
        for (what, o, w) in [
            ("train_loss", ours.train_loss, want.train_loss),
            ("test_loss", ours.test_loss, want.test_loss),
        ] {
            worst_loss = worst_loss.max((o - w).abs() / w.abs());
            assert!(
                (o - w).abs() <= 1e-4 * w.abs(),
                "{name} step {}: {what} {o} vs PyTorch {w}",
                ours.step
            );
        }
        assert!(
            (ours.train_acc - want.train_acc).abs() <= 1.01 / n_train,
            "{name} step {}: train acc",
            ours.step
        );
        assert!(
            (ours.test_acc - want.test_acc).abs() <= 1.01 / n_test,
            "{name} step {}: test acc",
            ours.step
        );
    }
    eprintln!(
        "{name}: losses over {steps} steps: max relative error {worst_loss:.2e} (tolerance 1e-4)"
    );
    if steps + 1 == fixture.history.len() {
        assert_close(
            &all_logits(&session).await,
            &fixture.logits_end,
            2e-4,
            &format!("{name}: logits after {steps} steps"),
        );
    }
}
