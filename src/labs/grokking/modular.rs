//! Modular arithmetic: all pairs (a, b) in 0..p labelled by `op(a, b) mod p`, where op is a
//! built-in operation or your own expression (`data::expr`)
//! (openai/grok `grok/data.py`), split into train and test by a seeded shuffle, with optional
//! label corruption of the training set (Doshi et al., d-doshi/Grokking `utils/datasets.py`).

use rand::Rng;
use rand::seq::SliceRandom;

use super::expr::{Expr, label_table};
use super::spec::{ModOp, ModularTask, PairSet};
use crate::rng::{Stream, stream};
use crate::spec::SpecError;

/// An operation compiled for one modulus: its label for every (a, b) of the p × p grid, `None`
/// where the pair is excluded (b = 0 for division; any pair whose divisor is 0 mod p for an
/// expression). Built-in and custom operations alike are expressions (`ModOp::expression`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    p: u32,
    /// Row a, column b.
    table: Vec<Option<u32>>,
}

impl Operation {
    /// Parses `op`'s expression and labels the grid. The error names the field and says what
    /// is wrong: where the parse failed, the pair that overflowed, or that no pair is left.
    pub fn new(op: &ModOp, p: u32) -> Result<Self, SpecError> {
        let expr =
            Expr::parse(op.expression()).map_err(|e| SpecError::new(op.field(), e.to_string()))?;
        let table = label_table(&expr, p).map_err(|e| SpecError::new(op.field(), e.to_string()))?;
        if table.iter().all(Option::is_none) {
            return Err(SpecError::new(
                op.field(),
                format!("excludes every pair (each has a divisor ≡ 0 mod {p}); nothing to learn"),
            ));
        }
        Ok(Self { p, table })
    }

    /// Your own operation's labels for the page's preview as you type: like [`Operation::new`]
    /// with `ModOp::Expr(expr)`, for any p in 2..=257 (a prime for `/` to be the modular
    /// inverse; the spec insists on one).
    pub fn preview(expr: &str, p: u32) -> Result<Self, SpecError> {
        if !(2..=257).contains(&p) {
            return Err(SpecError::new(
                "grokking.task.p",
                format!("must be in 2..=257 for a preview (got {p})"),
            ));
        }
        Self::new(&ModOp::Expr(expr.to_string()), p)
    }

    /// The labels, row a, column b (`None`: excluded).
    pub fn table(&self) -> &[Option<u32>] {
        &self.table
    }

    /// The label of (a, b), or `None` if the pair is not in the dataset.
    pub fn label(&self, a: u32, b: u32) -> Option<u32> {
        self.table[(a * self.p + b) as usize]
    }

    /// op(a, b) = op(b, a) for every pair (and the same pairs are excluded).
    pub fn is_commutative(&self) -> bool {
        (0..self.p).all(|a| (a..self.p).all(|b| self.label(a, b) == self.label(b, a)))
    }

    /// Every pair of the dataset under `pairs`, in (a, b) lexicographic order.
    pub fn pairs(&self, pairs: PairSet) -> Vec<(u32, u32)> {
        let p = self.p;
        (0..p)
            .flat_map(|a| (0..p).map(move |b| (a, b)))
            .filter(|&(a, b)| self.label(a, b).is_some() && (pairs == PairSet::All || a <= b))
            .collect()
    }
}

/// Number of (a, b) pairs in the task's dataset: p², p·(p−1) for division (b ≠ 0), or
/// p·(p+1)/2 for unordered pairs (a ≤ b); for an expression, the pairs it does not exclude.
/// 0 for an operation that does not compile (validation refuses it).
pub fn pair_count(task: &ModularTask) -> usize {
    let p = task.p as usize;
    match (task.pairs, &task.op) {
        (_, ModOp::Expr(_)) => {
            Operation::new(&task.op, task.p).map_or(0, |op| op.pairs(task.pairs).len())
        }
        (PairSet::Unordered, _) => p * (p + 1) / 2,
        (PairSet::All, ModOp::Div) => p * (p - 1),
        (PairSet::All, _) => p * p,
    }
}

/// The label of (a, b) under `op` (p prime). For a pair the operation excludes (b = 0 for
/// division), 0. Compiles `op` on every call: for one-off checks; datasets use [`Operation`].
pub fn label(op: ModOp, a: u32, b: u32, p: u32) -> u32 {
    Expr::parse(op.expression()).ok().and_then(|e| e.label(a, b, p).ok().flatten()).unwrap_or(0)
}

/// Every pair of the task's dataset, in (a, b) lexicographic order (none for an operation that
/// does not compile).
pub fn all_pairs(task: &ModularTask) -> Vec<(u32, u32)> {
    Operation::new(&task.op, task.p).map(|op| op.pairs(task.pairs)).unwrap_or_default()
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
        // A validated task's operation compiles (`GrokkingSpec::validate`).
        let op = Operation::new(&task.op, task.p).expect("the spec was validated");
        let mut pairs = op.pairs(task.pairs);
        pairs.shuffle(&mut stream(seed, Stream::Split));
        let n_train = (task.train_frac * pairs.len() as f64).floor() as usize;

        let mut train = Split::default();
        let mut test = Split::default();
        for (i, &(a, b)) in pairs.iter().enumerate() {
            let y = op.label(a, b).expect("pairs() keeps labelled pairs only");
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

        Self { p: task.p, op: task.op.clone(), train, test }
    }
}
