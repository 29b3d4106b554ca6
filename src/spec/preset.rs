//! A named spec with its provenance: what a lab's presets are made of.

/// A named spec with its provenance.
#[derive(Clone, Debug)]
pub struct Preset<S> {
    /// CLI name (`gradscope run doshi-quick-grok`).
    pub name: &'static str,
    pub title: &'static str,
    /// Paper and code the settings come from.
    pub source: &'static str,
    /// What the user should expect to see, with the published numbers.
    pub expect: &'static str,
    pub spec: S,
}

impl<S> Preset<S> {
    /// The same preset with its spec wrapped (a lab's spec tagged by the registry).
    pub fn map<T>(self, wrap: impl FnOnce(S) -> T) -> Preset<T> {
        let Preset { name, title, source, expect, spec } = self;
        Preset { name, title, source, expect, spec: wrap(spec) }
    }
}
