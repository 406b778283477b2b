//! One row's cells to a `VendorDraft`, and the collection of rows and errors.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use mamori_domain::{
    Connectivity, DataAction, DataClass, DataFlow, Deployment, LifecycleStatus, ParseLabelError,
    RevenueDependency, Service, Tenancy, VendorDraft, VendorSource, VendorType,
};

use crate::columns::{Field, FIELD_COUNT, LIST_SEPARATOR};

use super::{ImportRow, ParsedInventory, RowError};

/// A row's trimmed cell texts by field; `""` where empty or absent.
pub(crate) type Cells<'a> = [&'a str; FIELD_COUNT];

/// Name given to a service whose columns are filled but whose name is not.
pub(crate) const DEFAULT_SERVICE_NAME: &str = "Primary service";

/// Accumulates rows and errors, and finds vendors listed twice.
#[derive(Default)]
pub(crate) struct Collector {
    parsed: ParsedInventory,
    first_row_by_key: HashMap<String, usize>,
}

impl Collector {
    pub(crate) fn error(&mut self, row: usize, column: Option<String>, message: String) {
        self.parsed.errors.push(RowError {
            row,
            column,
            message,
        });
    }

    /// Turns a non-blank row into a vendor or into errors. `already_failed`
    /// says the caller has recorded a problem with this row's cells.
    pub(crate) fn push_row(&mut self, row: usize, cells: &Cells<'_>, already_failed: bool) {
        let errors_before = self.parsed.errors.len();
        let mut row_errors = RowErrors {
            row,
            errors: &mut self.parsed.errors,
        };
        let Some(vendor) = build_vendor(cells, &mut row_errors) else {
            return;
        };

        match self.first_row_by_key.entry(vendor.matching_key()) {
            Entry::Occupied(first) => {
                let (field, what) = if first.key().starts_with("id:") {
                    (Field::ExternalId, "external_id")
                } else {
                    (
                        Field::LegalName,
                        "legal name (compared ignoring case and punctuation)",
                    )
                };
                row_errors.push(
                    field,
                    format!(
                        "duplicate of row {}: same {what}; list each vendor once",
                        first.get()
                    ),
                );
            }
            Entry::Vacant(slot) => {
                slot.insert(row);
            }
        }
        for problem in vendor.validate() {
            row_errors.errors.push(RowError {
                row,
                column: Some(column_of_domain_field(&problem.field).to_string()),
                message: problem.message,
            });
        }

        if !already_failed && self.parsed.errors.len() == errors_before {
            self.parsed.rows.push(ImportRow { row, vendor });
        }
    }

    pub(crate) fn finish(self) -> ParsedInventory {
        self.parsed
    }
}

/// `VendorDraft::validate` speaks in draft fields; the user sees columns.
fn column_of_domain_field(field: &str) -> &str {
    match field {
        "services" => Field::ServiceName.name(),
        "data_flows" => Field::DataActions.name(),
        other => other,
    }
}

struct RowErrors<'a> {
    row: usize,
    errors: &'a mut Vec<RowError>,
}

impl RowErrors<'_> {
    fn push(&mut self, field: Field, message: String) {
        self.errors.push(RowError {
            row: self.row,
            column: Some(field.name().to_string()),
            message,
        });
    }
}

/// Builds the draft, recording every problem; `None` when any label or
/// number was unusable. Checks that need the whole draft (e-mail, domains)
/// are left to `VendorDraft::validate`.
fn build_vendor(cells: &Cells<'_>, errors: &mut RowErrors<'_>) -> Option<VendorDraft> {
    let errors_before = errors.errors.len();
    let get = |field: Field| cells[field.index()];

    let vendor_type = if get(Field::VendorType).is_empty() {
        errors.push(
            Field::VendorType,
            format!("is required (one of: {})", label_names(VendorType::ALL)),
        );
        VendorType::Other
    } else {
        label(errors, cells, Field::VendorType, VendorType::Other)
    };
    let deployment = label(errors, cells, Field::Deployment, Deployment::NotApplicable);
    let tenancy = label(errors, cells, Field::Tenancy, Tenancy::NotApplicable);
    let status = label(errors, cells, Field::Status, LifecycleStatus::Active);

    let services = if Field::SERVICE.iter().any(|f| !get(*f).is_empty()) {
        vec![build_service(cells, errors)]
    } else {
        Vec::new()
    };
    let data_flows = build_data_flows(cells, errors);

    if errors.errors.len() != errors_before {
        return None;
    }
    Some(VendorDraft {
        external_id: optional_text(get(Field::ExternalId)),
        legal_name: get(Field::LegalName).to_string(),
        aliases: text_list(get(Field::Aliases)),
        domains: split_list(get(Field::Domains))
            .map(str::to_ascii_lowercase)
            .collect(),
        vendor_type,
        deployment,
        tenancy,
        status,
        source: VendorSource::Import,
        owner_email: get(Field::OwnerEmail).to_string(),
        owner_name: optional_text(get(Field::OwnerName)),
        notes: optional_text(get(Field::Notes)),
        services,
        data_flows,
    })
}

