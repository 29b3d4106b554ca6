//! The gradient-flow lab's form: the task, one field set per stack, optimizer, budget, with the
//! ranges `validate()` checks (`spec::schema` says how the page gets it).

use serde_json::json;

use super::spec::*;
use crate::spec::schema::{Field, Group, LabSchema, When};
use crate::spec::{OptimizerSpec, TrainingSpec, seed_field};

pub fn schema() -> LabSchema {
    let max = |n: usize| n as u64;
    let kind = "gradient_flow.task.kind";
    let task = Group::new("Task", vec![
        Field::choice(kind, "Task", &[
            ("teacher_student", "Teacher–student"),
            ("low_rank_linear", "Low-rank linear map"),
            ("copy", "Copy a sequence (transformer)"),
        ])
        .help("Teacher–student regression, a low-rank linear map (Saxe et al. 2014), or copying (transformer blocks)."),
        Field::int("gradient_flow.task.input_dim", "Input dim", 1, max(MAX_DIM))
            .when(When::not_equals(kind, "copy"))
            .help("Width of the inputs x ~ N(0, I)."),
        Field::int("gradient_flow.task.output_dim", "Output dim", 1, max(MAX_DIM))
            .when(When::not_equals(kind, "copy"))
            .help("Width of the regression targets."),
        Field::int("gradient_flow.task.teacher_depth", "Teacher depth", 1, max(MAX_TEACHER_DEPTH))
            .when(When::equals(kind, "teacher_student"))
            .help("Layers of the random tanh MLP teacher that produces the targets."),
        Field::int("gradient_flow.task.rank", "Rank", 1, max(MAX_DIM))
            .when(When::equals(kind, "low_rank_linear"))
            .help("Rank r of the target map, at most min(input, output dim); singular values 3, 3(r−1)/r, …, 3/r."),
        Field::int("gradient_flow.task.vocab", "Symbols", 2, max(MAX_VOCAB))
            .when(When::equals(kind, "copy"))
            .help("Symbols of the copy task; the separator token comes on top."),
        Field::int("gradient_flow.task.copy_length", "Tokens to copy", 2, max(MAX_COPY_LENGTH))
            .when(When::equals(kind, "copy"))
            .help("Tokens n to copy after the separator; sequences are 2n long."),
    ]);
    let p = |name: &str| format!("gradient_flow.models.{{name}}.{name}");
    let (block, norm) = (p("block"), p("norm"));
    let stack = Group::each("Stack “{name}”", "gradient_flow.models", vec![
        Field::choice(&block, "Blocks", &[
            ("mlp", "MLP (vector tasks)"),
            ("transformer", "attention + MLP (sequence task)"),
        ])
        .help("MLP blocks for the vector tasks, or causal attention + MLP blocks for the copy task."),
        Field::int(&p("depth"), "Depth", 1, max(MAX_DEPTH))
            .help("Number of residual (or plain) blocks in the stack."),
        Field::int(&p("width"), "Width", 1, max(MAX_WIDTH))
            .help("Width of the residual stream and of each block's MLP hidden layer."),
        Field::choice(&norm, "Norm placement", &[
            ("none", "none"),
            ("post", "Post-LN"),
            ("pre", "Pre-LN"),
            ("peri", "Peri-LN"),
            ("mix", "Mix-LN (Post for ρL, then Pre)"),
        ])
        .help("Where norms sit: Post-LN, Pre-LN (Xiong et al. 2020), Peri-LN (Kim et al. 2025) or Mix-LN (Li et al. 2024)."),
        Field::choice(&p("norm_kind"), "Norm", &[("layer_norm", "LayerNorm"), ("rms_norm", "RMSNorm")])
            .when(When::not_equals(&norm, "none"))
            .help("The normalization: LayerNorm, or RMSNorm (rescale only, no mean or bias; Zhang & Sennrich 2019)."),
        Field::float(&p("mix_ratio"), "Mix-LN ρ", MIX_RATIO)
            .when(When::equals(&norm, "mix"))
            .help(
                "Mix-LN ρ: the first ⌊ρ·depth⌋ blocks are Post-LN (ρ as typed: 0.58 of 50 blocks is 29), the rest \
                 Pre-LN (Li et al. 2024 use 0.25).",
            ),
        Field::choice(&p("residual"), "Residual branch", &[
            ("one", "1"),
            ("inv_sqrt_depth", "1/√depth"),
            ("skip_init", "SkipInit (α = 0)"),
            ("none", "no residual (plain)"),
        ])
        .help("Branch scale s in x + s·F(x): 1, 1/√depth, SkipInit's learnable α = 0 (De & Smith 2020), or no skip."),
        Field::choice(&p("init"), "Init", &[
            ("kaiming", "Kaiming"),
            ("xavier", "Xavier"),
            ("lecun", "LeCun"),
            ("orthogonal", "orthogonal"),
        ])
        .help("Weight init: Kaiming (He et al. 2015), Xavier (Glorot & Bengio 2010), LeCun, or orthogonal (Saxe et al. 2014)."),
        Field::float(&p("gain"), "Init gain", GAIN)
            .help("Multiplies the init's standard deviation (orthogonal: the matrix)."),
        Field::choice(&p("activation"), "Activation", &[
            ("relu", "ReLU"),
            ("gelu", "GELU"),
            ("tanh", "tanh"),
            ("selu", "SELU"),
            ("linear", "linear"),
        ])
        .help("Branch activation; SELU self-normalizes with LeCun init (Klambauer et al. 2017); linear = deep linear net."),
        Field::int_from(&p("heads"), "Attention heads", 1)
            .when(When::equals(&block, "transformer"))
            .help("Attention heads per block; must divide the width."),
        Field::bool(&p("qk_norm"), "qk-LayerNorm")
            .when(When::equals(&block, "transformer"))
            .help("LayerNorm on each head's queries and keys (Dehghani et al. 2023); keeps logits bounded (Wortsman et al. 2023)."),
        Field::float(&p("z_loss"), "z-loss weight", Z_LOSS)
            .when(When::equals(&block, "transformer"))
            .help("Weight z of the z-loss z·mean(log Z)² on the output logits; 0 = off (Wortsman et al. 2023: 1e-4)."),
    ]);
    let o = OptimizerSpec::fields("gradient_flow.optimizer");
    let optimizer = Group::new("Optimizer", vec![o.kind, o.lr, o.weight_decay, o.grad_clip]);
    let b = TrainingSpec::fields("gradient_flow.training");
    let training = Group::new(
        "Training",
        vec![
            b.steps,
            Field::int("gradient_flow.training.batch_size", "Examples / step", 1, max(MAX_BATCH))
                .help("Fresh inputs (or copy sequences) drawn per step."),
            b.eval_every
                .help("Take the held-out loss and per-block metrics every this many steps."),
            seed_field("gradient_flow", "Seeds the stacks' inits, the teacher and the batches."),
        ],
    );
    let defaults = json!({ "gradient_flow": GradientFlowSpec::default() });
    LabSchema::new("gradient_flow", vec![task, stack, optimizer, training], &defaults)
}
