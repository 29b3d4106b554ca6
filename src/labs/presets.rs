//! Every lab's named, published runs, in the page's order: each lab's presets, tagged by lab.
//! Each preset cites its source and says what a user should see; the labs' `presets.rs` hold
//! them.

use serde::{Deserialize, Serialize};

use super::{ExperimentSpec, gradient_flow, grokking, scans};

/// A named spec of any lab, with its provenance.
pub type Preset = crate::spec::Preset<ExperimentSpec>;

/// The default run: Doshi et al., "To grok or not to grok" (2023), d-doshi/Grokking.
pub fn default_preset() -> Preset {
    grokking::presets::default_preset().map(ExperimentSpec::Grokking)
}

/// Every preset, default first.
pub fn all() -> Vec<Preset> {
    let grokking =
        grokking::presets::presets().into_iter().map(|p| p.map(ExperimentSpec::Grokking));
    let scans = scans::presets::presets().into_iter().map(|p| p.map(ExperimentSpec::Scans));
    let flow =
        gradient_flow::presets::presets().into_iter().map(|p| p.map(ExperimentSpec::GradientFlow));
    grokking.chain(scans).chain(flow).collect()
}

/// Looks a preset up by name.
pub fn find(name: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.name == name)
}

/// A preset as the page lists it: the worker's `ready` event carries them, and so does the
/// build-written `www/form-schema.js`, so the page shows its presets and form before the wasm
/// arrives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresetInfo {
    /// The lab's key (`grokking`, `scans`).
    pub lab: String,
    pub name: String,
    pub title: String,
    pub source: String,
    pub expect: String,
    pub spec: serde_json::Value,
}

impl PresetInfo {
    /// Every preset, default first.
    pub fn all() -> Vec<PresetInfo> {
        all()
            .into_iter()
            .map(|p| PresetInfo {
                lab: p.spec.lab().into(),
                name: p.name.into(),
                title: p.title.into(),
                source: p.source.into(),
                expect: p.expect.into(),
                spec: serde_json::to_value(&p.spec).expect("specs serialize"),
            })
            .collect()
    }
}
