//! The grokking transformer against independent references on the CPU backend: hand-derived
//! attention, a float64 loop, causality, (a, b) vs (b, a), and 20 training steps against a
//! PyTorch run (the checks live in `tests/shared/transformer_checks.rs`; `tests/web.rs` runs
//! the same ones in the browser).
#![cfg(not(target_arch = "wasm32"))]

use crate::transformer_checks::*;
use gradscope::backend;
use pollster::block_on;

#[test]
fn attention_matches_hand_computed_values() {
    block_on(attention_matches_a_hand_computed_example(&backend::cpu().device));
}

#[test]
fn attention_matches_a_float64_reference() {
    block_on(attention_matches_a_float64_loop(&backend::cpu().device));
}

#[test]
fn a_token_only_changes_outputs_at_and_after_its_position() {
    block_on(later_tokens_do_not_change_earlier_outputs(&backend::cpu().device));
}

#[test]
fn swapped_operands_give_different_logits_at_init() {
    block_on(logits_distinguish_swapped_operands(&backend::cpu().device));
}

#[test]
fn twenty_training_steps_match_pytorch() {
    let cpu = backend::cpu();
    for (name, json) in FIXTURES {
        block_on(training_matches_the_pytorch_fixture(name, json, &cpu.device, cpu.limits, 20));
    }
}

/// Every transformer preset's shape — its layer count, LayerNorm or not, causal mask or not,
/// one head or several — is trained against PyTorch by one of the fixtures above
/// (`scripts/make-fixtures.sh` makes them; a preset of a new shape needs a fixture of its own).
#[test]
fn the_pytorch_fixtures_cover_every_transformer_presets_shape() {
    use serde_json::Value;
    let shape = |t: &Value| {
        (
            t["layers"].as_u64(),
            t["layer_norm"].as_bool(),
            t["causal"].as_bool(),
            t["heads"].as_u64().map(|h| h > 1),
        )
    };
    let covered: Vec<_> = FIXTURES
        .iter()
        .map(|(_, json)| {
            let fixture: Value = serde_json::from_str(json).expect("fixtures are JSON");
            shape(&fixture["init"]["spec"]["grokking"]["model"]["transformer"])
        })
        .collect();
    let mut transformers = 0;
    for p in gradscope::labs::presets::all() {
        let spec = serde_json::to_value(&p.spec).expect("specs serialize");
        let t = &spec["grokking"]["model"]["transformer"];
        if t.is_null() {
            continue;
        }
        transformers += 1;
        assert!(covered.contains(&shape(t)), "{}: no fixture of its shape {:?}", p.name, shape(t));
    }
    assert!(transformers >= 2, "the transformer presets are found ({transformers})");
}