fn build_service(cells: &Cells<'_>, errors: &mut RowErrors<'_>) -> Service {
    let get = |field: Field| cells[field.index()];
    let name = match get(Field::ServiceName) {
        "" => DEFAULT_SERVICE_NAME.to_string(),
        name => name.to_string(),
    };
    let patient_care_impact = match parse_yes_no(get(Field::PatientCareImpact)) {
        Ok(value) => value,
        Err(message) => {
            errors.push(Field::PatientCareImpact, message);
            false
        }
    };
    Service {
        name,
        max_tolerable_downtime_hours: optional_number(errors, cells, Field::MaxDowntimeHours),
        business_processes: text_list(get(Field::BusinessProcesses)),
        patient_care_impact,
        patients_affected: optional_number(errors, cells, Field::PatientsAffected),
        records_affected: optional_number(errors, cells, Field::RecordsAffected),
        revenue_dependency: label(
            errors,
            cells,
            Field::RevenueDependency,
            RevenueDependency::NoDependency,
        ),
    }
}

fn build_data_flows(cells: &Cells<'_>, errors: &mut RowErrors<'_>) -> Vec<DataFlow> {
    let get = |field: Field| cells[field.index()];
    let classes: Vec<DataClass> = label_list(errors, cells, Field::DataClasses);
    if get(Field::DataClasses).is_empty() {
        // Flow details without a class would be silently dropped; say so.
        if let Some(filled) = Field::FLOW_DETAILS.iter().find(|f| !get(**f).is_empty()) {
            errors.push(
                Field::DataClasses,
                format!(
                    "is empty, but {} is filled in; list the data classes it applies to (e.g. phi)",
                    filled.name()
                ),
            );
        }
        return Vec::new();
    }
    let actions = label_list(errors, cells, Field::DataActions);
    let record_count = optional_number(errors, cells, Field::RecordCount).unwrap_or(0);
    let locations = text_list(get(Field::DataLocations));
    let connectivity = label_list(errors, cells, Field::Connectivity);
    let subprocessors = text_list(get(Field::Subprocessors));
    classes
        .into_iter()
        .map(|data_class| DataFlow {
            data_class,
            actions: actions.clone(),
            record_count,
            locations: locations.clone(),
            connectivity: connectivity.clone(),
            subprocessors: subprocessors.clone(),
        })
        .collect()
}

/// The label vocabularies the inventory uses, behind one interface so the
/// canonical spelling (what exports write) can be matched without the
/// allocation the forgiving parser needs.
trait Label: Copy + PartialEq + 'static {
    const ALL: &'static [Self];
    fn canonical(self) -> &'static str;
    fn parse_forgiving(raw: &str) -> Result<Self, ParseLabelError>;

    fn parse_label(raw: &str) -> Result<Self, ParseLabelError> {
        match Self::ALL.iter().find(|v| v.canonical() == raw) {
            Some(value) => Ok(*value),
            None => Self::parse_forgiving(raw),
        }
    }
}

macro_rules! impl_label {
    ($($label:ty),+) => {$(
        impl Label for $label {
            const ALL: &'static [Self] = <$label>::ALL;
            fn canonical(self) -> &'static str {
                self.as_str()
            }
            fn parse_forgiving(raw: &str) -> Result<Self, ParseLabelError> {
                <$label>::parse(raw)
            }
        }
    )+};
}

impl_label!(
    VendorType,
    Deployment,
    Tenancy,
    LifecycleStatus,
    RevenueDependency,
    DataClass,
    DataAction,
    Connectivity
);

fn label<T: Label>(errors: &mut RowErrors<'_>, cells: &Cells<'_>, field: Field, default: T) -> T {
    let raw = cells[field.index()];
    if raw.is_empty() {
        return default;
    }
    match T::parse_label(raw) {
        Ok(value) => value,
        Err(e) => {
            errors.push(field, e.to_string());
            default
        }
    }
}

