//! StableMax, the softmax-collapse metric and the gradient transforms (⊥Grad, clipping, NLM
//! statistics) against float64 references computed here by hand.
#![cfg(not(target_arch = "wasm32"))]

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use gradscope::labs::grokking::{LossKind, Precision};
use gradscope::train::gradients::{GradientTransform, orthogonalize};
use gradscope::train::loss::{loss, per_sample_loss, softmax_collapsed};

fn device() -> Device {
    Device::flex().autodiff()
}

fn t2(v: &[f32], r: usize, c: usize, d: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [r, c]), d)
}

fn vecf(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec().unwrap()
}

/// s(x) in f64, as Prieto et al. define it.
fn s64(x: f64) -> f64 {
    if x >= 0.0 { x + 1.0 } else { 1.0 / (1.0 - x) }
}

fn ds64(x: f64) -> f64 {
    if x >= 0.0 { 1.0 } else { 1.0 / (1.0 - x).powi(2) }
}

/// Mean over rows of −log(s(z_y) / Σ s(z_j)) and its gradient, in f64.
fn stablemax_reference(z: &[f64], rows: usize, cols: usize, labels: &[usize]) -> (f64, Vec<f64>) {
    let mut total = 0.0;
    let mut grad = vec![0.0; z.len()];
    for i in 0..rows {
        let row = &z[i * cols..(i + 1) * cols];
        let sum: f64 = row.iter().map(|&x| s64(x)).sum();
        let y = labels[i];
        total += -(s64(row[y]) / sum).ln();
        // L_i = −log s(z_y) + log Σ s(z_j); ∂/∂z_k = −[k = y]·s'(z_y)/s(z_y) + s'(z_k)/Σs.
        for k in 0..cols {
            let mut g = ds64(row[k]) / sum;
            if k == y {
                g -= ds64(row[y]) / s64(row[y]);
            }
            grad[i * cols + k] = g / rows as f64;
        }
    }
    (total / rows as f64, grad)
}

#[test]
fn stablemax_values_and_gradients_match_a_float64_reference() {
    let (rows, cols) = (4usize, 6usize);
    // Both branches of s, a zero, and large magnitudes.
    let z: Vec<f32> = vec![
        0.0, -1.0, 2.5, -30.0, 100.0, 0.5, //
        -0.25, -0.5, -0.75, -1.0, -2.0, -3.0, //
        7.0, 0.0, -7.0, 1e-3, -1e-3, 3.0, //
        -50.0, 50.0, 0.0, 1.0, -1.0, 2.0,
    ];
    let labels = [4usize, 0, 2, 1];
    let mut onehot = vec![0f32; rows * cols];
    for (i, &y) in labels.iter().enumerate() {
        onehot[i * cols + y] = 1.0;
    }
    let z64: Vec<f64> = z.iter().map(|&v| v as f64).collect();
    let (want_loss, want_grad) = stablemax_reference(&z64, rows, cols, &labels);
    for (precision, tol) in [(Precision::F32, 1e-5f64), (Precision::F64, 1e-9)] {
        let d = device();
        let logits = t2(&z, rows, cols, &d).require_grad();
        let l = loss(LossKind::Stablemax, precision, logits.clone(), t2(&onehot, rows, cols, &d));
        // Read back in f32, so no tolerance below ~1e-7 can hold here: the check that tells
        // the f64 path from the f32 one is `float64_losses_keep_what_float32_rounds_away`.
        let got = l.clone().into_scalar::<f32>() as f64;
        assert!(
            (got - want_loss).abs() <= tol.max(1e-6) * want_loss.abs(),
            "{precision:?}: {got} vs {want_loss}"
        );
        let grad = vecf(logits.grad(&l.backward()).unwrap());
        for (k, (&g, &w)) in grad.iter().zip(&want_grad).enumerate() {
            assert!(
                (g as f64 - w).abs() <= 1e-6 + 1e-5 * w.abs(),
                "{precision:?} grad[{k}]: {g} vs {w}"
            );
        }
    }
}

