//! The gradient-flow lab's named runs (`docs/science.md` §3).

use super::spec::*;
use crate::spec::{OptimizerKind, OptimizerSpec, Preset, TrainingSpec};

/// The gradient-flow lab's presets (`docs/science.md` §3).
pub fn presets() -> Vec<Preset<GradientFlowSpec>> {
    let base = GradientFlowSpec::default();
    let named = |stacks: Vec<(&str, StackSpec)>| -> std::collections::BTreeMap<String, StackSpec> {
        stacks.into_iter().map(|(n, m)| (n.to_string(), m)).collect()
    };
    let at24 = |norm| StackSpec { depth: 24, norm, ..StackSpec::default() };
    let norms = GradientFlowSpec {
        models: named(vec![
            ("post-ln", at24(NormPlacement::Post)),
            ("pre-ln", at24(NormPlacement::Pre)),
            ("peri-ln", at24(NormPlacement::Peri)),
            ("mix-ln", at24(NormPlacement::Mix)),
        ]),
        ..base.clone()
    };
    // LeCun init: with scale 1 the residual stream's variance grows ×1.5 a block (1.5⁶⁴ ≈ 10¹¹),
    // which explodes without overflowing f32; Kaiming's ×2 would.
    let at64 = |residual| StackSpec {
        depth: 64,
        norm: NormPlacement::None,
        residual,
        init: InitKind::Lecun,
        ..StackSpec::default()
    };
    let residual = GradientFlowSpec {
        models: named(vec![
            ("scale-1", at64(ResidualScale::One)),
            ("scale-1-over-sqrt-l", at64(ResidualScale::InvSqrtDepth)),
            ("skipinit", at64(ResidualScale::SkipInit)),
        ]),
        ..base.clone()
    };
    let plain = |activation, init| StackSpec {
        depth: 32,
        width: 128,
        norm: NormPlacement::None,
        residual: ResidualScale::None,
        activation,
        init,
        ..StackSpec::default()
    };
    let selu = GradientFlowSpec {
        models: named(vec![
            ("selu-lecun", plain(Activation::Selu, InitKind::Lecun)),
            ("relu-kaiming", plain(Activation::Relu, InitKind::Kaiming)),
            ("relu-xavier", plain(Activation::Relu, InitKind::Xavier)),
        ]),
        ..base.clone()
    };
    let linear = |init, gain| StackSpec {
        depth: 16,
        width: 16,
        norm: NormPlacement::None,
        residual: ResidualScale::None,
        activation: Activation::Linear,
        init,
        gain,
        ..StackSpec::default()
    };
    let deep_linear = GradientFlowSpec {
        task: FlowTask {
            kind: FlowTaskKind::LowRankLinear,
            input_dim: 16,
            output_dim: 16,
            teacher_depth: 1,
            rank: 4,
            ..FlowTask::default()
        },
        models: named(vec![
            ("orthogonal", linear(InitKind::Orthogonal, 1.0)),
            ("gaussian", linear(InitKind::Lecun, 1.0)),
            ("gaussian-small", linear(InitKind::Lecun, 0.5)),
        ]),
        optimizer: OptimizerSpec {
            kind: OptimizerKind::Sgd,
            lr: DEEP_LINEAR_LR,
            weight_decay: 0.0,
            ..OptimizerSpec::default()
        },
        training: TrainingSpec { steps: 3000, batch_size: 64, eval_every: 25 },
        ..base.clone()
    };
    let attention = |qk_norm| StackSpec {
        depth: 2,
        width: 64,
        norm: NormPlacement::Pre,
        init: InitKind::Xavier,
        activation: Activation::Gelu,
        block: BlockKind::Transformer,
        heads: 4,
        qk_norm,
        ..StackSpec::default()
    };
    let attention_logits = GradientFlowSpec {
        task: FlowTask {
            kind: FlowTaskKind::Copy,
            vocab: 16,
            copy_length: 8,
            ..FlowTask::default()
        },
        models: named(vec![("plain", attention(false)), ("qk-layernorm", attention(true))]),
        optimizer: OptimizerSpec {
            kind: OptimizerKind::AdamW,
            lr: 0.1,
            weight_decay: 0.0,
            ..OptimizerSpec::default()
        },
        training: TrainingSpec { steps: 600, batch_size: 32, eval_every: 25 },
        ..base.clone()
    };
    let g = |spec: GradientFlowSpec| spec;
    vec![
        Preset {
            name: "norm-placement",
            title: "Pre-LN vs Post-LN vs Peri-LN vs Mix-LN at depth 24",
            source: "Xiong et al. 2020, 'On Layer Normalization in the Transformer Architecture'; \
                     Li et al. 2024, 'Mix-LN'; Kim et al. 2025, 'Peri-LN'",
            expect: NORM_PLACEMENT_EXPECT,
            spec: g(norms),
        },
        Preset {
            name: "residual-scaling",
            title: "Residual scaling at depth 64: 1, 1/√L, SkipInit",
            source: "De & Smith 2020, 'Batch Normalization Biases Residual Blocks Towards the \
                     Identity Function' (SkipInit); Hanin & Rolnick 2018",
            expect: RESIDUAL_SCALING_EXPECT,
            spec: g(residual),
        },
        Preset {
            name: "selu-vs-relu",
            title: "SELU self-normalizing vs ReLU, 32 plain layers",
            source: "Klambauer et al. 2017, 'Self-Normalizing Neural Networks'; He et al. 2015",
            expect: SELU_EXPECT,
            spec: g(selu),
        },
        Preset {
            name: "deep-linear-orthogonal",
            title: "Orthogonal vs Gaussian init in a deep linear net",
            source: "Saxe, McClelland & Ganguli 2014, 'Exact solutions to the nonlinear dynamics \
                     of learning in deep linear neural networks'",
            expect: DEEP_LINEAR_EXPECT,
            spec: g(deep_linear),
        },
        Preset {
            name: "attention-logit-growth",
            title: "Attention logit growth at high lr, fixed by qk-LayerNorm",
            source: "Wortsman et al. 2023, 'Small-scale proxies for large-scale Transformer \
                     training instabilities'; Dehghani et al. 2023 (ViT-22B, qk-LayerNorm)",
            expect: ATTENTION_LOGITS_EXPECT,
            spec: g(attention_logits),
        },
    ]
}

