//! Named, published runs. Each preset cites its source and says what a user should see.
//! `docs/science.md` §1 has the table they reproduce; `docs/reproductions.md` the
//! measured outcomes.

use super::scans::{MixerKind, ScanModelSpec};
use super::*;

/// A named spec with its provenance.
#[derive(Clone, Debug)]
pub struct Preset {
    /// CLI name (`gradscope run doshi-quick-grok`).
    pub name: &'static str,
    pub title: &'static str,
    /// Paper and code the settings come from.
    pub source: &'static str,
    /// What the user should expect to see, with the published numbers.
    pub expect: &'static str,
    pub spec: ExperimentSpec,
}

/// The default run: Doshi et al., "To grok or not to grok" (2023), d-doshi/Grokking.
pub fn default_preset() -> Preset {
    Preset {
        name: "doshi-quick-grok",
        title: "Doshi et al. quick grok (MLP x², MSE, AdamW wd 5)",
        source: "Doshi, Das, Gromov et al. 2023, 'To grok or not to grok'; d-doshi/Grokking",
        expect: "p = 97 addition, half the pairs for training. Train accuracy reaches 1.0 near \
                 epoch 28 (memorization); test accuracy follows: 0.93 at 38, 0.987 at 40, 1.0 at \
                 44 — grokking compressed into a few dozen epochs by weight decay 5.",
        spec: ExperimentSpec::Grokking(GrokkingSpec::default()),
    }
}

/// Prieto et al.'s MLP: one-hot(a) ⊕ one-hot(b) → 200 → 200 → p, ReLU, no bias, PyTorch init,
/// p = 113, 40% of the pairs for training, cross-entropy, full batch.
fn prieto_mlp() -> GrokkingSpec {
    GrokkingSpec {
        seed: 0,
        task: ModularTask { p: 113, train_frac: 0.4, ..ModularTask::default() },
        model: GrokkingModel::Mlp(MlpSpec {
            width: 200,
            depth: 2,
            activation: Activation::Relu,
            bias: false,
            init: InitScheme::TorchDefault,
            ..MlpSpec::default()
        }),
        loss: LossSpec { kind: LossKind::CrossEntropy, ..LossSpec::default() },
        optimizer: OptimizerSpec {
            lr: 1e-2,
            weight_decay: 0.0,
            beta2: 0.99,
            eps: 1e-25,
            ..OptimizerSpec::default()
        },
        training: TrainingSpec { steps: 1000, batch_size: 0, eval_every: 5 },
    }
}

/// A transformer on [a, b, =] with Nanda et al.'s optimizer: AdamW 1e-3, wd 1, β (0.9, 0.98),
/// 10-step warm-up.
fn transformer_run(
    task: ModularTask,
    model: TransformerSpec,
    training: TrainingSpec,
) -> GrokkingSpec {
    GrokkingSpec {
        seed: 0,
        task,
        model: GrokkingModel::Transformer(model),
        loss: LossSpec { kind: LossKind::CrossEntropy, ..LossSpec::default() },
        optimizer: OptimizerSpec {
            lr: 1e-3,
            weight_decay: 1.0,
            beta1: 0.9,
            beta2: 0.98,
            warmup_steps: 10,
            ..OptimizerSpec::default()
        },
        training,
    }
}

/// Kumar et al.'s lazy → rich setting: an x² MLP trained by full-batch SGD on MSE with a
/// centered output f = α·(f_θ − f_θ₀) and lr / α².
fn kumar(alpha: f64) -> GrokkingSpec {
    GrokkingSpec {
        seed: 0,
        // Kumar et al. train on 90% of p = 23; 80% keeps a test set of 106 pairs.
        task: ModularTask { p: 23, train_frac: 0.8, ..ModularTask::default() },
        model: GrokkingModel::Mlp(MlpSpec { width: 512, ..MlpSpec::default() }),
        loss: LossSpec {
            kind: LossKind::Mse,
            output_scale: alpha,
            center: true,
            ..LossSpec::default()
        },
        optimizer: OptimizerSpec {
            kind: OptimizerKind::Sgd,
            lr: 5.0,
            weight_decay: 0.0,
            ..OptimizerSpec::default()
        },
        training: TrainingSpec { steps: 4000, batch_size: 0, eval_every: 20 },
    }
}

