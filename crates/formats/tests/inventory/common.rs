//! Helpers shared by the test modules.

use mamori_formats::{parse_csv, InventoryError, ParsedInventory, RowError};

/// The three required columns, enough for most error tests.
pub const MINIMAL_HEADER: &str = "legal_name,vendor_type,owner_email";

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// A CSV from a header and rows, joined with newlines.
pub fn csv(header: &str, rows: &[&str]) -> Vec<u8> {
    let mut text = String::from(header);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text.into_bytes()
}

pub fn parse_ok(bytes: &[u8]) -> ParsedInventory {
    match parse_csv(bytes) {
        Ok(parsed) => parsed,
        Err(e) => panic!("expected the file to parse, got: {e}"),
    }
}

pub fn parse_err(bytes: &[u8]) -> InventoryError {
    match parse_csv(bytes) {
        Ok(parsed) => panic!("expected a file-level error, got {parsed:?}"),
        Err(e) => e,
    }
}

/// The only row error of a parse, which must have no valid rows.
pub fn single_row_error(bytes: &[u8]) -> RowError {
    let parsed = parse_ok(bytes);
    assert!(parsed.rows.is_empty(), "unexpected rows: {:?}", parsed.rows);
    assert_eq!(parsed.errors.len(), 1, "errors: {:#?}", parsed.errors);
    parsed.errors[0].clone()
}
