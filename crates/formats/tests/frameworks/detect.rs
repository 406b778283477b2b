//! `detect_and_parse_framework`: one entry point, chosen by content.

use mamori_formats::{detect_and_parse_framework, FrameworkImport, FrameworkImportError};

use super::common::shared_data;

fn framework_key(import: &FrameworkImport) -> &str {
    match import {
        FrameworkImport::Framework(framework) => &framework.key,
        FrameworkImport::Mapping(_) => panic!("expected a framework, got a mapping"),
    }
}

#[test]
fn each_shipped_framework_file_is_recognised_by_content() {
    let cases = [
        ("frameworks/NIST_CSF_v2.0_catalog.xml", "nist-csf-2.0"),
        (
            "frameworks/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json",
            "nist-sp800-53-rev5-moderate",
        ),
        ("frameworks/csf-1.1-core.csv", "nist-csf-1.1"),
        ("frameworks/csf-2.0-core.csv", "nist-csf-2.0"),
    ];
    for (rel, key) in cases {
        let Some(bytes) = shared_data(rel) else {
            return;
        };
        // A misleading file name must not matter.
        let import = detect_and_parse_framework("upload.bin", &bytes)
            .unwrap_or_else(|err| panic!("{rel}: {err}"));
        assert_eq!(framework_key(&import), key, "{rel}");
    }
    let Some(bytes) = shared_data("frameworks/csf-1.1_to_csf-2.0.csv") else {
        return;
    };
    match detect_and_parse_framework("csf-1.1_to_csf-2.0.csv", &bytes).expect("parses") {
        FrameworkImport::Mapping(mappings) => {
            assert_eq!(mappings.len(), 185);
            assert!(mappings
                .iter()
                .all(|m| m.source_framework == "nist-csf-1.1"
                    && m.target_framework == "nist-csf-2.0"));
        }
        FrameworkImport::Framework(f) => panic!("expected a mapping, got framework {}", f.key),
    }
}

#[test]
fn mapping_columns_named_by_framework_key_are_taken_as_written() {
    let csv = "nist-sp800-53-rev5,nist-csf-2.0,relationship\nac-2,PR.AA-05,subset\n";
    match detect_and_parse_framework("map.csv", csv.as_bytes()).expect("parses") {
        FrameworkImport::Mapping(mappings) => {
            assert_eq!(mappings[0].source_framework, "nist-sp800-53-rev5");
            assert_eq!(mappings[0].target_id, "PR.AA-05");
        }
        FrameworkImport::Framework(_) => panic!("expected a mapping"),
    }
}

#[test]
fn unrecognised_and_broken_files_say_what_was_expected() {
    let error = detect_and_parse_framework("vendors.csv", b"legal_name,vendor_type\nAcme,saas\n")
        .expect_err("not a framework");
    assert!(matches!(error, FrameworkImportError::Unrecognised { .. }));
    assert!(
        error.to_string().contains("legal_name,vendor_type"),
        "{error}"
    );

    let error = detect_and_parse_framework("empty.xml", b"\n  ").expect_err("empty");
    assert!(matches!(error, FrameworkImportError::Empty { .. }));

    // Errors from the format readers come through unchanged.
    let error = detect_and_parse_framework("bad.json", b"{\"catalog\": [}").expect_err("bad");
    assert!(
        error.to_string().starts_with("bad.json, line 1, column"),
        "{error}"
    );
    let error = detect_and_parse_framework(
        "core.csv",
        b"element_type,id,parent_id,title,text\nfunction,ID,,Identify\n",
    )
    .expect_err("ragged");
    assert_eq!(
        error.to_string(),
        "core.csv, line 2: has 4 cells where the header has 5"
    );
}