/// Float64 losses keep what float32 rounds away. Each case's loss is tiny next to its terms, so
/// float32 computes 0 while float64 gets the value (checked against a closed form to 1e-6
/// relative); the float32 result is asserted to differ, so the case can tell the two precisions
/// apart (the f64 path read back in f32 would otherwise pass a loose tolerance unnoticed).
#[test]
fn float64_losses_keep_what_float32_rounds_away() {
    let d = device();
    let cases = [
        // log(1 + e⁻²⁰): softmax cross-entropy of logits [0, −20], label 0.
        (LossKind::CrossEntropy, [0.0f32, -20.0], (-20f64).exp().ln_1p()),
        // log(1 + 1/(1e8 + 1)): StableMax of [1e8, 0], label 0 (s = 1e8 + 1 and 1).
        (LossKind::Stablemax, [1e8, 0.0], (1.0 / (1e8f64 + 1.0)).ln_1p()),
    ];
    for (kind, z, want) in cases {
        let at = |precision| {
            let l = loss(kind, precision, t2(&z, 1, 2, &d), t2(&[1.0, 0.0], 1, 2, &d));
            l.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()[0]
        };
        let (got64, got32) = (at(Precision::F64), at(Precision::F32));
        assert!((got64 - want).abs() <= 1e-6 * want, "{kind:?} in f64: {got64} vs {want}");
        assert!(
            (got32 - want).abs() > 0.5 * want,
            "{kind:?}: f32 gives {got32}, so the case cannot tell f64 from f32"
        );
    }
}

#[test]
fn stablemax_cannot_reach_zero_loss_where_softmax_does() {
    let d = device();
    // A gap of 40: float32 softmax rounds to exactly one-hot (loss 0); StableMax keeps
    // s(−40) = 1/41 of mass off the label, so its loss stays log(1 + 1/41) > 0.
    let logits = t2(&[40.0, 0.0], 1, 2, &d);
    let target = t2(&[1.0, 0.0], 1, 2, &d);
    let ce =
        per_sample_loss(LossKind::CrossEntropy, Precision::F32, logits.clone(), target.clone());
    let sm = per_sample_loss(LossKind::Stablemax, Precision::F32, logits, target);
    assert_eq!(ce.into_scalar::<f32>(), 0.0);
    let sm = sm.into_scalar::<f32>() as f64;
    assert!((sm - (1.0f64 + 1.0 / 41.0).ln()).abs() < 1e-6, "{sm}");
}

#[test]
fn softmax_collapse_trips_at_a_gap_of_20_in_f32_only() {
    let d = device();
    let collapsed = |z: [f32; 2], precision| {
        softmax_collapsed(t2(&z, 1, 2, &d), LossKind::CrossEntropy, precision).into_scalar::<f32>()
    };
    // exp(−20) ≈ 2e−9 < 2⁻²⁴: absorbed in f32, not in f64 (2⁻⁵³ ≈ 1e−16).
    assert_eq!(collapsed([0.0, -20.0], Precision::F32), 1.0);
    assert_eq!(collapsed([0.0, -20.0], Precision::F64), 0.0);
    // exp(−10) ≈ 4.5e−5 survives either way.
    assert_eq!(collapsed([0.0, -10.0], Precision::F32), 0.0);
    assert_eq!(collapsed([0.0, -10.0], Precision::F64), 0.0);
    // f64 collapses too, past ln 2⁵³ ≈ 36.7.
    assert_eq!(collapsed([0.0, -40.0], Precision::F64), 1.0);
    // The fraction over a batch.
    let batch = t2(&[0.0, -20.0, 0.0, -1.0, 5.0, -30.0, 1.0, 1.0], 4, 2, &d);
    assert_eq!(
        softmax_collapsed(batch.clone(), LossKind::CrossEntropy, Precision::F32)
            .mean()
            .into_scalar::<f32>(),
        0.5
    );
    // StableMax's normalizer keeps s(−20) = 1/21 and s(−30) = 1/31: nothing collapses.
    assert_eq!(
        softmax_collapsed(batch, LossKind::Stablemax, Precision::F32).mean().into_scalar::<f32>(),
        0.0
    );
    // It does past a gap of ~2²⁴: s(−1e8) = 1e−8 is absorbed by s(0) = 1.
    assert_eq!(collapsed_stablemax(&d, [0.0, -1e8]), 1.0);
    assert_eq!(collapsed_stablemax(&d, [0.0, -1e3]), 0.0);
}

