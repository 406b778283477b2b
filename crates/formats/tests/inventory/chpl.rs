//! The CHPL converter, on a hand-written fixture and on the real list when
//! the shared data folder is present.

use mamori_domain::{
    Connectivity, DataAction, DataClass, LifecycleStatus, VendorSource, VendorType,
};
use mamori_formats::{chpl_to_inventory_csv, chpl_to_vendors, parse_csv, ChplError};

use super::common::fixture;

const OWNER: &str = "it.vendor-risk@hospital.example";

#[test]
fn one_candidate_vendor_per_developer() {
    let vendors = chpl_to_vendors(&fixture("chpl_products_small.json"), OWNER).expect("converts");
    let ids: Vec<_> = vendors.iter().map(|v| v.external_id.as_deref()).collect();
    assert_eq!(ids, vec![Some("chpl-dev-9001"), Some("chpl-dev-4242")]);

    let ehr = &vendors[0];
    assert_eq!(ehr.legal_name, "Example EHR Systems, Inc.");
    assert_eq!(ehr.domains, vec!["fhir.example-ehr.test"]);
    assert_eq!(ehr.vendor_type, VendorType::Saas);
    assert_eq!(ehr.status, LifecycleStatus::Candidate);
    assert_eq!(ehr.source, VendorSource::Import);
    assert_eq!(ehr.owner_email, OWNER);
    let services: Vec<&str> = ehr.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(services, vec!["Example EHR 22.1", "Example Portal 3"]);
    assert_eq!(
        ehr.services[0].business_processes,
        vec![
            "Computerized Provider Order Entry (CPOE) - Medications",
            "Demographics",
            "Drug-Formulary and Preferred Drug List Checks",
            "Transitions of Care",
        ]
    );
    assert_eq!(ehr.data_flows.len(), 1);
    let flow = &ehr.data_flows[0];
    assert_eq!(flow.data_class, DataClass::Phi);
    assert_eq!(flow.actions, vec![DataAction::Store, DataAction::Process]);
    assert_eq!(flow.record_count, 0);
    assert_eq!(flow.connectivity, vec![Connectivity::ApiIntegration]);
    let notes = ehr.notes.as_deref().unwrap_or_default();
    assert!(
        notes.contains("2 listing(s), 1 active, 1 withdrawn"),
        "{notes}"
    );

    let small = &vendors[1];
    assert_eq!(small.domains, vec!["docs.smalldev.test"]);
    assert_eq!(small.services[0].name, "SmallChart");
    // Only (g)(4)/(g)(5): design criteria, not an API.
    assert_eq!(small.data_flows[0].connectivity, vec![]);

    for vendor in &vendors {
        assert_eq!(vendor.validate(), vec![], "{}", vendor.legal_name);
    }
}

#[test]
fn inventory_csv_reimports_without_errors() {
    let bytes = fixture("chpl_products_small.json");
    let csv = chpl_to_inventory_csv(&bytes, OWNER).expect("converts");
    let parsed = parse_csv(&csv).expect("parses");
    assert_eq!(parsed.errors, vec![]);
    let vendors = chpl_to_vendors(&bytes, OWNER).expect("converts");
    assert_eq!(parsed.rows.len(), vendors.len());
    for (row, mut vendor) in parsed.rows.into_iter().zip(vendors) {
        // One row per vendor holds only the first service.
        vendor.services.truncate(1);
        assert_eq!(row.vendor, vendor);
    }
    let header = std::str::from_utf8(&csv)
        .expect("utf-8")
        .lines()
        .next()
        .unwrap_or("");
    assert!(header.starts_with("external_id,legal_name,"), "{header}");
    assert!(
        !header.contains("mamori_id") && !header.contains("score_"),
        "{header}"
    );
}

#[test]
fn bad_input_is_explained() {
    let err = chpl_to_vendors(b"{\"not\": \"a list\"}", OWNER).expect_err("refused");
    assert!(matches!(err, ChplError::Json(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("the CHPL file is not the expected JSON"),
        "{err}"
    );

    let err = chpl_to_vendors(b"[]", "nobody").expect_err("refused");
    assert_eq!(
        err.to_string(),
        "owner e-mail 'nobody' is not an e-mail address (no '@')"
    );

    assert_eq!(chpl_to_vendors(b"[]", OWNER).expect("empty list").len(), 0);
}

#[test]
fn real_chpl_list_converts_and_reimports() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/monitoring/onc-chpl_products-info.json"
    );
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("skipping: {path} not found");
        return;
    };
    let vendors = chpl_to_vendors(&bytes, OWNER).expect("converts");
    eprintln!("real CHPL file: {} vendors", vendors.len());
    assert!(vendors.len() > 100, "only {} vendors", vendors.len());
    let mut keys = std::collections::HashSet::new();
    for vendor in &vendors {
        assert_eq!(vendor.validate(), vec![], "{}", vendor.legal_name);
        assert!(!vendor.services.is_empty(), "{}", vendor.legal_name);
        assert!(keys.insert(vendor.matching_key()));
    }
    let csv = chpl_to_inventory_csv(&bytes, OWNER).expect("converts");
    let parsed = parse_csv(&csv).expect("parses");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows.len(), vendors.len());
}
