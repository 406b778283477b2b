//! Contracts, clause checklists and contract findings, run against SQLite and
//! (when MAMORI_TEST_DATABASE_URL is set) PostgreSQL.

use mamori_domain::*;
use mamori_store::test_support::fresh_database;
use mamori_store::*;

fn actor() -> Actor {
    Actor::system("test")
}

fn draft(name: &str) -> VendorDraft {
    VendorDraft {
        external_id: None,
        legal_name: name.to_string(),
        aliases: vec![],
        domains: vec![format!("{}.example", name.to_lowercase().replace(' ', "-"))],
        vendor_type: VendorType::Saas,
        deployment: Deployment::PublicCloud,
        tenancy: Tenancy::MultiTenant,
        status: LifecycleStatus::Active,
        source: VendorSource::Manual,
        owner_email: "owner@hospital.example".into(),
        owner_name: Some("Olive Owner".into()),
        notes: None,
        services: vec![Service {
            name: format!("{name} portal"),
            max_tolerable_downtime_hours: Some(48),
            business_processes: vec!["Scheduling".into()],
            patient_care_impact: false,
            patients_affected: Some(100),
            records_affected: None,
            revenue_dependency: RevenueDependency::Low,
        }],
        data_flows: vec![DataFlow {
            data_class: DataClass::Phi,
            actions: vec![DataAction::Store],
            record_count: 50_000,
            locations: vec!["US".into()],
            connectivity: vec![Connectivity::ApiIntegration],
            subprocessors: vec![],
        }],
    }
}

async fn vendor(store: &Store, org: &str, name: &str) -> String {
    let d = draft(name);
    let rating = assess(&TieringPolicy::builtin(), d.risk_profile()).rating();
    store
        .create_vendor(org, &d, &rating, &actor())
        .await
        .unwrap()
}

fn contract(vendor_id: &str, title: &str, ends_on: Option<&str>) -> NewContract {
    NewContract {
        vendor_id: vendor_id.into(),
        title: title.into(),
        starts_on: Some("2024-01-01".into()),
        ends_on: ends_on.map(str::to_string),
        renewal_notice_days: 90,
        value_minor: Some(1_200_000),
        currency: Some("EUR".into()),
        owner_id: None,
        service_ids: vec![],
        clause_catalog_version: "2026.1".into(),
    }
}

fn clause(key: &str, state: &str) -> ClauseUpdate {
    ClauseUpdate {
        clause_key: key.into(),
        state: state.into(),
        note: String::new(),
        reference: String::new(),
    }
}

fn gap(key: &str, severity: &str) -> ContractGap {
    ContractGap {
        clause_key: key.into(),
        severity: severity.into(),
        title: format!("No {key} clause"),
        detail: format!("The contract lacks a {key} clause."),
        csf: "GV.SC-05".into(),
    }
}

