//! Mamori's use cases, shared by the web server and the CLI: start-up,
//! vendor registration, imports, exports, policy changes and demo data.
//!
//! Invariant: no HTTP and no terminal here. Each function takes the store and
//! an actor, does one whole thing, and returns a typed result the caller can
//! show in its own way.

pub mod assessments;
pub mod error;
pub mod keys;
pub mod password;
pub mod policy;
pub mod risk_export;
pub mod risks;
pub mod setup;
pub mod vendors;

pub use error::AppError;
