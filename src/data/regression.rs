//! The gradient-flow lab's regression tasks: inputs x ~ N(0, I), targets from a random deep
//! teacher or a low-rank linear map (`../shared/science.md` §3). The teacher's weights are
//! drawn on the host from the run seed; targets are computed on the device.

use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::rng::{Stream, stream};
use crate::models::init::{normal, orthogonal};

/// Which regression task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowTaskKind {
    /// y = teacher(x), a random tanh MLP of `teacher_depth` layers (width `input_dim`).
    TeacherStudent,
    /// y = M x with M of rank `rank` and singular values 3, 3·(r−1)/r, …, 3/r (Saxe et al. 2014:
    /// a deep linear net learns each mode at a time ∝ 1/singular value).
    LowRankLinear,
}

/// The task: inputs x ~ N(0, I) of `input_dim`, targets of `output_dim`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowTask {
    pub kind: FlowTaskKind,
    pub input_dim: usize,
    pub output_dim: usize,
    /// Teacher–student: the teacher's layers.
    pub teacher_depth: usize,
    /// Low-rank linear: the map's rank (≤ min(input_dim, output_dim)).
    pub rank: usize,
}

impl Default for FlowTask {
    fn default() -> Self {
        Self {
            kind: FlowTaskKind::TeacherStudent,
            input_dim: 32,
            output_dim: 8,
            teacher_depth: 3,
            rank: 4,
        }
    }
}

/// A task's teacher: `[fan_in, fan_out]` matrices, tanh between them (none for the low-rank map).
#[derive(Clone, Debug, PartialEq)]
pub struct Teacher {
    layers: Vec<(Vec<f32>, usize, usize)>,
    input_dim: usize,
}

impl Teacher {
    /// The teacher of `task` for the run `seed` (its own random stream).
    pub fn new(task: &FlowTask, seed: u64) -> Self {
        let rng = &mut stream(seed, Stream::Teacher);
        let (i, o) = (task.input_dim, task.output_dim);
        let layers = match task.kind {
            FlowTaskKind::TeacherStudent => {
                let mut layers: Vec<_> = (1..task.teacher_depth)
                    .map(|_| (normal(rng, i, i, (1.0 / i as f64).sqrt()), i, i))
                    .collect();
                layers.push((normal(rng, i, o, (1.0 / i as f64).sqrt()), i, o));
                layers
            }
            FlowTaskKind::LowRankLinear => {
                let r = task.rank;
                let u = orthogonal(rng, i, r, 1.0); // [i, r], orthonormal columns
                let v = orthogonal(rng, o, r, 1.0); // [o, r]
                let mut m = vec![0.0f32; i * o]; // M = U diag(s) Vᵀ, [i, o]
                for k in 0..r {
                    let s = 3.0 * (r - k) as f32 / r as f32;
                    for a in 0..i {
                        for b in 0..o {
                            m[a * o + b] += s * u[a * r + k] * v[b * r + k];
                        }
                    }
                }
                vec![(m, i, o)]
            }
        };
        Teacher { layers, input_dim: i }
    }

    /// `n` inputs from N(0, I), row-major `[n, input_dim]`.
    pub fn inputs(&self, n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        let unit = Normal::new(0.0f32, 1.0).expect("unit normal");
        (0..n * self.input_dim).map(|_| unit.sample(rng)).collect()
    }

    /// The targets of `x: [n, input_dim]` → `[n, output_dim]`.
    pub fn targets(&self, x: Tensor<2>) -> Tensor<2> {
        let device = x.device();
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (k, (w, rows, cols))| {
            let w = Tensor::<2>::from_data(TensorData::new(w.clone(), [*rows, *cols]), &device);
            let h = h.matmul(w);
            if k < last { h.tanh() } else { h }
        })
    }

    /// A batch: `(x [n, in], y [n, out])` on `device`.
    pub fn batch(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let x = Tensor::<2>::from_data(
            TensorData::new(self.inputs(n, rng), [n, self.input_dim]),
            device,
        );
        let y = self.targets(x.clone());
        (x, y)
    }
}
