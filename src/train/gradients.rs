//! Gradient transforms applied between `backward()` and the optimizer step, in PyTorch's order
//! (`clip_grad_norm_`, then the optimizer, whose ⊥Grad wrapper projects first):
//!
//! 1. [`GradientStats`] (optional): ⟨g, w⟩, ‖g‖², ‖w‖² over all parameters, for the NLM-alignment
//!    metric cos(g, w) — the "naïve loss minimization" direction ⊥Grad removes.
//! 2. Global-norm clipping: g ← g · min(1, c / ‖g‖).
//! 3. ⊥Grad (Prieto et al. 2025, `orthograd.py`), per tensor with w, g flattened:
//!    g⊥ = g − (w·g / (w·w + 1e-30)) w,  g̃ = g⊥ · ‖g‖ / (‖g⊥‖ + 1e-30).
//!
//! Everything stays on the device: no readback, so it costs a few small kernels per tensor.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// Σ over parameters of ⟨g, w⟩, ‖g‖², ‖w‖², as one `[3]` device tensor.
pub struct GradientStats(pub Tensor<1>);

/// Float32 guard of Prieto's `orthograd.py` (1e-30 there; it keeps 0/0 out).
const EPS: f64 = 1e-30;

/// What to do to the gradients of one step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GradientTransform {
    /// Global L2-norm clip threshold; `None` = off.
    pub clip_norm: Option<f64>,
    pub orthograd: bool,
    /// Also return [`GradientStats`] of the raw gradient.
    pub stats: bool,
}

impl GradientTransform {
    /// Applies the transform to `grads` (gradients of `module`'s parameters), in place.
    pub fn apply<M: Module>(
        &self,
        module: &M,
        grads: &mut GradientsParams,
    ) -> Option<GradientStats> {
        let mut stats = None;
        if self.stats || self.clip_norm.is_some() {
            let mut v = Reduce { grads, parts: Vec::new() };
            module.visit(&mut v);
            stats = v.parts.into_iter().reduce(|a, b| a + b).map(GradientStats);
        }
        if let (Some(c), Some(s)) = (self.clip_norm, &stats) {
            // ‖g‖ = √Σ‖g‖²; factor = min(1, c / (‖g‖ + 1e-6)), as torch.nn.utils.clip_grad_norm_.
            let norm = s.0.clone().slice([1..2]).sqrt(); // [1]
            let factor = norm.add_scalar(1e-6).recip().mul_scalar(c).clamp_max(1.0); // [1]
            module.visit(&mut Scale { grads, factor });
        }
        if self.orthograd {
            module.visit(&mut Orthogonalize { grads });
        }
        stats.filter(|_| self.stats)
    }
}

/// Per tensor `[⟨g, w⟩, ‖g‖², ‖w‖²]`.
struct Reduce<'a> {
    grads: &'a GradientsParams,
    parts: Vec<Tensor<1>>,
}

impl ModuleVisitor for Reduce<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(g) = self.grads.get::<D>(param.id) else { return };
        let w = param.val().inner(); // the gradient lives off the autodiff graph; so must w
        let dot = (g.clone() * w.clone()).sum();
        let gg = g.square().sum();
        let ww = w.square().sum();
        self.parts.push(Tensor::cat(vec![dot, gg, ww], 0)); // [3]
    }
}

/// g ← g · factor (a `[1]` tensor).
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: Tensor<1>,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(g) = self.grads.remove::<D>(param.id) else { return };
        let factor: Tensor<D> = self.factor.clone().unsqueeze(); // [1, …, 1] broadcasts
        self.grads.register(param.id, g * factor);
    }
}

/// ⊥Grad on every tensor.
struct Orthogonalize<'a> {
    grads: &'a mut GradientsParams,
}

impl ModuleVisitor for Orthogonalize<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(g) = self.grads.remove::<D>(param.id) else { return };
        let w = param.val().inner();
        self.grads.register(param.id, orthogonalize(w, g));
    }
}

/// ⊥Grad of one tensor: the component of `g` orthogonal to `w`, rescaled to ‖g‖.
pub fn orthogonalize<const D: usize>(w: Tensor<D>, g: Tensor<D>) -> Tensor<D> {
    let dot: Tensor<D> = (w.clone() * g.clone()).sum().unsqueeze(); // [1, …, 1]
    let ww: Tensor<D> = w.clone().square().sum().unsqueeze();
    let g_norm: Tensor<D> = g.clone().square().sum().sqrt().unsqueeze();
    let proj = dot / ww.add_scalar(EPS);
    let g_perp = g - w * proj;
    let perp_norm: Tensor<D> = g_perp.clone().square().sum().sqrt().unsqueeze();
    g_perp * (g_norm / perp_norm.add_scalar(EPS))
}
