//! Frameworks and framework mappings as flat CSV.
//!
//! Core CSV: one row per function, category or subcategory, columns
//! `element_type,id,parent_id,title,text` (an optional `status` column holds
//! `active`/`withdrawn`; other columns are ignored). Parents come before
//! their children. The framework is recognised by its functions: ID, PR, DE,
//! RS, RC is CSF 1.1; with GV it is CSF 2.0.
//!
//! Mapping CSV: `<source>,<target>,relationship`, one pair of element ids a
//! row; the first two columns are the source and target ids in that order.

use std::collections::{BTreeSet, HashMap};

use csv::{ReaderBuilder, StringRecord};
use mamori_domain::framework::{ElementKind, Framework, FrameworkElement, FrameworkMapping};
use thiserror::Error;

/// Longest id or relationship accepted; real ids are under 20 characters.
const MAX_ID_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameworkCsvError {
    #[error("{file}: the file is empty")]
    Empty { file: String },

    #[error("{file}, line {line}: {message}")]
    Csv {
        file: String,
        line: u64,
        message: String,
    },

    #[error("{file}: missing column(s) {}; the header has: {found}", .columns.join(", "))]
    MissingColumns {
        file: String,
        columns: Vec<String>,
        found: String,
    },

    #[error("{file}, line {line}, column {column}: {message}")]
    Field {
        file: String,
        line: u64,
        column: String,
        message: String,
    },

    #[error("{file}: the header row is there but no data rows follow")]
    NoRows { file: String },

    #[error(
        "{file}: not a CSF {expected} core: its functions are {found} \
         (CSF 1.1 has ID, PR, DE, RS, RC; CSF 2.0 adds GV)"
    )]
    UnknownFramework {
        file: String,
        expected: &'static str,
        found: String,
    },
}

const CSF11_FUNCTIONS: [&str; 5] = ["DE", "ID", "PR", "RC", "RS"];
const CSF20_FUNCTIONS: [&str; 6] = ["DE", "GV", "ID", "PR", "RC", "RS"];

/// Reads the flattened CSF 1.1 core (5 functions, 23 categories, 108
/// subcategories in NIST's edition) as framework `nist-csf-1.1`.
pub fn parse_csf11_core_csv(file_name: &str, bytes: &[u8]) -> Result<Framework, FrameworkCsvError> {
    let elements = parse_core_rows(file_name, bytes)?;
    let functions = function_ids(&elements);
    if functions != CSF11_FUNCTIONS {
        return Err(FrameworkCsvError::UnknownFramework {
            file: file_name.to_string(),
            expected: "1.1",
            found: functions.join(", "),
        });
    }
    Ok(csf_framework("1.1", file_name, elements))
}

/// Reads a flattened CSF core, 1.1 or 2.0, telling them apart by functions.
pub fn parse_csf_core_csv(file_name: &str, bytes: &[u8]) -> Result<Framework, FrameworkCsvError> {
    let elements = parse_core_rows(file_name, bytes)?;
    let functions = function_ids(&elements);
    let version = if functions == CSF11_FUNCTIONS {
        "1.1"
    } else if functions == CSF20_FUNCTIONS {
        "2.0"
    } else {
        return Err(FrameworkCsvError::UnknownFramework {
            file: file_name.to_string(),
            expected: "1.1 or 2.0",
            found: functions.join(", "),
        });
    };
    Ok(csf_framework(version, file_name, elements))
}

fn csf_framework(version: &str, file_name: &str, elements: Vec<FrameworkElement>) -> Framework {
    Framework {
        key: format!("nist-csf-{version}"),
        name: format!("NIST Cybersecurity Framework {version}"),
        version: version.to_string(),
        source: file_name.to_string(),
        elements,
    }
}

fn function_ids(elements: &[FrameworkElement]) -> Vec<&str> {
    let set: BTreeSet<&str> = elements
        .iter()
        .filter(|e| e.kind == ElementKind::Function)
        .map(|e| e.id.as_str())
        .collect();
    set.into_iter().collect()
}

