//! Building blocks more than one lab uses: host-drawn initialisers, parameter walks, and the
//! causal mask of attention.

pub mod attention;
pub mod init;
pub mod params;
