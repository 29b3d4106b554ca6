//! Transformer stacks (the attention sublayer, qk-LayerNorm, the z-loss) against a float64
//! forward pass written out here, sharing no code with the model, and differentiated by
//! central finite differences; and Wortsman et al.'s attention-logit growth at high lr.

use burn::tensor::{Tensor, TensorData};
use gradscope::labs::gradient_flow::deep_stack::{
    BlockKind, DeepStack, Norm, NormKind, NormPlacement, Objective, ResidualScale, StackConfig,
    tensor_grad_norms,
};
use gradscope::labs::gradient_flow::experiment::GradientFlowExperiment;
use gradscope::labs::gradient_flow::regression::{FlowTask, FlowTaskKind, Teacher};
use gradscope::labs::{ExperimentSpec, presets};
use gradscope::rng::{Stream, stream};
use gradscope::spec::TrainingSpec;
use gradscope::train::Experiment;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Activation, InitKind, RefNorm, act, device, values};

/// One block's parameters in float64: `mats` in the model's order W_q, W_k, W_v, W_o, W_in,
/// W_out (each `[w, w]` row-major), the MLP biases, and the norms.
#[derive(Clone)]
struct RefTransformerBlock {
    mats: Vec<Vec<f64>>,
    b_in: Vec<f64>,
    b_out: Vec<f64>,
    /// (norm_in, norm_out) of the attention and of the MLP sublayer.
    attn_norms: (Option<RefNorm>, Option<RefNorm>),
    mlp_norms: (Option<RefNorm>, Option<RefNorm>),
    q_norm: Option<RefNorm>,
    k_norm: Option<RefNorm>,
}

#[derive(Clone)]
struct RefTransformer {
    cfg: StackConfig,
    embed: Vec<f64>,
    blocks: Vec<RefTransformerBlock>,
    final_norm: Option<RefNorm>,
    head: Vec<f64>,
}

/// `x [rows, k] @ w [k, cols]`.
fn matmul(x: &[f64], w: &[f64], k: usize, cols: usize) -> Vec<f64> {
    let rows = x.len() / k;
    let mut y = vec![0.0; rows * cols];
    for r in 0..rows {
        for i in 0..k {
            let xi = x[r * k + i];
            for j in 0..cols {
                y[r * cols + j] += xi * w[i * cols + j];
            }
        }
    }
    y
}

/// A norm on every `dim`-wide row of `x`.
fn norm_rows(n: &Option<RefNorm>, x: Vec<f64>, dim: usize) -> Vec<f64> {
    match n {
        Some(n) => x.chunks(dim).flat_map(|row| n.forward(row).0).collect(),
        None => x,
    }
}

impl RefTransformer {
    fn from(stack: &DeepStack, cfg: &StackConfig) -> Self {
        let norm = |n: &Option<Norm>| {
            n.as_ref().map(|n| {
                let gain = values(n.gain.val());
                RefNorm {
                    layer: n.kind == NormKind::LayerNorm,
                    bias: n.bias.as_ref().map_or(vec![0.0; gain.len()], |b| values(b.val())),
                    gain,
                }
            })
        };
        let blocks = stack
            .blocks
            .iter()
            .map(|b| {
                let a = b.attention.as_ref().expect("transformer blocks");
                RefTransformerBlock {
                    mats: [&a.w_q, &a.w_k, &a.w_v, &a.w_o, &b.w_in, &b.w_out]
                        .iter()
                        .map(|w| values(w.val()))
                        .collect(),
                    b_in: values(b.b_in.val()),
                    b_out: values(b.b_out.val()),
                    attn_norms: (norm(&a.norm_in), norm(&a.norm_out)),
                    mlp_norms: (norm(&b.norm_in), norm(&b.norm_out)),
                    q_norm: norm(&a.q_norm),
                    k_norm: norm(&a.k_norm),
                }
            })
            .collect();
        RefTransformer {
            cfg: cfg.clone(),
            embed: values(stack.input.val()),
            blocks,
            final_norm: norm(&stack.final_norm),
            head: values(stack.head.val()),
        }
    }

    /// One sublayer: x + F(N(x)) (Pre), N(x + F(x)) (Post), x + N(F(N(x))) (Peri).
    fn sublayer(
        &self,
        h: Vec<f64>,
        norms: &(Option<RefNorm>, Option<RefNorm>),
        mut branch: impl FnMut(&[f64]) -> Vec<f64>,
    ) -> Vec<f64> {
        let w = self.cfg.width;
        let placement = self.cfg.norm;
        let input = norm_rows(&norms.0, h.clone(), w);
        let mut f = branch(&input);
        if placement == NormPlacement::Peri {
            f = norm_rows(&norms.1, f, w);
        }
        let out: Vec<f64> = h.iter().zip(&f).map(|(a, b)| a + b).collect();
        if placement == NormPlacement::Post { norm_rows(&norms.1, out, w) } else { out }
    }

