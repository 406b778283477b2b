//! Vendor export: CSV and XLSX in the inventory layout (so an export can be
//! edited and re-imported), and lossless JSON.
//!
//! CSV and XLSX hold one row per vendor, so they flatten: the first service
//! fills the service columns and the data flows are merged (classes listed,
//! actions/locations/connectivity/sub-processors united, the largest record
//! count kept). List items are joined with `"; "`; a `;` inside an item is
//! written as `,` so the item count survives a re-import. JSON keeps
//! everything.
//!
//! Formula injection: a CSV cell starting with `=`, `+`, `-`, `@`, tab or
//! carriage return would run as a formula when the file is opened in a
//! spreadsheet, so such cells are written with a leading `'`. Importing does
//! not strip it. XLSX cells are written as typed text, which spreadsheets
//! never evaluate, so they are written as they are.

use std::io::Write;

use mamori_domain::{CategoryScores, DataFlow, Rating, RiskCategory, VendorDraft};
use rust_xlsxwriter::{DataValidation, Format, Workbook, Worksheet, XlsxError};
use serde::ser::SerializeMap;
use serde::Serialize;
use thiserror::Error;

use crate::columns::{Field, ASSESSMENT_COLUMN_NAMES, FIELD_COUNT, TEMPLATE_COLUMNS};

/// One vendor to export, with its stored id and latest assessment.
#[derive(Debug, Clone, Copy)]
pub struct ExportRecord<'a> {
    pub id: &'a str,
    pub vendor: &'a VendorDraft,
    pub risk: Option<&'a Rating>,
}

#[derive(Debug, Error)]
pub enum ExportError {
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not write the CSV export: {0}")]
    Csv(#[from] csv::Error),
    #[error("could not write the JSON export: {0}")]
    Json(#[from] serde_json::Error),
    #[error("could not write the XLSX export{}: {source}", .row.map(|r| format!(" at row {r}")).unwrap_or_default())]
    Xlsx {
        /// Spreadsheet row (1-based) being written, when the problem is a cell.
        row: Option<u32>,
        source: XlsxError,
    },
}

impl From<XlsxError> for ExportError {
    fn from(source: XlsxError) -> Self {
        ExportError::Xlsx { row: None, source }
    }
}

/// Writes vendors as CSV with the template columns plus `mamori_id`, `tier`,
/// `policy_version` and one `score_<category>` per risk category.
pub fn write_csv<'a, W: Write>(
    records: impl IntoIterator<Item = ExportRecord<'a>>,
    out: W,
) -> Result<(), ExportError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(export_header())?;
    let mut line: Vec<String> = Vec::with_capacity(FIELD_COUNT + ASSESSMENT_COLUMN_NAMES.len());
    for record in records {
        line.clear();
        line.extend(export_cells(&record));
        write_guarded_record(&mut writer, &line)?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes vendors as CSV with the template columns only: the import layout,
/// for files that are meant to be edited and imported.
pub fn write_inventory_csv<'a, W: Write>(
    vendors: impl IntoIterator<Item = &'a VendorDraft>,
    out: W,
) -> Result<(), ExportError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(TEMPLATE_COLUMNS.iter().map(|c| c.name))?;
    for vendor in vendors {
        let cells = inventory_cells(vendor);
        write_guarded_record(&mut writer, &cells)?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes vendors as a workbook with one sheet, "Vendors", in the same layout
/// as [`write_csv`]. Counts are number cells.
pub fn write_xlsx<'a>(
    records: impl IntoIterator<Item = ExportRecord<'a>>,
) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Vendors")?;
    let header = export_header();
    write_header(sheet, &header)?;
    let mut row: u32 = 1;
    for record in records {
        let cells = export_cells(&record);
        write_vendor_row(sheet, row, &header, &cells).map_err(|source| ExportError::Xlsx {
            row: Some(row + 1),
            source,
        })?;
        row += 1;
    }
    finish_vendor_sheet(sheet, row, header.len())?;
    Ok(workbook.save_to_buffer()?)
}

