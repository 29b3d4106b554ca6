//! A dense layer with host-drawn weights (burn's `Linear` draws from the backend's RNG, which
//! differs between Flex and WebGPU; see `models/init.rs`).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;

use crate::nn::init::uniform;

/// `y = x W (+ b)`, `W: [d_in, d_out]`.
#[derive(Module, Debug)]
pub struct Linear {
    pub weight: Param<Tensor<2>>,
    pub bias: Option<Param<Tensor<1>>>,
}

impl Linear {
    /// PyTorch's default `nn.Linear` init: weight and bias U(±1/√d_in).
    pub fn init(
        rng: &mut ChaCha8Rng,
        d_in: usize,
        d_out: usize,
        bias: bool,
        device: &Device,
    ) -> Self {
        Self::init_scaled(rng, d_in, d_out, bias, 1.0, device)
    }

    /// [`Linear::init`] with the weight (not the bias) multiplied by `scale`: the same draws.
    pub fn init_scaled(
        rng: &mut ChaCha8Rng,
        d_in: usize,
        d_out: usize,
        bias: bool,
        scale: f64,
        device: &Device,
    ) -> Self {
        let bound = 1.0 / (d_in as f64).sqrt();
        let weight: Vec<f32> = uniform(rng, d_in * d_out, bound)
            .into_iter()
            .map(|w| (w as f64 * scale) as f32)
            .collect();
        Linear {
            weight: Param::from_data(TensorData::new(weight, [d_in, d_out]), device),
            bias: bias.then(|| {
                Param::from_data(TensorData::new(uniform(rng, d_out, bound), [d_out]), device)
            }),
        }
    }

    /// `x: [b, l, d_in]` → `[b, l, d_out]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let y = matmul3(x, self.weight.val());
        match &self.bias {
            Some(b) => y + b.val().unsqueeze::<3>(),
            None => y,
        }
    }
}

/// `[b, l, d_in] × [d_in, d_out]` → `[b, l, d_out]`.
pub fn matmul3(x: Tensor<3>, w: Tensor<2>) -> Tensor<3> {
    let [b, l, d_in] = x.dims();
    let d_out = w.dims()[1];
    x.reshape([b * l, d_in]).matmul(w).reshape([b, l, d_out])
}
