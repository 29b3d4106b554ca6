//! The gradient-flow lab's stacks against references that share no code with them: a float64
//! forward and backward pass written out here (checked itself by central finite differences),
//! and the published directions at initialisation (Pre- vs Post-LN, SELU, orthogonal init).
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

use burn::tensor::{Device, Tensor};
use gradscope::backend;
use gradscope::labs::gradient_flow::deep_stack::{
    Activation, BlockKind, DeepStack, InitKind, NormKind, NormPlacement, Objective, ResidualScale,
    StackConfig, block_grad_norms,
};
use gradscope::labs::gradient_flow::probe::{GradientProfile, profile_at_init};
use gradscope::labs::gradient_flow::regression::{FlowTask, FlowTaskKind};
use gradscope::labs::gradient_flow::spec::{GradientFlowSpec, StackSpec};
use gradscope::rng::{Stream, stream};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

mod attention;

fn device() -> Device {
    backend::cpu().device
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

// ---- a float64 stack, written out ----------------------------------------------------------

const EPS: f64 = 1e-5;

/// erf to float64 precision: its Taylor series below |x| = 3, the continued fraction of erfc
/// above (an approximation with its own error would make the GELU forward disagree with its
/// exact derivative below, which finite differences notice).
fn erf(x: f64) -> f64 {
    let a = x.abs();
    let v = if a < 3.0 {
        let (mut term, mut sum, mut n) = (a, a, 0.0);
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -a * a / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        // erfc(a) = e^{−a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))).
        let mut frac = a;
        for k in (1..80).rev() {
            frac = a + (k as f64 / 2.0) / frac;
        }
        1.0 - (-a * a).exp() / (std::f64::consts::PI.sqrt() * frac)
    };
    if x >= 0.0 { v } else { -v }
}

fn act(a: Activation, x: f64) -> f64 {
    let (lambda, alpha) = (1.050_700_987_355_480_5, 1.673_263_242_354_377_3);
    match a {
        Activation::Relu => x.max(0.0),
        Activation::Tanh => x.tanh(),
        Activation::Gelu => 0.5 * x * (1.0 + erf(x / 2f64.sqrt())),
        Activation::Selu => lambda * if x > 0.0 { x } else { alpha * (x.exp() - 1.0) },
        Activation::Linear => x,
    }
}

fn act_grad(a: Activation, x: f64) -> f64 {
    let (lambda, alpha) = (1.050_700_987_355_480_5, 1.673_263_242_354_377_3);
    match a {
        Activation::Relu => (x > 0.0) as u8 as f64,
        Activation::Tanh => 1.0 - x.tanh().powi(2),
        Activation::Gelu => {
            let pdf = (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
            0.5 * (1.0 + erf(x / 2f64.sqrt())) + x * pdf
        }
        Activation::Selu => lambda * if x > 0.0 { 1.0 } else { alpha * x.exp() },
        Activation::Linear => 1.0,
    }
}

#[derive(Clone)]
struct RefNorm {
    layer: bool,
    gain: Vec<f64>,
    bias: Vec<f64>,
}

impl RefNorm {
    /// (y, x̂, 1/σ) of one row.
    fn forward(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
        let n = x.len() as f64;
        let mean = if self.layer { x.iter().sum::<f64>() / n } else { 0.0 };
        let c: Vec<f64> = x.iter().map(|v| v - mean).collect();
        let inv = 1.0 / (c.iter().map(|v| v * v).sum::<f64>() / n + EPS).sqrt();
        let xh: Vec<f64> = c.iter().map(|v| v * inv).collect();
        let y = xh.iter().enumerate().map(|(i, v)| v * self.gain[i] + self.bias[i]).collect();
        (y, xh, inv)
    }

    fn backward(&self, x: &[f64], dy: &[f64]) -> Vec<f64> {
        let (_, xh, inv) = self.forward(x);
        let n = x.len() as f64;
        let dxh: Vec<f64> = dy.iter().enumerate().map(|(i, d)| d * self.gain[i]).collect();
        let mean_d = if self.layer { dxh.iter().sum::<f64>() / n } else { 0.0 };
        let mean_dx = dxh.iter().zip(&xh).map(|(a, b)| a * b).sum::<f64>() / n;
        dxh.iter().zip(&xh).map(|(d, h)| inv * (d - mean_d - h * mean_dx)).collect()
    }
}

#[derive(Clone)]
struct RefBlock {
    w_in: Vec<f64>,
    b_in: Vec<f64>,
    w_out: Vec<f64>,
    b_out: Vec<f64>,
    norm_in: Option<RefNorm>,
    norm_out: Option<RefNorm>,
    post: bool,
    peri: bool,
    scale: f64,
    residual: bool,
    act: Activation,
}

struct RefStack {
    width: usize,
    w_in: Vec<f64>,
    blocks: Vec<RefBlock>,
    final_norm: Option<RefNorm>,
    head: Vec<f64>,
    input_dim: usize,
    output_dim: usize,
}

fn matvec(x: &[f64], w: &[f64], cols: usize) -> Vec<f64> {
    let mut y = vec![0.0; cols];
    for (i, xi) in x.iter().enumerate() {
        for j in 0..cols {
            y[j] += xi * w[i * cols + j];
        }
    }
    y
}

/// dx = W dy (W: [rows, cols], dy: [cols]).
fn matvec_t(dy: &[f64], w: &[f64], rows: usize) -> Vec<f64> {
    let cols = dy.len();
    (0..rows).map(|i| (0..cols).map(|j| w[i * cols + j] * dy[j]).sum()).collect()
}

/// Block `l`'s norm placement in the test's stacks (depth 4), written out from the definitions
/// rather than asked of the model: Mix-LN at ρ = 0.5 is Post-LN for the first ⌊ρ·L⌋ = 2 blocks,
/// then Pre-LN.
fn placement_by_hand(norm: NormPlacement, l: usize) -> NormPlacement {
    use NormPlacement::{Post, Pre};
    match norm {
        NormPlacement::Mix => [Post, Post, Pre, Pre][l],
        p => p,
    }
}

impl RefStack {
    /// The float64 reference of a stack built from `cfg` (depth 4, ρ 0.5): its structure from
    /// the definitions — Pre-LN normalizes the branch's input, Post-LN the sum, Peri-LN the
    /// branch's input and output; a stack whose last block is Pre- or Peri-LN ends in a final
    /// norm; the branch scale is 1 or 1/√depth — and only the parameter values read from `stack`
    /// (a norm the model has where the definition has none, or lacks, fails here).
    fn from(stack: &DeepStack, cfg: &StackConfig) -> Self {
        assert_eq!((cfg.depth, cfg.mix_ratio), (4, 0.5), "placement_by_hand is for depth 4, ρ 0.5");
        let norm = |n: &Option<gradscope::labs::gradient_flow::deep_stack::Norm>, wanted: bool| {
            assert_eq!(
                n.is_some(),
                wanted,
                "a norm where the definition has {}",
                if wanted { "one" } else { "none" }
            );
            n.as_ref().map(|n| RefNorm {
                layer: cfg.norm_kind == NormKind::LayerNorm,
                gain: values(n.gain.val()),
                bias: n.bias.as_ref().map_or(vec![0.0; cfg.width], |b| values(b.val())),
            })
        };
        let scale = match cfg.residual {
            ResidualScale::One | ResidualScale::None => 1.0,
            ResidualScale::InvSqrtDepth => 0.5, // 1/√4
            ResidualScale::SkipInit => panic!("SkipInit has its own test"),
        };
        let blocks = stack
            .blocks
            .iter()
            .enumerate()
            .map(|(l, b)| {
                let placement = placement_by_hand(cfg.norm, l);
                let (pre, post, peri) = (
                    placement == NormPlacement::Pre,
                    placement == NormPlacement::Post,
                    placement == NormPlacement::Peri,
                );
                assert!(b.skip.is_none(), "no skip gain without SkipInit");
                RefBlock {
                    w_in: values(b.w_in.val()),
                    b_in: values(b.b_in.val()),
                    w_out: values(b.w_out.val()),
                    b_out: values(b.b_out.val()),
                    norm_in: norm(&b.norm_in, pre || peri),
                    norm_out: norm(&b.norm_out, post || peri),
                    post,
                    peri,
                    scale,
                    residual: cfg.residual != ResidualScale::None,
                    act: cfg.activation,
                }
            })
            .collect();
        let last = placement_by_hand(cfg.norm, 3);
        RefStack {
            width: cfg.width,
            w_in: values(stack.input.val()),
            blocks,
            final_norm: norm(
                &stack.final_norm,
                matches!(last, NormPlacement::Pre | NormPlacement::Peri),
            ),
            head: values(stack.head.val()),
            input_dim: cfg.input_dim,
            output_dim: cfg.output_dim,
        }
    }

    /// Loss ½·mean‖f(x) − y‖² and, per block, ∂L/∂W_in and ∂L/∂W_out.
    fn loss_and_grads(&self, x: &[f64], y: &[f64], n: usize) -> (f64, Vec<[Vec<f64>; 2]>) {
        let w = self.width;
        let mut loss = 0.0;
        let mut grads = vec![[vec![0.0; w * w], vec![0.0; w * w]]; self.blocks.len()];
        for r in 0..n {
            let xr = &x[r * self.input_dim..(r + 1) * self.input_dim];
            // Forward, keeping each block's input h, its branch input and pre-activation.
            let mut h = matvec(xr, &self.w_in, w);
            let mut tape = Vec::new();
            for blk in &self.blocks {
                let inp = blk.norm_in.as_ref().map_or(h.clone(), |nm| nm.forward(&h).0);
                let pre: Vec<f64> =
                    matvec(&inp, &blk.w_in, w).iter().zip(&blk.b_in).map(|(a, b)| a + b).collect();
                let a: Vec<f64> = pre.iter().map(|&p| act(blk.act, p)).collect();
                let f: Vec<f64> =
                    matvec(&a, &blk.w_out, w).iter().zip(&blk.b_out).map(|(a, b)| a + b).collect();
                let br =
                    if blk.peri { blk.norm_out.as_ref().unwrap().forward(&f).0 } else { f.clone() };
                let out: Vec<f64> = (0..w)
                    .map(|i| if blk.residual { h[i] } else { 0.0 } + blk.scale * br[i])
                    .collect();
                let next = if blk.post {
                    blk.norm_out.as_ref().unwrap().forward(&out).0
                } else {
                    out.clone()
                };
                tape.push((h.clone(), inp, pre, a, f, out));
                h = next;
            }
            let h_last = h.clone();
            let h = self.final_norm.as_ref().map_or(h.clone(), |nm| nm.forward(&h).0);
            let pred = matvec(&h, &self.head, self.output_dim);
            let yr = &y[r * self.output_dim..(r + 1) * self.output_dim];
            let diff: Vec<f64> = pred.iter().zip(yr).map(|(p, t)| p - t).collect();
            loss += 0.5 * diff.iter().map(|d| d * d).sum::<f64>() / n as f64;
            // Backward.
            let dpred: Vec<f64> = diff.iter().map(|d| d / n as f64).collect();
            let mut dh = matvec_t(&dpred, &self.head, w);
            if let Some(nm) = &self.final_norm {
                dh = nm.backward(&h_last, &dh);
            }
            for (l, blk) in self.blocks.iter().enumerate().rev() {
                let (h_in, inp, pre, a, f, out) = &tape[l];
                let dout = if blk.post {
                    blk.norm_out.as_ref().unwrap().backward(out, &dh)
                } else {
                    dh.clone()
                };
                let dbr: Vec<f64> = dout.iter().map(|d| d * blk.scale).collect();
                let df =
                    if blk.peri { blk.norm_out.as_ref().unwrap().backward(f, &dbr) } else { dbr };
                for i in 0..w {
                    for j in 0..w {
                        grads[l][1][i * w + j] += a[i] * df[j];
                    }
                }
                let da = matvec_t(&df, &blk.w_out, w);
                let dpre: Vec<f64> =
                    da.iter().zip(pre).map(|(d, &p)| d * act_grad(blk.act, p)).collect();
                for i in 0..w {
                    for j in 0..w {
                        grads[l][0][i * w + j] += inp[i] * dpre[j];
                    }
                }
                let dinp = matvec_t(&dpre, &blk.w_in, w);
                let from_branch =
                    blk.norm_in.as_ref().map_or(dinp.clone(), |nm| nm.backward(h_in, &dinp));
                dh = (0..w)
                    .map(|i| from_branch[i] + if blk.residual { dout[i] } else { 0.0 })
                    .collect();
            }
        }
        (loss, grads)
    }
}

fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn tiny(
    norm: NormPlacement,
    norm_kind: NormKind,
    residual: ResidualScale,
    init: InitKind,
    activation: Activation,
) -> StackConfig {
    StackConfig {
        input_dim: 3,
        output_dim: 2,
        depth: 4,
        width: 5,
        norm,
        norm_kind,
        mix_ratio: 0.5,
        residual,
        init,
        gain: 1.0,
        activation,
        block: BlockKind::Mlp,
        heads: 1,
        qk_norm: false,
        seq_len: 1,
        objective: Objective::Regression,
    }
}

/// Every norm placement and kind, residual scale, init and activation on a tiny stack (depth
/// 4, width 5, batch 6): each block's ‖∂L/∂W_l‖ by autodiff in f32 equals the float64
/// backward pass above to 1e-4 relative (1e-6 absolute), and so does every entry of both
/// matrices' gradients (1e-4 of the matrix's largest entry, 1e-7 absolute); the float64 backward itself matches
/// central finite differences (step 1e-5) to 1e-5 of the largest gradient of that matrix on
/// 25 entries of both matrices of blocks 0 and 3 (every seventh configuration; the
/// differences' own error — rounding and O(h²) truncation — was measured up to 3·10⁻⁶ of the
/// largest gradient on a GELU stack).
#[test]
fn per_layer_gradient_norms_match_a_float64_backward_and_finite_differences() {
    let device = device();
    let (n, mut k) = (6usize, 0usize);
    let placements = [
        NormPlacement::None,
        NormPlacement::Post,
        NormPlacement::Pre,
        NormPlacement::Peri,
        NormPlacement::Mix,
    ];
    let inits = [InitKind::Xavier, InitKind::Kaiming, InitKind::Lecun, InitKind::Orthogonal];
    let acts = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Gelu,
        Activation::Selu,
        Activation::Linear,
    ];
    for norm in placements {
        for norm_kind in [NormKind::LayerNorm, NormKind::RmsNorm] {
            for residual in [ResidualScale::One, ResidualScale::InvSqrtDepth, ResidualScale::None] {
                for activation in acts {
                    k += 1;
                    let cfg = tiny(norm, norm_kind, residual, inits[k % 4], activation);
                    let what = format!(
                        "{norm:?}/{norm_kind:?}/{residual:?}/{:?}/{activation:?}",
                        cfg.init
                    );
                    let stack = cfg.init_with(&mut ChaCha8Rng::seed_from_u64(k as u64), &device);
                    let mut rng = ChaCha8Rng::seed_from_u64(1000 + k as u64);
                    let mut draw = |m: usize| -> Vec<f64> {
                        (0..m).map(|_| StandardNormal.sample(&mut rng)).collect()
                    };
                    let (x, y) = (draw(n * 3), draw(n * 2));
                    let to = |v: &[f64], c: usize| {
                        Tensor::<2>::from_data(
                            burn::tensor::TensorData::new(
                                v.iter().map(|&a| a as f32).collect::<Vec<_>>(),
                                [n, c],
                            ),
                            &device,
                        )
                    };
                    let loss = stack.loss(to(&x, 3), to(&y, 2));
                    let autodiff = loss.backward();
                    let got = values(block_grad_norms(&stack, &autodiff));
                    let reference = RefStack::from(&stack, &cfg);
                    let (_, grads) = reference.loss_and_grads(&x, &y, n);
                    for (l, [g_in, g_out]) in grads.iter().enumerate() {
                        let want = (norm2(g_in).powi(2) + norm2(g_out).powi(2)).sqrt();
                        assert!(
                            (got[l] - want).abs() <= 1e-4 * want + 1e-6,
                            "{what}: block {l}: {} vs float64 {want}",
                            got[l]
                        );
                        // Entry by entry, so a transposed or sign-flipped gradient with the
                        // right norm fails too: ∂L/∂W_in and ∂L/∂W_out ([in, out], row-major).
                        let block = &stack.blocks[l];
                        for (m, (param, want)) in
                            [(&block.w_in, g_in), (&block.w_out, g_out)].into_iter().enumerate()
                        {
                            let g = values(param.val().grad(&autodiff).expect("a gradient"));
                            assert_eq!(g.len(), want.len(), "{what}: dW{m}_{l} has every entry");
                            let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                            for (e, (a, b)) in g.iter().zip(want.iter()).enumerate() {
                                assert!(
                                    (a - b).abs() <= 1e-4 * scale + 1e-7,
                                    "{what}: dW{m}_{l}[{e}]: autodiff {a} vs float64 {b}"
                                );
                            }
                        }
                    }
                    // The float64 backward against central differences, both matrices of
                    // blocks 0 and 3.
                    if k % 7 == 0 {
                        let mut probe = RefStack {
                            blocks: reference.blocks.clone(),
                            w_in: reference.w_in.clone(),
                            head: reference.head.clone(),
                            final_norm: reference.final_norm.clone(),
                            ..reference
                        };
                        for l in [0, 3] {
                            for m in 0..2 {
                                let g = &grads[l][m];
                                let scale = g.iter().fold(0.0f64, |a, v| a.max(v.abs())).max(1.0);
                                for e in 0..25 {
                                    let h = 1e-5;
                                    fn at(s: &mut RefStack, l: usize, m: usize) -> &mut Vec<f64> {
                                        if m == 0 {
                                            &mut s.blocks[l].w_in
                                        } else {
                                            &mut s.blocks[l].w_out
                                        }
                                    }
                                    at(&mut probe, l, m)[e] += h;
                                    let lp = probe.loss_and_grads(&x, &y, n).0;
                                    at(&mut probe, l, m)[e] -= 2.0 * h;
                                    let lm = probe.loss_and_grads(&x, &y, n).0;
                                    at(&mut probe, l, m)[e] += h;
                                    let fd = (lp - lm) / (2.0 * h);
                                    assert!(
                                        (fd - g[e]).abs() <= 1e-5 * scale,
                                        "{what}: dW{m}_{l}[{e}]: fd {fd} vs {}",
                                        g[e]
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// SkipInit: every block starts as the identity (α = 0), so no gradient reaches its weights at
/// init — exactly 0, which the lab's heatmap shows as such.
#[test]
fn skipinit_blocks_get_exactly_zero_gradient_at_init() {
    let device = device();
    let cfg = tiny(
        NormPlacement::Pre,
        NormKind::LayerNorm,
        ResidualScale::SkipInit,
        InitKind::Kaiming,
        Activation::Relu,
    );
    let stack = cfg.init_with(&mut ChaCha8Rng::seed_from_u64(3), &device);
    let x = Tensor::<2>::ones([4, 3], &device);
    let loss = stack.loss(x, Tensor::<2>::zeros([4, 2], &device));
    assert_eq!(values(block_grad_norms(&stack, &loss.backward())), vec![0.0; 4]);
}

// ---- the published directions at init ------------------------------------------------------

fn probe(
    models: Vec<(&str, StackSpec)>,
    input_dim: usize,
    batch: usize,
    seed: u64,
) -> GradientProfile {
    let mut spec = GradientFlowSpec::default();
    spec.seed = seed;
    spec.task = FlowTask {
        kind: FlowTaskKind::TeacherStudent,
        input_dim,
        output_dim: 8,
        teacher_depth: 3,
        rank: 4,
        ..FlowTask::default()
    };
    spec.training.batch_size = batch;
    spec.models = models.into_iter().map(|(n, m)| (n.to_string(), m)).collect();
    spec.validate().unwrap();
    pollster::block_on(profile_at_init(&spec, &device())).unwrap()
}

fn quarter_means(v: &[f64]) -> (f64, f64) {
    let q = v.len() / 4;
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    (mean(&v[..q]), mean(&v[v.len() - q..]))
}

/// At init, depth 24, width 64, batch 64, seeds 0–4: with Post-LN the first quarter of blocks
/// gets smaller gradient norms than the last quarter (gradients vanish towards the input);
/// with Pre-LN the last quarter gets smaller ones than the first (the residual stream grows,
/// each deep branch matters less) — Xiong et al. 2020, Li et al. 2024 (Mix-LN).
#[test]
fn post_ln_starves_early_layers_and_pre_ln_deep_ones_at_init() {
    for seed in 0..5 {
        let stack = |norm| StackSpec { depth: 24, width: 64, norm, ..StackSpec::default() };
        let p = probe(
            vec![("post", stack(NormPlacement::Post)), ("pre", stack(NormPlacement::Pre))],
            32,
            64,
            seed,
        );
        let by = |n: &str| p.models.iter().find(|m| m.name == n).unwrap().grad_norm.clone();
        let (first, last) = quarter_means(&by("post"));
        assert!(first < last, "seed {seed}: Post-LN first quarter {first:.3e} vs last {last:.3e}");
        let (first, last) = quarter_means(&by("pre"));
        assert!(last < first, "seed {seed}: Pre-LN first quarter {first:.3e} vs last {last:.3e}");
    }
}

/// Plain stacks of 32 blocks (no residual, no norm), width 256, batch 256: SELU with LeCun
/// init keeps every block's output RMS in [0.8, 1.25] (Klambauer et al. 2017); ReLU with
/// Xavier init does not (it halves the variance per layer).
#[test]
fn selu_with_lecun_init_self_normalizes_through_32_plain_layers() {
    let plain = |activation, init| StackSpec {
        depth: 32,
        width: 256,
        norm: NormPlacement::None,
        residual: ResidualScale::None,
        activation,
        init,
        ..StackSpec::default()
    };
    let p = probe(
        vec![
            ("selu", plain(Activation::Selu, InitKind::Lecun)),
            ("relu", plain(Activation::Relu, InitKind::Xavier)),
        ],
        256,
        256,
        0,
    );
    let selu = &p.models.iter().find(|m| m.name == "selu").unwrap().act_rms;
    assert!(selu.iter().all(|r| (0.8..=1.25).contains(r)), "SELU RMS through depth: {selu:?}");
    let relu = &p.models.iter().find(|m| m.name == "relu").unwrap().act_rms;
    assert!(!relu.iter().all(|r| (0.8..=1.25).contains(r)), "ReLU + Xavier RMS: {relu:?}");
    assert!(relu[31] < 0.01, "ReLU + Xavier shrinks the signal: {}", relu[31]);
}

/// Singular values of a square matrix (row-major), by Jacobi's eigenvalue method on MᵀM.
fn singular_values(m: &[f64], n: usize) -> Vec<f64> {
    let mut a = vec![0.0; n * n]; // MᵀM
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|k| m[k * n + i] * m[k * n + j]).sum();
        }
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
            }
        }
    }
    (0..n).map(|i| a[i * n + i].max(0.0).sqrt()).collect()
}

/// A deep linear net (32 square blocks of two matrices each, width 32, no residual, no norm):
/// with orthogonal init (gain 1) the blocks' input–output map (the product of all 64
/// matrices) has every singular value 1 (to 1e-3, f32 weights); with Gaussian (Xavier) init its singular values spread over orders of magnitude
/// (σ_max/σ_min > 100) — Saxe et al. 2014's case for orthogonal init.
#[test]
fn orthogonal_init_keeps_a_deep_linear_maps_singular_values_at_one() {
    let device = device();
    let linear = |init| StackConfig {
        input_dim: 32,
        output_dim: 4,
        depth: 32,
        width: 32,
        norm: NormPlacement::None,
        norm_kind: NormKind::LayerNorm,
        mix_ratio: 0.25,
        residual: ResidualScale::None,
        init,
        gain: 1.0,
        activation: Activation::Linear,
        block: BlockKind::Mlp,
        heads: 1,
        qk_norm: false,
        seq_len: 1,
        objective: Objective::Regression,
    };
    let map = |init| {
        let stack = linear(init).init_with(&mut stream(0, Stream::Init), &device);
        let mut m = Tensor::<2>::eye(32, &device);
        for b in &stack.blocks {
            m = m.matmul(b.w_in.val()).matmul(b.w_out.val());
        }
        singular_values(&values(m), 32)
    };
    let orth = map(InitKind::Orthogonal);
    assert!(orth.iter().all(|s| (s - 1.0).abs() < 1e-3), "orthogonal: {orth:?}");
    let gauss = map(InitKind::Xavier);
    let (max, min) = gauss.iter().fold((0.0f64, f64::MAX), |(a, b), &s| (a.max(s), b.min(s)));
    assert!(max / min > 100.0, "Gaussian: σ from {min:.3e} to {max:.3e}");
}

// ---- the CLI -------------------------------------------------------------------------------

fn gradscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gradscope")).args(args).output().unwrap()
}

/// `inspect gradients` writes each stack's per-block gradient norms and activation RMS as
/// plain arrays (the default: the norm-placement preset, four stacks at depth 24), and refuses
/// a bad field by name.
#[test]
fn cli_inspect_gradients_writes_per_layer_arrays() {
    let o = gradscope(&["inspect", "gradients"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let models = json["models"].as_array().unwrap();
    assert_eq!(models.len(), 4);
    for m in models {
        assert_eq!(m["grad_norm"].as_array().unwrap().len(), 24, "{}", m["name"]);
        assert_eq!(m["act_rms"].as_array().unwrap().len(), 24);
        assert!(m["grad_norm"].as_array().unwrap().iter().all(|g| g.as_f64().unwrap() > 0.0));
    }
    assert_eq!(json["spec"]["gradient_flow"]["models"]["post-ln"]["norm"], "post");

    let dir = std::env::temp_dir().join(format!("gradscope-gf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"gradient_flow": {"models": {"deep": {"depth": 65}}}}"#).unwrap();
    let o = gradscope(&["inspect", "gradients", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("gradient_flow.models.deep.depth") && err.contains("1..=64"), "{err}");
    std::fs::write(&bad, r#"{"gradient_flow": {"models": {"m": {"norm": "sandwich"}}}}"#).unwrap();
    let o = gradscope(&["inspect", "gradients", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("norm") && err.contains("sandwich"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run whose gradients overflow (8 unnormalised residual blocks, SGD at lr 0.5): the session
/// stops with the stack, block and step where a gradient first became non-finite, taken from
/// the per-step flag though it evaluates only every 50 steps — the same step and block as the
/// per-block gradient norms measured after every step by hand show. (Here the held-out loss
/// overflows a step earlier than any gradient: the forward pass of the exploded weights.)
#[test]
fn a_diverging_run_names_the_block_and_step_where_gradients_broke() {
    use gradscope::labs::ExperimentSpec;
    use gradscope::labs::TrainingSession;
    use gradscope::labs::gradient_flow::experiment::GradientFlowExperiment;
    use gradscope::spec::{OptimizerKind, OptimizerSpec};
    use gradscope::train::Experiment;
    use gradscope::train::RunError;
    let cpu = backend::cpu();
    let mut spec = GradientFlowSpec::default();
    spec.models = [(
        "plain".to_string(),
        StackSpec {
            depth: 8,
            width: 16,
            norm: NormPlacement::None,
            init: InitKind::Kaiming,
            gain: 2.0,
            ..StackSpec::default()
        },
    )]
    .into();
    spec.optimizer =
        OptimizerSpec { kind: OptimizerKind::Sgd, lr: 0.5, ..OptimizerSpec::default() };
    spec.training.steps = 100;
    spec.training.eval_every = 50;
    // By hand: measure every step, find the first non-finite block gradient norm.
    let mut experiment = GradientFlowExperiment::new(&spec, &cpu.device);
    let (step, block) = (1..=100)
        .find_map(|_| {
            experiment.train_step(true);
            let (tensor, layout) = experiment.metrics_tensor();
            let numbers: Vec<f32> = tensor.into_data().convert::<f32>().try_to_vec().unwrap();
            let record = experiment.record(&layout, &numbers, 0.0);
            let s = &record.lab;
            (1..=8)
                .find(|l| !s.series[&format!("plain.grad_norm.{l:02}")].is_finite())
                .map(|l| (record.step, l))
        })
        .expect("the run diverges within 100 steps");
    let mut session =
        TrainingSession::new(ExperimentSpec::GradientFlow(spec), &cpu.device, cpu.limits).unwrap();
    match pollster::block_on(session.run_to_end(|_| {})).unwrap_err() {
        RunError::Diverged { metric, step: at } => {
            assert_eq!(at, step, "{metric}");
            let want = format!("the gradient of `plain`'s block {block:02}");
            assert!(metric.starts_with(&want), "{metric} (want {want})");
        }
        other => panic!("expected divergence, got {other}"),
    }
    // The history up to the divergence is kept: steps 0 and 50.
    let steps: Vec<u64> = session.history().iter().map(|r| r.step).collect();
    assert_eq!(steps, vec![0, 50]);
}

/// Out-of-range and inconsistent stacks are refused with the field and the reason; a run too
/// big for the device is refused with its estimate before anything is allocated; every preset
/// fits a browser's WebGPU defaults (128 MiB buffers, the 4 GiB run bound).
#[test]
fn bad_stacks_and_oversized_runs_are_refused_with_the_field_and_the_estimate() {
    use gradscope::backend::DeviceLimits;
    use gradscope::labs::gradient_flow::deep_stack::BlockKind;
    use gradscope::labs::gradient_flow::experiment::check_fits;
    use gradscope::labs::presets;
    let refused = |edit: &dyn Fn(&mut GradientFlowSpec)| {
        let mut spec = GradientFlowSpec::default();
        edit(&mut spec);
        spec.validate().expect_err("refused")
    };
    let e = refused(&|s| s.models.get_mut("pre-ln").unwrap().block = BlockKind::Transformer);
    assert_eq!(e.field, "gradient_flow.models.pre-ln.block");
    assert!(e.message.contains("`mlp`"), "{e}");
    let e = refused(&|s| s.models.get_mut("pre-ln").unwrap().qk_norm = true);
    assert_eq!(e.field, "gradient_flow.models.pre-ln.qk_norm");
    let e = refused(&|s| {
        s.task.kind = FlowTaskKind::Copy;
        for m in s.models.values_mut() {
            m.block = BlockKind::Transformer;
            m.heads = 5; // width 64
        }
    });
    assert_eq!(e.field, "gradient_flow.models.post-ln.heads");
    assert!(e.message.contains("divisible"), "{e}");
    let e = refused(&|s| {
        s.task.kind = FlowTaskKind::Copy;
        for m in s.models.values_mut() {
            m.block = BlockKind::Transformer;
            m.z_loss = f64::NAN;
        }
    });
    assert_eq!(e.field, "gradient_flow.models.post-ln.z_loss");
    let e = refused(&|s| s.models.get_mut("pre-ln").unwrap().mix_ratio = 1.5);
    assert_eq!(e.field, "gradient_flow.models.pre-ln.mix_ratio");

    // Four stacks of 64 blocks of width 1024 on 4096 inputs: ~10 GiB each.
    let mut big = GradientFlowSpec::default();
    big.models = ["a", "b", "c", "d"]
        .map(|n| (n.to_string(), StackSpec { depth: 64, width: 1024, ..StackSpec::default() }))
        .into();
    big.training.batch_size = 4096;
    big.validate().unwrap();
    let e = check_fits(&big, DeviceLimits::CPU).expect_err("too big for the CPU bound");
    assert!(e.field.starts_with("gradient_flow.models.") && e.field.ends_with(".depth"), "{e}");
    assert!(e.message.contains("8192 MiB") && e.message.contains("MiB together"), "{e}");

    let browser = DeviceLimits {
        max_buffer_bytes: 128 << 20,
        max_total_bytes: 4 << 30,
        float64: false,
        flushes_subnormals: false,
    };
    for p in presets::all() {
        if let gradscope::labs::ExperimentSpec::GradientFlow(s) = &p.spec {
            check_fits(s, browser).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
    }
}

/// Mix-LN's split is ⌊ρ·depth⌋ of ρ as typed, counted by hand here: 0.58 of 50 blocks is 29
/// Post-LN blocks (float64's 0.58 · 50 is 28.999…, whose floor once gave 28), 0.25 of 24 is 6,
/// and ρ = 1 makes every block Post-LN.
#[test]
fn mix_ln_splits_at_rho_times_depth_as_typed() {
    for (rho, depth, post) in
        [(0.58, 50, 29), (0.25, 24, 6), (0.1, 30, 3), (1.0, 8, 8), (0.0, 8, 0)]
    {
        let cfg = StackConfig {
            depth,
            mix_ratio: rho,
            ..tiny(
                NormPlacement::Mix,
                NormKind::LayerNorm,
                ResidualScale::One,
                InitKind::Kaiming,
                Activation::Relu,
            )
        };
        let placements: Vec<NormPlacement> = (0..depth).map(|l| cfg.placement(l)).collect();
        let want: Vec<NormPlacement> = (0..depth)
            .map(|l| if l < post { NormPlacement::Post } else { NormPlacement::Pre })
            .collect();
        assert_eq!(placements, want, "ρ {rho}, depth {depth}: {post} Post-LN blocks");
    }
}

/// The update/weight ratio is ‖ΔW_l‖_F / ‖W_l‖_F of the step, the weights before it: with plain
/// SGD (ΔW = −lr·g, no momentum, decay or clipping) it must equal lr·‖g_l‖ / ‖W_l‖ from the same
/// record's gradient norm and the initial weights, read here field by field (each MLP block's
/// W_in and W_out) and reduced in float64. A ratio over the weights after the step, or over one
/// matrix, or without the square root, is off by far more than the 1e-4 allowed.
#[test]
fn the_update_ratio_is_each_blocks_relative_change_in_the_step() {
    use gradscope::labs::{ExperimentSpec, TrainingSession};
    use gradscope::spec::OptimizerKind;

    let mut spec = GradientFlowSpec::default();
    let stack = StackSpec { depth: 3, width: 8, ..StackSpec::default() };
    spec.models = [("s".to_string(), stack.clone())].into();
    spec.optimizer.kind = OptimizerKind::Sgd;
    spec.optimizer.lr = 0.5;
    spec.optimizer.momentum = 0.0;
    spec.optimizer.weight_decay = 0.0;
    spec.optimizer.grad_clip = 0.0;
    spec.training.steps = 1;
    spec.training.eval_every = 1;
    let cpu = backend::cpu();
    let history = pollster::block_on(async {
        let mut s = TrainingSession::new(
            ExperimentSpec::GradientFlow(spec.clone()),
            &cpu.device,
            cpu.limits,
        )
        .unwrap();
        s.run_to_end(|_| {}).await.unwrap();
        s.history().to_vec()
    });
    let after_one = history.iter().find(|r| r.step == 1).expect("an evaluation at step 1");
    let series =
        |name: String| after_one.series(&name).unwrap_or_else(|| panic!("no {name} at step 1"));

    let init = stack.config(&spec.task).init_with(&mut stream(spec.seed, Stream::Init), &device());
    let squares = |t: Tensor<2>| values(t).iter().map(|x| x * x).sum::<f64>();
    for (l, block) in init.blocks.iter().enumerate() {
        let weight_norm = (squares(block.w_in.val()) + squares(block.w_out.val())).sqrt();
        let grad_norm = series(format!("s.grad_norm.{:02}", l + 1));
        let ratio = series(format!("s.update_ratio.{:02}", l + 1));
        let want = spec.optimizer.lr * grad_norm / weight_norm;
        assert!(want > 1e-3, "block {}: a step too small to tell ({want})", l + 1);
        assert!(
            (ratio - want).abs() <= 1e-4 * want,
            "block {}: update ratio {ratio}, want lr·‖g‖/‖W‖ = {want}",
            l + 1
        );
    }
}

/// SkipInit before its first step: every branch is scaled by α = 0, so no gradient reaches any
/// block's weights (each norm exactly 0) and the last/first ratio is undefined; the report says
/// so (NaN, `null` in JSON, "undefined" in the CLI's line) instead of printing NaN. The first
/// step's gradient (step 1's record) is still taken at α = 0; at the second, α has moved and the
/// ratio is a number.
#[test]
fn skip_init_at_step_zero_has_no_block_gradient_and_says_the_ratio_is_undefined() {
    use gradscope::labs::{ExperimentSpec, LabReport, TrainingSession};

    let mut spec = GradientFlowSpec::default();
    let stack =
        StackSpec { depth: 4, width: 8, residual: ResidualScale::SkipInit, ..StackSpec::default() };
    spec.models = [("skip".to_string(), stack)].into();
    spec.training.steps = 2;
    spec.training.eval_every = 1;
    let cpu = backend::cpu();
    let history = pollster::block_on(async {
        let mut s =
            TrainingSession::new(ExperimentSpec::GradientFlow(spec), &cpu.device, cpu.limits)
                .unwrap();
        s.run_to_end(|_| {}).await.unwrap();
        s.history().to_vec()
    });
    for l in 1..=4 {
        assert_eq!(
            history[0].series(&format!("skip.grad_norm.{l:02}")),
            Some(0.0),
            "block {l} at step 0"
        );
    }
    let LabReport::GradientFlow(at_init) = LabReport::from_history(&history[..1]) else {
        panic!("a flow report")
    };
    assert!(at_init.stacks[0].last_over_first.is_nan());
    let line = &at_init.outcome_lines(None)[0];
    assert!(
        line.contains("block gradient norm undefined (the first block's gradient is 0"),
        "{line}"
    );
    let LabReport::GradientFlow(after) = LabReport::from_history(&history) else {
        panic!("a flow report")
    };
    assert!(after.stacks[0].last_over_first.is_finite() && after.stacks[0].last_over_first > 0.0);
}
