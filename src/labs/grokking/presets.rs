//! The grokking lab's named, published runs. Each preset cites its source and says what a user
//! should see. `docs/science.md` §1 has the table they reproduce; `docs/reproductions.md` the
//! measured outcomes.

use super::spec::*;
use crate::spec::{OptimizerKind, OptimizerSpec, Preset, TrainingSpec};

/// The default run: Doshi et al., "To grok or not to grok" (2023), d-doshi/Grokking.
pub fn default_preset() -> Preset<GrokkingSpec> {
    Preset {
        name: "doshi-quick-grok",
        title: "Doshi et al. quick grok (MLP x², MSE, AdamW wd 5)",
        source: "Doshi, Das, Gromov et al. 2023, 'To grok or not to grok'; d-doshi/Grokking",
        expect: "p = 97 addition, half the pairs for training. Train accuracy reaches 1.0 near \
                 epoch 28 (memorization); test accuracy follows: 0.93 at 38, 0.987 at 40, 1.0 at \
                 44 — grokking compressed into a few dozen epochs by weight decay 5.",
        spec: GrokkingSpec::default(),
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

/// The grokking lab's presets, the default first.
pub fn presets() -> Vec<Preset<GrokkingSpec>> {
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

    let g = |spec: GrokkingSpec| spec;
    vec![
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
    ]
}