/// Parses every item of a `;` list, reporting each bad one; repeats are
/// dropped so "phi; PHI" is one data flow, not two.
fn label_list<T: Label>(errors: &mut RowErrors<'_>, cells: &Cells<'_>, field: Field) -> Vec<T> {
    let mut out = Vec::new();
    for item in split_list(cells[field.index()]) {
        match T::parse_label(item) {
            Ok(value) if !out.contains(&value) => out.push(value),
            Ok(_) => {}
            Err(e) => errors.push(field, e.to_string()),
        }
    }
    out
}

fn label_names<T: Copy + std::fmt::Display>(all: &[T]) -> String {
    let names: Vec<String> = all.iter().map(|v| v.to_string()).collect();
    names.join(", ")
}

fn optional_number<T: TryFrom<u64>>(
    errors: &mut RowErrors<'_>,
    cells: &Cells<'_>,
    field: Field,
) -> Option<T> {
    let raw = cells[field.index()];
    if raw.is_empty() {
        return None;
    }
    match parse_whole_number(raw) {
        Some(value) => match T::try_from(value) {
            Ok(value) => Some(value),
            Err(_) => {
                errors.push(field, format!("is too large, got '{raw}'"));
                None
            }
        },
        None => {
            errors.push(field, format!("must be a whole number ≥ 0, got '{raw}'"));
            None
        }
    }
}

/// Accepts "12000", "12,000" and "12000.0" (what spreadsheets write for whole
/// numbers); anything negative, fractional or not a number is `None`.
pub(crate) fn parse_whole_number(raw: &str) -> Option<u64> {
    let integer_part = match raw.split_once('.') {
        Some((integer, fraction)) if fraction.bytes().all(|b| b == b'0') => integer,
        Some(_) => return None,
        None => raw,
    };
    if integer_part.is_empty() {
        return None;
    }
    if integer_part.contains(',') && !is_grouped_by_thousands(integer_part) {
        return None;
    }
    let mut value: u64 = 0;
    for byte in integer_part.bytes() {
        match byte {
            b'0'..=b'9' => {
                value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
            }
            b',' => {}
            _ => return None,
        }
    }
    Some(value)
}

/// "1,234,567" yes; "1,2345" or ",123" no: a stray comma is more likely a
/// decimal comma or a typo than a thousands separator.
fn is_grouped_by_thousands(digits: &str) -> bool {
    let mut groups = digits.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    first_ok && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_yes_no(raw: &str) -> Result<bool, String> {
    if raw.is_empty() {
        return Ok(false);
    }
    const YES: [&str; 4] = ["yes", "true", "y", "1"];
    const NO: [&str; 4] = ["no", "false", "n", "0"];
    if YES.iter().any(|y| raw.eq_ignore_ascii_case(y)) {
        Ok(true)
    } else if NO.iter().any(|n| raw.eq_ignore_ascii_case(n)) {
        Ok(false)
    } else {
        Err(format!("must be yes or no, got '{raw}'"))
    }
}

fn optional_text(raw: &str) -> Option<String> {
    (!raw.is_empty()).then(|| raw.to_string())
}

pub(crate) fn split_list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(LIST_SEPARATOR)
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn text_list(raw: &str) -> Vec<String> {
    split_list(raw).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_accept_thousands_separators() {
        assert_eq!(parse_whole_number("12000"), Some(12_000));
        assert_eq!(parse_whole_number("12,000"), Some(12_000));
        assert_eq!(parse_whole_number("1,234,567"), Some(1_234_567));
        assert_eq!(parse_whole_number("12000.0"), Some(12_000));
        assert_eq!(parse_whole_number("0"), Some(0));
        for bad in [
            "-5", "12.5", "1,2345", ",123", "12,", "abc", "1e3", "", ".0", "+5",
        ] {
            assert_eq!(parse_whole_number(bad), None, "{bad}");
        }
        assert_eq!(parse_whole_number("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_whole_number("18446744073709551616"), None);
    }

    #[test]
    fn yes_no_is_forgiving() {
        assert_eq!(parse_yes_no("Yes"), Ok(true));
        assert_eq!(parse_yes_no("1"), Ok(true));
        assert_eq!(parse_yes_no("N"), Ok(false));
        assert_eq!(parse_yes_no(""), Ok(false));
        assert!(parse_yes_no("maybe").is_err());
    }
}
