//! Risk register export: one row per risk, as CSV or as an XLSX workbook.
//!
//! The caller turns its stored risks into [`RiskExportRow`]s; this module
//! only writes them. CSV cells a spreadsheet would run as a formula get a
//! leading `'` (as in the vendor export); XLSX cells are typed text or
//! numbers, which spreadsheets never evaluate.

use std::io::Write;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::export::{guard_formula, ExportError};

/// The columns, in order.
pub const RISK_EXPORT_HEADER: [&str; 19] = [
    "id",
    "vendor",
    "tier",
    "category",
    "title",
    "owner",
    "inherent_likelihood",
    "inherent_impact",
    "residual_likelihood",
    "residual_impact",
    "residual_score",
    "residual_level",
    "above_threshold",
    "threshold_reason",
    "treatment",
    "status",
    "due_on",
    "findings",
    "updated_at",
];

/// One risk as exported. Text that is absent is written as an empty cell.
#[derive(Debug, Clone, Copy, Default)]
pub struct RiskExportRow<'a> {
    pub id: &'a str,
    pub vendor: &'a str,
    pub tier: &'a str,
    pub category: &'a str,
    pub title: &'a str,
    pub owner: &'a str,
    pub inherent_likelihood: i64,
    pub inherent_impact: i64,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
    pub residual_score: i64,
    pub residual_level: &'a str,
    pub above_threshold: bool,
    pub threshold_reason: &'a str,
    pub treatment: &'a str,
    pub status: &'a str,
    pub due_on: &'a str,
    pub findings: i64,
    pub updated_at: &'a str,
}

/// A cell of a row: text, or a number (written as a number cell in XLSX).
enum Cell<'a> {
    Text(&'a str),
    Number(i64),
}

impl RiskExportRow<'_> {
    fn cells(&self) -> [Cell<'_>; 19] {
        use Cell::{Number, Text};
        [
            Text(self.id),
            Text(self.vendor),
            Text(self.tier),
            Text(self.category),
            Text(self.title),
            Text(self.owner),
            Number(self.inherent_likelihood),
            Number(self.inherent_impact),
            Number(self.residual_likelihood),
            Number(self.residual_impact),
            Number(self.residual_score),
            Text(self.residual_level),
            Text(if self.above_threshold { "yes" } else { "no" }),
            Text(self.threshold_reason),
            Text(self.treatment),
            Text(self.status),
            Text(self.due_on),
            Number(self.findings),
            Text(self.updated_at),
        ]
    }
}

/// Writes the risks as CSV with [`RISK_EXPORT_HEADER`].
pub fn write_risks_csv<'a, W: Write>(
    rows: impl IntoIterator<Item = RiskExportRow<'a>>,
    out: W,
) -> Result<(), ExportError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(RISK_EXPORT_HEADER)?;
    for row in rows {
        for cell in row.cells() {
            match cell {
                Cell::Text(t) => writer.write_field(guard_formula(t).as_bytes())?,
                Cell::Number(n) => writer.write_field(n.to_string())?,
            }
        }
        // An empty iterator ends the record.
        writer.write_record(None::<&[u8]>)?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes the risks as a workbook with one sheet, "Risks", in the layout of
/// [`write_risks_csv`]; scores, ratings and counts are number cells.
pub fn write_risks_xlsx<'a>(
    rows: impl IntoIterator<Item = RiskExportRow<'a>>,
) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Risks")?;
    let bold = Format::new().set_bold();
    for (col, name) in RISK_EXPORT_HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    let mut line: u32 = 1;
    for row in rows {
        let written: Result<(), XlsxError> =
            row.cells().iter().enumerate().try_for_each(|(col, cell)| {
                let col = col as u16;
                match cell {
                    Cell::Text("") => {}
                    Cell::Text(t) => {
                        sheet.write_string(line, col, *t)?;
                    }
                    Cell::Number(n) => {
                        sheet.write_number(line, col, *n as f64)?;
                    }
                }
                Ok(())
            });
        written.map_err(|source| ExportError::Xlsx {
            row: Some(line + 1),
            source,
        })?;
        line += 1;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_column = (RISK_EXPORT_HEADER.len() - 1) as u16;
    sheet.autofilter(0, 0, line.saturating_sub(1).max(1), last_column)?;
    for col in 0..=last_column {
        sheet.set_column_width(col, 16)?;
    }
    sheet.set_column_width(4, 40)?;
    sheet.set_column_width(13, 40)?;
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RiskExportRow<'static> {
        RiskExportRow {
            id: "r1",
            vendor: "Harbor Lab",
            tier: "high",
            category: "cybersecurity",
            title: "=HYPERLINK(\"x\")",
            owner: "",
            inherent_likelihood: 4,
            inherent_impact: 5,
            residual_likelihood: 3,
            residual_impact: 4,
            residual_score: 12,
            residual_level: "high",
            above_threshold: true,
            threshold_reason: "residual score 12 ≥ 10",
            treatment: "mitigate",
            status: "open",
            due_on: "2027-01-31",
            findings: 2,
            updated_at: "2026-12-01T00:00:00Z",
        }
    }

    #[test]
    fn csv_has_the_header_and_guards_formulas() {
        let mut out = Vec::new();
        write_risks_csv([sample()], &mut out).expect("csv");
        let text = String::from_utf8(out).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(RISK_EXPORT_HEADER.join(",").as_str()));
        let row = lines.next().expect("row");
        assert!(row.starts_with("r1,Harbor Lab,high,cybersecurity,\"'=HYPERLINK"));
        assert!(row.contains(",4,5,3,4,12,high,yes,"));
        assert!(lines.next().is_none());
    }

    #[test]
    fn xlsx_is_a_workbook() {
        let bytes = write_risks_xlsx([sample(), RiskExportRow::default()]).expect("xlsx");
        assert!(bytes.starts_with(b"PK"));
    }
}
