//! The scans lab's form: the task, one field set per model of the spec, optimizer, budget,
//! with the ranges `validate()` checks (`spec::schema` says how the page gets it).

use serde_json::json;

use super::spec::*;
use crate::spec::schema::{Field, FloatRange, Group, LabSchema, When};
use crate::spec::{OptimizerSpec, TrainingSpec, seed_field};

pub fn schema() -> LabSchema {
    let max = |n: usize| n as u64;
    let task = Group::new("Task", vec![
        Field::choice("scans.task.kind", "Task", &[
            ("selective_copying", "Selective copying"),
            ("induction_heads", "Induction heads"),
        ])
        .help("Synthetic memory task of the Mamba paper (Gu & Dao 2023): selective copying or induction heads."),
        Field::int("scans.task.len", "Sequence length L", 2, max(MAX_LEN))
            .help("Training sequence length L (copying: at least 2 × the tokens to copy; induction heads: at least 4)."),
        Field::int("scans.task.vocab", "Symbols", 2, max(MAX_VOCAB))
            .help("Data (copying) or value (induction) symbols; noise, answer-slot or trigger tokens come on top."),
        Field::int("scans.task.data_tokens", "Tokens to copy", 1, max(MAX_DATA_TOKENS))
            .when(When::equals("scans.task.kind", "selective_copying"))
            .help("Data tokens scattered among noise that the model must output in order at the end."),
    ]);
    let p = |name: &str| format!("scans.models.{{name}}.{name}");
    let mixer = p("mixer");
    let model = Group::each("Model “{name}”", "scans.models", vec![
        Field::choice(&mixer, "Mixer", &[
            ("s4d", "S4D (LTI)"),
            ("s4d_no_gate", "S4D, linear readout (LTI, no gate)"),
            ("gated_s4d", "S4D in a gated block (LTI)"),
            ("mamba", "Mamba (selective)"),
        ])
        .help(
            "S4D (LTI, Gu et al. 2022) with s4d.py's GLU readout, S4D with a linear readout (no GLU, no gated \
             branch), S4D in Mamba's gated block, or Mamba's selective SSM (Gu & Dao 2023).",
        ),
        Field::int(&p("layers"), "Layers", 1, max(MAX_LAYERS))
            .help("Stacked mixer blocks; the Mamba paper's synthetic-task models have 2."),
        Field::int(&p("d_model"), "d_model", 1, max(MAX_D_MODEL))
            .help("Model width D: the channels each block mixes over time."),
        Field::int(&p("d_state"), "State size N", 1, max(MAX_D_STATE))
            .help("State size N per channel; even for S4D mixers (N/2 complex-conjugate pairs)."),
        Field::int(&p("expand"), "Expand", 1, max(MAX_EXPAND))
            .when(When::one_of(&mixer, &["gated_s4d", "mamba"]))
            .help("Inner-width multiplier of the gated (Mamba-style) block (Mamba's default is 2)."),
        Field::choice(&p("s4d_init"), "S4D init", &[("lin", "S4D-Lin"), ("inv", "S4D-Inv"), ("real", "S4D-Real")])
            .when(When::not_equals(&mixer, "mamba"))
            .help("Init of S4D's diagonal A: Lin (−½ + iπn), Inv (HiPPO-like) or Real (−(n+1)) (Gu et al. 2022)."),
        Field::choice(&p("discretization"), "Discretization", &[("zoh", "ZOH"), ("bilinear", "bilinear")])
            .when(When::not_equals(&mixer, "mamba"))
            .help(
                "How continuous A, B become Ā, B̄ for step Δ: zero-order hold or bilinear (Gu et al. 2022). Also for \
                 S4D in a gated block, which before 2026-12-03 used ZOH whatever this said.",
            ),
        Field::float(&p("dt_min"), "Δ min", DT_MIN)
            .help("Lower end of the log-uniform init range of the step Δ (S4D and Mamba use 1e-3)."),
        Field::float(&p("dt_max"), "Δ max", FloatRange::closed(DT_MIN.min, DT_MAX_LIMIT))
            .help("Upper end of the log-uniform init range of the step Δ, at least Δ min (S4D and Mamba use 0.1)."),
        Field::choice(&p("scan"), "Scan", &[
            ("fused", "fused (one kernel: CPU or GPU)"),
            ("parallel", "parallel"),
            ("chunked", "chunked"),
            ("sequential", "sequential"),
        ])
        .when(When::equals(&mixer, "mamba"))
        .help("How Mamba's selective scan is computed: same numbers, different speed; fused runs one kernel."),
    ]);
    let o = OptimizerSpec::fields("scans.optimizer");
    let optimizer = Group::new(
        "Optimizer",
        vec![
            o.kind,
            o.lr.help("Learning rate; S4 advises ≤ 1e-3 for A and Δ at scale."),
            o.weight_decay.help(
                "Weight-decay coefficient: decoupled for AdamW, an L2 term on the gradient for Adam and SGD; \
                 never on S4D's A and Δ nor Mamba's A_log and D, as their sources register them (before \
                 2026-12-03 it reached them too).",
            ),
            o.grad_clip,
        ],
    );
    let b = TrainingSpec::fields("scans.training");
    let training =
        Group::new(
            "Training",
            vec![
        b.steps,
        Field::int("scans.training.batch_size", "Sequences / step", 1, max(MAX_BATCH))
            .help("Fresh training sequences generated per step."),
        b.eval_every.help("Score the held-out sequences every this many steps."),
        Field::int("scans.eval.sequences", "Held-out sequences", 1, max(MAX_EVAL_SEQUENCES))
            .help("Held-out sequences, fixed for the run, scored at each evaluation."),
        Field::int("scans.eval.extrapolation", "Test up to × L", 1, max(MAX_EXTRAPOLATION))
            .help("The final analysis tests at L, 2L, 4L, … up to this factor × L (1 = L only)."),
        seed_field("scans", "Seeds the models' inits and the training and evaluation sequences."),
    ],
        );
    let defaults = json!({ "scans": ScansSpec::default() });
    LabSchema::new("scans", vec![task, model, optimizer, training], &defaults)
}
