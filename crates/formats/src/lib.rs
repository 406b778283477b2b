//! File formats in and out of Mamori: the vendor inventory (CSV and XLSX
//! import, CSV/XLSX/JSON export, the fill-in template) and the converter for
//! the US ONC Certified Health IT Product List (CHPL).
//!
//! Invariant: this crate knows file formats and nothing else. It has no
//! database, no HTTP and no I/O beyond the byte slices and writers it is
//! handed; every function is a function of its arguments. Turning a parsed
//! inventory into stored vendors is the caller's job.

pub mod chpl;
mod columns;
pub mod export;
pub mod inventory;
mod synthetic;

pub use chpl::{chpl_to_inventory_csv, chpl_to_vendors, ChplError};
pub use columns::{
    ColumnDoc, ASSESSMENT_COLUMN_NAMES, LIST_SEPARATOR, MAX_CELL_BYTES, TEMPLATE_COLUMNS,
};
pub use export::{ExportError, ExportRecord};
pub use inventory::{
    parse_csv, parse_inventory, parse_xlsx, template_csv, template_xlsx, ImportRow, InventoryError,
    InventoryFormat, ParsedInventory, RowError,
};
pub use synthetic::synthetic_inventory_csv;