/// Every preset, default first.
pub fn all() -> Vec<Preset> {
    let doshi_noise = GrokkingSpec {
        task: ModularTask { label_noise: 0.3, ..ModularTask::default() },
        training: TrainingSpec { steps: 300, ..TrainingSpec::default() },
        ..GrokkingSpec::default()
    };
    let orthograd = GrokkingSpec {
        // orthograd.py builds its inner AdamW without the script's beta2/eps: torch defaults.
        optimizer: OptimizerSpec {
            orthograd: true,
            beta2: 0.999,
            eps: 1e-8,
            ..prieto_mlp().optimizer
        },
        training: TrainingSpec { steps: 300, batch_size: 0, eval_every: 1 },
        ..prieto_mlp()
    };
    let collapse = GrokkingSpec {
        optimizer: OptimizerSpec { lr: 5e-4, ..prieto_mlp().optimizer },
        training: TrainingSpec { steps: 4000, batch_size: 0, eval_every: 10 },
        ..prieto_mlp()
    };
    let stablemax = GrokkingSpec {
        loss: LossSpec {
            kind: LossKind::Stablemax,
            precision: Precision::F64,
            ..LossSpec::default()
        },
        optimizer: OptimizerSpec { lr: 1e-2, beta2: 0.999, ..prieto_mlp().optimizer },
        training: TrainingSpec { steps: 80_000, batch_size: 0, eval_every: 100 },
        ..prieto_mlp()
    };
    let nanda = transformer_run(
        ModularTask { p: 113, train_frac: 0.3, ..ModularTask::default() },
        TransformerSpec::default(),
        TrainingSpec { steps: 25_000, batch_size: 0, eval_every: 100 },
    );
    let power = transformer_run(
        ModularTask { op: ModOp::Div, p: 97, train_frac: 0.5, ..ModularTask::default() },
        TransformerSpec { layers: 2, layer_norm: true, ..TransformerSpec::default() },
        TrainingSpec { steps: 10_000, batch_size: 512, eval_every: 50 },
    );
    let pair = GrokkingSpec {
        seed: 0,
        task: ModularTask {
            p: 67,
            train_frac: 0.4,
            pairs: PairSet::Unordered,
            ..ModularTask::default()
        },
        model: GrokkingModel::Mlp(MlpSpec {
            input: MlpInput::Embedding(EmbeddingSpec {
                dim: 500,
                tied: true,
                shared_input_layer: true,
                tied_output: true,
            }),
            width: 24,
            depth: 1,
            activation: Activation::Relu,
            bias: false,
            init: InitScheme::Haiku,
            init_scale: 1.0,
        }),
        // The notebook's loss is −mean(one_hot · log_softmax): cross-entropy / 67.
        loss: LossSpec { kind: LossKind::CrossEntropy, class_mean: true, ..LossSpec::default() },
        optimizer: OptimizerSpec { lr: 1e-3, weight_decay: 1.0, ..OptimizerSpec::default() },
        training: TrainingSpec { steps: 50_000, batch_size: 0, eval_every: 100 },
    };

    let g = ExperimentSpec::Grokking;
    let mut presets = vec![
        default_preset(),
        Preset {
            name: "doshi-label-noise",
            title: "Doshi et al. with label corruption ξ = 0.3",
            source: "Doshi, Das, Gromov et al. 2023, 'To grok or not to grok' (§ label \
                     corruption); d-doshi/Grokking utils/datasets.py",
            expect: "The quick-grok run with 30% of the training labels replaced by wrong ones. \
                     It first memorizes every training label, corrupted ones included (step \
                     ~25); then weight decay makes it forget the noise: test accuracy climbs to \
                     1.0 (step ~116) while the corrupted-label fit falls from 1.0 to ~0.1 and \
                     train accuracy settles near 0.73 — the corrupted pairs are predicted by the \
                     rule (grid: teal). The remaining memorizing neurons have low IPR: pruning \
                     the lowest 30% lifts clean train accuracy from 0.97 to 1.0 (Doshi et al.).",
            spec: g(doshi_noise),
        },
        Preset {
            name: "prieto-orthograd",
            title: "Prieto et al. ⊥Grad: grokking without weight decay",
            source: "Prieto, Barsbey, Mediano, Birdal 2025, 'Grokking at the edge of numerical \
                     stability'; LucasPrietoAl/grokking-at-the-edge-of-numerical-stability \
                     orthograd.py",
            expect: "MLP 200-200 on p = 113 addition, cross-entropy, AdamW with no weight decay, \
                     wrapped in ⊥Grad (the gradient's component along the weights removed). The \
                     paper reports test accuracy ≈ 100% within 300 epochs (a PyTorch run here: \
                     1.0 by epoch 125; gradscope: 0.99 at 104, 1.0 at 186). cos(g, w) of the raw \
                     gradient sits near −0.8: that is the naïve-loss-minimization component \
                     ⊥Grad strips before every step. The Fourier view sparsifies to ~6 key \
                     frequencies.",
            spec: g(orthograd),
        },
        Preset {
            name: "prieto-softmax-collapse",
            title: "Prieto et al. softmax collapse (float32 softmax, no weight decay)",
            source: "Prieto, Barsbey, Mediano, Birdal 2025, 'Grokking at the edge of numerical \
                     stability' (§ softmax collapse); logger.py",
            expect: "The same MLP with plain float32 cross-entropy, lr 5e-4 and no weight decay. \
                     It memorizes (train accuracy 1.0 within a few hundred epochs), then the \
                     logits grow along the naïve-loss-minimization direction until the softmax \
                     rounds to exactly one-hot: the softmax-collapse fraction climbs (paper: \
                     past 0.5; PyTorch here: 0.35 at 3k epochs), the train loss hits ~1e-7 and \
                     stops, and test accuracy never rises. Switch the loss to StableMax to see \
                     the collapse vanish.",
            spec: g(collapse),
        },
        Preset {
            name: "prieto-stablemax",
            title: "Prieto et al. StableMax: grokking without weight decay (long)",
            source: "Prieto, Barsbey, Mediano, Birdal 2025, 'Grokking at the edge of numerical \
                     stability'; utils.py (stablemax, float64)",
            expect: "StableMax cross-entropy in float64, AdamW lr 1e-2, β₂ 0.999, no weight \
                     decay. No softmax collapse: the loss keeps giving gradient, and the network \
                     groks without any regularization, slowly: test accuracy stays near chance \
                     for ~25k epochs while ‖w‖ grows, then climbs (the paper: 0.55 at 35k, 0.94 \
                     at 50k; here slower, see docs/reproductions.md). A long CPU (float64) run, \
                     best done with the CLI; on WebGPU switch precision to f32.",
            spec: g(stablemax),
        },
        Preset {
            name: "nanda-1l-transformer",
            title: "Nanda et al. 1-layer transformer, p = 113 (long)",
            source: "Nanda, Chan, Lieberum, Smith, Steinhardt 2023, 'Progress measures for \
                     grokking via mechanistic interpretability'; progress-measures-paper \
                     transformers.py",
            expect: "Tokens [a, b, =], d_model 128, 4 heads, d_mlp 512, no LayerNorm, 30% of the \
                     pairs, AdamW 1e-3 wd 1. Train accuracy hits 1.0 by epoch 200 while test \
                     accuracy stays below 0.1 (pure memorization), then climbs as the weight \
                     norm falls: test ≥ 0.99 at epoch 4.6k in our float32 CLI run, against \
                     the paper's ≈10k (docs/reproductions.md says why); loss.precision f64 \
                     (CPU) gives Nanda's float64 loss. The Fourier \
                     view of the embedding sparsifies to a handful of key frequencies (the \
                     paper's seed: 14, 35, 41, 42, 52). Best run with the CLI (`gradscope run \
                     nanda-1l-transformer --out nanda.jsonl`) and loaded here. Runs and files \
                     from before 2026-11-27 used an inverted causal mask (a bag of tokens).",
            spec: g(nanda),
        },
        Preset {
            name: "power-division",
            title: "Power et al. division a ÷ b mod 97, 2-layer transformer (long)",
            source: "Power, Burda, Edwards, Babuschkin, Misra 2022, 'Grokking: generalization \
                     beyond overfitting on small algorithmic datasets'; openai/grok",
            expect: "2 layers, d_model 128, 4 heads, 50% of the pairs, minibatches of 512, AdamW \
                     1e-3 wd 1. Train accuracy reaches 100% by step 300 while test accuracy \
                     stays at chance for far longer, then climbs past 99% (step 2250 in our \
                     CLI run) — the original grokking curve, with brief loss spikes along the \
                     way. (Pre-LayerNorm and learned positions here; the paper's code uses \
                     post-LN and sinusoidal positions.) Runs and files from before 2026-11-27 \
                     used an inverted causal mask.",
            spec: g(power),
        },
        Preset {
            name: "kumar-rich",
            title: "Kumar et al. rich regime (output scale α = 1)",
            source: "Kumar, Bordelon, Gershman, Pehlevan 2024, 'Grokking as the transition from \
                     lazy to rich training dynamics'",
            expect: "x² MLP on p = 23, full-batch SGD on MSE, no weight decay, centered output \
                     f = α·(f_θ − f_θ₀) with lr / α². At α = 1 the features move: train accuracy \
                     reaches 1.0 by ~500 steps, test accuracy sits at 0 until ~1500, then \
                     generalizes by ~2000 as the weight norm grows from 9 to 22 (rich \
                     learning). Pin it, then load kumar-lazy to compare.",
            spec: g(kumar(1.0)),
        },
        Preset {
            name: "kumar-lazy",
            title: "Kumar et al. lazy regime (output scale α = 10)",
            source: "Kumar, Bordelon, Gershman, Pehlevan 2024, 'Grokking as the transition from \
                     lazy to rich training dynamics'",
            expect: "The same run at α = 10: the weights barely move (‖w‖ 9.3 → 9.6 over 4000 \
                     steps), so the network fits the training set with its initial features \
                     (kernel regime) and test accuracy stays at 0 — the larger α, the later \
                     grokking (α = 3 has not generalized by step 4000 either).",
            spec: g(kumar(10.0)),
        },
        Preset {
            name: "pair-tiny-mlp",
            title: "PAIR explorable's tiny MLP (p = 67, 24 neurons)",
            source: "Pearce, Ghandeharioun, Hussein, Thain, Wattenberg, Dixon 2023, 'Do machine \
                     learning models memorize or generalize?' (PAIR explorable); \
                     PAIR-code/ai-explorables server-side/grokking/MLP_Modular_Addition.ipynb",
            expect: "Pairs a ≤ b mod 67, 40% for training, a tied 500-wide embedding (also the \
                     unembedding), 24 ReLU neurons shared by a and b, cross-entropy / 67, AdamW \
                     1e-3 wd 1: the notebook's settings. Train accuracy hits 1.0 within ~400 \
                     steps and ‖w‖ peaks near 54; then weight decay slowly shrinks the weights \
                     while test accuracy sits at chance for ~35k steps, and jumps to 1.0 near \
                     step 44k (the notebook: 41.7k) as the embedding becomes a few Fourier \
                     frequencies.",
            spec: g(pair),
        },
    ];
    presets.extend(scans_presets());
    presets.extend(gradient_flow_presets());
    presets
}

