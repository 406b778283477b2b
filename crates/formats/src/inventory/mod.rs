//! Vendor inventory import: one row per vendor, from CSV or XLSX.
//!
//! Problems come in two kinds. A file-level problem (not a table, wrong
//! delimiter, unknown columns, not UTF-8, a monstrous cell) stops the import
//! with an [`InventoryError`], because nothing after it can be trusted. A
//! row-level problem (a bad label, a negative number, an invalid e-mail, a
//! duplicate vendor) becomes a [`RowError`] and parsing goes on, so a person
//! fixing the file sees every problem in one pass.
//!
//! Exports guard against spreadsheet formula injection by prefixing cells that
//! start with `=`, `+`, `-`, `@`, tab or carriage return with a single quote
//! (see [`crate::export`]). The importer does not strip that quote: it is kept
//! as part of the value.

mod csv_input;
mod header;
mod row;
mod xlsx_input;

use std::fmt;

use mamori_domain::VendorDraft;
use thiserror::Error;

use crate::columns::{MAX_CELL_BYTES, TEMPLATE_COLUMNS};
use crate::export;

pub use csv_input::parse_csv;
pub use xlsx_input::parse_xlsx;

/// The two spreadsheet formats an inventory can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    Csv,
    Xlsx,
}

impl InventoryFormat {
    /// Decides by content first (an XLSX is a ZIP archive, which starts with
    /// `PK`), then by file extension, so a workbook renamed to `.csv` is still
    /// read as a workbook.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Result<Self, InventoryError> {
        if bytes.starts_with(b"PK\x03\x04") {
            return Ok(InventoryFormat::Xlsx);
        }
        if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return Err(InventoryError::LegacyXls);
        }
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, ext)| ext.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match extension.as_str() {
            "" | "csv" | "txt" => Ok(InventoryFormat::Csv),
            "xlsx" | "xlsm" => Ok(InventoryFormat::Xlsx),
            "xls" => Err(InventoryError::LegacyXls),
            _ => Err(InventoryError::UnsupportedFileType {
                file_name: file_name.to_string(),
            }),
        }
    }
}

/// A vendor read from one row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based row number as a spreadsheet shows it; the header is row 1.
    pub row: usize,
    pub vendor: VendorDraft,
}

/// A problem with one row, precise enough to find and fix the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    /// The column's header name, when the problem belongs to one cell.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "row {}, column {}: {}", self.row, column, self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

impl std::error::Error for RowError {}

/// The result of reading an inventory: the rows that are valid vendors and
/// every problem found in the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedInventory {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}

/// A problem with the file as a whole; nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InventoryError {
    #[error(
        "the file is empty: it needs a header row naming the columns, then one row per vendor"
    )]
    Empty,

    #[error(
        "row {row} should be the header row naming the columns (such as legal_name, vendor_type, \
         owner_email), but it holds {found}; download the template to see the expected layout"
    )]
    NoHeader { row: usize, found: String },

    #[error(
        "the file looks like {separator}-separated; Mamori expects comma-separated CSV \
         (in Excel: Save As → 'CSV UTF-8 (Comma delimited)')"
    )]
    WrongDelimiter { separator: &'static str },

    #[error("missing required column(s): {}", .columns.join(", "))]
    MissingColumns { columns: Vec<String> },

    #[error("{}", header::describe_unknown(.columns, .suggestions, .also_missing))]
    UnknownColumns {
        columns: Vec<String>,
        /// A likely intended name per unknown column, when one is close.
        suggestions: Vec<Option<&'static str>>,
        /// Required columns that are missing as well (often the same typo).
        also_missing: Vec<String>,
    },

    #[error("column '{column}' appears twice in the header (columns {first} and {second})")]
    DuplicateColumn {
        column: String,
        first: usize,
        second: usize,
    },

    #[error(
        "row {row}{}: the file is not UTF-8 text; in Excel save it as 'CSV UTF-8 (Comma delimited)'",
        .column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default()
    )]
    NotUtf8 { row: usize, column: Option<String> },

    #[error(
        "the file is UTF-16 text (Excel's 'Unicode Text'); save it as 'CSV UTF-8 (Comma delimited)'"
    )]
    Utf16,

    #[error(
        "row {row}, column {column}: the cell holds {bytes} bytes, more than the limit of {} bytes",
        MAX_CELL_BYTES
    )]
    CellTooLarge {
        row: usize,
        column: String,
        bytes: usize,
    },

    #[error("row {row}: the CSV could not be read: {reason}")]
    Csv { row: usize, reason: String },

    #[error("the file is not an Excel workbook (.xlsx): {reason}")]
    NotAWorkbook { reason: String },

    #[error("the workbook is password-protected; remove the password and upload it again")]
    PasswordProtected,

    #[error("the workbook has no worksheet")]
    NoWorksheet,

    #[error("worksheet '{sheet}' could not be read: {reason}")]
    Worksheet { sheet: String, reason: String },

    #[error("the file is an old binary Excel workbook (.xls); save it as .xlsx or as CSV UTF-8")]
    LegacyXls,

    #[error("'{file_name}' is not an inventory file Mamori reads; use .csv (UTF-8, comma-separated) or .xlsx")]
    UnsupportedFileType { file_name: String },

    #[error("the template could not be written: {reason}")]
    Template { reason: String },
}