async fn evidence(store: &Store, org: &str, vendor_id: &str, name: &str) -> String {
    store
        .add_evidence(
            org,
            &NewEvidence {
                vendor_id: vendor_id.into(),
                assessment_id: None,
                question_id: None,
                kind: "contract".into(),
                issuer: "Legal".into(),
                period_start: None,
                period_end: None,
                issued_on: None,
                expires_on: None,
                file_name: name.into(),
                content_type: "application/pdf".into(),
                size_bytes: 10,
                sha256: "00".into(),
                storage_key: format!("k-{name}"),
                uploaded_by: "test".into(),
            },
            &actor(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn contracts_cover_only_their_vendors_services() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let owner = store
        .create_user(
            &org,
            NewUser {
                email: "carla@hospital.example".into(),
                display_name: "Carla Contracts".into(),
                role: Role::RiskManager,
                password_hash: None,
                locale: None,
            },
            &actor(),
        )
        .await
        .unwrap();
    let a = vendor(store, &org, "Alpha Health").await;
    let b = vendor(store, &org, "Beta Labs").await;
    let a_services = store.contract_service_options(&org, &a).await.unwrap();
    let b_services = store.contract_service_options(&org, &b).await.unwrap();
    assert_eq!(a_services.len(), 1);
    assert_eq!(a_services[0].name, "Alpha Health portal");

    let mut new = contract(&a, "Master agreement", Some("2027-06-30"));
    new.owner_id = Some(owner.id.clone());
    new.service_ids = vec![a_services[0].id.clone(), a_services[0].id.clone()];
    let id = store.create_contract(&org, &new, &actor()).await.unwrap();
    let got = store.get_contract(&org, &id).await.unwrap();
    assert_eq!(got.vendor_name, "Alpha Health");
    assert_eq!(got.owner_name.as_deref(), Some("Carla Contracts"));
    assert_eq!(got.service_id_list(), [a_services[0].id.clone()]);
    assert_eq!(got.value_minor, Some(1_200_000));

    // Another vendor's service, an unknown vendor or owner: refused.
    let mut wrong = contract(&a, "Wrong services", None);
    wrong.service_ids = vec![b_services[0].id.clone()];
    let err = store
        .create_contract(&org, &wrong, &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let err = store
        .create_contract(&org, &contract("no-such", "x", None), &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("vendor")), "{err}");
    let mut unknown_owner = contract(&a, "x", None);
    unknown_owner.owner_id = Some("no-such".into());
    let err = store
        .create_contract(&org, &unknown_owner, &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("user")), "{err}");

    // Ordering: soonest end first, open-ended last.
    store
        .create_contract(&org, &contract(&b, "Open-ended", None), &actor())
        .await
        .unwrap();
    store
        .create_contract(
            &org,
            &contract(&b, "Ends soon", Some("2026-01-31")),
            &actor(),
        )
        .await
        .unwrap();
    let titles: Vec<_> = store
        .list_contracts(&org)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(titles, ["Ends soon", "Master agreement", "Open-ended"]);
    let ending: Vec<_> = store
        .contracts_ending_between(&org, "2026-01-31", "2027-01-01")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(ending, ["Ends soon"]);
    assert_eq!(store.contracts_for_vendor(&org, &b).await.unwrap().len(), 2);

    // Editing keeps the vendor and records before and after.
    let mut edited = new.clone();
    edited.ends_on = Some("2028-06-30".into());
    edited.service_ids = vec![];
    store
        .update_contract(&org, &id, &edited, &actor())
        .await
        .unwrap();
    let got = store.get_contract(&org, &id).await.unwrap();
    assert_eq!(got.ends_on.as_deref(), Some("2028-06-30"));
    assert!(got.service_id_list().is_empty());
    let audit = store.audit_page(&org, Some(&id), 1, 10).await.unwrap();
    assert_eq!(audit.entries[0].action, "contract.update");
    assert_eq!(
        audit.entries[0].before.as_ref().unwrap()["ends_on"],
        "2027-06-30"
    );
    assert_eq!(
        audit.entries[0].after.as_ref().unwrap()["ends_on"],
        "2028-06-30"
    );
    let mut moved = edited.clone();
    moved.vendor_id = b.clone();
    let err = store
        .update_contract(&org, &id, &moved, &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let mut wrong_service = edited.clone();
    wrong_service.service_ids = vec![b_services[0].id.clone()];
    let err = store
        .update_contract(&org, &id, &wrong_service, &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");

    // The signed document must be evidence of the same vendor.
    let theirs = evidence(store, &org, &b, "beta.pdf").await;
    let err = store
        .attach_contract_document(&org, &id, &theirs, &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let ours = evidence(store, &org, &a, "alpha.pdf").await;
    store
        .attach_contract_document(&org, &id, &ours, &actor())
        .await
        .unwrap();
    assert_eq!(
        store
            .get_contract(&org, &id)
            .await
            .unwrap()
            .document_evidence_id
            .as_deref(),
        Some(ours.as_str())
    );
}

#[tokio::test]
async fn clauses_are_upserted_and_only_changes_are_audited() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let v = vendor(store, &org, "Clause Vendor").await;
    let id = store
        .create_contract(&org, &contract(&v, "Agreement", None), &actor())
        .await
        .unwrap();
    let changed = store
        .set_clauses(
            &org,
            &id,
            &[
                clause("breach_notification", "absent"),
                clause("right_to_audit", "present"),
            ],
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(changed, 2);
    let again = store
        .set_clauses(&org, &id, &[clause("right_to_audit", "present")], &actor())
        .await
        .unwrap();
    assert_eq!(again, 0);
    let updated = store
        .set_clauses(
            &org,
            &id,
            &[ClauseUpdate {
                note: "72 hours".into(),
                reference: "§ 12.3".into(),
                ..clause("breach_notification", "partial")
            }],
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(updated, 1);
    let clauses = store.contract_clauses(&id).await.unwrap();
    assert_eq!(clauses.len(), 2);
    assert_eq!(clauses[0].clause_key, "breach_notification");
    assert_eq!(clauses[0].state, "partial");
    assert_eq!(clauses[0].note, "72 hours");
    assert_eq!(clauses[0].reference, "§ 12.3");
    assert_eq!(clauses[1].state, "present");

    let err = store
        .set_clauses(&org, &id, &[clause("x", "maybe")], &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let audit = store.audit_page(&org, Some(&id), 1, 10).await.unwrap();
    let actions: Vec<_> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["contract.clauses", "contract.clauses", "contract.create"]
    );
    assert!(audit.entries[0].summary.contains("absent → partial"));
}

#[tokio::test]
async fn contract_findings_follow_the_gaps() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let v = vendor(store, &org, "Gap Vendor").await;
    let id = store
        .create_contract(&org, &contract(&v, "Agreement", None), &actor())
        .await
        .unwrap();
    let other = store
        .create_contract(&org, &contract(&v, "Side letter", None), &actor())
        .await
        .unwrap();
    let audits = || async {
        store
            .audit_page(&org, Some(&id), 1, 50)
            .await
            .unwrap()
            .total
    };

    let first = [gap("breach", "high"), gap("audit", "medium")];
    assert_eq!(
        store
            .sync_contract_findings(&org, &id, &first, &actor())
            .await
            .unwrap(),
        (2, 0, 0)
    );
    let findings = store.contract_findings(&org, &id).await.unwrap();
    assert_eq!(findings.len(), 2);
    let breach = &findings[0];
    assert_eq!(breach.title, "No breach clause");
    assert_eq!(breach.severity, "high");
    assert_eq!(breach.assessment_id, None);
    assert_eq!(breach.source, "contract");
    assert_eq!(breach.source_ref, Some(format!("{id}:breach")));
    assert_eq!(
        (
            breach.origin.as_str(),
            breach.decision.as_str(),
            breach.status.as_str()
        ),
        ("contract", "accepted", "open")
    );
    assert_eq!(breach.csf, "GV.SC-05");

    // The same gaps again change nothing, and record nothing.
    let before = audits().await;
    assert_eq!(
        store
            .sync_contract_findings(&org, &id, &first, &actor())
            .await
            .unwrap(),
        (0, 0, 0)
    );
    assert_eq!(audits().await, before);

    // Breach gets worse, audit is fixed, subcontracting is new.
    let second = [gap("breach", "critical"), gap("subcontracting", "low")];
    assert_eq!(
        store
            .sync_contract_findings(&org, &id, &second, &actor())
            .await
            .unwrap(),
        (1, 1, 1)
    );
    assert_eq!(audits().await, before + 1, "one audit record per sync");
    let findings = store.contract_findings(&org, &id).await.unwrap();
    let state: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f.source_ref.clone().unwrap_or_default(),
                f.severity.as_str(),
                f.status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        state,
        [
            (format!("{id}:breach"), "critical", "open"),
            (format!("{id}:subcontracting"), "low", "open"),
            (format!("{id}:audit"), "medium", "resolved"),
        ]
    );
    assert_eq!(
        store
            .sync_contract_findings(&org, &id, &second, &actor())
            .await
            .unwrap(),
        (0, 0, 0)
    );

    // The audit gap comes back: the same finding reopens, no duplicate.
    let third = [
        gap("breach", "critical"),
        gap("subcontracting", "low"),
        gap("audit", "medium"),
    ];
    assert_eq!(
        store
            .sync_contract_findings(&org, &id, &third, &actor())
            .await
            .unwrap(),
        (1, 0, 0)
    );
    let findings = store.contract_findings(&org, &id).await.unwrap();
    assert_eq!(findings.len(), 3);
    assert!(findings.iter().all(|f| f.status == "open"));
    assert_eq!(
        store
            .sync_contract_findings(&org, &id, &third, &actor())
            .await
            .unwrap(),
        (0, 0, 0)
    );

    // Another contract of the same vendor keeps its own findings.
    assert_eq!(
        store
            .sync_contract_findings(&org, &other, &[gap("breach", "high")], &actor())
            .await
            .unwrap(),
        (1, 0, 0)
    );
    assert_eq!(store.contract_findings(&org, &id).await.unwrap().len(), 3);
    assert_eq!(
        store.contract_findings(&org, &other).await.unwrap().len(),
        1
    );

    // Clearing every gap resolves all of this contract's findings only.
    assert_eq!(
        store
            .sync_contract_findings(&org, &id, &[], &actor())
            .await
            .unwrap(),
        (0, 0, 3)
    );
    assert_eq!(
        store.contract_findings(&org, &other).await.unwrap()[0].status,
        "open"
    );
}
