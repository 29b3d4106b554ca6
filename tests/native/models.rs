//! The MLP and the losses against hand-computed values and float64 references.
#![cfg(not(target_arch = "wasm32"))]

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Int, Tensor, TensorData};
use gradscope::labs::grokking::models::mlp::{Mlp, MlpConfig};
use gradscope::labs::grokking::models::transformer::TransformerConfig;
use gradscope::labs::grokking::{Activation, InitScheme, LossKind, Precision};
use gradscope::nn::params::{param_names, param_sq_norms};
use gradscope::train::loss::{accuracy, loss};

fn device() -> Device {
    Device::flex().autodiff()
}

fn t2(v: &[f32], r: usize, c: usize, d: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [r, c]), d)
}

fn ints(v: &[i32], d: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), d)
}

fn vec2(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec().unwrap()
}

fn assert_close(got: &[f32], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g as f64 - w).abs() <= rtol * w.abs().max(1.0), "{what}[{i}]: {g} vs {w}");
    }
}

/// p = 2, width 2, x², no bias, weights set by hand:
/// W₁ rows (a=0, a=1, b=0, b=1) = [1,2],[3,4],[5,6],[7,8]; W₂ = I.
fn tiny(d: &Device) -> Mlp {
    let p = |v: &[f32], r, c| Param::from_data(TensorData::new(v.to_vec(), [r, c]), d);
    Mlp {
        embed_a: None,
        embed_b: None,
        input_a: p(&[1., 2., 3., 4.], 2, 2),
        input_b: Some(p(&[5., 6., 7., 8.], 2, 2)),
        input_bias: None,
        hidden: vec![],
        output: Linear { weight: p(&[1., 0., 0., 1.], 2, 2), bias: None },
        tied_output: false,
        activation: Activation::Quadratic,
    }
}

#[test]
fn mlp_forward_and_backward_match_a_hand_computed_case() {
    let d = device();
    let model = tiny(&d);
    // (a, b) = (1, 0): pre = W₁[a=1] + W₁[b=0] = [3+5, 4+6] = [8, 10]; h = [64, 100]; z = h.
    let logits = model.forward(ints(&[1], &d), ints(&[0], &d));
    assert_eq!(vec2(logits.clone()), vec![64.0, 100.0]);
    // label (1 + 0) mod 2 = 1 → target [0, 1]; MSE = ((64−0)² + (100−1)²) / 2 = 6948.5.
    let l = loss(LossKind::Mse, Precision::F32, logits, t2(&[0., 1.], 1, 2, &d));
    assert_eq!(l.clone().into_data().try_to_vec::<f32>().unwrap(), vec![6948.5]);

    let grads = l.backward();
    // dL/dz = 2(z − t)/2 = [64, 99]; dL/dW₂[j,k] = h_j · dz_k.
    let g_out = model.output.weight.val().grad(&grads).unwrap();
    assert_eq!(g_out.into_data().try_to_vec::<f32>().unwrap(), vec![4096., 6336., 6400., 9900.]);
    // dL/dh = W₂·dz = [64, 99]; dL/dpre = 2·pre·dL/dh = [1024, 1980] on rows a=1 and b=0 only.
    let g_a = model.input_a.val().grad(&grads).unwrap();
    assert_eq!(g_a.into_data().try_to_vec::<f32>().unwrap(), vec![0., 0., 1024., 1980.]);
    let g_b = model.input_b.as_ref().unwrap().val().grad(&grads).unwrap();
    assert_eq!(g_b.into_data().try_to_vec::<f32>().unwrap(), vec![1024., 1980., 0., 0.]);
}

#[test]
fn row_lookup_forward_equals_the_dense_one_hot_reference() {
    let d = device();
    let p = 11usize;
    for (activation, bias, depth) in [
        (Activation::Quadratic, false, 1),
        (Activation::Relu, true, 2),
        (Activation::Gelu, true, 3),
    ] {
        let model = MlpConfig::new(p, p)
            .with_width(16)
            .with_depth(depth)
            .with_activation(activation)
            .with_bias(bias)
            .with_init(InitScheme::TorchDefault)
            .with_seed(3)
            .init(&d);
        let pairs: Vec<(usize, usize)> = (0..p).flat_map(|a| (0..p).map(move |b| (a, b))).collect();
        let n = pairs.len();
        let mut x = vec![0f32; n * 2 * p];
        for (i, &(a, b)) in pairs.iter().enumerate() {
            x[i * 2 * p + a] = 1.0;
            x[i * 2 * p + p + b] = 1.0;
        }
        let a: Vec<i32> = pairs.iter().map(|&(a, _)| a as i32).collect();
        let b: Vec<i32> = pairs.iter().map(|&(_, b)| b as i32).collect();
        let fast = vec2(model.forward(ints(&a, &d), ints(&b, &d)));
        let dense = vec2(model.forward_one_hot(t2(&x, n, 2 * p, &d)));
        let want: Vec<f64> = dense.iter().map(|&v| v as f64).collect();
        assert_close(&fast, &want, 1e-5, &format!("{activation:?}"));
    }
}

