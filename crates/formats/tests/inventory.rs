//! Integration tests of mamori-formats: one binary, one module per concern.

mod inventory {
    pub mod chpl;
    pub mod common;
    pub mod csv_errors;
    pub mod csv_valid;
    pub mod export;
    pub mod template;
    pub mod xlsx;
}
