//! Modular-arithmetic datasets: counts, labels, splits, determinism, label corruption.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashSet;

use gradscope::labs::grokking::modular::{ModularDataset, all_pairs, label, pair_count};
use gradscope::labs::grokking::{ModOp, ModularTask, PairSet};

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

/// Each built-in operation written out here in plain integer arithmetic, independent of the
/// expression language the built-ins compile to (`data::expr`); `None` where it is undefined.
fn direct(op: &ModOp, a: u32, b: u32, p: u32) -> Option<u32> {
    match op {
        ModOp::Add => Some((a + b) % p),
        ModOp::Sub => Some((a as i64 - b as i64).rem_euclid(p as i64) as u32),
        ModOp::Mul => Some(a * b % p),
        ModOp::Quad => Some((a * a + a * b + b * b) % p),
        // The q with q · b ≡ a (mod p), found by search rather than by an inverse formula.
        ModOp::Div => (b != 0).then(|| (0..p).find(|&q| q * b % p == a).unwrap()),
        ModOp::Expr(e) => panic!("not a built-in operation: {e:?}"),
    }
}

#[test]
fn labels_match_direct_arithmetic() {
    let p = 113u32;
    for op in ModOp::ALL {
        let pairs: HashSet<(u32, u32)> =
            all_pairs(&task(op.clone(), p, 0.5, 0.0)).into_iter().collect();
        // Every pair of 0..p, b = 0 included: each is labelled right, or left out where the
        // operation is undefined.
        for (a, b) in (0..p).flat_map(|a| (0..p).map(move |b| (a, b))) {
            match direct(&op, a, b, p) {
                Some(want) => {
                    assert!(pairs.contains(&(a, b)), "{op:?}: ({a}, {b}) is missing");
                    assert_eq!(label(op.clone(), a, b, p), want, "{op:?} ({a}, {b})");
                }
                None => assert!(!pairs.contains(&(a, b)), "{op:?}: undefined ({a}, {b}) is in"),
            }
        }
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
    assert!(!d.train.is_empty() && !d.test.is_empty());
    assert!(gradscope::labs::grokking::modular::Split::default().is_empty());
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

// ---- Your own operation (data::expr) ----

use gradscope::labs::ExperimentSpec;
use gradscope::labs::grokking::expr::Expr;
use gradscope::labs::grokking::modular::Operation;
use gradscope::spec::url_hash;

fn expr_task(text: &str, p: u32) -> ModularTask {
    ModularTask { op: ModOp::Expr(text.into()), ..task(ModOp::Add, p, 0.5, 0.0) }
}

/// The expression's label of every pair against a Rust closure (None: excluded).
fn assert_labels(text: &str, p: u32, direct: impl Fn(i64, i64, i64) -> Option<i64>) {
    let op = Operation::new(&ModOp::Expr(text.into()), p).unwrap_or_else(|e| panic!("{text}: {e}"));
    for a in 0..p {
        for b in 0..p {
            let want = direct(a as i64, b as i64, p as i64).map(|v| v.rem_euclid(p as i64) as u32);
            assert_eq!(op.label(a, b), want, "{text} at a={a}, b={b}");
        }
    }
}

#[test]
fn expressions_follow_their_documented_semantics() {
    let p = 31;
    // The issue's examples.
    assert_labels("(a*b + 3) mod p", p, |a, b, p| Some((a * b + 3) % p));
    assert_labels("(a*b + 3) % p", p, |a, b, p| Some((a * b + 3) % p)); // `%` spells mod
    assert_labels("a^2 + a*b + b^2", p, |a, b, _| Some(a * a + a * b + b * b));
    assert_labels("a - b if a < b else a + b", p, |a, b, _| {
        Some(if a < b { a - b } else { a + b })
    });
    // `/` multiplies by the inverse: (a / b) · b ≡ a; b ≡ 0 is excluded.
    assert_labels("a / b", p, |a, b, p| {
        (b != 0).then(|| (1..p).find(|y| y * b % p == a % p).unwrap_or(0))
    });
    assert_labels("a / (b - 1)", p, |a, b, p| {
        (b != 1).then(|| (0..p).find(|y| y * (b - 1).rem_euclid(p) % p == a).unwrap())
    });
    // A quotient is reduced mod p at once, before anything after it compares or reduces it.
    assert_labels("(a / b) mod 7", p, |a, b, p| {
        (b != 0).then(|| (1..p).find(|y| y * b % p == a % p).unwrap_or(0) % 7)
    });
    // The inverse is exact for any prime p an operation takes, not only the spec's p ≤ 257:
    // (a / b) · b ≡ a mod 4294967291, the largest prime below 2^32 (products there pass 2^64).
    let big = 4_294_967_291u32;
    let quotient = Expr::parse("a / b").unwrap();
    for (a, b) in [(1, 3), (5, 7), (123_456, 4_000_000_000)] {
        let q = quotient.label(a, b, big).unwrap().unwrap();
        assert_eq!(u64::from(q) * u64::from(b) % u64::from(big), u64::from(a), "{a} / {b}");
    }
    // A division by zero in the branch not taken excludes nothing.
    assert_labels("a / b if b > 0 else 0", p, |a, b, p| {
        Some(if b > 0 { (0..p).find(|y| y * b % p == a).unwrap() } else { 0 })
    });
    // mod is Euclidean; mod 0 excludes the pair.
    assert_labels("(a - b - 40) mod 7", p, |a, b, _| Some((a - b - 40).rem_euclid(7)));
    assert_labels("a mod b", p, |a, b, _| (b != 0).then(|| a % b));
    // Precedence: unary minus below ^, ^ right-associative, left-associative - and mod.
    assert_labels("-a^2", p, |a, _, _| Some(-(a * a)));
    assert_labels("2^3^2 + a - b - 1", p, |a, b, _| Some(512 + a - b - 1));
    assert_labels("a * 7 mod 5 * 2", p, |a, _, _| Some((a * 7 % 5) * 2));
    assert_labels("(a == b) + (a != b)*2 + (a <= b)*4 + (a >= b)*8 + (a > b)*16", p, |a, b, _| {
        Some(
            (a == b) as i64
                + (a != b) as i64 * 2
                + (a <= b) as i64 * 4
                + (a >= b) as i64 * 8
                + (a > b) as i64 * 16,
        )
    });
    // Exact integers before the final reduction: 2^40 does not wrap.
    assert_labels("2^40 + a", p, |a, _, p| Some(((1i64 << 40) % p + a) % p));
    assert_labels("a ** 2 × b", p, |a, b, _| Some(a * a * b));
    // Powers: x^0 = 1 for every x, 0^0 and 1^0 included; (-1)^b alternates in sign, for an
    // exponent of any size (it is computed apart, without raising).
    assert_labels("a^0 + b^0", p, |_, _, _| Some(2));
    assert_labels("(0-1)^b", p, |_, b, _| Some(if b % 2 == 0 { 1 } else { -1 }));
    assert_labels("(0-1)^(2^100 + b)", p, |_, b, _| Some(if b % 2 == 0 { 1 } else { -1 }));
}

/// The built-in operations' datasets, as the model sees them (pairs, split, labels), against
/// [`direct`]: every defined pair exactly once, none of the undefined ones, each with its label.
#[test]
fn builtin_operation_datasets_match_direct_arithmetic() {
    let p = 23u32;
    for op in ModOp::ALL {
        let d = ModularDataset::generate(&task(op.clone(), p, 0.4, 0.0), 5);
        let mut seen = HashSet::new();
        for split in [&d.train, &d.test] {
            for i in 0..split.len() {
                let (a, b) = (split.a[i], split.b[i]);
                assert_eq!(Some(split.labels[i]), direct(&op, a, b, p), "{op:?} ({a}, {b})");
                assert!(seen.insert((a, b)), "{op:?}: ({a}, {b}) twice");
            }
        }
        let defined = (0..p).flat_map(|a| (0..p).map(move |b| (a, b)));
        let defined = defined.filter(|&(a, b)| direct(&op, a, b, p).is_some()).count();
        assert_eq!(seen.len(), defined, "{op:?}: every defined pair");
    }
    // A link whose operation is typed in (`a+b`) trains on the built-in's exact dataset.
    let t = task(ModOp::Add, 97, 0.5, 0.0);
    let custom = ModularDataset::generate(&expr_task("a+b", 97), 7);
    let builtin = ModularDataset::generate(&t, 7);
    assert_eq!((custom.train, custom.test), (builtin.train, builtin.test));
    assert_eq!(pair_count(&expr_task("a / b", 13)), 13 * 12);
}

#[test]
fn parse_errors_name_the_column_and_what_was_expected() {
    let err = |t: &str| Expr::parse(t).unwrap_err().to_string();
    assert_eq!(
        err("a + * b"),
        "at column 5: expected an operand (a, b, p, a number or `(`), found `*`"
    );
    assert_eq!(err("(a + b"), "at column 7: expected `)`, found the end");
    assert_eq!(err("a b"), "at column 3: expected an operator or the end, found `b`");
    assert_eq!(
        err(""),
        "at column 1: expected an expression over a, b and p (e.g. `a + b`), found the end"
    );
    assert_eq!(err("a + c"), "at column 5: unknown name `c`; the operands are a, b and p");
    assert_eq!(err("a = b"), "at column 3: `=` is not an operator; write `==` to compare");
    assert_eq!(
        err("a if b"),
        "at column 7: expected `else` (after `x if condition`), found the end"
    );
    assert!(err("a < b < p").contains("comparisons do not chain"), "{}", err("a < b < p"));
    assert!(err("a $ b").starts_with("at column 3: unexpected `$`"), "{}", err("a $ b"));
}

#[test]
fn hostile_expressions_are_refused_with_a_message() {
    let err = |t: &str| Expr::parse(t).unwrap_err().to_string();
    assert!(err(&"a+".repeat(600)).contains("at most 1000"), "very long");
    // The byte limit is exact: 1000 bytes parse, 1001 are refused at column 1001.
    assert!(Expr::parse(&format!("{:<1000}", "a")).is_ok(), "1000 bytes are allowed");
    let over = Expr::parse(&format!("{:<1001}", "a")).unwrap_err();
    assert_eq!(over.column, 1001, "{over}");
    // The limit is exact, and only nesting counts: seventy parenthesized terms side by side are
    // fine. Levels: the whole expression 1, each unary minus 1, each parenthesis 2 (the
    // parenthesis and the expression inside it).
    let nested = |minus: usize, n: usize| {
        format!("{}{}a{}", "-".repeat(minus), "(".repeat(n), ")".repeat(n))
    };
    assert!(Expr::parse(&nested(1, 31)).is_ok(), "64 levels are allowed");
    assert!(err(&nested(2, 31)).contains("nests deeper than 64"), "65 levels are not");
    assert!(
        Expr::parse(&format!("{}(a)", "(a)+".repeat(70))).is_ok(),
        "side by side is not nesting"
    );
    // Nor are seventy negations or powers side by side: each gives its level back.
    assert!(Expr::parse(&format!("{}-a", "-a+".repeat(70))).is_ok(), "negations side by side");
    assert!(Expr::parse(&format!("{}a^2", "a^2+".repeat(70))).is_ok(), "powers side by side");
    let deep = format!("{}a{}", "(".repeat(300), ")".repeat(300));
    assert!(err(&deep).contains("nests deeper than 64"), "deep parentheses");
    assert!(err(&"-".repeat(400)).contains("nests deeper than 64"), "deep unary minus");
    assert!(
        err(&"a^".repeat(300).trim_end_matches('^').to_string()).contains("nests deeper"),
        "deep powers"
    );
    assert!(err("123456789012345678901234567890 + a").contains("too large (at most 10^18)"));
    // A long name or constant is quoted whole up to 24 characters, else its first 20 and `…`.
    let name24 = "x".repeat(24);
    assert!(err(&name24).contains(&format!("`{name24}`")), "{}", err(&name24));
    assert!(
        err(&"x".repeat(25)).contains(&format!("`{}…`", "x".repeat(20))),
        "{}",
        err(&"x".repeat(25))
    );
    assert!(err(&"9".repeat(25)).contains(&format!("constant {}… is", "9".repeat(20))));
    // Overflow and negative exponents: refused by validation, naming the field and the pair.
    let spec = |text: &str| {
        let mut s = match ExperimentSpec::default() {
            ExperimentSpec::Grokking(g) => g,
            _ => unreachable!(),
        };
        s.task = ModularTask { p: 11, ..expr_task(text, 11) };
        ExperimentSpec::Grokking(s).validate()
    };
    let e = spec("(a+2)^100").unwrap_err();
    assert_eq!(e.field, "grokking.task.op.expr");
    assert!(e.message.starts_with("at a=1, b=0: `^` overflows"), "{e}");
    let e = spec("2^(a - 3)").unwrap_err();
    assert!(e.message.contains("a=0, b=0") && e.message.contains("negative exponent"), "{e}");
    let e = spec("a / 0").unwrap_err();
    assert!(e.message.contains("excludes every pair"), "{e}");
    let e = spec("a +").unwrap_err();
    assert_eq!(
        e.to_string(),
        "grokking.task.op.expr: at column 4: expected an operand (a, b, p, a number or `(`), found the end"
    );
    assert!(spec("(a*b + 3) mod p").is_ok());
}

#[test]
fn a_custom_operation_round_trips_through_the_url_hash_and_json() {
    let mut g = match ExperimentSpec::default() {
        ExperimentSpec::Grokking(g) => g,
        _ => unreachable!(),
    };
    g.task = expr_task("a - b if a < b else (a*b + 3) mod p", 97);
    let spec = ExperimentSpec::Grokking(g);
    let hash = url_hash::encode(&spec);
    assert!(hash.contains("grokking.task.op.expr=a+-+b+if+a+%3C+b+else"), "{hash}");
    assert_eq!(ExperimentSpec::from_hash(&hash).unwrap(), spec);
    assert_eq!(ExperimentSpec::from_json(&spec.to_json()).unwrap(), spec);
    // A constant alone decodes from the hash as a number; it is still the expression "7".
    let seven = ExperimentSpec::from_hash("grokking.task.op.expr=7").unwrap();
    let ExperimentSpec::Grokking(g) = seven else { unreachable!() };
    assert_eq!(g.task.op, ModOp::Expr("7".into()));
    // Unordered pairs need a commutative operation, checked on the labels.
    let json = r#"{"grokking": {"task": {"op": {"expr": "a*b + a + b"}, "pairs": "unordered"}}}"#;
    assert!(ExperimentSpec::from_json(json).is_ok());
    let json = r#"{"grokking": {"task": {"op": {"expr": "a*b + a"}, "pairs": "unordered"}}}"#;
    let e = ExperimentSpec::from_json(json).unwrap_err();
    assert_eq!(e.field, "grokking.task.pairs");
    // A non-prime p is refused; with a division in the expression, the message says why.
    let e = ExperimentSpec::from_hash("grokking.task.p=9&grokking.task.op.expr=a%2F(b%2B1)")
        .unwrap_err();
    assert!(e.message.contains("(division needs b⁻¹ mod p) (got 9)"), "{e}");
    let e = ExperimentSpec::from_hash("grokking.task.p=9&grokking.task.op.expr=a%2Bb").unwrap_err();
    assert_eq!(e.message, "must be a prime in 3..=257 (got 9)");
}

/// The preview of your own operation (the page's p × p grid as you type): p outside 2..=257 is
/// refused by field; inside, its table has one entry per (a, b), row a, and each is a² + b
/// mod p worked out here (none excluded: no division).
#[test]
fn the_operation_preview_labels_the_whole_grid() {
    use gradscope::labs::grokking::modular::Operation;
    for p in [0, 1, 258] {
        let e = Operation::preview("a*a + b", p).expect_err("out of range");
        assert_eq!(e.field, "grokking.task.p", "p = {p}");
    }
    for p in [2u32, 7, 257] {
        let op = Operation::preview("a*a + b", p).expect("in range");
        let table = op.table();
        assert_eq!(table.len(), (p * p) as usize, "p = {p}");
        for a in 0..p {
            for b in 0..p {
                let want = ((a as u64 * a as u64 + b as u64) % p as u64) as u32;
                assert_eq!(table[(a * p + b) as usize], Some(want), "p = {p}, ({a}, {b})");
                assert_eq!(op.label(a, b), Some(want));
            }
        }
    }
}