#[test]
fn doshi_init_has_the_papers_scale() {
    let d = device();
    let model = MlpConfig::new(97, 97).with_width(500).init(&d);
    let w: Vec<f32> = model.output.weight.val().into_data().try_to_vec().unwrap();
    let var = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / w.len() as f64;
    let want = 0.5 / (1000f64).cbrt(); // 0.05
    assert!((var.sqrt() - want).abs() < 0.002, "std {} vs {want}", var.sqrt());
    // Same seed → same weights: drawn on the host, so a run is reproducible. (That every backend
    // starts from these numbers is checked across devices in tests/web.rs: WebGPU vs CPU at step 0.)
    let again = MlpConfig::new(97, 97).with_width(500).init(&d);
    assert_eq!(vec2(model.input_a.val()), vec2(again.input_a.val()));
}

/// Haiku's two truncated normals: `hk.Linear`'s `TruncatedNormal(1/√fan_in)` keeps the ±2σ cut
/// without rescaling (std 0.88/√fan_in), `VarianceScaling(2)` rescales to exactly √(2/fan_in).
/// The PAIR notebook's logged initial ‖w‖ (37.4) depends on the difference.
#[test]
fn haiku_init_matches_haikus_truncated_normals() {
    let d = device();
    let model = MlpConfig::new(67, 67)
        .with_embedding_dim(Some(500))
        .with_shared_input_layer(true)
        .with_tied_output(true)
        .with_width(24)
        .with_activation(Activation::Relu)
        .with_init(InitScheme::Haiku)
        .init(&d);
    let std = |t: Tensor<2>| {
        let v = vec2(t);
        let max = v.iter().fold(0f64, |m, &x| m.max((x as f64).abs()));
        ((v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / v.len() as f64).sqrt(), max)
    };
    let (hidden, hidden_max) = std(model.input_a.val()); // [500, 24]
    assert!((hidden - 0.8796 / 500f64.sqrt()).abs() < 0.002, "hidden std {hidden}");
    assert!(hidden_max <= 2.0 / 500f64.sqrt() + 1e-6, "hidden max {hidden_max}");
    let (embed, _) = std(model.embed_a.as_ref().unwrap().val()); // [67, 500]
    assert!((embed - (2.0f64 / 67.0).sqrt()).abs() < 0.003, "embedding std {embed}");
    assert!(model.input_b.is_none() && model.embed_b.is_none());
}

#[test]
fn losses_match_a_float64_reference() {
    let d = device();
    let (n, c) = (5usize, 7usize);
    let z: Vec<f32> = (0..n * c).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.7).collect();
    let labels: Vec<i32> = vec![0, 3, 6, 2, 2];
    let mut onehot = vec![0f32; n * c];
    for (i, &y) in labels.iter().enumerate() {
        onehot[i * c + y as usize] = 1.0;
    }
    let mut ce = 0f64;
    let mut mse = 0f64;
    let mut correct = 0;
    for i in 0..n {
        let row: Vec<f64> = z[i * c..(i + 1) * c].iter().map(|&v| v as f64).collect();
        let m = row.iter().cloned().fold(f64::MIN, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        ce += lse - row[labels[i] as usize];
        for k in 0..c {
            mse += (row[k] - onehot[i * c + k] as f64).powi(2);
        }
        let argmax = (0..c).max_by(|&x, &y| row[x].partial_cmp(&row[y]).unwrap()).unwrap();
        correct += (argmax == labels[i] as usize) as usize;
    }
    let logits = t2(&z, n, c, &d);
    let targets = t2(&onehot, n, c, &d);
    let got_ce = loss(LossKind::CrossEntropy, Precision::F32, logits.clone(), targets.clone())
        .into_scalar::<f32>();
    let got_ce64 = loss(LossKind::CrossEntropy, Precision::F64, logits.clone(), targets.clone())
        .into_scalar::<f32>();
    let got_mse = loss(LossKind::Mse, Precision::F32, logits.clone(), targets).into_scalar::<f32>();
    let got_acc = accuracy(logits, ints(&labels, &d)).into_scalar::<f32>();
    assert_close(&[got_ce], &[ce / n as f64], 1e-5, "cross-entropy");
    assert_close(&[got_ce64], &[ce / n as f64], 1e-6, "cross-entropy in f64");
    assert_close(&[got_mse], &[mse / (n * c) as f64], 1e-5, "mse");
    assert_close(&[got_acc], &[correct as f64 / n as f64], 1e-6, "accuracy");
}