/// The scans lab's models, named: S4D (plain), S4D in Mamba's gated block, Mamba.
fn scan_models(names: &[(&str, MixerKind)]) -> std::collections::BTreeMap<String, ScanModelSpec> {
    names.iter().map(|(n, m)| (n.to_string(), ScanModelSpec::with_mixer(*m))).collect()
}

/// The scans lab's presets (Gu & Dao 2023, Gu et al. 2022).
fn scans_presets() -> Vec<Preset> {
    use super::scans::*;
    let base = ScansSpec::default();
    let copying = ScansSpec {
        models: scan_models(&[
            ("s4d", MixerKind::S4d),
            ("gated-s4d", MixerKind::GatedS4d),
            ("mamba", MixerKind::Mamba),
        ]),
        ..base.clone()
    };
    let kernels = ScansSpec {
        models: [S4dInit::Lin, S4dInit::Inv, S4dInit::Real]
            .into_iter()
            .map(|init| {
                let m = ScanModelSpec {
                    s4d_init: init,
                    d_state: 32,
                    ..ScanModelSpec::with_mixer(MixerKind::S4d)
                };
                (format!("s4d-{}", init.name()), m)
            })
            .collect(),
        training: TrainingSpec { steps: 200, ..base.training.clone() },
        ..base.clone()
    };
    let selectivity =
        ScansSpec { models: scan_models(&[("mamba", MixerKind::Mamba)]), ..base.clone() };
    let race = ScansSpec {
        models: ScanMethod::ALL
            .into_iter()
            .map(|scan| {
                (scan.name().to_string(), ScanModelSpec { scan, ..ScanModelSpec::default() })
            })
            .collect(),
        training: TrainingSpec { steps: 100, ..base.training.clone() },
        ..base.clone()
    };
    let induction = ScansSpec {
        task: MemoryTask { kind: TaskKind::InductionHeads, len: 64, vocab: 16, data_tokens: 1 },
        models: scan_models(&[("s4d", MixerKind::S4d), ("mamba", MixerKind::Mamba)]),
        eval: EvalSpec { sequences: 256, extrapolation: 4 },
        ..base.clone()
    };
    let decay = ScansSpec {
        task: MemoryTask { len: 256, ..base.task },
        models: scan_models(&[("s4d", MixerKind::S4d), ("mamba", MixerKind::Mamba)]),
        training: TrainingSpec { steps: 300, batch_size: 16, eval_every: 25 },
        eval: EvalSpec { sequences: 64, extrapolation: 1 },
        ..base.clone()
    };
    let s = ExperimentSpec::Scans;
    vec![
        Preset {
            name: "selective-copying",
            title: "Selective copying: S4D vs gated S4D vs Mamba",
            source: "Gu & Dao 2023, 'Mamba', §4.1.1 and Table 1; state-spaces/mamba",
            expect: SELECTIVE_COPYING_EXPECT,
            spec: s(copying),
        },
        Preset {
            name: "s4d-kernels",
            title: "S4D kernels under different inits (Lin, Inv, Real)",
            source: "Gu, Gupta, Goel & Ré 2022, 'On the Parameterization and Initialization of \
                     Diagonal State Space Models'; state-spaces/s4 models/s4/s4d.py",
            expect: "Three S4D models that differ only in A's init. The kernel view shows each \
                     first channel's impulse response K_ℓ: S4D-Lin (A_n = −½ + iπn) and S4D-Inv \
                     oscillate (their imaginary parts are frequencies), S4D-Real (A_n = −(n+1)) \
                     decays without oscillating. The eigenvalue view puts Ā = exp(ΔA) inside the \
                     unit circle: radius e^{−Δ/2} for Lin and Inv, e^{−Δ(n+1)} for Real.",
            spec: s(kernels),
        },
        Preset {
            name: "mamba-selectivity",
            title: "Selectivity: Δ on a copying input",
            source: "Gu & Dao 2023, 'Mamba', §3.5.2 (Δ as a selection mechanism)",
            expect: SELECTIVITY_EXPECT,
            spec: s(selectivity),
        },
        Preset {
            name: "scan-race",
            title: "Scan race: sequential, parallel and chunked scans train the same Mamba",
            source: "Blelloch 1990 (prefix sums); Gu & Dao 2023 §3.3; alxndrTL/mamba.py pscan.py",
            expect: "Three Mamba models identical but for how the selective scan is computed. \
                     Their curves lie on top of each other (the scans agree to float rounding), \
                     while the speed differs: run the scan race below for time per \
                     forward+backward against sequence length on this device.",
            spec: s(race),
        },
        Preset {
            name: "induction-heads",
            title: "Induction heads: train at L = 64, test at 4L",
            source: "Gu & Dao 2023, 'Mamba', §4.1.2 and Table 2; Olsson et al. 2022",
            expect: INDUCTION_EXPECT,
            spec: s(induction),
        },
        Preset {
            name: "memory-decay",
            title: "Memory decay: S4D vs Mamba",
            source: "Gu & Dao 2023 §3.5; ‖∂y_T/∂u_t‖ by autodiff",
            expect: "The memory-decay view plots ‖∂y_T/∂u_t‖ (by autodiff, through the whole \
                     model) against T − t on a log scale, for S4D and Mamba on 256-token copying \
                     inputs. A single S4D layer's curve is exactly |K_{T−t}|, a fixed decay set \
                     by |Ā| and Δ (tests/native/ssm.rs checks this); Mamba's curve depends on the input, \
                     so it changes from one example to the next and as training moves Δ, B, C.",
            spec: s(decay),
        },
    ]
}

