//! Mamori's domain: the vocabulary of vendor risk and the pure rules over it.
//!
//! Invariant: this crate does no I/O, no async, no SQL and no HTTP. Everything
//! here is a function of its arguments, which is what lets the tiering rules be
//! property-tested and re-run over every vendor in memory.

pub mod assessment;
pub mod contract;
pub mod framework;
mod labels;
pub mod policy;
pub mod questionnaire;
pub mod risk;
pub mod role;
pub mod scoring;
pub mod tiering;
pub mod vendor;

pub use labels::ParseLabelError;
pub use policy::{PolicyError, TieringPolicy, DEFAULT_POLICY_TOML};
pub use role::{Permission, Role};
pub use tiering::{assess, CategoryScores, Contribution, InherentRisk, Rating, TierReason};
pub use vendor::*;