fn pairs_of(p: usize, d: &Device) -> (Tensor<1, Int>, Tensor<1, Int>) {
    let a: Vec<i32> = (0..p * p).map(|i| (i / p) as i32).collect();
    let b: Vec<i32> = (0..p * p).map(|i| (i % p) as i32).collect();
    (ints(&a, d), ints(&b, d))
}

/// The max |got − want| over a tensor, relative to the largest |want|.
fn max_rel_diff(got: Tensor<2>, want: Tensor<2>) -> f64 {
    let (got, want) = (vec2(got), vec2(want));
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0f64, |m, &v| m.max(v.abs() as f64)).max(1e-30);
    got.iter().zip(&want).fold(0f64, |m, (&g, &w)| m.max((g as f64 - w as f64).abs())) / scale
}

/// The fused first layer (models/pair_layer.rs, Flex CPU kernel) against the dense one-hot
/// reference made of burn's own ops: logits, every parameter's gradient, and the pruned forward.
/// p = 37 gives 1369 rows, three of the kernel's 512-row blocks, the last one partial.
#[test]
fn fused_pair_layer_matches_the_dense_reference_in_values_and_gradients() {
    use gradscope::labs::grokking::models::pair_layer::CHUNK_ROWS;
    let d = device();
    let p = 37usize;
    assert!(p * p > 2 * CHUNK_ROWS && !(p * p).is_multiple_of(CHUNK_ROWS));
    let (a, b) = pairs_of(p, &d);
    let mut x = vec![0f32; p * p * 2 * p]; // one-hot(a) ⊕ one-hot(b)
    for i in 0..p * p {
        x[i * 2 * p + i / p] = 1.0;
        x[i * 2 * p + p + i % p] = 1.0;
    }
    for (activation, depth) in [(Activation::Quadratic, 1), (Activation::Relu, 2)] {
        let model = MlpConfig::new(p, p)
            .with_width(40)
            .with_depth(depth)
            .with_activation(activation)
            .with_init(InitScheme::TorchDefault)
            .with_seed(5)
            .init(&d);
        // A loss that weighs every logit differently: Σ logits ⊙ R.
        let r = Tensor::<2>::from_data(
            TensorData::new(
                (0..p * p * p).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect(),
                [p * p, p],
            ),
            &d,
        );
        let fused = model.forward(a.clone(), b.clone());
        let dense = model.forward_one_hot(t2(&x, p * p, 2 * p, &d));
        let what = format!("{activation:?}, depth {depth}");
        let logits_diff = max_rel_diff(fused.clone(), dense.clone());
        assert!(logits_diff < 1e-5, "{what}: logits differ by {logits_diff:e}");

        let (g_fused, g_dense) =
            ((fused * r.clone()).sum().backward(), (dense * r).sum().backward());
        let mut params = vec![
            ("input_a", model.input_a.val()),
            ("input_b", model.input_b.as_ref().unwrap().val()),
        ];
        params.extend(model.hidden.iter().map(|l| ("hidden.weight", l.weight.val())));
        params.push(("output.weight", model.output.weight.val()));
        for (name, w) in params {
            let diff = max_rel_diff(w.grad(&g_fused).unwrap(), w.grad(&g_dense).unwrap());
            // f32 sums of up to 1369 terms in different orders.
            assert!(diff < 1e-5, "{what}: d/d{name} differs by {diff:e}");
        }

        // Pruning neurons = zeroing their first-layer columns (no bias; x²(0) = relu(0) = 0).
        let mask: Vec<f32> = (0..40).map(|j| if j % 3 == 0 { 0.0 } else { 1.0 }).collect();
        let mask = Tensor::<1>::from_data(TensorData::new(mask, [40]), &d);
        let pruned = model.forward_masked(a.clone(), b.clone(), mask.clone());
        let mut reference = model.clone();
        let cols = mask.unsqueeze_dim::<2>(0); // [1, width]
        reference.input_a = Param::from_tensor((model.input_a.val() * cols.clone()).detach());
        reference.input_b =
            Some(Param::from_tensor((model.input_b.as_ref().unwrap().val() * cols).detach()));
        let want = reference.forward_one_hot(t2(&x, p * p, 2 * p, &d));
        let pruned_diff = max_rel_diff(pruned, want);
        assert!(pruned_diff < 1e-5, "{what}: pruned logits differ by {pruned_diff:e}");
    }
}

