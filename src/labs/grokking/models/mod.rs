//! The grokking lab's models. Each is a `Config` with documented defaults plus
//! `init(&device)`; weights are drawn on the host from the run seed, so every backend starts
//! from identical numbers.
//!
//! [`GrokkingNet`] is any of them behind one `forward`.

pub mod mlp;
pub mod pair_layer;
pub mod transformer;

use burn::module::Module;
use burn::tensor::{Int, Tensor};

use mlp::Mlp;
use transformer::Transformer;

/// A grokking model: `(a, b)` → logits over the p classes.
#[derive(Module, Debug)]
pub enum GrokkingNet {
    Mlp(Mlp),
    Transformer(Transformer),
}

impl GrokkingNet {
    /// Logits for the pairs (a[i], b[i]). `a`, `b`: `[n]` → `[n, p]`.
    pub fn forward(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        match self {
            GrokkingNet::Mlp(m) => m.forward(a, b),
            GrokkingNet::Transformer(t) => t.forward(a, b),
        }
    }

    /// The matrix the Fourier and IPR views analyse, `[p, units]`: how each value of the first
    /// operand enters the model. MLP: the first layer's contribution of a (units = neurons);
    /// transformer: the token embedding of a (units = embedding dimensions).
    pub fn operand_map(&self) -> Tensor<2> {
        match self {
            GrokkingNet::Mlp(m) => m.input_maps().0,
            GrokkingNet::Transformer(t) => t.operand_embedding(),
        }
    }

    /// The `[p, units]` maps whose IPR is averaged per unit (Doshi et al.): for the MLP, each
    /// first-layer neuron's input weights over a and over b, and (depth 1) its output weights
    /// over the classes; for the transformer, the operand embedding.
    pub fn ipr_maps(&self) -> Vec<Tensor<2>> {
        match self {
            GrokkingNet::Mlp(m) => {
                let (a, b) = m.input_maps();
                let mut maps = vec![a, b];
                maps.extend(m.output_map());
                maps
            }
            GrokkingNet::Transformer(t) => vec![t.operand_embedding()],
        }
    }

    /// The MLP, whose first-layer neurons can be pruned.
    pub fn as_mlp(&self) -> Option<&Mlp> {
        match self {
            GrokkingNet::Mlp(m) => Some(m),
            GrokkingNet::Transformer(_) => None,
        }
    }
}
