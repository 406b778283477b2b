//! One entry point for `mamori frameworks import FILE`: an OSCAL catalog (XML
//! or JSON), a flattened CSF core CSV, or a framework mapping CSV, told apart
//! by content rather than by file name.

use mamori_domain::framework::{Framework, FrameworkMapping};
use thiserror::Error;

use crate::csf_csv::{parse_csf_core_csv, parse_framework_mapping_csv, FrameworkCsvError};
use crate::oscal_catalog::{first_significant_byte, parse_oscal_catalog, OscalError};

/// What a framework file turned out to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameworkImport {
    Framework(Framework),
    Mapping(Vec<FrameworkMapping>),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameworkImportError {
    #[error(transparent)]
    Oscal(#[from] OscalError),
    #[error(transparent)]
    Csv(#[from] FrameworkCsvError),
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error(
        "{file}: not a framework file: expected an OSCAL catalog (XML or JSON), a CSV with \
         columns element_type,id,parent_id,title,text, or a mapping CSV with columns \
         <source>,<target>,relationship (for example csf11,csf20,relationship); {found}"
    )]
    Unrecognised { file: String, found: String },
}

/// Reads a framework or a mapping, whichever the content is.
///
/// A mapping CSV's first two column names say which frameworks it links:
/// `csf11` and `csf20` stand for `nist-csf-1.1` and `nist-csf-2.0`; any other
/// name is taken as a framework key as written.
pub fn detect_and_parse_framework(
    file_name: &str,
    bytes: &[u8],
) -> Result<FrameworkImport, FrameworkImportError> {
    match first_significant_byte(bytes) {
        None => Err(FrameworkImportError::Empty {
            file: file_name.to_string(),
        }),
        Some(b'<' | b'{') => Ok(FrameworkImport::Framework(parse_oscal_catalog(
            file_name, bytes,
        )?)),
        Some(_) => {
            let header = header_names(bytes);
            let has = |name: &str| header.iter().any(|h| h == name);
            if has("element_type") {
                return Ok(FrameworkImport::Framework(parse_csf_core_csv(
                    file_name, bytes,
                )?));
            }
            if has("relationship") {
                let ids: Vec<&String> = header.iter().filter(|h| *h != "relationship").collect();
                if let [source, target, ..] = ids[..] {
                    let source = framework_key_of_column(source);
                    let target = framework_key_of_column(target);
                    return Ok(FrameworkImport::Mapping(parse_framework_mapping_csv(
                        file_name, bytes, &source, &target,
                    )?));
                }
            }
            Err(FrameworkImportError::Unrecognised {
                file: file_name.to_string(),
                found: if header.is_empty() {
                    "its first line is not a CSV header".to_string()
                } else {
                    format!("its first line is: {}", header.join(","))
                },
            })
        }
    }
}

/// The first line's cells, trimmed, lower-cased and unquoted; enough to
/// recognise a header without parsing the file twice.
fn header_names(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let Ok(line) = std::str::from_utf8(&bytes[..line_end.min(4096)]) else {
        return Vec::new();
    };
    line.split(',')
        .map(|cell| cell.trim().trim_matches('"').trim().to_ascii_lowercase())
        .filter(|cell| !cell.is_empty())
        .collect()
}

fn framework_key_of_column(name: &str) -> String {
    match name {
        "csf11" | "csf1.1" | "csf_1_1" => "nist-csf-1.1".to_string(),
        "csf20" | "csf2.0" | "csf_2_0" => "nist-csf-2.0".to_string(),
        other => other.to_string(),
    }
}
