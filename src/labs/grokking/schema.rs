//! The grokking lab's form: every field the page shows, with the ranges `validate()` checks
//! (`spec::schema` says how the page gets it).

use serde_json::json;

use super::spec::*;
use crate::spec::schema::{Choice, Field, Group, LabSchema, When};
use crate::spec::{OptimizerSpec, TrainingSpec, seed_field};

pub fn schema() -> LabSchema {
    let mlp = || When::present("grokking.model.mlp");
    let transformer = || When::present("grokking.model.transformer");
    let embedding = || When::present("grokking.model.mlp.input.embedding");
    let m = |name: &str| format!("grokking.model.mlp.{name}");
    let t = |name: &str| format!("grokking.model.transformer.{name}");
    let max = |n: usize| n as u64;
    let task = Group::new("Task", vec![
        Field::custom("grokking.task.op", "Operation", "operation").help(
            "The binary operation mod p to learn (Power et al. 2022); a ÷ b is a·b⁻¹, so b ≠ 0. \
             \"your own…\" takes an expression over a, b and p, previewed as a p × p grid of labels.",
        ),
        Field::int("grokking.task.p", "Modulus p (prime)", 3, MAX_MODULUS.into())
            .help("Prime modulus p: operands and answers are residues 0…p−1."),
        Field::float("grokking.task.train_frac", "Train fraction", TRAIN_FRAC)
            .help("Fraction of all (a, b) pairs used for training; the rest form the test set."),
        Field::float("grokking.task.label_noise", "Label noise ξ", LABEL_NOISE).help(
            "Label corruption ξ: share of training labels made wrong; test stays clean (Doshi et al. 2023).",
        ),
        Field::choice("grokking.task.pairs", "Pairs", &[("all", "all (a, b)"), ("unordered", "a ≤ b")]).help(
            "All (a, b), or only a ≤ b for commutative ops (+, ·, quad), as in the PAIR explorable (Pearce et al. 2023).",
        ),
    ]);
    let model = Group::new("Model", vec![
        Field::variant("grokking.model", "Architecture", vec![
            Choice::object("mlp", "MLP"),
            Choice::object("transformer", "Transformer"),
        ])
        .help("An MLP (Doshi et al. 2023) or a decoder-only transformer on [a, b, =] (Power et al. 2022; Nanda et al. 2023)."),
        Field::variant(&m("input"), "Input", vec![
            Choice::new("one_hot", "one-hot a ⊕ b"),
            Choice::object("embedding", "learned embedding"),
        ])
        .when(mlp())
        .help("One-hot(a) ⊕ one-hot(b), 2p wide (Doshi, Prieto), or learned embeddings of a and b (PAIR explorable)."),
        Field::int(&m("input.embedding.dim"), "Embedding dim", 1, max(MAX_WIDTH))
            .when(embedding())
            .help("Width of each learned embedding vector."),
        Field::bool(&m("input.embedding.tied"), "Tied a/b table")
            .when(embedding())
            .help("Use one embedding table for both operands a and b (as the PAIR explorable does)."),
        Field::bool(&m("input.embedding.shared_input_layer"), "Shared first layer")
            .when(embedding())
            .help("One first-layer matrix W for both operands: h = act(E[a]·W + E[b]·W) (PAIR's tied hidden layer)."),
        Field::bool(&m("input.embedding.tied_output"), "Read out via Eᵀ")
            .when(embedding())
            .help("Read logits out through the embedding table: (h·W_out)·Eᵀ (PAIR's tied unembedding)."),
        Field::int(&m("width"), "Width", 1, max(MAX_WIDTH))
            .when(mlp())
            .help("Hidden width N of each layer; Doshi et al. use 500, Prieto et al. 200."),
        Field::int(&m("depth"), "Hidden layers", 1, max(MAX_DEPTH))
            .when(mlp())
            .help("Number of hidden layers; Doshi et al. use 1, Prieto et al. 2."),
        Field::choice(&m("activation"), "Activation", &[("quadratic", "x²"), ("relu", "ReLU"), ("gelu", "GELU")])
            .when(mlp())
            .help("Hidden activation; x² makes the modular-addition solution analytic (Gromov 2023; Doshi et al. 2023)."),
        Field::bool(&m("bias"), "Biases").when(mlp()).help("Add biases to every linear layer (the papers' MLPs have none)."),
        Field::choice(&m("init"), "Init", &[
            ("doshi", "Doshi N(0, σ²)"),
            ("torch_default", "PyTorch default"),
            ("haiku", "Haiku (PAIR)"),
        ])
        .when(mlp())
        .help("Weight init: Doshi N(0, σ²) with σ = 0.5/(2N)^⅓, PyTorch's nn.Linear default (Prieto), or Haiku's (PAIR)."),
        Field::float(&m("init_scale"), "Init scale", INIT_SCALE)
            .when(mlp())
            .help("Multiplies every initial weight; large = lazy and slow to grok (Omnigrok, Liu et al. 2023)."),
        Field::int(&t("layers"), "Layers", 1, max(MAX_LAYERS))
            .when(transformer())
            .help("Transformer blocks (attention + MLP); Nanda et al. 2023 use 1, Power et al. 2022 use 2."),
        Field::int(&t("d_model"), "d_model", 1, max(MAX_D_MODEL))
            .when(transformer())
            .help("Residual-stream width, divisible by the number of heads; Nanda et al. use 128."),
        Field::int_from(&t("heads"), "Heads", 1)
            .when(transformer())
            .help("Attention heads; must divide d_model (head size = d_model / heads); Nanda et al. use 4."),
        Field::int(&t("d_mlp"), "d_mlp", 1, max(MAX_D_MLP))
            .when(transformer())
            .help("Hidden width of each block's MLP; Nanda et al. use 512."),
        Field::bool(&t("layer_norm"), "LayerNorm")
            .when(transformer())
            .help("Pre-LayerNorm before attention, MLP and unembed (Xiong et al. 2020); Nanda's model has none."),
        Field::bool(&t("causal"), "Causal")
            .when(transformer())
            .help("Causal attention mask: each position sees only itself and earlier tokens (Power et al. 2022; Nanda et al.)."),
        Field::float(&t("init_scale"), "Init scale", INIT_SCALE)
            .when(transformer())
            .help("Multiplies every initial weight; larger starts lazier (Omnigrok, Liu et al. 2023)."),
    ]);
    let loss = Group::new("Loss", vec![
        Field::choice("grokking.loss.kind", "Loss", &[
            ("mse", "MSE (one-hot)"),
            ("cross_entropy", "Softmax cross-entropy"),
            ("stablemax", "StableMax cross-entropy"),
        ])
        .help("Loss on the p logits: MSE on one-hot targets (Doshi et al.), softmax CE, or StableMax CE (Prieto et al. 2025)."),
        Field::choice("grokking.loss.precision", "Precision", &[("f32", "float32"), ("f64", "float64 (CPU only)")])
            .help("Float type of the loss and the softmax-collapse metric; float64 needs the CPU backend (WebGPU has none)."),
        Field::float("grokking.loss.output_scale", "Output scale α", OUTPUT_SCALE)
            .help("Output scale α: logits ×α and lr ÷α²; larger = lazier, later grokking (Kumar et al. 2024)."),
        Field::bool("grokking.loss.center", "Center at init")
            .help("Subtract the initial output f_θ₀ so logits start at 0: f = α·(f_θ − f_θ₀) (Kumar et al. 2024)."),
        Field::bool("grokking.loss.class_mean", "CE ÷ p (PAIR)")
            .when(When::not_equals("grokking.loss.kind", "mse"))
            .help("Divide the cross-entropy by p (a mean over classes too), like the PAIR explorable's loss (Pearce et al. 2023)."),
    ]);
    let o = OptimizerSpec::fields("grokking.optimizer");
    let optimizer = Group::new("Optimizer", vec![
        o.kind,
        o.orthograd,
        o.lr.help("Learning rate; the step actually uses lr / α² for output scale α."),
        o.weight_decay,
        o.beta1.help("Adam's first-moment decay β₁; 0.9 in most grokking papers."),
        o.beta2.help("Adam's second-moment decay β₂; 0.98 in most grokking papers, 0.99–0.999 in Prieto et al. 2025."),
        o.eps.help("Adam's ε added to the denominator; Prieto et al. 2025 use 1e-25."),
        o.momentum,
        o.warmup_steps,
        o.grad_clip,
    ]);
    let b = TrainingSpec::fields("grokking.training");
    let training = Group::new("Training", vec![
        b.steps.help("Optimizer steps to run (= epochs with a full batch)."),
        Field::int_from("grokking.training.batch_size", "Batch (0 = full)", 0).help(
            "Training pairs per step, at most the training set; 0 = full batch (every training pair, as the papers do).",
        ),
        b.eval_every.help("Measure train/test metrics every this many steps; larger keeps a GPU busier."),
        seed_field("grokking", "Seeds the train/test split, label noise, weight init and batch order."),
    ]);
    let defaults = json!({ "grokking": GrokkingSpec::default() });
    LabSchema::new("grokking", vec![task, model, loss, optimizer, training], &defaults)
}