/// Reads a mapping CSV (`csf11,csf20,relationship` for the CSF 1.1 → 2.0
/// mapping). The first two columns other than `relationship` hold the
/// source and target ids.
pub fn parse_framework_mapping_csv(
    file_name: &str,
    bytes: &[u8],
    source_framework: &str,
    target_framework: &str,
) -> Result<Vec<FrameworkMapping>, FrameworkCsvError> {
    let mut table = Table::open(file_name, bytes)?;
    let [relationship] = table.require(["relationship"])?;
    let id_columns: Vec<usize> = (0..table.header.len())
        .filter(|&i| i != relationship)
        .take(2)
        .collect();
    if id_columns.len() < 2 {
        return Err(FrameworkCsvError::MissingColumns {
            file: file_name.to_string(),
            columns: vec!["source id".to_string(), "target id".to_string()],
            found: table.header.join(","),
        });
    }
    let (source, target) = (id_columns[0], id_columns[1]);

    let mut mappings = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    while let Some((line, record)) = table.next_record()? {
        let source_id = table.id_cell(&record, line, source)?;
        let target_id = table.id_cell(&record, line, target)?;
        let relationship = table
            .id_cell(&record, line, relationship)?
            .to_ascii_lowercase();
        if let Some(first) = seen.insert((source_id.clone(), target_id.clone()), line) {
            return Err(table.field_error(
                line,
                source,
                format!("{source_id} → {target_id} is already mapped on line {first}"),
            ));
        }
        mappings.push(FrameworkMapping {
            source_framework: source_framework.to_string(),
            source_id,
            target_framework: target_framework.to_string(),
            target_id,
            relationship,
        });
    }
    if mappings.is_empty() {
        return Err(FrameworkCsvError::NoRows {
            file: file_name.to_string(),
        });
    }
    Ok(mappings)
}

fn parse_core_rows(
    file_name: &str,
    bytes: &[u8],
) -> Result<Vec<FrameworkElement>, FrameworkCsvError> {
    let mut table = Table::open(file_name, bytes)?;
    let [kind_col, id_col, parent_col, title_col, text_col] =
        table.require(["element_type", "id", "parent_id", "title", "text"])?;
    let status_col = table.find("status");

    let mut elements: Vec<FrameworkElement> = Vec::new();
    let mut line_by_id: HashMap<String, u64> = HashMap::new();
    let mut kind_by_id: HashMap<String, ElementKind> = HashMap::new();
    while let Some((line, record)) = table.next_record()? {
        let kind_text = table.cell(&record, kind_col);
        let kind = ElementKind::parse(kind_text)
            .map_err(|err| table.field_error(line, kind_col, err.to_string()))?;
        let id = table.id_cell(&record, line, id_col)?;
        if let Some(first) = line_by_id.get(&id) {
            return Err(table.field_error(
                line,
                id_col,
                format!("id '{id}' is already used on line {first}"),
            ));
        }
        let parent_text = table.cell(&record, parent_col);
        let parent = if parent_text.is_empty() {
            if kind != ElementKind::Function && kind != ElementKind::Group {
                return Err(table.field_error(
                    line,
                    parent_col,
                    format!("a {kind} needs its parent's id"),
                ));
            }
            None
        } else {
            let Some(parent_kind) = kind_by_id.get(parent_text) else {
                return Err(table.field_error(
                    line,
                    parent_col,
                    format!("'{parent_text}' is not the id of an earlier row"),
                ));
            };
            if kind == ElementKind::Function
                || parent_kind_rank(*parent_kind) >= parent_kind_rank(kind)
            {
                return Err(table.field_error(
                    line,
                    parent_col,
                    format!("a {kind} cannot sit under a {parent_kind} ('{parent_text}')"),
                ));
            }
            Some(parent_text.to_string())
        };
        let mut withdrawn = false;
        if let Some(column) = status_col {
            match table.cell(&record, column).to_ascii_lowercase().as_str() {
                "" | "active" => {}
                "withdrawn" => withdrawn = true,
                other => {
                    return Err(table.field_error(
                        line,
                        column,
                        format!("'{other}' is not a status (expected active or withdrawn)"),
                    ))
                }
            }
        }
        line_by_id.insert(id.clone(), line);
        kind_by_id.insert(id.clone(), kind);
        elements.push(FrameworkElement {
            id,
            parent,
            kind,
            title: table.cell(&record, title_col).to_string(),
            statement: table.cell(&record, text_col).to_string(),
            withdrawn,
        });
    }
    if elements.is_empty() {
        return Err(FrameworkCsvError::NoRows {
            file: file_name.to_string(),
        });
    }
    Ok(elements)
}

