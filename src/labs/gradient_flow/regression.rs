//! The gradient-flow lab's tasks (`docs/science.md` §3): regression with inputs
//! x ~ N(0, I) and targets from a random deep teacher or a low-rank linear map (the teacher's
//! weights drawn on the host from the run seed, targets computed on the device), and a
//! sequence task for transformer stacks, copying.
//!
//! **Copying** (n = `copy_length`, V = `vocab`): a sequence of 2n tokens
//! `t_1 … t_n SEP t_1 … t_{n−1}`, the t_i uniform over the V symbols; at positions n … 2n−1
//! (from SEP on) the next token is the target, t_1 … t_n: the model must look n positions
//! back, which takes attention. A row of the stream is one position: its input is the one-hot
//! of its token (V + 1 with SEP) next to the one-hot of its position (2n), so the stack's input
//! projection is the token plus the position embedding; its target is the one-hot of the next
//! token at the n scored positions and a row of zeros elsewhere (not scored).

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::nn::init::{normal, orthogonal};
use crate::rng::{Stream, stream};

/// Which regression task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowTaskKind {
    /// y = teacher(x), a random tanh MLP of `teacher_depth` layers (width `input_dim`).
    TeacherStudent,
    /// y = M x with M of rank `rank` and singular values 3, 3·(r−1)/r, …, 3/r (Saxe et al. 2014:
    /// a deep linear net learns each mode at a time ∝ 1/singular value).
    LowRankLinear,
    /// Copy n tokens after a separator (transformer stacks; see the module doc).
    Copy,
}

/// The task: for the vector tasks inputs x ~ N(0, I) of `input_dim` and targets of
/// `output_dim`; for copying, sequences of `vocab` symbols (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowTask {
    pub kind: FlowTaskKind,
    /// Vector tasks: the input's width.
    pub input_dim: usize,
    /// Vector tasks: the target's width.
    pub output_dim: usize,
    /// Teacher–student: the teacher's layers.
    pub teacher_depth: usize,
    /// Low-rank linear: the map's rank (≤ min(input_dim, output_dim)).
    pub rank: usize,
    /// Copy: the symbols (the separator comes on top).
    pub vocab: usize,
    /// Copy: tokens to copy, n (sequences are 2n long).
    pub copy_length: usize,
}

impl FlowTask {
    /// Whether examples are sequences (transformer stacks) rather than vectors.
    pub fn is_sequence(&self) -> bool {
        self.kind == FlowTaskKind::Copy
    }

    /// Positions per example: 2n for copying, 1 for the vector tasks.
    pub fn seq_len(&self) -> usize {
        if self.is_sequence() { 2 * self.copy_length } else { 1 }
    }

    /// `(input, output)` width of a stream row: copying's one-hots of token and position in,
    /// the next token out; the vector tasks' `input_dim`, `output_dim`.
    pub fn dims(&self) -> (usize, usize) {
        match self.kind {
            FlowTaskKind::Copy => (self.vocab + 1 + self.seq_len(), self.vocab),
            _ => (self.input_dim, self.output_dim),
        }
    }
}

impl Default for FlowTask {
    fn default() -> Self {
        Self {
            kind: FlowTaskKind::TeacherStudent,
            input_dim: 32,
            output_dim: 8,
            teacher_depth: 3,
            rank: 4,
            vocab: 16,
            copy_length: 8,
        }
    }
}

/// A task's teacher: `[fan_in, fan_out]` matrices, tanh between them (one for the low-rank
/// map, none for copying, whose rule is the task itself).
#[derive(Clone, Debug, PartialEq)]
pub struct Teacher {
    layers: Vec<(Vec<f32>, usize, usize)>,
    input_dim: usize,
    task: FlowTask,
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
            FlowTaskKind::Copy => Vec::new(),
        };
        Teacher { layers, input_dim: i, task: *task }
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

    /// `n` copying sequences: `(x [n·2c, V + 1 + 2c], y [n·2c, V])` row-major (see the module
    /// doc), c = `copy_length`.
    pub fn copy_sequences(&self, n: usize, rng: &mut ChaCha8Rng) -> (Vec<f32>, Vec<f32>) {
        let (c, vocab) = (self.task.copy_length, self.task.vocab);
        let s = 2 * c;
        let (d_in, d_out) = self.task.dims();
        let separator = vocab;
        let mut x = vec![0.0f32; n * s * d_in];
        let mut y = vec![0.0f32; n * s * d_out];
        for e in 0..n {
            let symbols: Vec<usize> = (0..c).map(|_| rng.random_range(0..vocab)).collect();
            // t_1 … t_c SEP t_1 … t_{c−1}
            let tokens =
                symbols.iter().copied().chain([separator]).chain(symbols[..c - 1].iter().copied());
            for (p, token) in tokens.enumerate() {
                let row = e * s + p;
                x[row * d_in + token] = 1.0;
                x[row * d_in + vocab + 1 + p] = 1.0;
                if p >= c {
                    y[row * d_out + symbols[p - c]] = 1.0; // the next token
                }
            }
        }
        (x, y)
    }

    /// A batch of `n` examples: `(x [n·s, in], y [n·s, out])` on `device` (s = the task's
    /// positions per example).
    pub fn batch(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> (Tensor<2>, Tensor<2>) {
        if self.task.is_sequence() {
            let (x, y) = self.copy_sequences(n, rng);
            let rows = n * self.task.seq_len();
            let (d_in, d_out) = self.task.dims();
            return (
                Tensor::from_data(TensorData::new(x, [rows, d_in]), device),
                Tensor::from_data(TensorData::new(y, [rows, d_out]), device),
            );
        }
        let x = Tensor::<2>::from_data(
            TensorData::new(self.inputs(n, rng), [n, self.input_dim]),
            device,
        );
        let y = self.targets(x.clone());
        (x, y)
    }
}
