//! Seeds in JSON: a number up to 2⁵³, a decimal string above it.
//!
//! A seed is any `u64`, but JavaScript's `JSON.parse` turns every number into an IEEE double and
//! silently rounds integers above `Number.MAX_SAFE_INTEGER` (2⁵³ − 1): seed 2⁶⁴ − 1 would come
//! back from the page as 2⁶⁴ and fail, and 2⁵³ + 1 would quietly become 2⁵³, another run. So
//! seeds above 2⁵³ − 1 are written as strings, and a seed is read from either form. Small seeds
//! (all presets) stay plain numbers, so spec files and links look as before.

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

/// `Number.MAX_SAFE_INTEGER`: the largest integer every double below it also represents.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

pub fn serialize<S: Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
    if *seed <= MAX_SAFE_INTEGER { s.serialize_u64(*seed) } else { s.collect_str(seed) }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(SeedVisitor)
}

struct SeedVisitor;

impl Visitor<'_> for SeedVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a seed: an integer from 0 to 18446744073709551615 (as a string above 2^53)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("seed {v} is negative")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // 3.0 is 3; 1e300 or 2.5 is no seed. Above 2⁵³ a double may already be rounded.
        if v.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER as f64).contains(&v) {
            Ok(v as u64)
        } else {
            Err(E::custom(format!(
                "seed {v} is not an integer from 0 to 2^53 (write larger seeds as a string, \"18446744073709551615\")"
            )))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.trim().parse::<u64>().map_err(|_| {
            E::custom(format!("seed {v:?} is not an integer from 0 to 18446744073709551615"))
        })
    }
}
