//! Questionnaire answers as a spreadsheet, for vendors who will not use the
//! portal: Mamori hands out a sheet listing every question, the vendor fills
//! in the `answer` column, and the filled sheet is imported (CSV or XLSX).
//!
//! Columns are found by header name: `question_id` and `answer` are
//! required, `comment` is optional, everything else is ignored (so the
//! question text and hints can stay in the sheet).

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use mamori_domain::questionnaire::{AnswerType, Template};
use thiserror::Error;

/// One filled row: the line it came from, the question and the raw answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRow {
    pub line: usize,
    pub question_id: String,
    pub answer: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerSheetError {
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: missing column '{column}' in the header row")]
    MissingColumn { file: String, column: &'static str },
    #[error("{file}: not a CSV or XLSX answer sheet: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}, line {line}, column '{column}': {message}")]
    Cell {
        file: String,
        line: usize,
        column: &'static str,
        message: String,
    },
}

const MAX_ROWS: usize = 5_000;

/// Reads a filled answer sheet. Rows with an empty answer are skipped; a
/// question listed twice is an error.
pub fn parse_answer_sheet(
    file_name: &str,
    bytes: &[u8],
) -> Result<Vec<AnswerRow>, AnswerSheetError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(AnswerSheetError::Empty {
            file: file_name.to_string(),
        });
    }
    let rows = if bytes.starts_with(b"PK") {
        xlsx_rows(file_name, bytes)?
    } else {
        csv_rows(file_name, bytes)?
    };
    collect(file_name, rows)
}

type RawRows = Vec<(usize, Vec<String>)>;

fn csv_rows(file_name: &str, bytes: &[u8]) -> Result<RawRows, AnswerSheetError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| AnswerSheetError::Unreadable {
            file: file_name.to_string(),
            reason: e.to_string(),
        })?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        rows.push((line, record.iter().map(str::to_string).collect()));
        if rows.len() > MAX_ROWS {
            return Err(AnswerSheetError::Unreadable {
                file: file_name.to_string(),
                reason: format!("more than {MAX_ROWS} rows"),
            });
        }
    }
    Ok(rows)
}

fn xlsx_rows(file_name: &str, bytes: &[u8]) -> Result<RawRows, AnswerSheetError> {
    let unreadable = |reason: String| AnswerSheetError::Unreadable {
        file: file_name.to_string(),
        reason,
    };
    // calamine 0.30 can panic on inconsistent workbooks; that is bad input.
    let range = std::panic::catch_unwind(|| {
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|e: calamine::XlsxError| e.to_string())?;
        let first = book
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| "the workbook has no worksheet".to_string())?;
        book.worksheet_range(&first).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|_| Err("the workbook is damaged".to_string()))
    .map_err(unreadable)?;
    let first_row = range.start().map(|(r, _)| r as usize + 1).unwrap_or(1);
    if range.height() > MAX_ROWS {
        return Err(AnswerSheetError::Unreadable {
            file: file_name.to_string(),
            reason: format!("more than {MAX_ROWS} rows"),
        });
    }
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let texts = cells
                .iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Bool(true) => "yes".into(),
                    Data::Bool(false) => "no".into(),
                    // Excel serial date → YYYY-MM-DD (days since 1899-12-30).
                    Data::DateTime(d) => excel_date(d.as_f64()).unwrap_or_else(|| d.to_string()),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                    Data::Error(e) => format!("#{e:?}"),
                })
                .collect();
            (first_row + i, texts)
        })
        .collect())
}

fn excel_date(serial: f64) -> Option<String> {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let days = serial.floor();
    if !(0.0..=2_958_465.0).contains(&days) {
        return None;
    }
    base.checked_add_days(chrono::Days::new(days as u64))
        .map(|d| d.to_string())
}

