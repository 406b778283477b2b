//! Valid CSV inventories parse to the expected drafts.

use mamori_domain::{
    Connectivity, DataAction, DataClass, DataFlow, Deployment, LifecycleStatus, RevenueDependency,
    Service, Tenancy, VendorDraft, VendorSource, VendorType,
};
use mamori_formats::{parse_inventory, InventoryFormat};

use super::common::{csv, fixture, parse_ok, MINIMAL_HEADER};

fn lakeside() -> VendorDraft {
    let flow = |data_class| DataFlow {
        data_class,
        actions: vec![DataAction::Store, DataAction::Transmit],
        record_count: 120_000,
        locations: vec!["US".into(), "JP".into()],
        connectivity: vec![Connectivity::ApiIntegration, Connectivity::NetworkAccess],
        subprocessors: vec!["Courier Co".into(), "Cloud LIS".into()],
    };
    VendorDraft {
        external_id: Some("VND-7".into()),
        legal_name: "Lakeside Lab Services, Inc.".into(),
        aliases: vec!["Lakeside Labs".into(), "LLS".into()],
        domains: vec![
            "lakesidelabs.example".into(),
            "results.lakesidelabs.example".into(),
        ],
        vendor_type: VendorType::ClinicalLab,
        deployment: Deployment::OnPremises,
        tenancy: Tenancy::SingleTenant,
        status: LifecycleStatus::Active,
        source: VendorSource::Import,
        owner_email: "lab.owner@hospital.example".into(),
        owner_name: Some("Kai Ito".into()),
        notes: Some("Reference lab.\nCourier pickup twice daily.".into()),
        services: vec![Service {
            name: "Outsourced testing".into(),
            max_tolerable_downtime_hours: Some(24),
            business_processes: vec!["Lab orders".into(), "Result delivery".into()],
            patient_care_impact: true,
            patients_affected: Some(45_000),
            records_affected: Some(120_000),
            revenue_dependency: RevenueDependency::Low,
        }],
        data_flows: vec![flow(DataClass::Phi), flow(DataClass::PersonalData)],
    }
}

fn summit() -> VendorDraft {
    VendorDraft {
        external_id: None,
        legal_name: "Summit Advisory LLC".into(),
        aliases: vec![],
        domains: vec![],
        vendor_type: VendorType::Consulting,
        deployment: Deployment::NotApplicable,
        tenancy: Tenancy::NotApplicable,
        status: LifecycleStatus::Candidate,
        source: VendorSource::Import,
        owner_email: "ciso@hospital.example".into(),
        owner_name: None,
        notes: None,
        services: vec![],
        data_flows: vec![],
    }
}

fn riverbend() -> VendorDraft {
    VendorDraft {
        external_id: None,
        legal_name: "Riverbend Telehealth".into(),
        aliases: vec![],
        domains: vec![],
        vendor_type: VendorType::Saas,
        deployment: Deployment::PublicCloud,
        tenancy: Tenancy::MultiTenant,
        status: LifecycleStatus::Active,
        source: VendorSource::Import,
        owner_email: "tele.owner@hospital.example".into(),
        owner_name: None,
        notes: None,
        services: vec![Service {
            name: "Primary service".into(),
            max_tolerable_downtime_hours: None,
            business_processes: vec![],
            patient_care_impact: false,
            patients_affected: None,
            records_affected: None,
            revenue_dependency: RevenueDependency::NoDependency,
        }],
        data_flows: vec![DataFlow {
            data_class: DataClass::NoData,
            actions: vec![],
            record_count: 0,
            locations: vec![],
            connectivity: vec![],
            subprocessors: vec![],
        }],
    }
}

#[test]
fn fixture_parses_to_the_expected_vendors_with_spreadsheet_row_numbers() {
    let parsed = parse_ok(&fixture("valid_inventory.csv"));
    assert_eq!(parsed.errors, vec![]);
    let rows: Vec<usize> = parsed.rows.iter().map(|r| r.row).collect();
    // Row 2 spans two lines (a line break inside notes); row 3 is an empty
    // line and row 5 a row of empty cells, both skipped.
    assert_eq!(rows, vec![2, 4, 6]);
    assert_eq!(parsed.rows[0].vendor, lakeside());
    assert_eq!(parsed.rows[1].vendor, summit());
    assert_eq!(parsed.rows[2].vendor, riverbend());
}

#[test]
fn format_is_detected_by_content_then_extension() {
    let bytes = fixture("valid_inventory.csv");
    assert_eq!(
        InventoryFormat::detect("vendors.CSV", &bytes),
        Ok(InventoryFormat::Csv)
    );
    assert_eq!(
        InventoryFormat::detect("vendors.xlsx", b"PK\x03\x04rest"),
        Ok(InventoryFormat::Xlsx)
    );
    // A workbook renamed to .csv is still a workbook.
    assert_eq!(
        InventoryFormat::detect("vendors.csv", b"PK\x03\x04rest"),
        Ok(InventoryFormat::Xlsx)
    );
    let parsed = parse_inventory("vendors.csv", &bytes).expect("parses");
    assert_eq!(parsed.rows.len(), 3);
}

#[test]
fn utf8_bom_crlf_and_read_only_export_columns_are_accepted() {
    let text = "\u{feff}mamori_id,Legal_Name ,VENDOR_TYPE,owner_email,tier,score_privacy\r\n\
                m-1,Cedar Imaging,saas,a@hospital.example,high,70\r\n";
    let parsed = parse_ok(text.as_bytes());
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.rows[0].row, 2);
    assert_eq!(parsed.rows[0].vendor.legal_name, "Cedar Imaging");
}

#[test]
fn numbers_accept_thousands_separators() {
    let bytes = csv(
        "legal_name,vendor_type,owner_email,data_classes,data_actions,record_count,patients_affected",
        &[
            "A,saas,a@hospital.example,phi,store,\"12,000\",12000",
            "B,saas,a@hospital.example,phi,store,12000,\"1,200\"",
        ],
    );
    let parsed = parse_ok(&bytes);
    assert_eq!(parsed.errors, vec![]);
    for row in &parsed.rows {
        assert_eq!(row.vendor.data_flows[0].record_count, 12_000);
    }
    assert_eq!(
        parsed.rows[1].vendor.services[0].patients_affected,
        Some(1_200)
    );
}

#[test]
fn header_only_file_has_no_rows_and_no_errors() {
    let parsed = parse_ok(format!("{MINIMAL_HEADER}\n").as_bytes());
    assert_eq!(parsed.rows, vec![]);
    assert_eq!(parsed.errors, vec![]);
}

#[test]
fn synthetic_inventory_is_valid_and_distinct() {
    let bytes = mamori_formats::synthetic_inventory_csv(5_000);
    let parsed = parse_ok(&bytes);
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows.len(), 5_000);
    assert_eq!(bytes, mamori_formats::synthetic_inventory_csv(5_000));
}