const SELECTIVE_COPYING_EXPECT: &str = "8 data tokens (8 symbols) scattered among noise in 64 \
    positions, copied in order at the end. The paper (L = 4096, 2 layers, D = 64): S4 18.3%, S4 \
    in a gated block ≈57%, Mamba 99.8%. Here (native, 1000 steps): all three near chance for \
    ~150 steps; the gated LTI block learns first, Mamba passes it at ~950 steps — held-out \
    accuracy 0.74 (Mamba), 0.69 (gated S4D), 0.46 (S4D): the paper's order, smaller gaps at L = 64.";
const SELECTIVITY_EXPECT: &str = "One Mamba on selective copying. The Δ view shows Δ_t on a \
    held-out sequence (first layer, mean over channels; data tokens marked): a large Δ resets \
    the state to the current token, a small one keeps it. Watch whether Δ becomes input-dependent: \
    in a 1000-step native run of the selective-copying preset the first layer's mean Δ stayed \
    flat (0.0227 on data tokens and on noise) while Mamba reached 0.74 — at this size its \
    selection ran through the input-dependent B_t and C_t (the state view) rather than Δ.";
const INDUCTION_EXPECT: &str = "A trigger token followed by a value, somewhere in 64 random \
    tokens (16 symbols); the sequence ends with the trigger and the answer is that value. The \
    paper: Mamba trained at L = 256 extrapolates to 2²⁰, S4-based models do not. Here (native): \
    Mamba jumps from chance to 1.0 between steps 400 and 600 and answers 100% at 128 and 256 \
    tokens too (the extrapolation view); S4D stays at chance (1/16) at every length.";

/// Looks a preset up by name.
/// The gradient-flow lab's presets (`docs/science.md` §3).
fn gradient_flow_presets() -> Vec<Preset> {
    use super::gradient_flow::*;
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
    let g = ExperimentSpec::GradientFlow;
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

pub fn find(name: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.name == name)
}

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