/// Writes vendors as a JSON array. Each object has `id`, `tier`, `scores`
/// (category → score), `policy_version` (the three are `null` when never
/// assessed) and every `VendorDraft` field, so it reads back as a draft.
pub fn write_json<'a, W: Write>(
    records: impl IntoIterator<Item = ExportRecord<'a>>,
    mut out: W,
) -> Result<(), ExportError> {
    out.write_all(b"[")?;
    for (i, record) in records.into_iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let json = JsonRecord {
            id: record.id,
            tier: record.risk.map(|r| r.tier.as_str()),
            scores: record.risk.map(|r| JsonScores(&r.scores)),
            policy_version: record.risk.map(|r| r.policy_version.as_str()),
            vendor: record.vendor,
        };
        serde_json::to_writer(&mut out, &json)?;
    }
    out.write_all(b"\n]\n")?;
    out.flush()?;
    Ok(())
}

#[derive(Serialize)]
struct JsonRecord<'a> {
    id: &'a str,
    tier: Option<&'a str>,
    scores: Option<JsonScores<'a>>,
    policy_version: Option<&'a str>,
    #[serde(flatten)]
    vendor: &'a VendorDraft,
}

/// Scores as `{"cybersecurity": 80, ...}` in display order.
struct JsonScores<'a>(&'a CategoryScores);

impl Serialize for JsonScores<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(RiskCategory::ALL.len()))?;
        for (category, score) in self.0.iter() {
            map.serialize_entry(category.as_str(), &score)?;
        }
        map.end()
    }
}

/// The template workbook: "Vendors" with the example rows and drop-downs for
/// the label columns, and "Columns" describing each column.
pub(crate) fn write_template_xlsx(examples: &[VendorDraft]) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let header: Vec<&str> = TEMPLATE_COLUMNS.iter().map(|c| c.name).collect();

    let sheet = workbook.add_worksheet();
    sheet.set_name("Vendors")?;
    write_header(sheet, &header)?;
    let mut row: u32 = 1;
    for vendor in examples {
        write_vendor_row(sheet, row, &header, &inventory_cells(vendor))?;
        row += 1;
    }
    add_label_drop_downs(sheet)?;
    finish_vendor_sheet(sheet, row, header.len())?;

    let docs = workbook.add_worksheet();
    docs.set_name("Columns")?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    for (col, title) in ["column", "required", "description", "example"]
        .into_iter()
        .enumerate()
    {
        docs.write_string_with_format(0, col as u16, title, &bold)?;
    }
    for (i, column) in TEMPLATE_COLUMNS.iter().enumerate() {
        let row = i as u32 + 1;
        docs.write_string(row, 0, column.name)?;
        docs.write_string(row, 1, if column.required { "yes" } else { "no" })?;
        docs.write_string_with_format(row, 2, column.description, &wrap)?;
        docs.write_string(row, 3, column.example)?;
    }
    docs.set_column_width(0, 22)?;
    docs.set_column_width(1, 10)?;
    docs.set_column_width(2, 90)?;
    docs.set_column_width(3, 40)?;
    docs.set_freeze_panes(1, 0)?;

    Ok(workbook.save_to_buffer()?)
}

fn export_header() -> Vec<&'static str> {
    let mut header = Vec::with_capacity(FIELD_COUNT + ASSESSMENT_COLUMN_NAMES.len());
    header.push(ASSESSMENT_COLUMN_NAMES[0]);
    header.extend(TEMPLATE_COLUMNS.iter().map(|c| c.name));
    header.extend(&ASSESSMENT_COLUMN_NAMES[1..]);
    header
}

/// Cells in `export_header` order.
fn export_cells(record: &ExportRecord<'_>) -> Vec<String> {
    let mut cells = Vec::with_capacity(FIELD_COUNT + ASSESSMENT_COLUMN_NAMES.len());
    cells.push(record.id.to_string());
    cells.extend(inventory_cells(record.vendor));
    match record.risk {
        Some(risk) => {
            cells.push(risk.tier.as_str().to_string());
            cells.push(risk.policy_version.clone());
            cells.extend(risk.scores.iter().map(|(_, score)| score.to_string()));
        }
        None => cells.extend(std::iter::repeat_n(
            String::new(),
            ASSESSMENT_COLUMN_NAMES.len() - 1,
        )),
    }
    cells
}