/// SGD's learning rate in the deep-linear preset.
const DEEP_LINEAR_LR: f64 = 0.002;

const NORM_PLACEMENT_EXPECT: &str = "Four stacks of 24 residual MLP blocks (width 64, ReLU, \
     Kaiming) that differ only in where LayerNorm sits, on teacher–student regression. At init \
     (step 0 of the heatmap) Post-LN's early blocks get 4.5× smaller gradients than its last \
     ones (first/last-quarter mean 2.2 vs 10: gradients vanish towards the input), Pre-LN's deep \
     blocks get slightly smaller ones than its early ones (3.7 vs 3.3, its residual stream grows \
     to RMS 5), and Mix-LN evens them out (5.4 vs 5.4). After 2000 AdamW steps the held-out loss \
     is 0.171 for Post-LN, 0.064 Pre-LN, 0.057 Peri-LN and 0.071 Mix-LN (seed 0).";
const RESIDUAL_SCALING_EXPECT: &str = "64 residual MLP blocks without normalization (LeCun init). \
     With branch scale 1 the residual stream's variance grows ×1.5 a block: activation RMS \
     reaches 4·10⁵ at the last block and the initial loss is 8·10¹¹ (still 22 after 2000 steps). \
     With 1/√L the RMS ends at 1.3 and the loss falls from 7.6 to 0.033. SkipInit (α = 0) starts \
     every block as the identity: the heatmap's first column is white (exactly zero gradient) \
     until the α's move; its loss falls from 5.4 to 0.10.";
const SELU_EXPECT: &str = "32 plain blocks (no residual, no norm), width 128. SELU with LeCun \
     init keeps activation RMS near 1 through depth at init (1.01 → 1.09), as does ReLU with \
     Kaiming init (1.02 → 1.08); ReLU with Xavier init halves the variance every block and the \
     signal is gone (RMS 10⁻⁵ at the last block, gradients ~10⁻⁵ and then 0): its loss never \
     moves from 1.054. In 2000 steps SELU and ReLU-Kaiming both train (held-out loss 7.5 → 0.66 \
     and 10.8 → 0.61).";
const ATTENTION_LOGITS_EXPECT: &str = "Two Pre-LN transformers (2 blocks, width 64, 4 heads) \
     learning to copy 8 tokens after a separator, trained by AdamW at lr 0.1, ten times a \
     comfortable rate. Without qk-LayerNorm the largest attention logit (the max-logit heatmap) \
     grows from 4 at init to 3.5·10³ by step 100 and 2·10⁵ by step 600: the softmax saturates \
     to one-hot and the held-out loss stays near chance (ln 16 = 2.77; 2.68 at step 600). With \
     LayerNorm on each head's queries and keys the logits stay below 32, and after a plateau \
     (2.58 at step 300) the copy is learned (10⁻⁵ by step 500). At lr 0.003 both learn (max \
     logit ~17 vs ~5). Seed 0.";
const DEEP_LINEAR_EXPECT: &str = "A deep linear network (16 blocks of two 16×16 matrices, no \
     nonlinearity) learning a rank-4 map with singular values 3, 2.25, 1.5, 0.75 by SGD (lr \
     0.002). Orthogonal init learns at once, without plateaus (held-out loss 16 → 0.46 at step \
     100 → 0.011 at 3000). Gaussian (LeCun) init learns in stages: plateaus near 4.1 and 1.3, \
     each ended by a sudden drop as the next singular mode is learned (1.47 at step 500, 0.28 at \
     1500, 0.079 at 3000) — Saxe et al.'s staircase. At half that scale the product of 32 \
     matrices starts near zero, a saddle: the loss stays at 8.36 for all 3000 steps.";
