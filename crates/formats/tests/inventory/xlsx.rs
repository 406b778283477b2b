//! XLSX inventories: workbooks built in the test with rust_xlsxwriter.

use std::io::{Cursor, Write};

use mamori_domain::{DataClass, LifecycleStatus, VendorType};
use mamori_formats::{parse_inventory, parse_xlsx, InventoryError, ParsedInventory};
use rust_xlsxwriter::Workbook;

/// A cell value for `workbook`.
enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Bool(bool),
}

/// One worksheet with `rows` starting at A1 (rows[0] is the header).
fn workbook(rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Cell::Text("") => continue,
                Cell::Text(text) => sheet.write_string(r, c, *text).map(|_| ()),
                Cell::Number(n) => sheet.write_number(r, c, *n).map(|_| ()),
                Cell::Bool(b) => sheet.write_boolean(r, c, *b).map(|_| ()),
            }
            .expect("cell written");
        }
    }
    workbook.save_to_buffer().expect("workbook saved")
}

fn header(names: &[&'static str]) -> Vec<Cell<'static>> {
    names.iter().map(|n| Cell::Text(n)).collect()
}

fn parse(bytes: &[u8]) -> ParsedInventory {
    parse_xlsx(bytes).unwrap_or_else(|e| panic!("expected the workbook to parse: {e}"))
}

#[test]
fn valid_workbook_parses_with_number_and_boolean_cells() {
    use Cell::{Bool, Number, Text};
    let bytes = workbook(&[
        header(&[
            "Legal Name",
            "vendor_type",
            "owner_email",
            "status",
            "max_downtime_hours",
            "patient_care_impact",
            "data_classes",
            "data_actions",
            "record_count",
            "external_id",
        ]),
        vec![
            Text("Cedar Imaging Cloud, Inc."),
            Text("SaaS"),
            Text("r.tanaka@hospital.example"),
            Text("onboarding"),
            Number(4.0),
            Bool(true),
            Text("phi"),
            Text("store; process"),
            Number(2_500_000.0),
            Number(1001.0),
        ],
        vec![],
        vec![
            Text("Harbor Billing Partners LLC"),
            Text("billing"),
            Text("m.sato@hospital.example"),
            Text(""),
            Text("72"),
            Text("no"),
            Text("payment"),
            Text("process"),
            Text("800,000"),
        ],
    ]);
    assert_eq!(
        mamori_formats::InventoryFormat::detect("upload.bin", &bytes),
        Ok(mamori_formats::InventoryFormat::Xlsx)
    );
    let parsed = parse_inventory("vendors.xlsx", &bytes).expect("parses");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows.len(), 2);

    let cedar = &parsed.rows[0];
    assert_eq!(cedar.row, 2);
    assert_eq!(cedar.vendor.external_id.as_deref(), Some("1001"));
    assert_eq!(cedar.vendor.vendor_type, VendorType::Saas);
    assert_eq!(cedar.vendor.status, LifecycleStatus::Onboarding);
    assert_eq!(
        cedar.vendor.services[0].max_tolerable_downtime_hours,
        Some(4)
    );
    assert!(cedar.vendor.services[0].patient_care_impact);
    assert_eq!(cedar.vendor.data_flows[0].data_class, DataClass::Phi);
    assert_eq!(cedar.vendor.data_flows[0].record_count, 2_500_000);

    let harbor = &parsed.rows[1];
    assert_eq!(harbor.row, 4, "the empty row 3 is skipped but counted");
    assert_eq!(harbor.vendor.vendor_type, VendorType::BillingRcm);
    assert_eq!(harbor.vendor.status, LifecycleStatus::Active);
    assert_eq!(harbor.vendor.data_flows[0].record_count, 800_000);
}

#[test]
fn fractional_and_negative_number_cells_are_row_errors() {
    use Cell::{Number, Text};
    let bytes = workbook(&[
        header(&[
            "legal_name",
            "vendor_type",
            "owner_email",
            "data_classes",
            "data_actions",
            "record_count",
        ]),
        vec![
            Text("A"),
            Text("saas"),
            Text("a@hospital.example"),
            Text("phi"),
            Text("store"),
            Number(12.5),
        ],
        vec![
            Text("B"),
            Text("saas"),
            Text("a@hospital.example"),
            Text("phi"),
            Text("store"),
            Number(-5.0),
        ],
    ]);
    let errors: Vec<String> = parse(&bytes)
        .errors
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        vec![
            "row 2, column record_count: must be a whole number ≥ 0, got '12.5'",
            "row 3, column record_count: must be a whole number ≥ 0, got '-5'",
        ]
    );
}

#[test]
fn header_problems_are_file_errors_in_xlsx_too() {
    let missing = workbook(&[header(&["legal_name", "owner_email"])]);
    assert_eq!(
        parse_xlsx(&missing),
        Err(InventoryError::MissingColumns {
            columns: vec!["vendor_type".into()]
        })
    );
    let empty = workbook(&[]);
    assert_eq!(parse_xlsx(&empty), Err(InventoryError::Empty));
}

#[test]
fn a_zip_of_something_else_is_not_a_workbook() {
    let mut archive = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    archive.start_file("readme.txt", options).expect("entry");
    archive
        .write_all(b"quarterly vendor list, see attached")
        .expect("write");
    let bytes = archive.finish().expect("zip").into_inner();

    let err = parse_inventory("vendors.xlsx", &bytes).expect_err("not a workbook");
    let InventoryError::NotAWorkbook { reason } = &err else {
        panic!("expected NotAWorkbook, got {err:?}");
    };
    assert!(reason.contains("ZIP archive"), "{reason}");
    assert!(
        err.to_string().starts_with(
            "the file is not an Excel workbook (.xlsx): it is a ZIP archive but has no"
        ),
        "{err}"
    );
}

#[test]
fn bytes_that_are_not_a_zip_are_not_a_workbook() {
    let err = parse_xlsx(b"legal_name,vendor_type\n").expect_err("refused");
    assert!(
        matches!(err, InventoryError::NotAWorkbook { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not a readable ZIP archive"),
        "{err}"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    use proptest::prelude::*;
    let valid = workbook(&[header(&["legal_name", "vendor_type", "owner_email"])]);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 64,
        ..Default::default()
    });
    runner
        .run(
            &(
                0..valid.len(),
                any::<u8>(),
                proptest::collection::vec(any::<u8>(), 0..64),
            ),
            |(at, byte, noise)| {
                let mut corrupted = valid.clone();
                corrupted[at] = byte;
                let _ = parse_xlsx(&corrupted);
                let mut prefixed = b"PK\x03\x04".to_vec();
                prefixed.extend_from_slice(&noise);
                let _ = parse_xlsx(&prefixed);
                Ok(())
            },
        )
        .expect("no panic");
}
