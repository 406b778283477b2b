//! Every CSV problem is reported with its row, its column and the reason.

use mamori_formats::{parse_inventory, InventoryError, MAX_CELL_BYTES};

use super::common::{csv, fixture, parse_err, parse_ok, single_row_error, MINIMAL_HEADER};

const FLOW_HEADER: &str =
    "legal_name,vendor_type,owner_email,data_classes,data_actions,record_count";

#[test]
fn empty_file() {
    for bytes in [&b""[..], b"\n\n", b"  \r\n \n", b"\xEF\xBB\xBF"] {
        let err = parse_err(bytes);
        assert_eq!(err, InventoryError::Empty, "{bytes:?}");
        assert!(err.to_string().contains("the file is empty"), "{err}");
    }
    assert_eq!(
        parse_inventory("vendors.csv", b""),
        Err(InventoryError::Empty)
    );
}

#[test]
fn semicolon_separated_file_is_named_as_such() {
    let err = parse_err(&fixture("semicolon_inventory.csv"));
    assert_eq!(err, InventoryError::WrongDelimiter { separator: "';'" });
    assert!(
        err.to_string()
            .contains("looks like ';'-separated; Mamori expects comma-separated CSV"),
        "{err}"
    );
}

#[test]
fn tab_separated_file_is_named_as_such() {
    let err = parse_err(b"legal_name\tvendor_type\towner_email\nA\tsaas\ta@b.example\n");
    assert!(
        err.to_string()
            .contains("looks like tab-separated; Mamori expects comma-separated CSV"),
        "{err}"
    );
}

#[test]
fn missing_required_column_is_named() {
    let err = parse_err(&csv("legal_name,owner_email", &["Acme,a@hospital.example"]));
    assert_eq!(
        err,
        InventoryError::MissingColumns {
            columns: vec!["vendor_type".into()]
        }
    );
    assert_eq!(err.to_string(), "missing required column(s): vendor_type");
}

#[test]
fn unknown_column_is_named_with_a_suggestion() {
    let err = parse_err(&csv(
        "legal_name,vendor_type,owner_email,favourite_colour",
        &["Acme,saas,a@hospital.example,blue"],
    ));
    let InventoryError::UnknownColumns { columns, .. } = &err else {
        panic!("expected unknown columns, got {err:?}");
    };
    assert_eq!(columns, &vec!["favourite_colour".to_string()]);
    assert!(
        err.to_string()
            .starts_with("unknown column(s): 'favourite_colour'. Accepted columns: external_id"),
        "{err}"
    );

    let typo = parse_err(&csv("legal nam,vendor_type,owner_email", &[]));
    let text = typo.to_string();
    assert!(
        text.contains("'legal nam' (did you mean legal_name?)"),
        "{text}"
    );
    assert!(
        text.contains("also missing required column(s): legal_name"),
        "{text}"
    );
}

#[test]
fn repeated_column_is_refused() {
    let err = parse_err(&csv("legal_name,vendor_type,owner_email,Legal Name", &[]));
    assert_eq!(
        err,
        InventoryError::DuplicateColumn {
            column: "legal_name".into(),
            first: 1,
            second: 4
        }
    );
}

#[test]
fn a_data_row_instead_of_a_header_is_explained() {
    let err = parse_err(b"Acme Inc,saas,a@hospital.example\n");
    assert!(
        matches!(err, InventoryError::NoHeader { row: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("'Acme Inc'"), "{err}");
}

#[test]
fn duplicate_vendor_names_the_earlier_row() {
    let bytes = csv(
        MINIMAL_HEADER,
        &[
            "\"Acme, Inc.\",saas,a@hospital.example",
            "Cedar Imaging,saas,a@hospital.example",
            "ACME Inc,iaas,b@hospital.example",
        ],
    );
    let parsed = parse_ok(&bytes);
    assert_eq!(parsed.rows.len(), 2, "the first of the pair is kept");
    assert_eq!(parsed.errors.len(), 1);
    let error = &parsed.errors[0];
    assert_eq!(error.row, 4);
    assert_eq!(error.column.as_deref(), Some("legal_name"));
    assert!(error.message.contains("duplicate of row 2"), "{error}");
}

#[test]
fn duplicate_external_id_names_the_earlier_row() {
    let bytes = csv(
        "external_id,legal_name,vendor_type,owner_email",
        &[
            "V-1,Acme,saas,a@hospital.example",
            "V-1,Other Name,saas,a@hospital.example",
        ],
    );
    let error = &parse_ok(&bytes).errors[0];
    assert_eq!(
        error.to_string(),
        "row 3, column external_id: duplicate of row 2: same external_id; list each vendor once"
    );
}

#[test]
fn negative_record_count() {
    let error = single_row_error(&csv(
        FLOW_HEADER,
        &["Acme,saas,a@hospital.example,phi,store,-5"],
    ));
    assert_eq!(
        error.to_string(),
        "row 2, column record_count: must be a whole number ≥ 0, got '-5'"
    );
}

#[test]
fn non_numeric_record_count() {
    let error = single_row_error(&csv(
        FLOW_HEADER,
        &["Acme,saas,a@hospital.example,phi,store,lots"],
    ));
    assert_eq!(error.row, 2);
    assert_eq!(error.column.as_deref(), Some("record_count"));
    assert_eq!(error.message, "must be a whole number ≥ 0, got 'lots'");
}

#[test]
fn unknown_data_class() {
    let error = single_row_error(&csv(
        FLOW_HEADER,
        &["Acme,saas,a@hospital.example,phi; genome,store,10"],
    ));
    assert_eq!(error.row, 2);
    assert_eq!(error.column.as_deref(), Some("data_classes"));
    assert!(
        error
            .message
            .starts_with("unknown data class 'genome' (expected one of: phi,"),
        "{error}"
    );
}

#[test]
fn every_row_problem_is_reported_and_good_rows_still_parse() {
    let bytes = csv(
        "legal_name,vendor_type,owner_email,domains,patient_care_impact,max_downtime_hours",
        &[
            "Good Vendor,saas,a@hospital.example,good.example,yes,4",
            "Bad Type,spaceship,a@hospital.example,,,",
            "Bad Mail,saas,not-an-address,bad_domain.example,,",
            ",saas,a@hospital.example,,maybe,99999999999",
            "Another Good,paas,b@hospital.example,,,",
        ],
    );
    let parsed = parse_ok(&bytes);
    let rows: Vec<usize> = parsed.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![2, 6]);
    let errors: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
    let expected_starts = [
        "row 3, column vendor_type: unknown vendor type 'spaceship'",
        "row 4, column owner_email: is not an e-mail address",
        "row 4, column domains: 'bad_domain.example' is not a domain name",
        "row 5, column max_downtime_hours: is too large, got '99999999999'",
        "row 5, column patient_care_impact: must be yes or no, got 'maybe'",
    ];
    assert_eq!(errors.len(), expected_starts.len(), "{errors:#?}");
    for start in expected_starts {
        assert!(
            errors.iter().any(|e| e.starts_with(start)),
            "no error starting with {start:?} in {errors:#?}"
        );
    }
}

#[test]
fn missing_required_values_and_required_vendor_type() {
    let parsed = parse_ok(&csv(MINIMAL_HEADER, &[" ,,a@hospital.example"]));
    let errors: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("row 2, column vendor_type: is required (one of: saas, iaas"),
        "{errors:?}"
    );
    // With a type, the missing name is caught by the domain's validation.
    let parsed = parse_ok(&csv(MINIMAL_HEADER, &[",saas,"]));
    let errors: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        vec![
            "row 2, column legal_name: is required",
            "row 2, column owner_email: is required"
        ]
    );
}

