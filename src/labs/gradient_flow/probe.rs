//! The gradient-flow lab at initialisation: on one fixed batch, each block's gradient norm
//! ‖∂L/∂W_l‖_F and output RMS, for every stack of a spec — signal and gradient propagation
//! before any training (`gradscope inspect gradients`).
//!
//! Every stack draws its weights from the same init stream, so stacks of the same shape start
//! from the same matrices and differ only in what the spec changes (norm placement, residual
//! scale, activation). One readback per stack.

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::labs::gradient_flow::deep_stack::Trace;
use crate::labs::gradient_flow::deep_stack::{activation_rms, block_grad_norms};
use crate::labs::gradient_flow::regression::Teacher;
use crate::labs::gradient_flow::spec::GradientFlowSpec;
use crate::rng::{Stream, stream};

/// One stack's profile at init.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackProfile {
    pub name: String,
    /// The loss on the probe batch (regression: ½·mean‖f(x) − y‖²; copying: cross-entropy).
    pub loss: f64,
    /// ‖∂L/∂W_l‖_F for blocks l = 1 … L.
    pub grad_norm: Vec<f64>,
    /// RMS of each block's output h_l, l = 1 … L.
    pub act_rms: Vec<f64>,
    /// Transformer blocks: each block's max attention logit (empty for MLP blocks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub max_logit: Vec<f64>,
}

/// Every stack's profile on the same batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradientProfile {
    pub seed: u64,
    /// Examples in the probe batch (the spec's training batch size).
    pub batch: usize,
    pub models: Vec<StackProfile>,
}

/// The profile of every stack in `spec` (validated) at init, on `device` (autodiff enabled).
pub async fn profile_at_init(
    spec: &GradientFlowSpec,
    device: &Device,
) -> Result<GradientProfile, String> {
    let teacher = Teacher::new(&spec.task, spec.seed);
    let n = spec.training.batch_size;
    let (x, y) = teacher.batch(n, &mut stream(spec.seed, Stream::ProbeInputs), device);
    let mut models = Vec::new();
    for (name, m) in &spec.models {
        let stack = m.config(&spec.task).init_with(&mut stream(spec.seed, Stream::Init), device);
        let (out, trace) = stack.forward_traced(x.clone());
        let loss = stack.objective_loss(out, y.clone()); // [1]
        let rms = activation_rms(&trace).detach(); // [L]
        let Trace { max_logits, .. } = trace;
        let grads = loss.clone().backward();
        let norms = block_grad_norms(&stack, &grads); // [L]
        let mut parts = vec![loss.detach(), rms, norms];
        parts.extend(max_logits); // [L] for transformer blocks
        let all = Tensor::cat(parts, 0); // [1 + 2L (+ L)]
        let values = all
            .into_data_async()
            .await
            .map_err(|e| format!("{e:?}"))?
            .convert::<f64>()
            .try_to_vec::<f64>()
            .map_err(|e| format!("{e:?}"))?;
        let depth = m.depth;
        models.push(StackProfile {
            name: name.clone(),
            loss: values[0],
            act_rms: values[1..1 + depth].to_vec(),
            grad_norm: values[1 + depth..1 + 2 * depth].to_vec(),
            max_logit: values[1 + 2 * depth..].to_vec(),
        });
    }
    Ok(GradientProfile { seed: spec.seed, batch: n, models })
}