/// The PAIR-style MLP (tied embedding, one first-layer matrix for a and b, readout through
/// the embedding) against the same computation written out with plain matrices.
#[test]
fn embedding_mlp_with_tied_readout_matches_its_definition() {
    let d = device();
    let p = 7;
    let model = MlpConfig::new(p, p)
        .with_embedding_dim(Some(5))
        .with_tied_embedding(true)
        .with_shared_input_layer(true)
        .with_tied_output(true)
        .with_width(4)
        .with_activation(Activation::Relu)
        .with_init(InitScheme::Haiku)
        .with_seed(11)
        .init(&d);
    assert!(model.input_b.is_none() && model.embed_b.is_none());
    let (a, b) = pairs_of(p, &d);
    let got = vec2(model.forward(a.clone(), b.clone()));
    let e = model.embed_a.as_ref().unwrap().val(); // [p, 5]
    let w = model.input_a.val(); // [5, 4]
    let h = burn::tensor::activation::relu(
        e.clone().select(0, a).matmul(w.clone()) + e.clone().select(0, b).matmul(w),
    );
    let want = h.matmul(model.output.weight.val()).matmul(e.transpose()); // [p², p]
    let want: Vec<f64> = vec2(want).iter().map(|&v| v as f64).collect();
    assert_close(&got, &want, 1e-5, "tied MLP");
    // Parameters: embedding, one first layer, readout [width, dim].
    assert_eq!(param_names(&model), vec!["embed_a", "input_a", "output.weight"]);
    assert_eq!(model.output.weight.dims(), [4, 5]);
}

/// An equivalence test, not a reference: the transformer's fast path (last block at the `=`
/// position only) against running every position, in values and gradients, causal and not,
/// 1–3 layers, with and without LayerNorm. Both paths share `Block::attention` and the causal
/// mask, so it cannot catch their bugs; those are checked against hand-computed values, a
/// float64 reference and PyTorch in `transformer_reference.rs`.
#[test]
fn transformer_fast_path_is_equivalent_to_the_full_sequence_path() {
    let d = device();
    let p = 5;
    for (layers, causal, layer_norm) in [(1, true, false), (2, true, true), (3, false, false)] {
        let model = TransformerConfig::new(p, p)
            .with_layers(layers)
            .with_d_model(8)
            .with_heads(2)
            .with_d_mlp(16)
            .with_causal(causal)
            .with_layer_norm(layer_norm)
            .with_seed(4)
            .init(&d);
        let (a, b) = pairs_of(p, &d);
        let fast = model.forward(a.clone(), b.clone());
        let slow = model.forward_reference(a, b);
        let want: Vec<f64> = vec2(slow.clone()).iter().map(|&v| v as f64).collect();
        let what = format!("layers {layers}, causal {causal}, ln {layer_norm}");
        assert_close(&vec2(fast.clone()), &want, 1e-5, &what);

        let weights =
            t2(&(0..p * p * p).map(|i| (i % 7) as f32 - 3.0).collect::<Vec<_>>(), p * p, p, &d);
        let g_fast = (fast * weights.clone()).sum().backward();
        let g_slow = (slow * weights).sum().backward();
        for (name, param) in [
            ("embed", &model.embed),
            ("w_q", &model.blocks[0].w_q),
            ("w_in", &model.blocks[0].w_in),
        ] {
            let gf = vec2(param.val().grad(&g_fast).unwrap());
            let gs: Vec<f64> =
                vec2(param.val().grad(&g_slow).unwrap()).iter().map(|&v| v as f64).collect();
            assert_close(&gf, &gs, 1e-4, &format!("{what}: grad {name}"));
        }
    }
}

/// Nanda et al.'s init (N(0, 1/d_model); unembedding N(0, 1/d_vocab)) and the parameter
/// names the per-layer norm chart shows.
#[test]
fn transformer_init_has_nandas_scales_and_names() {
    let d = device();
    let model = TransformerConfig::new(113, 113).init(&d);
    let w: Vec<f32> = model.blocks[0].w_q.val().into_data().try_to_vec().unwrap();
    let std = (w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
    assert!((std - 1.0 / 128f64.sqrt()).abs() < 0.004, "W_Q std {std}");
    let u: Vec<f32> = model.unembed.val().into_data().try_to_vec().unwrap();
    let std_u = (u.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / u.len() as f64).sqrt();
    assert!((std_u - 1.0 / 114f64.sqrt()).abs() < 0.004, "W_U std {std_u}");
    let names = param_names(&model);
    assert_eq!(names[..3], ["embed", "pos_embed", "blocks.0.w_q"]);
    assert_eq!(names.last().unwrap(), "unembed");
    // Σw² per tensor, in the same order.
    let norms: Vec<f32> = param_sq_norms(&model).into_data().try_to_vec().unwrap();
    assert_eq!(norms.len(), names.len());
    let want: f32 = model.embed.val().square().sum().into_scalar();
    assert!((norms[0] - want).abs() <= 1e-4 * want);
}