#[test]
fn flow_details_without_a_data_class_are_not_dropped_silently() {
    let error = single_row_error(&csv(
        FLOW_HEADER,
        &["Acme,saas,a@hospital.example,,store,10"],
    ));
    assert_eq!(error.column.as_deref(), Some("data_classes"));
    assert!(
        error.message.contains("data_actions is filled in"),
        "{error}"
    );
}

#[test]
fn cells_beyond_the_header_are_reported() {
    let error = single_row_error(&csv(
        MINIMAL_HEADER,
        &["Acme,saas,a@hospital.example,surprise"],
    ));
    assert_eq!(
        error.to_string(),
        "row 2: has 'surprise' in column 4, beyond the 3 columns of the header"
    );
    // Trailing empty cells, as spreadsheets often write, are fine.
    let parsed = parse_ok(&csv(MINIMAL_HEADER, &["Acme,saas,a@hospital.example,,,"]));
    assert_eq!(parsed.errors, vec![]);
}

#[test]
fn non_utf8_bytes_name_the_row_and_column() {
    let mut bytes = csv(MINIMAL_HEADER, &["Acme,saas,a@hospital.example", "Caf"]);
    bytes.pop(); // the final newline
                 // "Café" in Latin-1, as Excel's plain "CSV" format would write it.
    bytes.extend_from_slice(b"\xE9 du Monde,saas,a@hospital.example\n");
    let err = parse_err(&bytes);
    assert_eq!(
        err,
        InventoryError::NotUtf8 {
            row: 3,
            column: Some("legal_name".into())
        }
    );
    assert!(
        err.to_string()
            .starts_with("row 3, column legal_name: the file is not UTF-8 text"),
        "{err}"
    );
}

#[test]
fn utf16_file_is_recognised() {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in "legal_name".encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    assert_eq!(parse_err(&bytes), InventoryError::Utf16);
}

#[test]
fn a_50_mb_cell_is_refused_with_row_and_column() {
    const FIFTY_MB: usize = 50 * 1024 * 1024;
    let mut bytes = csv(
        "legal_name,vendor_type,owner_email,notes",
        &["Acme,saas,a@hospital.example,short"],
    );
    bytes.extend_from_slice(b"Cedar,saas,a@hospital.example,\"");
    bytes.resize(bytes.len() + FIFTY_MB, b'x');
    bytes.extend_from_slice(b"\"\n");
    let err = parse_err(&bytes);
    assert_eq!(
        err,
        InventoryError::CellTooLarge {
            row: 3,
            column: "notes".into(),
            bytes: FIFTY_MB
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "row 3, column notes: the cell holds {FIFTY_MB} bytes, more than the limit of {MAX_CELL_BYTES} bytes"
        )
    );
}

#[test]
fn unsupported_files_are_named() {
    assert_eq!(
        parse_inventory("vendors.xls", b"whatever"),
        Err(InventoryError::LegacyXls)
    );
    assert_eq!(
        parse_inventory("anything", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
        Err(InventoryError::LegacyXls)
    );
    let err = parse_inventory("vendors.pdf", b"%PDF-1.7").expect_err("refused");
    assert!(err.to_string().contains("'vendors.pdf'"), "{err}");
}

#[test]
fn arbitrary_bytes_never_panic() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..400), |noise| {
            let mut bytes = csv(FLOW_HEADER, &[]);
            bytes.extend_from_slice(&noise);
            let _ = mamori_formats::parse_csv(&bytes);
            let _ = mamori_formats::parse_csv(&noise);
            Ok(())
        })
        .expect("no panic");
}