    /// Causal multi-head attention of `u [rows, w]`, and its largest logit.
    fn attention(&self, blk: &RefTransformerBlock, u: &[f64]) -> (Vec<f64>, f64) {
        let (w, heads, s) = (self.cfg.width, self.cfg.heads, self.cfg.seq_len);
        let dh = w / heads;
        let q = norm_rows(&blk.q_norm, matmul(u, &blk.mats[0], w, w), dh);
        let k = norm_rows(&blk.k_norm, matmul(u, &blk.mats[1], w, w), dh);
        let v = matmul(u, &blk.mats[2], w, w);
        let rows = u.len() / w;
        let mut z = vec![0.0; rows * w];
        let mut max_logit = f64::NEG_INFINITY;
        for e in 0..rows / s {
            for hd in 0..heads {
                for i in 0..s {
                    let at = |t: &[f64], pos: usize, d: usize| t[(e * s + pos) * w + hd * dh + d];
                    let logits: Vec<f64> = (0..=i)
                        .map(|j| (0..dh).map(|d| at(&q, i, d) * at(&k, j, d)).sum::<f64>())
                        .map(|dot| dot / (dh as f64).sqrt())
                        .collect();
                    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    max_logit = max_logit.max(m);
                    let weights: Vec<f64> = logits.iter().map(|l| (l - m).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for d in 0..dh {
                        z[(e * s + i) * w + hd * dh + d] =
                            (0..=i).map(|j| weights[j] / total * at(&v, j, d)).sum::<f64>();
                    }
                }
            }
        }
        (matmul(&z, &blk.mats[3], w, w), max_logit)
    }

    /// The loss (cross-entropy on the scored rows + z · mean (log Z)²) and each block's max
    /// attention logit.
    fn loss(&self, x: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
        let (w, d_in, d_out) = (self.cfg.width, self.cfg.input_dim, self.cfg.output_dim);
        let mut h = matmul(x, &self.embed, d_in, w);
        let mut maxima = Vec::new();
        for blk in &self.blocks {
            let mut m = 0.0;
            h = self.sublayer(h, &blk.attn_norms, |u| {
                let (out, top) = self.attention(blk, u);
                m = top;
                out
            });
            maxima.push(m);
            h = self.sublayer(h, &blk.mlp_norms, |u| {
                let pre = matmul(u, &blk.mats[4], w, w);
                let a: Vec<f64> = pre
                    .chunks(w)
                    .flat_map(|r| {
                        r.iter().zip(&blk.b_in).map(|(p, b)| act(self.cfg.activation, p + b))
                    })
                    .collect();
                let f = matmul(&a, &blk.mats[5], w, w);
                f.chunks(w).flat_map(|r| r.iter().zip(&blk.b_out).map(|(v, b)| v + b)).collect()
            });
        }
        let h = norm_rows(&self.final_norm, h, w);
        let logits = matmul(&h, &self.head, w, d_out);
        let z_weight = match self.cfg.objective {
            Objective::Classification { z_loss } => z_loss,
            Objective::Regression => unreachable!("transformer stacks classify"),
        };
        let (mut ce, mut z, mut scored) = (0.0, 0.0, 0.0);
        for (row, target) in logits.chunks(d_out).zip(y.chunks(d_out)) {
            if target.iter().sum::<f64>() == 0.0 {
                continue;
            }
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let log_z = m + row.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
            ce += row.iter().zip(target).map(|(l, t)| t * (log_z - l)).sum::<f64>();
            z += log_z * log_z;
            scored += 1.0;
        }
        ((ce + z_weight * z) / scored, maxima)
    }
}

fn transformer_config(norm: NormPlacement, qk_norm: bool, z_loss: f64) -> StackConfig {
    StackConfig {
        input_dim: 3 + 1 + 6, // vocab 3, the separator, 6 positions
        output_dim: 3,
        depth: 2,
        width: 8,
        norm,
        norm_kind: NormKind::LayerNorm,
        mix_ratio: 0.5,
        residual: ResidualScale::One,
        init: InitKind::Xavier,
        gain: 2.0,
        activation: Activation::Gelu,
        block: BlockKind::Transformer,
        heads: 2,
        qk_norm,
        seq_len: 6,
        objective: Objective::Classification { z_loss },
    }
}

/// Tiny transformer stacks (depth 2, width 8, 2 heads of 4, copying 3 tokens of 3 symbols, 4
/// sequences): under Post-, Pre- and Peri-LN, with and without qk-LayerNorm and the z-loss,
/// the model's f32 loss and max attention logits equal the float64 forward above to 1e-5
/// relative, and its per-tensor gradient norms ‖∂L/∂W‖ (autodiff, f32) equal those of central
/// finite differences of the float64 loss (step 1e-6; every entry of every matrix) to 1e-3
/// relative + 1e-6 (f32 rounding of the backward).
#[test]
fn transformer_gradients_match_finite_differences_of_a_float64_forward() {
    let device = device();
    let task =
        FlowTask { kind: FlowTaskKind::Copy, vocab: 3, copy_length: 3, ..FlowTask::default() };
    let configs = [
        (NormPlacement::Pre, true, 0.0),
        (NormPlacement::Pre, false, 0.1),
        (NormPlacement::Post, true, 0.1),
        (NormPlacement::Post, false, 0.0),
        (NormPlacement::Peri, true, 0.0),
    ];
    for (k, (norm, qk_norm, z_loss)) in configs.into_iter().enumerate() {
        let what = format!("{norm:?}, qk-norm {qk_norm}, z-loss {z_loss}");
        let cfg = transformer_config(norm, qk_norm, z_loss);
        let stack = cfg.init_with(&mut ChaCha8Rng::seed_from_u64(k as u64), &device);
        let (x, y) =
            Teacher::new(&task, 0).copy_sequences(4, &mut stream(k as u64, Stream::FlowInputs));
        let rows = 4 * 6;
        let to = |v: &[f32], c: usize| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), [rows, c]), &device)
        };
        let (out, trace) = stack.forward_traced(to(&x, cfg.input_dim));
        let loss = stack.objective_loss(out, to(&y, cfg.output_dim));
        let got_loss = values(loss.clone())[0];
        let got_max: Vec<f64> = trace.max_logits.iter().map(|m| values(m.clone())[0]).collect();
        let got_norms = values(tensor_grad_norms(&stack, &loss.backward())); // [L·6]

        let (x64, y64): (Vec<f64>, Vec<f64>) =
            (x.iter().map(|&v| v as f64).collect(), y.iter().map(|&v| v as f64).collect());
        let reference = RefTransformer::from(&stack, &cfg);
        let (want_loss, want_max) = reference.loss(&x64, &y64);
        assert!(
            (got_loss - want_loss).abs() <= 1e-5 * want_loss,
            "{what}: loss {got_loss} vs {want_loss}"
        );
        for (g, w) in got_max.iter().zip(&want_max) {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}: max logit {g} vs {w}");
        }
        assert_eq!(got_max.len(), 2);
        let mut probe = reference.clone();
        let h = 1e-6;
        for l in 0..2 {
            for t in 0..6 {
                let mut squares = 0.0;
                for e in 0..64 {
                    probe.blocks[l].mats[t][e] += h;
                    let up = probe.loss(&x64, &y64).0;
                    probe.blocks[l].mats[t][e] -= 2.0 * h;
                    let down = probe.loss(&x64, &y64).0;
                    probe.blocks[l].mats[t][e] += h;
                    squares += ((up - down) / (2.0 * h)).powi(2);
                }
                let (got, want) = (got_norms[l * 6 + t], squares.sqrt());
                assert!(
                    (got - want).abs() <= 1e-3 * want + 1e-6,
                    "{what}: block {l}, {}: ‖∂L/∂W‖ {got} vs finite differences {want}",
                    BlockKind::Transformer.tensors()[t]
                );
            }
        }
    }
}

