//! File formats in and out of Mamori: the vendor inventory (CSV and XLSX
//! import, CSV/XLSX/JSON export, the fill-in template), the converter for
//! the US ONC Certified Health IT Product List (CHPL), control frameworks
//! (OSCAL catalogs, CSF CSVs and mappings), OSCAL assessment results, the
//! risk register export (CSV, XLSX) and Google VSAQ questionnaires.
//!
//! Invariant: this crate knows file formats and nothing else. It has no
//! database, no HTTP and no I/O beyond the byte slices and writers it is
//! handed; every function is a function of its arguments. Turning a parsed
//! inventory into stored vendors is the caller's job.

pub mod answer_sheet;
pub mod chpl;
mod columns;
pub mod csf_csv;
pub mod export;
pub mod framework_import;
pub mod inventory;
pub mod oscal_catalog;
pub mod oscal_results;
mod plain_text;
pub mod risk_export;
mod synthetic;
pub mod vsaq;

pub use chpl::{chpl_to_inventory_csv, chpl_to_vendors, ChplError};
pub use columns::{
    ColumnDoc, ASSESSMENT_COLUMN_NAMES, LIST_SEPARATOR, MAX_CELL_BYTES, TEMPLATE_COLUMNS,
};
pub use csf_csv::{
    parse_csf11_core_csv, parse_csf_core_csv, parse_framework_mapping_csv, FrameworkCsvError,
};
pub use export::{ExportError, ExportRecord};
pub use framework_import::{detect_and_parse_framework, FrameworkImport, FrameworkImportError};
pub use inventory::{
    parse_csv, parse_inventory, parse_xlsx, template_csv, template_xlsx, ImportRow, InventoryError,
    InventoryFormat, ParsedInventory, RowError,
};
pub use oscal_catalog::{parse_oscal_catalog, OscalError};
pub use oscal_results::{
    write_assessment_results_json, AssessmentResultsInput, FindingInput, ObservationInput,
    OscalResultsError, Outcome,
};
pub use risk_export::{write_risks_csv, write_risks_xlsx, RiskExportRow, RISK_EXPORT_HEADER};
pub use synthetic::synthetic_inventory_csv;
pub use vsaq::{parse_vsaq_questionnaire, VsaqError, VsaqImport, VsaqStats};