fn collect(file_name: &str, rows: RawRows) -> Result<Vec<AnswerRow>, AnswerSheetError> {
    let mut rows = rows
        .into_iter()
        .skip_while(|(_, cells)| cells.iter().all(|c| c.trim().is_empty()));
    let Some((_, header)) = rows.next() else {
        return Err(AnswerSheetError::Empty {
            file: file_name.to_string(),
        });
    };
    let find = |name: &str| {
        header.iter().position(|h| {
            h.trim().eq_ignore_ascii_case(name)
                || h.trim().replace(' ', "_").eq_ignore_ascii_case(name)
        })
    };
    let missing = |column| AnswerSheetError::MissingColumn {
        file: file_name.to_string(),
        column,
    };
    let id_col = find("question_id").ok_or_else(|| missing("question_id"))?;
    let answer_col = find("answer").ok_or_else(|| missing("answer"))?;
    let comment_col = find("comment");
    let mut out: Vec<AnswerRow> = Vec::new();
    for (line, cells) in rows {
        let cell = |i: usize| cells.get(i).map(|s| s.trim()).unwrap_or("");
        let id = cell(id_col);
        let answer = cell(answer_col);
        if id.is_empty() && answer.is_empty() {
            continue;
        }
        if id.is_empty() {
            return Err(AnswerSheetError::Cell {
                file: file_name.to_string(),
                line,
                column: "question_id",
                message: "an answer without a question id".into(),
            });
        }
        if answer.is_empty() {
            continue;
        }
        if let Some(first) = out.iter().find(|r| r.question_id == id) {
            return Err(AnswerSheetError::Cell {
                file: file_name.to_string(),
                line,
                column: "question_id",
                message: format!(
                    "question '{id}' is answered twice (first on line {})",
                    first.line
                ),
            });
        }
        out.push(AnswerRow {
            line,
            question_id: id.to_string(),
            answer: answer.to_string(),
            comment: comment_col
                .map(cell)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        });
    }
    Ok(out)
}

/// A blank answer sheet (CSV) for a template: one row per question with its
/// text, type and the values it accepts.
pub fn answer_sheet_csv(template: &Template, lang: &str) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "question_id",
        "section",
        "question",
        "type",
        "accepted_values",
        "shown_if",
        "answer",
        "comment",
    ];
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(header);
    for q in &template.questions {
        let accepted = match q.answer_type {
            AnswerType::YesNo | AnswerType::Single => q.allowed_values().join(" | "),
            AnswerType::Multiple => format!("{} (separate with ;)", q.allowed_values().join(" | ")),
            AnswerType::Number => q
                .unit
                .clone()
                .map(|u| format!("number ({u})"))
                .unwrap_or_else(|| "number".into()),
            AnswerType::Date => "YYYY-MM-DD".into(),
            AnswerType::Text => "text".into(),
            AnswerType::File => "upload in the portal or send separately".into(),
        };
        let shown_if = q
            .show_if
            .as_ref()
            .map(|c| format!("{} = {}", c.question, c.any.join(" or ")))
            .unwrap_or_default();
        let _ = writer.write_record([
            q.id.as_str(),
            q.section.as_deref().unwrap_or(""),
            q.text.get(lang),
            q.answer_type.as_str(),
            accepted.as_str(),
            shown_if.as_str(),
            "",
            "",
        ]);
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_with_extra_columns_and_skips_blank_answers() {
        let csv = "question_id,question,answer,comment\nmfa,MFA?,yes,\nsoc2,SOC2?,,\nrto,RTO,4,within SLA\n";
        let rows = parse_answer_sheet("a.csv", csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].comment.as_deref(), Some("within SLA"));
    }

    #[test]
    fn missing_column_and_duplicates_are_clear_errors() {
        let err = parse_answer_sheet("a.csv", b"question_id,reply\nmfa,yes\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.csv: missing column 'answer' in the header row"
        );
        let err =
            parse_answer_sheet("a.csv", b"question_id,answer\nmfa,yes\nmfa,no\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.csv, line 3, column 'question_id': question 'mfa' is answered twice (first on line 2)"
        );
    }
}
