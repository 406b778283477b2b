//! CSV input: UTF-8, comma-separated, header row first.

use csv::{ByteRecord, ReaderBuilder};

use crate::columns::{FIELD_COUNT, MAX_CELL_BYTES};

use super::header::{Header, Slot};
use super::row::{Cells, Collector};
use super::{InventoryError, ParsedInventory};

/// Reads a comma-separated inventory. Row numbers in errors are the ones a
/// spreadsheet shows when it opens the file (blank lines count, line breaks
/// inside quoted cells do not).
pub fn parse_csv(bytes: &[u8]) -> Result<ParsedInventory, InventoryError> {
    let bytes = strip_utf8_bom(bytes)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InventoryError::Empty);
    }
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = ByteRecord::new();
    let mut rows = RowCounter::default();

    let header = loop {
        if !read_record(&mut reader, &mut record, &rows)? {
            return Err(InventoryError::Empty);
        }
        let row = rows.advance(bytes, &record);
        let mut names = Vec::with_capacity(record.len());
        for (index, raw) in record.iter().enumerate() {
            names.push(cell_text(raw, row, index, None)?);
        }
        if names.iter().all(|n| n.is_empty()) {
            continue;
        }
        break Header::from_cells(&names, row, 1)?;
    };

    let mut collector = Collector::default();
    while read_record(&mut reader, &mut record, &rows)? {
        let row = rows.advance(bytes, &record);
        let mut cells: Cells<'_> = [""; FIELD_COUNT];
        let mut blank = true;
        let mut failed = false;
        for (index, raw) in record.iter().enumerate() {
            let text = cell_text(raw, row, index, Some(&header))?;
            if text.is_empty() {
                continue;
            }
            blank = false;
            match header.slot(index) {
                Some(Slot::Field(field)) => cells[field.index()] = text,
                Some(Slot::ReadOnly) => {}
                Some(Slot::Unnamed) => {
                    failed = true;
                    collector.error(
                        row,
                        Some(header.column_label(index)),
                        format!("this column has no header name, but the row has '{text}' in it"),
                    );
                }
                None => {
                    // Only the first stray cell is worth a message.
                    if !failed {
                        collector.error(
                            row,
                            None,
                            format!(
                                "has '{text}' in column {}, beyond the {} columns of the header",
                                index + 1,
                                header.len()
                            ),
                        );
                    }
                    failed = true;
                }
            }
        }
        if !blank {
            collector.push_row(row, &cells, failed);
        }
    }
    Ok(collector.finish())
}

fn read_record(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut ByteRecord,
    rows: &RowCounter,
) -> Result<bool, InventoryError> {
    reader
        .read_byte_record(record)
        .map_err(|e| InventoryError::Csv {
            row: rows.last_row + 1,
            reason: e.to_string(),
        })
}

/// Checks size and encoding, then trims.
fn cell_text<'r>(
    raw: &'r [u8],
    row: usize,
    index: usize,
    header: Option<&Header>,
) -> Result<&'r str, InventoryError> {
    let column = || match header {
        Some(header) => header.column_label(index),
        None => format!("#{}", index + 1),
    };
    if raw.len() > MAX_CELL_BYTES {
        return Err(InventoryError::CellTooLarge {
            row,
            column: column(),
            bytes: raw.len(),
        });
    }
    match std::str::from_utf8(raw) {
        Ok(text) => Ok(text.trim()),
        Err(_) => Err(InventoryError::NotUtf8 {
            row,
            column: Some(column()),
        }),
    }
}

fn strip_utf8_bom(bytes: &[u8]) -> Result<&[u8], InventoryError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(InventoryError::Utf16);
    }
    Ok(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
}

/// Turns records into spreadsheet row numbers. The reader skips empty lines,
/// which a spreadsheet shows as rows, and a record's position is where the
/// reader started looking for it, i.e. before those skipped lines.
#[derive(Debug, Default)]
struct RowCounter {
    last_row: usize,
}

impl RowCounter {
    fn advance(&mut self, input: &[u8], record: &ByteRecord) -> usize {
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(input.len());
        self.last_row += 1 + empty_lines_at(input, start);
        self.last_row
    }
}

/// Counts the empty lines starting at `start` (LF, CRLF or lone CR endings).
fn empty_lines_at(input: &[u8], start: usize) -> usize {
    let mut i = start;
    // The reader can stop between the CR and LF of the previous record's end.
    if i > 0 && input.get(i - 1) == Some(&b'\r') && input.get(i) == Some(&b'\n') {
        i += 1;
    }
    let mut count = 0;
    while let Some(&byte) = input.get(i) {
        match byte {
            b'\n' => i += 1,
            b'\r' if input.get(i + 1) == Some(&b'\n') => i += 2,
            b'\r' => i += 1,
            _ => break,
        }
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(input: &[u8]) -> Vec<usize> {
        let mut reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut record = ByteRecord::new();
        let mut counter = RowCounter::default();
        let mut rows = Vec::new();
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            rows.push(counter.advance(input, &record));
        }
        rows
    }

    #[test]
    fn rows_count_empty_lines_but_not_line_breaks_inside_cells() {
        assert_eq!(rows_of(b"h\na,\"x\ny\"\n\nb\n,\nc\n"), vec![1, 2, 4, 5, 6]);
        assert_eq!(rows_of(b"h\r\na,\"x\r\ny\"\r\n\r\nb\r\n"), vec![1, 2, 4]);
        assert_eq!(rows_of(b"\n\nh\rq\r\rz\r"), vec![3, 4, 6]);
    }
}
