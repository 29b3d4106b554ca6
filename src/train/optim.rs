//! Optimizers from a spec, built on burn's (`burn::optim`), plus the learning-rate schedule.

use burn::module::{ParamGroup, ParamId};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};

use crate::backend::DeviceLimits;
use crate::spec::{OptimizerKind, OptimizerSpec};

/// √(smallest normal f32) = 2⁻⁶³: a gradient entry below it squares to a subnormal.
pub const SQRT_MIN_NORMAL_F32: f64 = 1.0842021724855044e-19;

/// What goes wrong with this optimizer on a device of `limits`, if anything. Adam's step is
/// lr·m̂/(√v̂ + ε). Where subnormals are flushed, a gradient entry g below 2⁻⁶³ ≈ 1.1e-19 has
/// g² = 0, so v̂ = 0 while m̂ ≈ g is not, and the step is lr·g/ε instead of ≈ lr: with
/// ε = 1e-25 (Prieto et al.'s) up to 10⁶ times the learning rate. The
/// StableMax runs blew up that way at ~63k epochs on a flushing CPU (docs/reproductions.md).
/// With ε ≥ 2⁻⁶³ that step stays below lr, so nothing is said.
pub fn subnormal_warning(spec: &OptimizerSpec, limits: DeviceLimits) -> Option<String> {
    let adam = matches!(spec.kind, OptimizerKind::Adam | OptimizerKind::AdamW);
    if !limits.flushes_subnormals || !adam || spec.eps >= SQRT_MIN_NORMAL_F32 {
        return None;
    }
    Some(format!(
        "optimizer.eps = {:e} on a device that flushes subnormal floats to zero: once a gradient \
         entry falls below 1.1e-19 its square becomes 0 here, and Adam steps by lr·g/ε, up to \
         {:.0e} times the learning rate (StableMax runs blew up this way after ~60k epochs). \
         Short runs are unaffected; for long ones use the CPU backend, or ε ≥ 1.1e-19.",
        spec.eps,
        SQRT_MIN_NORMAL_F32 / spec.eps
    ))
}

/// Builds the optimizer `spec` describes.
pub fn build(spec: &OptimizerSpec) -> ModuleOptimizer {
    match spec.kind {
        OptimizerKind::AdamW => adam_w(spec).init(),
        OptimizerKind::Adam => adam(spec).init(),
        OptimizerKind::Sgd => sgd(spec).init(),
    }
}

/// Builds the optimizer `spec` describes, with no weight decay on the parameters `no_decay`:
/// a lab's list, following its sources (Mamba's A_log and D, S4D's A and Δ). The same
/// optimizer with weight decay 0 steps them, so their moments are kept as for any other.
pub fn build_with_no_decay(spec: &OptimizerSpec, no_decay: Vec<ParamId>) -> ModuleOptimizer {
    let optimizer = build(spec);
    if no_decay.is_empty() || spec.weight_decay == 0.0 {
        return optimizer;
    }
    let group = ParamGroup::from_ids(no_decay);
    let undecayed = OptimizerSpec { weight_decay: 0.0, ..spec.clone() };
    match spec.kind {
        OptimizerKind::AdamW => optimizer.with_group(group, adam_w(&undecayed).build(), None),
        OptimizerKind::Adam => optimizer.with_group(group, adam(&undecayed).build(), None),
        OptimizerKind::Sgd => optimizer.with_group(group, sgd(&undecayed).build(), None),
    }
}

/// Decoupled decay, as torch.optim.AdamW: w ← w·(1 − lr·wd) − lr·m̂/(√v̂ + ε).
fn adam_w(spec: &OptimizerSpec) -> AdamWConfig {
    AdamWConfig::new()
        .with_beta_1(spec.beta1 as f32)
        .with_beta_2(spec.beta2 as f32)
        .with_epsilon(spec.eps as f32)
        .with_weight_decay(spec.weight_decay as f32)
}

fn adam(spec: &OptimizerSpec) -> AdamConfig {
    AdamConfig::new()
        .with_beta_1(spec.beta1 as f32)
        .with_beta_2(spec.beta2 as f32)
        .with_epsilon(spec.eps as f32)
        .with_weight_decay(l2(spec.weight_decay))
}

fn sgd(spec: &OptimizerSpec) -> SgdConfig {
    SgdConfig::new()
        .with_momentum((spec.momentum > 0.0).then(|| {
            // torch.optim.SGD defaults: no dampening, no Nesterov.
            MomentumConfig::new().with_momentum(spec.momentum).with_dampening(0.0)
        }))
        .with_weight_decay(l2(spec.weight_decay))
}

fn l2(weight_decay: f64) -> Option<WeightDecayConfig> {
    (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay as f32))
}

/// Learning rate for optimizer step `step` (0-based): linear warm-up from lr/warmup to lr over
/// `warmup_steps`, then constant.
pub fn learning_rate(spec: &OptimizerSpec, step: u64) -> f64 {
    if spec.warmup_steps == 0 {
        spec.lr
    } else {
        spec.lr * ((step + 1) as f64 / spec.warmup_steps as f64).min(1.0)
    }
}
