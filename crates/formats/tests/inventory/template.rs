//! The template parses cleanly and documents every column and label.

use calamine::{open_workbook_from_rs, Reader, Xlsx};
use mamori_domain::{
    Connectivity, DataAction, DataClass, Deployment, LifecycleStatus, RevenueDependency, Tenancy,
    VendorType,
};
use mamori_formats::{parse_csv, parse_xlsx, template_csv, template_xlsx, TEMPLATE_COLUMNS};

#[test]
fn csv_template_parses_without_errors_and_matches_the_documented_examples() {
    let bytes = template_csv();
    let parsed = parse_csv(&bytes).expect("parses");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows.len(), 2);

    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let names: Vec<&str> = TEMPLATE_COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(header, names);
    let first = reader.records().next().expect("row").expect("readable");
    for (column, cell) in TEMPLATE_COLUMNS.iter().zip(first.iter()) {
        assert_eq!(cell, column.example, "example of {}", column.name);
    }
}

#[test]
fn xlsx_template_has_vendors_and_columns_sheets() {
    let bytes = template_xlsx().expect("written");
    let parsed = parse_xlsx(&bytes).expect("parses");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(
        parsed.rows,
        parse_csv(&template_csv()).expect("parses").rows
    );

    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("a workbook");
    assert_eq!(workbook.sheet_names(), vec!["Vendors", "Columns"]);
    let docs = workbook.worksheet_range("Columns").expect("Columns sheet");
    assert_eq!(docs.height(), TEMPLATE_COLUMNS.len() + 1);
    let documented: Vec<String> = docs.rows().skip(1).map(|r| r[0].to_string()).collect();
    let names: Vec<&str> = TEMPLATE_COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(documented, names);
}

#[test]
fn label_columns_document_every_accepted_value() {
    fn check(column: &str, values: Vec<&str>) {
        let doc = TEMPLATE_COLUMNS
            .iter()
            .find(|c| c.name == column)
            .expect(column);
        for value in values {
            assert!(
                doc.description.contains(value),
                "{column} does not mention '{value}'"
            );
        }
    }
    check(
        "vendor_type",
        VendorType::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "deployment",
        Deployment::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check("tenancy", Tenancy::ALL.iter().map(|v| v.as_str()).collect());
    check(
        "status",
        LifecycleStatus::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "revenue_dependency",
        RevenueDependency::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "data_classes",
        DataClass::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "data_actions",
        DataAction::ALL.iter().map(|v| v.as_str()).collect(),
    );
    check(
        "connectivity",
        Connectivity::ALL.iter().map(|v| v.as_str()).collect(),
    );
}
