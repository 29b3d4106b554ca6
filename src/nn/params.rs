//! Per-parameter inspection shared by every model: names and squared L2 norms of each weight
//! tensor (Omnigrok's weight norm, per layer), computed on the device without a readback, and
//! every weight by name read back for the `inspect init` dumps.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Dotted names of `module`'s float parameters, in visiting order (`input_a`, `hidden.0.weight`,
/// `blocks.1.w_q`, …). Enum variants do not add a name segment.
pub fn param_names<M: Module>(module: &M) -> Vec<String> {
    let mut v = Names::default();
    module.visit(&mut v);
    v.names
}

/// Σw² of each float parameter, in the order of [`param_names`], as one `[n_params]` tensor.
pub fn param_sq_norms<M: Module>(module: &M) -> Tensor<1> {
    let mut v = SqNorms::default();
    module.visit(&mut v);
    Tensor::cat(v.norms, 0)
}

#[derive(Default)]
struct Names {
    path: Vec<Option<String>>,
    names: Vec<String>,
}

impl ModuleVisitor for Names {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        let keep = !container_type.starts_with("Enum:");
        self.path.push(keep.then(|| name.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, _param: &Param<Tensor<D>>) {
        let parts: Vec<&str> = self.path.iter().flatten().map(String::as_str).collect();
        self.names.push(parts.join("."));
    }
}

#[derive(Default)]
struct SqNorms {
    norms: Vec<Tensor<1>>,
}

impl ModuleVisitor for SqNorms {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.norms.push(param.val().square().sum()); // [1]
    }
}

/// Every float parameter of `module` flattened to `[numel]`, with its shape, in the order of
/// [`param_names`] (for dumps read on the host).
pub fn param_tensors<M: Module>(module: &M) -> Vec<(Vec<usize>, Tensor<1>)> {
    let mut v = Flat::default();
    module.visit(&mut v);
    v.tensors
}

#[derive(Default)]
struct Flat {
    tensors: Vec<(Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for Flat {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let shape = param.dims().to_vec();
        let numel: usize = shape.iter().product();
        self.tensors.push((shape, param.val().reshape([numel])));
    }
}

/// One parameter tensor, flattened row-major.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NamedTensor {
    /// Dotted parameter name (`blocks.0.w_q`), as in [`param_names`].
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every float parameter of `module` by name, read back in one transfer.
pub async fn named_tensors<M: Module>(module: &M) -> Result<Vec<NamedTensor>, String> {
    let names = param_names(module);
    let tensors = param_tensors(module);
    let shapes: Vec<Vec<usize>> = tensors.iter().map(|(s, _)| s.clone()).collect();
    let flat = Tensor::cat(tensors.into_iter().map(|(_, t)| t).collect(), 0); // [Σ numel]
    let data = flat.into_data_async().await.map_err(|e| format!("{e:?}"))?;
    let values: Vec<f32> = data.convert::<f32>().try_to_vec().map_err(|e| format!("{e:?}"))?;
    let mut rest = values.as_slice();
    Ok(names
        .into_iter()
        .zip(shapes)
        .map(|(name, shape)| {
            let (head, tail) = rest.split_at(shape.iter().product());
            rest = tail;
            NamedTensor { name, shape, values: head.to_vec() }
        })
        .collect())
}
