//! Modular arithmetic: all pairs (a, b) in 0..p labelled by `op(a, b) mod p`
//! (openai/grok `grok/data.py`), split into train and test by a seeded shuffle, with optional
//! label corruption of the training set (Doshi et al., d-doshi/Grokking `utils/datasets.py`).

use rand::Rng;
use rand::seq::SliceRandom;

use super::rng::{Stream, stream};
use crate::spec::{ModOp, ModularTask, PairSet};

/// Number of (a, b) pairs in the task's dataset: p², p·(p−1) for division (b ≠ 0), or
/// p·(p+1)/2 for unordered pairs (a ≤ b).
pub fn pair_count(task: &ModularTask) -> usize {
    let p = task.p as usize;
    match (task.pairs, task.op) {
        (PairSet::Unordered, _) => p * (p + 1) / 2,
        (PairSet::All, ModOp::Div) => p * (p - 1),
        (PairSet::All, _) => p * p,
    }
}

/// `x^e mod p` by square-and-multiply, in u64 so p ≤ 2³² cannot overflow.
fn pow_mod(mut x: u64, mut e: u64, p: u64) -> u64 {
    let mut acc = 1u64;
    x %= p;
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * x % p;
        }
        x = x * x % p;
        e >>= 1;
    }
    acc
}

/// The label of (a, b). For division p must be prime and b ≠ 0: b⁻¹ = b^(p−2) (Fermat).
pub fn label(op: ModOp, a: u32, b: u32, p: u32) -> u32 {
    let (a, b, p) = (a as u64, b as u64, p as u64);
    let y = match op {
        ModOp::Add => (a + b) % p,
        ModOp::Sub => (a + p - b) % p,
        ModOp::Mul => a * b % p,
        ModOp::Div => a * pow_mod(b, p - 2, p) % p,
        ModOp::Quad => (a * a + a * b + b * b) % p,
    };
    y as u32
}

/// Every pair of the task's dataset, in (a, b) lexicographic order.
pub fn all_pairs(task: &ModularTask) -> Vec<(u32, u32)> {
    let p = task.p;
    let mut pairs = Vec::with_capacity(pair_count(task));
    for a in 0..p {
        for b in 0..p {
            let skip =
                (task.op == ModOp::Div && b == 0) || (task.pairs == PairSet::Unordered && a > b);
            if !skip {
                pairs.push((a, b));
            }
        }
    }
    pairs
}

/// One split of the data: parallel vectors of inputs and labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub a: Vec<u32>,
    pub b: Vec<u32>,
    /// The labels trained on (corrupted where `corrupted[i]`).
    pub labels: Vec<u32>,
    /// The true labels.
    pub clean_labels: Vec<u32>,
    /// Whether label i was replaced by label noise (always false on the test split).
    pub corrupted: Vec<bool>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.a.len()
    }

    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    fn push(&mut self, a: u32, b: u32, y: u32) {
        self.a.push(a);
        self.b.push(b);
        self.labels.push(y);
        self.clean_labels.push(y);
        self.corrupted.push(false);
    }
}

/// The generated dataset of a [`ModularTask`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModularDataset {
    pub p: u32,
    pub op: ModOp,
    pub train: Split,
    pub test: Split,
}

impl ModularDataset {
    /// Generates the dataset: shuffle all pairs with the run seed, the first ⌊frac·N⌋ are train,
    /// the rest test; then corrupt ⌊ξ·|train|⌋ training labels. A corrupted label is drawn
    /// uniformly from the p − 1 *other* classes, so exactly that many labels change (drawing from
    /// all p classes, as some code does, leaves ≈1/p of them unchanged by chance).
    pub fn generate(task: &ModularTask, seed: u64) -> Self {
        let mut pairs = all_pairs(task);
        pairs.shuffle(&mut stream(seed, Stream::Split));
        let n_train = (task.train_frac * pairs.len() as f64).floor() as usize;

        let mut train = Split::default();
        let mut test = Split::default();
        for (i, &(a, b)) in pairs.iter().enumerate() {
            let y = label(task.op, a, b, task.p);
            if i < n_train { train.push(a, b, y) } else { test.push(a, b, y) }
        }

        let n_corrupt = (task.label_noise * train.len() as f64).floor() as usize;
        if n_corrupt > 0 {
            let mut rng = stream(seed, Stream::LabelNoise);
            let mut order: Vec<usize> = (0..train.len()).collect();
            order.shuffle(&mut rng);
            for &i in &order[..n_corrupt] {
                // Uniform over the other p − 1 classes: draw in 0..p−1 and skip the true label.
                let r = rng.random_range(0..task.p - 1);
                let y = train.clean_labels[i];
                train.labels[i] = if r >= y { r + 1 } else { r };
                train.corrupted[i] = true;
            }
        }

        Self { p: task.p, op: task.op, train, test }
    }
}