/// A vendor's cells in `TEMPLATE_COLUMNS` order.
pub(crate) fn inventory_cells(vendor: &VendorDraft) -> [String; FIELD_COUNT] {
    let mut cells: [String; FIELD_COUNT] = Default::default();
    let mut set = |field: Field, value: String| cells[field.index()] = value;

    set(
        Field::ExternalId,
        vendor.external_id.clone().unwrap_or_default(),
    );
    set(Field::LegalName, vendor.legal_name.clone());
    set(Field::Aliases, join_list(&vendor.aliases));
    set(Field::Domains, join_list(&vendor.domains));
    set(Field::VendorType, vendor.vendor_type.as_str().to_string());
    set(Field::Deployment, vendor.deployment.as_str().to_string());
    set(Field::Tenancy, vendor.tenancy.as_str().to_string());
    set(Field::Status, vendor.status.as_str().to_string());
    set(Field::OwnerEmail, vendor.owner_email.clone());
    set(
        Field::OwnerName,
        vendor.owner_name.clone().unwrap_or_default(),
    );
    set(Field::Notes, vendor.notes.clone().unwrap_or_default());

    if let Some(service) = vendor.services.first() {
        set(Field::ServiceName, service.name.clone());
        set(
            Field::MaxDowntimeHours,
            optional_number(service.max_tolerable_downtime_hours.map(u64::from)),
        );
        set(
            Field::BusinessProcesses,
            join_list(&service.business_processes),
        );
        let impact = if service.patient_care_impact {
            "yes"
        } else {
            "no"
        };
        set(Field::PatientCareImpact, impact.to_string());
        set(
            Field::PatientsAffected,
            optional_number(service.patients_affected),
        );
        set(
            Field::RecordsAffected,
            optional_number(service.records_affected),
        );
        set(
            Field::RevenueDependency,
            service.revenue_dependency.as_str().to_string(),
        );
    }

    if !vendor.data_flows.is_empty() {
        let merged = MergedFlows::of(&vendor.data_flows);
        set(Field::DataClasses, merged.classes.join("; "));
        set(Field::DataActions, merged.actions.join("; "));
        set(Field::RecordCount, merged.record_count.to_string());
        set(Field::DataLocations, join_list(&merged.locations));
        set(Field::Connectivity, merged.connectivity.join("; "));
        set(Field::Subprocessors, join_list(&merged.subprocessors));
    }
    cells
}

/// All of a vendor's data flows folded into one row's worth of cells.
struct MergedFlows<'a> {
    classes: Vec<&'static str>,
    actions: Vec<&'static str>,
    record_count: u64,
    locations: Vec<&'a str>,
    connectivity: Vec<&'static str>,
    subprocessors: Vec<&'a str>,
}

impl<'a> MergedFlows<'a> {
    fn of(flows: &'a [DataFlow]) -> Self {
        let mut merged = MergedFlows {
            classes: Vec::new(),
            actions: Vec::new(),
            record_count: 0,
            locations: Vec::new(),
            connectivity: Vec::new(),
            subprocessors: Vec::new(),
        };
        for flow in flows {
            push_unique(&mut merged.classes, flow.data_class.as_str());
            for action in &flow.actions {
                push_unique(&mut merged.actions, action.as_str());
            }
            merged.record_count = merged.record_count.max(flow.record_count);
            for location in &flow.locations {
                push_unique(&mut merged.locations, location.as_str());
            }
            for way in &flow.connectivity {
                push_unique(&mut merged.connectivity, way.as_str());
            }
            for name in &flow.subprocessors {
                push_unique(&mut merged.subprocessors, name.as_str());
            }
        }
        merged
    }
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn join_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::new();
    for item in items {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&item.as_ref().replace(crate::columns::LIST_SEPARATOR, ","));
    }
    out
}

