//! Every lab's named, published runs, in the page's order: each lab's presets, tagged by lab.
//! Each preset cites its source and says what a user should see; the labs' `presets.rs` hold
//! them.

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
