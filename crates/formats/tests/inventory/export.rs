//! Exports re-import to the same vendor; JSON is lossless.

use mamori_domain::{
    assess, Connectivity, DataAction, DataClass, DataFlow, Deployment, LifecycleStatus,
    RevenueDependency, Service, Tenancy, TieringPolicy, VendorDraft, VendorSource, VendorType,
};
use mamori_formats::export::{write_csv, write_json, write_xlsx, ExportRecord};
use mamori_formats::{parse_csv, parse_inventory, parse_xlsx, ParsedInventory};
use proptest::prelude::*;
use proptest::sample::subsequence;

/// Text as people type it: no surrounding spaces, no list separator, and no
/// leading formula character (the CSV guard would quote it).
fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 .,&'()/\u{e9}\u{65e5}-]{0,18}[A-Za-z0-9)]"
}

fn optional_word() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(word())
}

fn words(max: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(word(), 0..=max)
}

fn distinct_words(max: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::btree_set(word(), 0..=max).prop_map(|s| s.into_iter().collect())
}

fn notes() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[A-Za-z][A-Za-z0-9 ,.;:\"'\n]{0,60}[a-z.]")
}

fn domain() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]\\.(com|org|example|co\\.jp)"
}

fn email() -> impl Strategy<Value = String> {
    "[a-z][a-z.]{0,8}[a-z]@[a-z]{1,10}\\.example"
}

fn one_of<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(all)
}

fn service() -> impl Strategy<Value = Service> {
    (
        word(),
        proptest::option::of(any::<u32>()),
        words(3),
        any::<bool>(),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        one_of(RevenueDependency::ALL),
    )
        .prop_map(
            |(name, downtime, processes, impact, patients, records, revenue)| Service {
                name,
                max_tolerable_downtime_hours: downtime,
                business_processes: processes,
                patient_care_impact: impact,
                patients_affected: patients,
                records_affected: records,
                revenue_dependency: revenue,
            },
        )
}

/// Flows as one inventory row describes them: distinct classes sharing the
/// other columns.
fn data_flows() -> impl Strategy<Value = Vec<DataFlow>> {
    (
        subsequence(DataClass::ALL.to_vec(), 0..=3),
        subsequence(DataAction::ALL.to_vec(), 1..=3),
        any::<u64>(),
        distinct_words(3),
        subsequence(Connectivity::ALL.to_vec(), 0..=2),
        distinct_words(2),
    )
        .prop_map(
            |(classes, actions, records, locations, connectivity, subprocessors)| {
                classes
                    .into_iter()
                    .map(|data_class| DataFlow {
                        data_class,
                        actions: actions.clone(),
                        record_count: records,
                        locations: locations.clone(),
                        connectivity: connectivity.clone(),
                        subprocessors: subprocessors.clone(),
                    })
                    .collect()
            },
        )
}

fn vendor() -> impl Strategy<Value = VendorDraft> {
    let identity = (
        optional_word(),
        word(),
        words(3),
        proptest::collection::vec(domain(), 0..=3),
        one_of(VendorType::ALL),
        one_of(Deployment::ALL),
        one_of(Tenancy::ALL),
        one_of(LifecycleStatus::ALL),
    );
    let ownership = (email(), optional_word(), notes());
    let usage = (proptest::option::of(service()), data_flows());
    (identity, ownership, usage).prop_map(
        |(
            (external_id, legal_name, aliases, domains, vendor_type, deployment, tenancy, status),
            (owner_email, owner_name, notes),
            (service, data_flows),
        )| VendorDraft {
            external_id,
            legal_name,
            aliases,
            domains,
            vendor_type,
            deployment,
            tenancy,
            status,
            source: VendorSource::Import,
            owner_email,
            owner_name,
            notes,
            services: service.into_iter().collect(),
            data_flows,
        },
    )
}

fn only_vendor(parsed: &ParsedInventory) -> &VendorDraft {
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.rows.len(), 1);
    &parsed.rows[0].vendor
}

fn record<'a>(
    vendor: &'a VendorDraft,
    risk: Option<&'a mamori_domain::Rating>,
) -> ExportRecord<'a> {
    ExportRecord {
        id: "0b9f6a1e-vendor",
        vendor,
        risk,
    }
}

