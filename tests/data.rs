//! Modular-arithmetic datasets: counts, labels, splits, determinism, label corruption.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashSet;

use gradscope::data::modular::{ModularDataset, all_pairs, label, pair_count};
use gradscope::spec::{ModOp, ModularTask, PairSet};

fn task(op: ModOp, p: u32, frac: f64, noise: f64) -> ModularTask {
    ModularTask { op, p, train_frac: frac, label_noise: noise, pairs: PairSet::All }
}

#[test]
fn pair_counts() {
    assert_eq!(pair_count(&task(ModOp::Add, 97, 0.5, 0.0)), 9409);
    assert_eq!(pair_count(&task(ModOp::Div, 97, 0.5, 0.0)), 97 * 96);
    let div7 = all_pairs(&task(ModOp::Div, 7, 0.5, 0.0));
    assert_eq!(div7.len(), 42);
    assert!(div7.iter().all(|&(_, b)| b != 0));
    // The PAIR explorable's a ≤ b pairs: 67·68/2 = 2278.
    let unordered = ModularTask { pairs: PairSet::Unordered, ..task(ModOp::Add, 67, 0.4, 0.0) };
    assert_eq!(pair_count(&unordered), 2278);
    let pairs = all_pairs(&unordered);
    assert_eq!(pairs.len(), 2278);
    assert!(pairs.iter().all(|&(a, b)| a <= b));
    let d = ModularDataset::generate(&unordered, 165);
    assert_eq!(d.train.len(), 911); // ⌊0.4 · 2278⌋
}

#[test]
fn labels_match_direct_arithmetic() {
    let p = 113u32;
    for (a, b) in all_pairs(&task(ModOp::Div, p, 0.5, 0.0)) {
        // (a ÷ b) · b ≡ a (mod p): the inverse is right.
        assert_eq!(label(ModOp::Div, a, b, p) as u64 * b as u64 % p as u64, a as u64);
        assert_eq!(label(ModOp::Add, a, b, p), (a + b) % p);
        assert_eq!(label(ModOp::Sub, a, b, p), ((a as i64 - b as i64).rem_euclid(p as i64)) as u32);
        assert_eq!(label(ModOp::Mul, a, b, p), a * b % p);
        assert_eq!(label(ModOp::Quad, a, b, p), (a * a + a * b + b * b) % p);
    }
}

#[test]
fn split_is_a_seeded_partition() {
    let t = task(ModOp::Add, 97, 0.5, 0.0);
    let d = ModularDataset::generate(&t, 7);
    assert_eq!(d.train.len(), 4704); // ⌊0.5 · 9409⌋
    assert_eq!(d.test.len(), 9409 - 4704);
    let train: HashSet<_> = d.train.a.iter().zip(&d.train.b).collect();
    let test: HashSet<_> = d.test.a.iter().zip(&d.test.b).collect();
    assert_eq!(train.len(), d.train.len());
    assert!(train.is_disjoint(&test));
    assert_eq!(train.len() + test.len(), 9409);
    for i in 0..d.train.len() {
        assert_eq!(d.train.labels[i], (d.train.a[i] + d.train.b[i]) % 97);
    }

    assert_eq!(ModularDataset::generate(&t, 7), d, "same seed, same data");
    let other = ModularDataset::generate(&t, 8);
    assert_ne!(other.train.a, d.train.a, "another seed shuffles differently");
}

#[test]
fn label_noise_changes_exactly_floor_xi_train_labels() {
    for (noise, seed) in [(0.3, 0u64), (0.1, 5), (0.77, 9)] {
        let t = task(ModOp::Add, 53, 0.4, noise);
        let d = ModularDataset::generate(&t, seed);
        let expected = (noise * d.train.len() as f64).floor() as usize;
        let changed =
            (0..d.train.len()).filter(|&i| d.train.labels[i] != d.train.clean_labels[i]).count();
        assert_eq!(changed, expected, "ξ = {noise}");
        assert_eq!(d.train.corrupted.iter().filter(|&&c| c).count(), expected);
        assert!(d.train.labels.iter().all(|&y| y < 53));
        assert_eq!(d.test.labels, d.test.clean_labels, "the test set stays clean");
        // Same split as without noise: corruption touches labels only.
        let clean = ModularDataset::generate(&task(ModOp::Add, 53, 0.4, 0.0), seed);
        assert_eq!(clean.train.a, d.train.a);
        assert_eq!(clean.train.labels, d.train.clean_labels);
    }
}
