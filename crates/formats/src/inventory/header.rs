//! The header row: which file column holds which field.

use crate::columns::{Field, ASSESSMENT_COLUMN_NAMES, TEMPLATE_COLUMNS};

use super::InventoryError;

/// What a file column is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Field(Field),
    /// An export-only column (`tier`, `score_*`, ...): read and ignored.
    ReadOnly,
    /// A column whose header cell is empty.
    Unnamed,
}

#[derive(Debug)]
pub(crate) struct Header {
    slots: Vec<Slot>,
    names: Vec<String>,
    /// 1-based spreadsheet column number of the first slot.
    first_column: usize,
}

impl Header {
    /// Reads the header row. `cells` are the row's cells, `row` its number.
    pub(crate) fn from_cells(
        cells: &[&str],
        row: usize,
        first_column: usize,
    ) -> Result<Header, InventoryError> {
        let non_empty: Vec<&str> = cells
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        let names: Vec<String> = cells.iter().map(|c| normalise_name(c)).collect();
        let mut slots = Vec::with_capacity(names.len());
        let mut unknown = Vec::new();
        let mut known_count = 0;
        for (i, name) in names.iter().enumerate() {
            let slot = if name.is_empty() {
                Slot::Unnamed
            } else if let Some(field) = Field::from_name(name) {
                known_count += 1;
                Slot::Field(field)
            } else if ASSESSMENT_COLUMN_NAMES.contains(&name.as_str()) {
                known_count += 1;
                Slot::ReadOnly
            } else {
                unknown.push(cells[i].trim().to_string());
                Slot::Unnamed
            };
            if let Some(first) = slots
                .iter()
                .zip(&names)
                .position(|(s, n)| *s != Slot::Unnamed && n == name)
            {
                return Err(InventoryError::DuplicateColumn {
                    column: name.clone(),
                    first: first_column + first,
                    second: first_column + i,
                });
            }
            slots.push(slot);
        }

        if known_count == 0 {
            // A header with no known column but with separators in its cells
            // is a file saved with the wrong delimiter; saying so beats listing
            // one absurd "unknown column".
            for (separator, label) in [(';', "';'"), ('\t', "tab"), ('|', "'|'")] {
                if non_empty.iter().any(|c| c.contains(separator)) {
                    return Err(InventoryError::WrongDelimiter { separator: label });
                }
            }
            let found: Vec<String> = non_empty
                .iter()
                .take(4)
                .map(|c| format!("'{}'", shorten(c, 40)))
                .collect();
            return Err(InventoryError::NoHeader {
                row,
                found: found.join(", "),
            });
        }

        let missing: Vec<String> = TEMPLATE_COLUMNS
            .iter()
            .filter(|c| c.required && !names.iter().any(|n| n == c.name))
            .map(|c| c.name.to_string())
            .collect();
        if !unknown.is_empty() {
            let suggestions = unknown
                .iter()
                .map(|u| suggest(&normalise_name(u)))
                .collect();
            return Err(InventoryError::UnknownColumns {
                columns: unknown,
                suggestions,
                also_missing: missing,
            });
        }
        if !missing.is_empty() {
            return Err(InventoryError::MissingColumns { columns: missing });
        }
        Ok(Header {
            slots,
            names,
            first_column,
        })
    }

    /// The slot of the `index`-th cell of a row; `None` past the header's end.
    pub(crate) fn slot(&self, index: usize) -> Option<Slot> {
        self.slots.get(index).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// How an error names the `index`-th cell: its header, else its position.
    pub(crate) fn column_label(&self, index: usize) -> String {
        match self.names.get(index) {
            Some(name) if !name.is_empty() => name.clone(),
            _ => format!("#{}", self.first_column + index),
        }
    }
}

/// "Legal Name *" and "legal-name" both mean `legal_name`.
pub(crate) fn normalise_name(raw: &str) -> String {
    raw.trim()
        .trim_start_matches('\u{feff}')
        .trim_end_matches('*')
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max_chars).collect();
        short.push('…');
        short
    }
}

/// The known column a typo most likely meant, if any is within two edits.
fn suggest(name: &str) -> Option<&'static str> {
    let squashed: String = name.chars().filter(|c| *c != '_').collect();
    let mut best: Option<(&'static str, usize)> = None;
    let candidates = TEMPLATE_COLUMNS
        .iter()
        .map(|c| c.name)
        .chain(ASSESSMENT_COLUMN_NAMES.iter().copied());
    for candidate in candidates {
        let candidate_squashed: String = candidate.chars().filter(|c| *c != '_').collect();
        let distance = if candidate_squashed == squashed {
            0
        } else {
            edit_distance(name, candidate)
        };
        if distance <= 2 && best.is_none_or(|(_, d)| distance < d) {
            best = Some((candidate, distance));
        }
    }
    best.map(|(name, _)| name)
}

/// Levenshtein distance; header names are short so the quadratic cost is nil.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

pub(crate) fn describe_unknown(
    columns: &[String],
    suggestions: &[Option<&'static str>],
    also_missing: &[String],
) -> String {
    let listed: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match suggestions.get(i).copied().flatten() {
            Some(s) => format!("'{c}' (did you mean {s}?)"),
            None => format!("'{c}'"),
        })
        .collect();
    let mut text = format!("unknown column(s): {}", listed.join(", "));
    if !also_missing.is_empty() {
        text.push_str(&format!(
            "; also missing required column(s): {}",
            also_missing.join(", ")
        ));
    }
    let accepted: Vec<&str> = TEMPLATE_COLUMNS.iter().map(|c| c.name).collect();
    text.push_str(&format!(". Accepted columns: {}", accepted.join(", ")));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_forgiving_about_case_spaces_and_markers() {
        assert_eq!(normalise_name(" Legal Name * "), "legal_name");
        assert_eq!(normalise_name("OWNER-EMAIL"), "owner_email");
        assert_eq!(normalise_name("\u{feff}external_id"), "external_id");
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest("legal_nam"), Some("legal_name"));
        assert_eq!(suggest("legalname"), Some("legal_name"));
        assert_eq!(suggest("ownr_emial"), None);
        assert_eq!(suggest("favourite_colour"), None);
    }

    #[test]
    fn header_maps_known_read_only_and_unnamed_columns() {
        let header = Header::from_cells(
            &["Legal Name", "vendor_type", "owner_email", "tier", ""],
            1,
            1,
        )
        .expect("valid header");
        assert_eq!(header.slot(0), Some(Slot::Field(Field::LegalName)));
        assert_eq!(header.slot(3), Some(Slot::ReadOnly));
        assert_eq!(header.slot(4), Some(Slot::Unnamed));
        assert_eq!(header.slot(5), None);
        assert_eq!(header.column_label(4), "#5");
    }
}