/// Reads an inventory, choosing the format with [`InventoryFormat::detect`].
pub fn parse_inventory(file_name: &str, bytes: &[u8]) -> Result<ParsedInventory, InventoryError> {
    match InventoryFormat::detect(file_name, bytes)? {
        InventoryFormat::Csv => parse_csv(bytes),
        InventoryFormat::Xlsx => parse_xlsx(bytes),
    }
}

/// The inventory template as CSV: the header and two example vendors.
pub fn template_csv() -> Vec<u8> {
    let examples = example_vendors();
    let mut out = Vec::new();
    match export::write_inventory_csv(&examples, &mut out) {
        Ok(()) => out,
        // Writing to memory cannot fail; fall back to the bare header rather
        // than panic if it ever does.
        Err(_) => {
            let names: Vec<&str> = TEMPLATE_COLUMNS.iter().map(|c| c.name).collect();
            format!("{}\r\n", names.join(",")).into_bytes()
        }
    }
}

/// The inventory template as a workbook: sheet "Vendors" with the header and
/// two example vendors, and sheet "Columns" documenting every column.
pub fn template_xlsx() -> Result<Vec<u8>, InventoryError> {
    export::write_template_xlsx(&example_vendors()).map_err(|e| InventoryError::Template {
        reason: e.to_string(),
    })
}

/// The template's example rows. The first matches `ColumnDoc::example`.
pub(crate) fn example_vendors() -> Vec<VendorDraft> {
    use mamori_domain::{
        Connectivity, DataAction, DataClass, DataFlow, Deployment, LifecycleStatus,
        RevenueDependency, Service, Tenancy, VendorSource, VendorType,
    };
    let imaging_flow = |data_class| DataFlow {
        data_class,
        actions: vec![DataAction::Store, DataAction::Process, DataAction::Transmit],
        record_count: 2_500_000,
        locations: vec!["US".into(), "JP".into()],
        connectivity: vec![Connectivity::ApiIntegration, Connectivity::NetworkAccess],
        subprocessors: vec!["Amazon Web Services".into(), "Twilio".into()],
    };
    let billing_flow = |data_class| DataFlow {
        data_class,
        actions: vec![DataAction::Process, DataAction::Transmit],
        record_count: 800_000,
        locations: vec!["US".into()],
        connectivity: vec![Connectivity::RemoteAdmin],
        subprocessors: vec![],
    };
    vec![
        VendorDraft {
            external_id: Some("VND-0001".into()),
            legal_name: "Cedar Imaging Cloud, Inc.".into(),
            aliases: vec!["Cedar PACS".into(), "CedarView".into()],
            domains: vec![
                "cedarimaging.example".into(),
                "pacs.cedarimaging.example".into(),
            ],
            vendor_type: VendorType::Saas,
            deployment: Deployment::PublicCloud,
            tenancy: Tenancy::MultiTenant,
            status: LifecycleStatus::Active,
            source: VendorSource::Import,
            owner_email: "r.tanaka@hospital.example".into(),
            owner_name: Some("Rei Tanaka".into()),
            notes: Some("Cloud PACS for radiology. BAA signed in 2023.".into()),
            services: vec![Service {
                name: "Radiology image archive".into(),
                max_tolerable_downtime_hours: Some(4),
                business_processes: vec!["Radiology reading".into(), "Emergency imaging".into()],
                patient_care_impact: true,
                patients_affected: Some(120_000),
                records_affected: Some(2_500_000),
                revenue_dependency: RevenueDependency::Medium,
            }],
            data_flows: vec![
                imaging_flow(DataClass::Phi),
                imaging_flow(DataClass::PersonalData),
            ],
        },
        VendorDraft {
            external_id: Some("VND-0002".into()),
            legal_name: "Harbor Billing Partners LLC".into(),
            aliases: vec![],
            domains: vec!["harborbilling.example".into()],
            vendor_type: VendorType::BillingRcm,
            deployment: Deployment::PrivateCloud,
            tenancy: Tenancy::SingleTenant,
            status: LifecycleStatus::Onboarding,
            source: VendorSource::Import,
            owner_email: "m.sato@hospital.example".into(),
            owner_name: Some("Mika Sato".into()),
            notes: None,
            services: vec![Service {
                name: "Claims submission".into(),
                max_tolerable_downtime_hours: Some(72),
                business_processes: vec!["Claims".into(), "Patient statements".into()],
                patient_care_impact: false,
                patients_affected: None,
                records_affected: Some(800_000),
                revenue_dependency: RevenueDependency::High,
            }],
            data_flows: vec![
                billing_flow(DataClass::Phi),
                billing_flow(DataClass::Payment),
            ],
        },
    ]
}