/// The `attention-logit-growth` preset (Pre-LN, 2 blocks, 4 heads, copying 8 of 16 symbols,
/// AdamW at lr 0.1) shrunk to width 32 and 150 steps: the largest attention logit without
/// qk-LayerNorm is above 1000 (7·10³–10⁴ measured, from ~4 at init), and with it below 50
/// (≤ 29 measured), for seeds 0–2.
#[test]
fn qk_layernorm_bounds_the_attention_logits_at_high_lr() {
    let device = device();
    let Some(ExperimentSpec::GradientFlow(preset)) =
        presets::find("attention-logit-growth").map(|p| p.spec)
    else {
        panic!("the attention-logit-growth preset is a gradient-flow spec")
    };
    assert_eq!(preset.optimizer.lr, 0.1);
    for seed in 0..3 {
        let mut spec = preset.clone();
        spec.seed = seed;
        spec.training = TrainingSpec { steps: 150, batch_size: 32, eval_every: 150 };
        for m in spec.models.values_mut() {
            m.width = 32;
        }
        spec.validate().unwrap();
        let mut experiment = GradientFlowExperiment::new(&spec, &device);
        for step in 0..150 {
            experiment.train_step(step == 149);
        }
        let (tensor, layout) = experiment.metrics_tensor();
        let numbers: Vec<f32> = tensor.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        let record = experiment.record(&layout, &numbers, 0.0);
        let s = &record.lab;
        let max = |name: &str| {
            (1..=2).map(|l| s.series[&format!("{name}.max_logit.{l:02}")]).fold(f64::MIN, f64::max)
        };
        let (plain, qk) = (max("plain"), max("qk-layernorm"));
        assert!(plain > 1000.0, "seed {seed}: without qk-LayerNorm the max logit is only {plain}");
        assert!(qk < 50.0, "seed {seed}: with qk-LayerNorm the max logit reached {qk}");
    }
}
