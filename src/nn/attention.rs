//! The causal mask of attention, shared by the grokking transformer and the gradient-flow lab's
//! attention blocks.

use burn::tensor::{Device, Tensor, TensorData};

/// Value added to a blocked attention score: exp(−1e9 − max) is exactly 0 in f32 and f64, and
/// unlike −∞ it cannot turn a fully blocked row into NaN.
pub const BLOCKED: f32 = -1e9;

/// The causal mask as an additive bias for the queries at positions `q_from..t` over keys
/// `0..t`, `[t − q_from, t]`: 0 where the key is at or before the query, [`BLOCKED`] after it.
///
/// Built on the host from the definition rather than with burn's `triu_mask`/`tril_mask`, whose
/// `true` marks the entries *outside* the named triangle (burn 0.22's doc comments): reading it
/// the other way once made every query attend only to later tokens (the model became a bag of
/// tokens, exactly symmetric in a and b).
pub fn causal_bias(q_from: usize, t: usize, device: &Device) -> Tensor<2> {
    let values: Vec<f32> = (q_from..t)
        .flat_map(|query| (0..t).map(move |key| if key <= query { 0.0 } else { BLOCKED }))
        .collect();
    Tensor::from_data(TensorData::new(values, [t - q_from, t]), device)
}