fn collapsed_stablemax(d: &Device, z: [f32; 2]) -> f32 {
    softmax_collapsed(t2(&z, 1, 2, d), LossKind::Stablemax, Precision::F32).into_scalar::<f32>()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn orthograd_removes_the_weight_direction_and_keeps_the_norm() {
    let d = Device::flex();
    let w: Vec<f32> = (0..12).map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.3).collect();
    // A gradient with a large component along w.
    let g: Vec<f32> =
        w.iter().enumerate().map(|(i, &x)| 2.0 * x + 0.1 * (i as f32 - 6.0)).collect();
    let got = vecf(orthogonalize(t2(&w, 3, 4, &d), t2(&g, 3, 4, &d)));
    // f64 reference of orthograd.py.
    let (w64, g64): (Vec<f64>, Vec<f64>) =
        (w.iter().map(|&x| x as f64).collect(), g.iter().map(|&x| x as f64).collect());
    let proj = dot(&w64, &g64) / (dot(&w64, &w64) + 1e-30);
    let perp: Vec<f64> = g64.iter().zip(&w64).map(|(g, w)| g - proj * w).collect();
    let scale = dot(&g64, &g64).sqrt() / (dot(&perp, &perp).sqrt() + 1e-30);
    for (i, (&x, want)) in got.iter().zip(perp.iter().map(|p| p * scale)).enumerate() {
        assert!((x as f64 - want).abs() < 1e-5, "[{i}] {x} vs {want}");
    }
    let got64: Vec<f64> = got.iter().map(|&x| x as f64).collect();
    let cos = dot(&got64, &w64) / (dot(&got64, &got64) * dot(&w64, &w64)).sqrt();
    assert!(cos.abs() < 1e-5, "⟨w, g̃⟩ ≈ 0: cos {cos}");
    let ratio = dot(&got64, &got64).sqrt() / dot(&g64, &g64).sqrt();
    assert!((ratio - 1.0).abs() < 1e-5, "‖g̃‖ = ‖g‖: ratio {ratio}");
}

/// A linear layer with set weights, its gradient on a set input, and the transforms applied
/// through the module visitor (as the training step does).
#[test]
fn gradient_transform_clips_the_global_norm_and_reports_alignment() {
    let d = device();
    let layer = Linear {
        weight: Param::from_data(TensorData::new(vec![1.0f32, -2.0, 0.5, 3.0], [2, 2]), &d),
        bias: Some(Param::from_data(TensorData::new(vec![0.5f32, -0.5], [2]), &d)),
    };
    let x = t2(&[1.0, 2.0, -1.0, 0.5], 2, 2, &d);
    let loss = layer.forward(x).square().sum();
    let grads = GradientsParams::from_grads(loss.backward(), &layer);
    let read = |g: &GradientsParams| -> Vec<f64> {
        let w: Tensor<2> = g.get(layer.weight.id).unwrap();
        let b: Tensor<1> = g.get(layer.bias.as_ref().unwrap().id).unwrap();
        let mut v: Vec<f64> =
            w.into_data().try_to_vec::<f32>().unwrap().iter().map(|&x| x as f64).collect();
        v.extend(b.into_data().try_to_vec::<f32>().unwrap().iter().map(|&x| x as f64));
        v
    };
    let raw = read(&grads);
    let weights = [1.0, -2.0, 0.5, 3.0, 0.5, -0.5];
    let norm = dot(&raw, &raw).sqrt();
    assert!(norm > 1.0);

    let mut clipped = GradientsParams::from_grads(
        layer.forward(t2(&[1.0, 2.0, -1.0, 0.5], 2, 2, &d)).square().sum().backward(),
        &layer,
    );
    let t = GradientTransform { clip_norm: Some(1.0), orthograd: false, stats: true };
    let stats = t.apply(&layer, &mut clipped).unwrap();
    let s: Vec<f32> = stats.0.into_data().try_to_vec().unwrap();
    // f32 sums of six products: relative to ‖g‖·‖w‖ (Cauchy–Schwarz's bound on ⟨g, w⟩), as tight
    // as the two norms below.
    let wnorm = dot(&weights, &weights).sqrt();
    assert!((s[0] as f64 - dot(&raw, &weights)).abs() < 1e-5 * norm * wnorm, "⟨g, w⟩ {s:?}");
    assert!((s[1] as f64 - norm * norm).abs() < 1e-4 * norm * norm, "‖g‖² {s:?}");
    assert!((s[2] as f64 - dot(&weights, &weights)).abs() < 1e-5, "‖w‖² {s:?}");
    let after = read(&clipped);
    let clipped_norm = dot(&after, &after).sqrt();
    assert!((clipped_norm - 1.0).abs() < 1e-5, "clipped to 1: {clipped_norm}");
    for (a, r) in after.iter().zip(&raw) {
        assert!((a - r / (norm + 1e-6)).abs() < 1e-6, "direction kept");
    }
    assert_eq!(layer.num_params(), 6);
}

