//! Integration tests of the framework importers, the OSCAL assessment-results
//! writer and the VSAQ converter; one binary, one module per concern.

mod frameworks {
    pub mod common;
    pub mod csf_csv;
    pub mod detect;
    pub mod oscal_catalog;
    pub mod oscal_results;
    pub mod vsaq;
}