proptest! {
    #[test]
    fn csv_export_reimports_exactly(vendor in vendor(), assessed in any::<bool>()) {
        prop_assume!(vendor.validate().is_empty());
        let risk = assess(&TieringPolicy::builtin(), vendor.risk_profile()).rating();
        let mut out = Vec::new();
        write_csv([record(&vendor, assessed.then_some(&risk))], &mut out).expect("written");
        let parsed = parse_inventory("export.csv", &out).expect("re-imports");
        prop_assert_eq!(only_vendor(&parsed), &vendor);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn xlsx_export_reimports_exactly(vendor in vendor(), assessed in any::<bool>()) {
        prop_assume!(vendor.validate().is_empty());
        let risk = assess(&TieringPolicy::builtin(), vendor.risk_profile()).rating();
        let bytes = write_xlsx([record(&vendor, assessed.then_some(&risk))]).expect("written");
        let parsed = parse_inventory("export.xlsx", &bytes).expect("re-imports");
        prop_assert_eq!(only_vendor(&parsed), &vendor);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn json_export_is_lossless(vendors in proptest::collection::vec(vendor(), 0..4)) {
        let policy = TieringPolicy::builtin();
        let risks: Vec<_> = vendors.iter().map(|v| assess(&policy, v.risk_profile()).rating()).collect();
        let records: Vec<_> = vendors
            .iter()
            .zip(&risks)
            .enumerate()
            .map(|(i, (vendor, risk))| record(vendor, (i % 2 == 0).then_some(risk)))
            .collect();
        let mut out = Vec::new();
        write_json(records, &mut out).expect("written");
        let values: Vec<serde_json::Value> = serde_json::from_slice(&out).expect("a JSON array");
        prop_assert_eq!(values.len(), vendors.len());
        for (i, value) in values.iter().enumerate() {
            let back: VendorDraft = serde_json::from_value(value.clone()).expect("reads as a draft");
            prop_assert_eq!(&back, &vendors[i]);
            if i % 2 == 0 {
                prop_assert_eq!(&value["tier"], risks[i].tier.as_str());
                prop_assert_eq!(&value["policy_version"], risks[i].policy_version.as_str());
            } else {
                prop_assert!(value["tier"].is_null());
                prop_assert!(value["scores"].is_null());
            }
        }
    }
}

fn merged_vendor() -> VendorDraft {
    let flow = |data_class, actions: Vec<DataAction>, records, location: &str| DataFlow {
        data_class,
        actions,
        record_count: records,
        locations: vec![location.into()],
        connectivity: vec![Connectivity::ApiIntegration],
        subprocessors: vec!["Twilio".into()],
    };
    VendorDraft {
        external_id: None,
        legal_name: "=HYPERLINK(\"http://evil.example\")".into(),
        aliases: vec![],
        domains: vec![],
        vendor_type: VendorType::Saas,
        deployment: Deployment::PublicCloud,
        tenancy: Tenancy::MultiTenant,
        status: LifecycleStatus::Active,
        source: VendorSource::Manual,
        owner_email: "owner@hospital.example".into(),
        owner_name: None,
        notes: Some("+1 555 0100 is the vendor's hotline".into()),
        services: vec![],
        data_flows: vec![
            flow(DataClass::Phi, vec![DataAction::Store], 500, "US"),
            flow(
                DataClass::Payment,
                vec![DataAction::Process, DataAction::Store],
                9_000,
                "JP",
            ),
        ],
    }
}

#[test]
fn csv_export_merges_flows_and_quotes_formula_like_cells() {
    let vendor = merged_vendor();
    let risk = assess(&TieringPolicy::builtin(), vendor.risk_profile()).rating();
    let mut out = Vec::new();
    write_csv([record(&vendor, Some(&risk))], &mut out).expect("written");

    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[0], "mamori_id");
    assert_eq!(header[header.len() - 7], "score_cybersecurity");
    let row = reader.records().next().expect("a row").expect("readable");
    let cell = |name: &str| {
        let index = header.iter().position(|h| h == name).expect(name);
        row[index].to_string()
    };
    assert_eq!(cell("legal_name"), "'=HYPERLINK(\"http://evil.example\")");
    assert_eq!(cell("notes"), "'+1 555 0100 is the vendor's hotline");
    assert_eq!(cell("data_classes"), "phi; payment");
    assert_eq!(cell("data_actions"), "store; process");
    assert_eq!(cell("record_count"), "9000");
    assert_eq!(cell("data_locations"), "US; JP");
    assert_eq!(cell("subprocessors"), "Twilio");
    assert_eq!(cell("tier"), risk.tier.as_str());
    assert_eq!(cell("policy_version"), risk.policy_version);

    // The quoted cells re-import as text, quote included; the merged flows
    // come back as one flow per class with the merged details.
    let parsed = parse_csv(&out).expect("re-imports");
    let back = only_vendor(&parsed);
    assert_eq!(back.legal_name, format!("'{}", vendor.legal_name));
    assert_eq!(back.data_flows.len(), 2);
    assert!(back.data_flows.iter().all(|f| f.record_count == 9_000));
}

#[test]
fn xlsx_export_keeps_formula_like_text_as_is() {
    let vendor = merged_vendor();
    let bytes = write_xlsx([record(&vendor, None)]).expect("written");
    let parsed = parse_xlsx(&bytes).expect("re-imports");
    assert_eq!(only_vendor(&parsed).legal_name, vendor.legal_name);
}

#[test]
fn empty_exports_are_well_formed() {
    let mut csv_out = Vec::new();
    write_csv(Vec::<ExportRecord<'_>>::new(), &mut csv_out).expect("written");
    assert_eq!(parse_csv(&csv_out).expect("parses").rows, vec![]);
    let mut json_out = Vec::new();
    write_json(Vec::<ExportRecord<'_>>::new(), &mut json_out).expect("written");
    let value: serde_json::Value = serde_json::from_slice(&json_out).expect("json");
    assert_eq!(value, serde_json::json!([]));
    let xlsx = write_xlsx(Vec::<ExportRecord<'_>>::new()).expect("written");
    assert_eq!(parse_xlsx(&xlsx).expect("parses").rows, vec![]);
}