fn optional_number(value: Option<u64>) -> String {
    value.map(|n| n.to_string()).unwrap_or_default()
}

fn write_guarded_record<W: Write>(
    writer: &mut csv::Writer<W>,
    cells: &[String],
) -> Result<(), csv::Error> {
    for cell in cells {
        writer.write_field(guard_formula(cell).as_bytes())?;
    }
    // An empty iterator ends the record.
    writer.write_record(None::<&[u8]>)
}

/// Prefixes a quote to cells a spreadsheet would run as a formula.
pub(crate) fn guard_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Columns written as number cells in XLSX.
const NUMBER_COLUMNS: &[&str] = &[
    "max_downtime_hours",
    "patients_affected",
    "records_affected",
    "record_count",
    "score_cybersecurity",
    "score_reputational",
    "score_compliance",
    "score_privacy",
    "score_operational",
    "score_strategic",
    "score_financial",
];

/// Largest integer an XLSX number cell (an f64) holds exactly; larger counts
/// are written as text so they survive a round trip.
const MAX_EXACT_XLSX_INTEGER: u64 = 1 << 53;

fn write_header(sheet: &mut Worksheet, header: &[&str]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (col, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    Ok(())
}

fn write_vendor_row(
    sheet: &mut Worksheet,
    row: u32,
    header: &[&str],
    cells: &[String],
) -> Result<(), XlsxError> {
    for (col, (name, cell)) in header.iter().zip(cells).enumerate() {
        if cell.is_empty() {
            continue;
        }
        let col = col as u16;
        let number = NUMBER_COLUMNS
            .contains(name)
            .then(|| cell.parse::<u64>().ok())
            .flatten()
            .filter(|n| *n <= MAX_EXACT_XLSX_INTEGER);
        match number {
            Some(n) => sheet.write_number(row, col, n as f64)?,
            None => sheet.write_string(row, col, cell)?,
        };
    }
    Ok(())
}

fn finish_vendor_sheet(sheet: &mut Worksheet, rows: u32, columns: usize) -> Result<(), XlsxError> {
    sheet.set_freeze_panes(1, 0)?;
    let last_column = columns.saturating_sub(1) as u16;
    sheet.autofilter(0, 0, rows.saturating_sub(1).max(1), last_column)?;
    for col in 0..=last_column {
        sheet.set_column_width(col, 18)?;
    }
    Ok(())
}

/// Drop-down lists on the single-label columns for the first thousand rows,
/// so people pick valid values instead of typing them.
fn add_label_drop_downs(sheet: &mut Worksheet) -> Result<(), XlsxError> {
    use mamori_domain::{Deployment, LifecycleStatus, RevenueDependency, Tenancy, VendorType};
    fn names<T: Copy + std::fmt::Display>(all: &[T]) -> Vec<String> {
        all.iter().map(|v| v.to_string()).collect()
    }
    let lists: [(Field, Vec<String>); 6] = [
        (Field::VendorType, names(VendorType::ALL)),
        (Field::Deployment, names(Deployment::ALL)),
        (Field::Tenancy, names(Tenancy::ALL)),
        (Field::Status, names(LifecycleStatus::ALL)),
        (Field::RevenueDependency, names(RevenueDependency::ALL)),
        (Field::PatientCareImpact, vec!["yes".into(), "no".into()]),
    ];
    for (field, values) in lists {
        let validation = DataValidation::new().allow_list_strings(&values)?;
        let col = field.index() as u16;
        sheet.add_data_validation(1, col, 1000, col, &validation)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_quoted() {
        assert_eq!(guard_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard_formula("+1"), "'+1");
        assert_eq!(guard_formula("-5"), "'-5");
        assert_eq!(guard_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard_formula("Acme"), "Acme");
        assert_eq!(guard_formula(""), "");
    }

    #[test]
    fn list_items_never_smuggle_a_separator() {
        assert_eq!(join_list(&["a; b", "c"]), "a, b; c");
    }
}
