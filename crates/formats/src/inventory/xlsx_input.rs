//! XLSX input: the first worksheet, header row first.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Range, Reader, SheetType, Xlsx, XlsxError};

use crate::columns::{FIELD_COUNT, MAX_CELL_BYTES};

use super::header::{Header, Slot};
use super::row::{Cells, Collector};
use super::{InventoryError, ParsedInventory};

/// Reads the first worksheet of a workbook. Number cells holding whole
/// numbers read as those numbers; booleans as yes/no.
pub fn parse_xlsx(bytes: &[u8]) -> Result<ParsedInventory, InventoryError> {
    if bytes.is_empty() {
        return Err(InventoryError::Empty);
    }
    // calamine 0.30 panics on some inconsistent workbooks (e.g. a cell that
    // points past the shared-string table). A damaged upload must be an
    // error, not a crash, so the panic is caught and reported as such.
    let range = std::panic::catch_unwind(|| read_first_worksheet(bytes)).unwrap_or_else(|_| {
        Err(InventoryError::NotAWorkbook {
            reason: "the workbook is damaged (its parts contradict each other)".to_string(),
        })
    })?;
    let Some((first_row, first_column)) = range.start() else {
        return Err(InventoryError::Empty);
    };
    // calamine numbers from 0; spreadsheets from 1.
    let first_row = first_row as usize + 1;
    let first_column = first_column as usize + 1;

    let mut rows = range.rows().enumerate();
    let header = loop {
        let Some((offset, cells)) = rows.next() else {
            return Err(InventoryError::Empty);
        };
        let row = first_row + offset;
        let mut names = Vec::with_capacity(cells.len());
        for (index, cell) in cells.iter().enumerate() {
            let label = || format!("#{}", first_column + index);
            names.push(cell_text(cell, row, label)?.unwrap_or_default());
        }
        if names.iter().all(|n| n.trim().is_empty()) {
            continue;
        }
        let names: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
        break Header::from_cells(&names, row, first_column)?;
    };

    let mut collector = Collector::default();
    let mut texts: Vec<Cow<'_, str>> = Vec::with_capacity(header.len());
    for (offset, cells) in rows {
        let row = first_row + offset;
        texts.clear();
        let mut failed = false;
        for (index, cell) in cells.iter().enumerate() {
            match cell_text(cell, row, || header.column_label(index))? {
                Ok(text) => texts.push(text),
                Err(problem) => {
                    failed = true;
                    collector.error(row, Some(header.column_label(index)), problem);
                    texts.push(Cow::Borrowed(""));
                }
            }
        }

        let mut fields: Cells<'_> = [""; FIELD_COUNT];
        let mut blank = !failed;
        for (index, text) in texts.iter().enumerate() {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            blank = false;
            match header.slot(index) {
                Some(Slot::Field(field)) => fields[field.index()] = text,
                Some(Slot::ReadOnly) => {}
                Some(Slot::Unnamed) | None => {
                    failed = true;
                    collector.error(
                        row,
                        Some(header.column_label(index)),
                        format!("this column has no header name, but the row has '{text}' in it"),
                    );
                }
            }
        }
        if !blank {
            collector.push_row(row, &fields, failed);
        }
    }
    Ok(collector.finish())
}

fn read_first_worksheet(bytes: &[u8]) -> Result<Range<Data>, InventoryError> {
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(workbook_error)?;
    let sheet = workbook
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or(InventoryError::NoWorksheet)?;
    workbook
        .worksheet_range(&sheet)
        .map_err(|e| InventoryError::Worksheet {
            sheet,
            reason: e.to_string(),
        })
}

/// A cell as text. The outer error stops the import (an oversized cell);
/// the inner one is a row problem (a cell showing `#N/A`).
fn cell_text(
    cell: &Data,
    row: usize,
    column: impl Fn() -> String,
) -> Result<Result<Cow<'_, str>, String>, InventoryError> {
    let text = match cell {
        Data::Empty => Cow::Borrowed(""),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cow::Borrowed(s.as_str()),
        // f64's Display writes whole numbers without a fraction: 12000, not 12000.0.
        Data::Float(f) => Cow::Owned(f.to_string()),
        Data::Int(i) => Cow::Owned(i.to_string()),
        Data::Bool(b) => Cow::Borrowed(if *b { "yes" } else { "no" }),
        Data::DateTime(dt) => Cow::Owned(dt.to_string()),
        Data::Error(e) => return Ok(Err(format!("the cell shows the spreadsheet error {e}"))),
    };
    if text.len() > MAX_CELL_BYTES {
        return Err(InventoryError::CellTooLarge {
            row,
            column: column(),
            bytes: text.len(),
        });
    }
    Ok(Ok(text))
}

fn workbook_error(error: XlsxError) -> InventoryError {
    let reason = match error {
        XlsxError::Password => return InventoryError::PasswordProtected,
        XlsxError::Zip(e) => format!("it is not a readable ZIP archive ({e})"),
        XlsxError::FileNotFound(part) => {
            format!("it is a ZIP archive but has no '{part}', so it is not a spreadsheet")
        }
        other => other.to_string(),
    };
    InventoryError::NotAWorkbook { reason }
}