/// Depth of a kind in a hierarchy; a parent must be shallower than its child.
fn parent_kind_rank(kind: ElementKind) -> u8 {
    match kind {
        ElementKind::Function | ElementKind::Group => 0,
        ElementKind::Category | ElementKind::Control => 1,
        ElementKind::Subcategory | ElementKind::Enhancement => 2,
    }
}

/// A CSV file with its header read, handing out data rows with their line.
struct Table<'a> {
    file: &'a str,
    reader: csv::Reader<&'a [u8]>,
    header: Vec<String>,
}

impl<'a> Table<'a> {
    fn open(file: &'a str, bytes: &'a [u8]) -> Result<Self, FrameworkCsvError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(FrameworkCsvError::Empty {
                file: file.to_string(),
            });
        }
        let mut reader = ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let header = reader
            .headers()
            .map_err(|err| csv_error(file, &err))?
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        Ok(Table {
            file,
            reader,
            header,
        })
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The positions of the named columns, or which ones are missing.
    fn require<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], FrameworkCsvError> {
        let mut found = [0; N];
        let mut missing = Vec::new();
        for (slot, name) in found.iter_mut().zip(names) {
            match self.find(name) {
                Some(index) => *slot = index,
                None => missing.push(name.to_string()),
            }
        }
        if !missing.is_empty() {
            return Err(FrameworkCsvError::MissingColumns {
                file: self.file.to_string(),
                columns: missing,
                found: self.header.join(","),
            });
        }
        Ok(found)
    }

    /// The next non-blank row and its 1-based line.
    fn next_record(&mut self) -> Result<Option<(u64, StringRecord)>, FrameworkCsvError> {
        let mut record = StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(None),
                Ok(true) => {
                    if record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let line = record.position().map_or(0, |p| p.line());
                    return Ok(Some((line, record)));
                }
                Err(err) => return Err(csv_error(self.file, &err)),
            }
        }
    }

    fn cell<'r>(&self, record: &'r StringRecord, column: usize) -> &'r str {
        record.get(column).unwrap_or("").trim()
    }

    /// A required identifier-like cell: non-empty, one line, bounded.
    fn id_cell(
        &self,
        record: &StringRecord,
        line: u64,
        column: usize,
    ) -> Result<String, FrameworkCsvError> {
        let text = self.cell(record, column);
        if text.is_empty() {
            return Err(self.field_error(line, column, "is empty".to_string()));
        }
        if text.chars().count() > MAX_ID_CHARS || text.chars().any(char::is_whitespace) {
            return Err(self.field_error(
                line,
                column,
                format!(
                    "'{}' is not an identifier (no spaces, at most {MAX_ID_CHARS} characters)",
                    text.chars().take(40).collect::<String>()
                ),
            ));
        }
        Ok(text.to_string())
    }

    fn field_error(&self, line: u64, column: usize, message: String) -> FrameworkCsvError {
        FrameworkCsvError::Field {
            file: self.file.to_string(),
            line,
            column: self
                .header
                .get(column)
                .cloned()
                .unwrap_or_else(|| format!("#{}", column + 1)),
            message,
        }
    }
}

fn csv_error(file: &str, err: &csv::Error) -> FrameworkCsvError {
    let line = err.position().map_or(1, |p| p.line());
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} cells where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
        _ => err.to_string(),
    };
    FrameworkCsvError::Csv {
        file: file.to_string(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_tiny_core_with_status() {
        let csv = "element_type,id,parent_id,title,text,status\n\
                   function,GV,,Govern,,\n\
                   function,ID,,Identify,,\n\
                   function,PR,,Protect,,\n\
                   function,DE,,Detect,,\n\
                   function,RS,,Respond,,\n\
                   function,RC,,Recover,,\n\
                   category,GV.OC,GV,Context,,active\n\
                   subcategory,GV.OC-01,GV.OC,,Mission is understood,withdrawn\n";
        let framework = parse_csf_core_csv("t.csv", csv.as_bytes()).expect("parses");
        assert_eq!(framework.key, "nist-csf-2.0");
        assert!(framework.element("GV.OC-01").is_some_and(|e| e.withdrawn));
        assert!(matches!(
            parse_csf11_core_csv("t.csv", csv.as_bytes()),
            Err(FrameworkCsvError::UnknownFramework { .. })
        ));
    }
}