/// Every loss per sample, and its batch mean, against float64 formulas written here: MSE as the
/// mean over classes of (z − onehot)², cross-entropy as log Σ exp(z) − z_y, StableMax as
/// log Σ s(z) − log s(z_y); predictions as each row's argmax and accuracy as the share right.
/// Rows with negative, positive and tied logits, labels on different classes, in both
/// precisions (a swapped sign, a sum for a mean or a wrong reduction axis is off by far more
/// than the 1e-5 allowed).
#[test]
fn every_loss_matches_a_float64_formula_per_sample() {
    use burn::tensor::Int;
    use gradscope::train::loss::{accuracy, predictions};

    let d = device();
    let (rows, cols) = (3usize, 4usize);
    let z: Vec<f32> = vec![1.0, -2.0, 0.5, 3.0, -0.5, -0.5, 2.0, 0.0, 4.0, 1.0, -3.0, 1.0];
    let labels = [3usize, 1, 0];
    let onehot: Vec<f32> =
        (0..rows * cols).map(|i| if i % cols == labels[i / cols] { 1.0 } else { 0.0 }).collect();
    let row =
        |i: usize| z[i * cols..(i + 1) * cols].iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let want = |kind: LossKind, i: usize| -> f64 {
        let r = row(i);
        let y = labels[i];
        match kind {
            LossKind::Mse => {
                r.iter()
                    .enumerate()
                    .map(|(k, x)| (x - if k == y { 1.0 } else { 0.0 }).powi(2))
                    .sum::<f64>()
                    / cols as f64
            }
            LossKind::CrossEntropy => r.iter().map(|x| x.exp()).sum::<f64>().ln() - r[y],
            LossKind::Stablemax => r.iter().map(|&x| s64(x)).sum::<f64>().ln() - s64(r[y]).ln(),
        }
    };
    for kind in [LossKind::Mse, LossKind::CrossEntropy, LossKind::Stablemax] {
        for precision in [Precision::F32, Precision::F64] {
            let logits = || t2(&z, rows, cols, &d);
            let targets = || t2(&onehot, rows, cols, &d);
            let per: Vec<f32> = per_sample_loss(kind, precision, logits(), targets())
                .into_data()
                .try_to_vec()
                .unwrap();
            assert_eq!(per.len(), rows);
            for (i, &got) in per.iter().enumerate() {
                let w = want(kind, i);
                assert!(
                    (got as f64 - w).abs() <= 1e-5 * w.abs().max(1.0),
                    "{kind:?} {precision:?} row {i}: {got} vs {w}"
                );
            }
            let mean = (0..rows).map(|i| want(kind, i)).sum::<f64>() / rows as f64;
            let got = loss(kind, precision, logits(), targets()).into_scalar::<f32>() as f64;
            assert!(
                (got - mean).abs() <= 1e-5 * mean.max(1.0),
                "{kind:?} {precision:?} mean: {got} vs {mean}"
            );
        }
    }
    // Argmax per row: 3, 2 (of the three tied at −0.5, −0.5, 2.0, 0.0 the 2.0), 0.
    let predicted: Vec<i64> =
        predictions(t2(&z, rows, cols, &d)).into_data().convert::<i64>().try_to_vec().unwrap();
    assert_eq!(predicted, [3, 2, 0]);
    let label_tensor =
        |l: [i64; 3]| Tensor::<1, Int>::from_data(TensorData::new(l.to_vec(), [3]), &d);
    let acc = |l| accuracy(t2(&z, rows, cols, &d), label_tensor(l)).into_scalar::<f32>();
    assert_eq!(acc([3, 1, 0]), 2.0 / 3.0);
    assert_eq!(acc([3, 2, 0]), 1.0);
    assert_eq!(acc([0, 0, 1]), 0.0);
}
