//! Optimizers from a spec, built on burn's (`burn::optim`), plus the learning-rate schedule.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};

use crate::spec::{OptimizerKind, OptimizerSpec};

/// Builds the optimizer `spec` describes.
pub fn build(spec: &OptimizerSpec) -> ModuleOptimizer {
    match spec.kind {
        // Decoupled decay, as torch.optim.AdamW: w ← w·(1 − lr·wd) − lr·m̂/(√v̂ + ε).
        OptimizerKind::AdamW => AdamWConfig::new()
            .with_beta_1(spec.beta1 as f32)
            .with_beta_2(spec.beta2 as f32)
            .with_epsilon(spec.eps as f32)
            .with_weight_decay(spec.weight_decay as f32)
            .init(),
        OptimizerKind::Adam => AdamConfig::new()
            .with_beta_1(spec.beta1 as f32)
            .with_beta_2(spec.beta2 as f32)
            .with_epsilon(spec.eps as f32)
            .with_weight_decay(l2(spec.weight_decay))
            .init(),
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum((spec.momentum > 0.0).then(|| {
                // torch.optim.SGD defaults: no dampening, no Nesterov.
                MomentumConfig::new().with_momentum(spec.momentum).with_dampening(0.0)
            }))
            .with_weight_decay(l2(spec.weight_decay))
            .init(),
    }
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
