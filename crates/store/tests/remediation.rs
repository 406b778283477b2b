//! Corrective action plans, run against SQLite and (when
//! MAMORI_TEST_DATABASE_URL is set) PostgreSQL.

use mamori_domain::*;
use mamori_store::test_support::{fresh_database, TestDatabase};
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
            name: "Portal".into(),
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

fn item(action: &str, severity: &str, due_on: &str) -> NewRemediationItem {
    NewRemediationItem {
        risk_id: None,
        action: action.into(),
        severity: severity.into(),
        due_on: due_on.into(),
    }
}

fn done(text: &str) -> RemediationResponse {
    RemediationResponse::Done {
        text: text.into(),
        evidence_id: None,
    }
}

async fn evidence(store: &Store, org: &str, vendor_id: &str) -> String {
    store
        .add_evidence(
            org,
            &NewEvidence {
                vendor_id: vendor_id.into(),
                assessment_id: None,
                question_id: None,
                kind: "other".into(),
                issuer: "Vendor".into(),
                period_start: None,
                period_end: None,
                issued_on: None,
                expires_on: None,
                file_name: "patch-report.pdf".into(),
                content_type: "application/pdf".into(),
                size_bytes: 10,
                sha256: "00".into(),
                storage_key: format!("k-{vendor_id}"),
                uploaded_by: "pat".into(),
            },
            &actor(),
        )
        .await
        .unwrap()
}

/// A risk row written directly, so these tests do not depend on how risks
/// are scored.
async fn risk(db: &TestDatabase, org: &str, vendor_id: &str, title: &str) -> String {
    let id = new_id();
    let at = now();
    let title = title.replace('\'', "''");
    db.execute_sql(&format!(
        "INSERT INTO risks (id, org_id, vendor_id, category, title, description, inherent_likelihood, inherent_impact, \
         residual_likelihood, residual_impact, residual_score, residual_level, treatment, status, created_by, created_at, updated_at) \
         VALUES ('{id}', '{org}', '{vendor_id}', 'cybersecurity', '{title}', '', 4, 4, 3, 4, 12, 'high', 'mitigate', 'open', \
         'test', '{at}', '{at}')"
    ))
    .await
    .unwrap();
    id
}

const FAR: &str = "2999-01-01T00:00:00.000000Z";

#[tokio::test]
async fn requests_keep_the_given_order_and_check_their_risks() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let v = vendor(store, &org, "Ordered Vendor").await;
    let w = vendor(store, &org, "Unrelated Vendor").await;
    let vpn_risk = risk(&db, &org, &v, "Weak VPN").await;
    let foreign_risk = risk(&db, &org, &w, "Someone else's risk").await;
    let items = [
        NewRemediationItem {
            risk_id: Some(vpn_risk.clone()),
            ..item("Patch the VPN", "critical", "2027-01-01")
        },
        item("Enable MFA", "high", "2026-12-01"),
        item("Review logs", "low", "2027-03-01"),
    ];
    let id = store
        .create_remediation_request(&org, &v, "After the 2026 review", &items, &actor())
        .await
        .unwrap();
    let got = store.remediation_items(&id).await.unwrap();
    let actions: Vec<_> = got.iter().map(|i| i.action.as_str()).collect();
    assert_eq!(actions, ["Patch the VPN", "Enable MFA", "Review logs"]);
    assert!(got
        .iter()
        .all(|i| i.status == "requested" && i.vendor_id == v));
    let request = store.get_remediation_request(&org, &id).await.unwrap();
    assert_eq!(request.status, "open");
    assert_eq!(request.vendor_name, "Ordered Vendor");
    assert_eq!((request.items_total, request.items_open), (3, 3));
    assert_eq!(
        store
            .remediation_requests(&org, Some(&v))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.remediation_requests(&org, None).await.unwrap().len(),
        1
    );
    let audit = store.audit_page(&org, Some(&id), 1, 10).await.unwrap();
    assert_eq!(audit.entries[0].action, "remediation.create");

    let unknown_risk = NewRemediationItem {
        risk_id: Some("no-such-risk".into()),
        ..item("x", "low", "2027-01-01")
    };
    let err = store
        .create_remediation_request(&org, &v, "t", &[unknown_risk], &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("risk")), "{err}");
    let other_vendors_risk = NewRemediationItem {
        risk_id: Some(foreign_risk),
        ..item("x", "low", "2027-01-01")
    };
    let err = store
        .create_remediation_request(&org, &v, "t", &[other_vendors_risk], &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let err = store
        .create_remediation_request(&org, &v, "t", &[], &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let err = store
        .create_remediation_request(&org, "no-such-vendor", "t", &items, &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("vendor")), "{err}");
    // Nothing of the refused requests was written.
    assert_eq!(
        store.remediation_requests(&org, None).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn tokens_resolve_only_while_valid() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let v = vendor(store, &org, "Linked Vendor").await;
    let id = store
        .create_remediation_request(
            &org,
            &v,
            "Fixes",
            &[item("Enable MFA", "high", "2027-01-01")],
            &actor(),
        )
        .await
        .unwrap();
    let link = store
        .issue_remediation_link(&org, &id, "hash-one", "Pat", "pat@v.example", FAR, &actor())
        .await
        .unwrap();
    assert_eq!(link.request_id, id);
    let at = now();
    let access = store
        .resolve_remediation_token("hash-one", &at)
        .await
        .unwrap()
        .expect("a valid link opens the request");
    assert_eq!(access.request.id, id);
    assert_eq!(access.request.org_id, org);
    assert_eq!(access.link.contact_name, "Pat");
    let links = store.remediation_links(&id).await.unwrap();
    assert_eq!(links[0].last_used_at.as_deref(), Some(at.as_str()));

    assert!(store
        .resolve_remediation_token("no-such", &at)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .resolve_remediation_token("hash-one", "3000-01-01T00:00:00.000000Z")
            .await
            .unwrap()
            .is_none(),
        "expired"
    );

    // A new link ends the old one; revoking ends the new one.
    store
        .issue_remediation_link(&org, &id, "hash-two", "Pat", "pat@v.example", FAR, &actor())
        .await
        .unwrap();
    assert!(store
        .resolve_remediation_token("hash-one", &at)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .resolve_remediation_token("hash-two", &at)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .revoke_remediation_links(&org, &id, &actor())
            .await
            .unwrap(),
        1
    );
    assert!(store
        .resolve_remediation_token("hash-two", &at)
        .await
        .unwrap()
        .is_none());

    // A closed request opens no more.
    store
        .issue_remediation_link(
            &org,
            &id,
            "hash-three",
            "Pat",
            "pat@v.example",
            FAR,
            &actor(),
        )
        .await
        .unwrap();
    let items = store.remediation_items(&id).await.unwrap();
    store
        .respond_remediation_item(&id, &items[0].id, &done("MFA is on"), "Pat")
        .await
        .unwrap();
    store
        .verify_remediation_item(&org, &items[0].id, true, "", &actor())
        .await
        .unwrap();
    assert_eq!(
        store
            .get_remediation_request(&org, &id)
            .await
            .unwrap()
            .status,
        "closed"
    );
    assert!(store
        .resolve_remediation_token("hash-three", &at)
        .await
        .unwrap()
        .is_none());
    let again = store
        .issue_remediation_link(
            &org,
            &id,
            "hash-four",
            "Pat",
            "pat@v.example",
            FAR,
            &actor(),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

#[tokio::test]
async fn answers_are_guarded_by_status_and_verifying_everything_closes() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let v = vendor(store, &org, "Answering Vendor").await;
    let other = vendor(store, &org, "Other Vendor").await;
    let id = store
        .create_remediation_request(
            &org,
            &v,
            "Fixes",
            &[
                item("Patch the VPN", "critical", "2027-01-01"),
                item("Encrypt backups", "medium", "2027-02-01"),
            ],
            &actor(),
        )
        .await
        .unwrap();
    let other_request = store
        .create_remediation_request(
            &org,
            &other,
            "Other fixes",
            &[item("x", "low", "2027-01-01")],
            &actor(),
        )
        .await
        .unwrap();
    let items = store.remediation_items(&id).await.unwrap();
    let (vpn, backups) = (&items[0].id, &items[1].id);

    // An action of another request cannot be answered through this one.
    let foreign = store.remediation_items(&other_request).await.unwrap();
    let err = store
        .respond_remediation_item(&id, &foreign[0].id, &done("x"), "Pat")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");

    let planned = store
        .respond_remediation_item(
            &id,
            vpn,
            &RemediationResponse::Plan {
                text: "Next maintenance window".into(),
                planned_on: Some("2026-12-15".into()),
            },
            "Pat",
        )
        .await
        .unwrap();
    assert_eq!(planned.status, "planned");
    assert_eq!(planned.planned_on.as_deref(), Some("2026-12-15"));
    assert!(planned.responded_at.is_some());

    // Evidence must be the vendor's own.
    let foreign_evidence = evidence(store, &org, &other).await;
    let err = store
        .respond_remediation_item(
            &id,
            vpn,
            &RemediationResponse::Done {
                text: "Patched".into(),
                evidence_id: Some(foreign_evidence),
            },
            "Pat",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("evidence")), "{err}");
    let proof = evidence(store, &org, &v).await;
    let claimed = store
        .respond_remediation_item(
            &id,
            vpn,
            &RemediationResponse::Done {
                text: "Patched".into(),
                evidence_id: Some(proof.clone()),
            },
            "Pat",
        )
        .await
        .unwrap();
    assert_eq!(claimed.status, "claimed_done");
    assert_eq!(
        claimed.response_evidence_id.as_deref(),
        Some(proof.as_str())
    );
    assert_eq!(claimed.planned_on.as_deref(), Some("2026-12-15"));
    let stored = &store.remediation_items(&id).await.unwrap()[0];
    assert_eq!(stored.status, "claimed_done");
    assert_eq!(stored.response_text.as_deref(), Some("Patched"));

    // A claimed action waits for verification, not for another answer.
    let err = store
        .respond_remediation_item(&id, vpn, &done("again"), "Pat")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("claimed done")),
        "{err}"
    );

    // A dispute needs a reason.
    let err = store
        .respond_remediation_item(
            &id,
            backups,
            &RemediationResponse::Dispute {
                reason: "  ".into(),
            },
            "Pat",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    store
        .respond_remediation_item(
            &id,
            backups,
            &RemediationResponse::Dispute {
                reason: "Backups are encrypted by the storage layer".into(),
            },
            "Pat",
        )
        .await
        .unwrap();
    let request = store.get_remediation_request(&org, &id).await.unwrap();
    assert_eq!(
        (
            request.items_open,
            request.items_claimed,
            request.items_disputed
        ),
        (0, 1, 1)
    );

    // Only claimed or disputed actions are verified; reopening needs a reason.
    let err = store
        .verify_remediation_item(&org, &foreign[0].id, true, "", &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let err = store
        .verify_remediation_item(&org, vpn, false, "", &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let reopened = store
        .verify_remediation_item(
            &org,
            vpn,
            false,
            "The report shows the old version",
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(reopened.status, "reopened");
    assert_eq!(
        reopened.verifier_comment.as_deref(),
        Some("The report shows the old version")
    );
    // A reopened action can be answered again.
    store
        .respond_remediation_item(&id, vpn, &done("Patched for real"), "Pat")
        .await
        .unwrap();

    let verified = store
        .verify_remediation_item(&org, vpn, true, "Checked", &actor())
        .await
        .unwrap();
    assert_eq!(verified.status, "verified");
    assert_eq!(verified.verified_by.as_deref(), Some("test"));
    assert_eq!(
        store
            .get_remediation_request(&org, &id)
            .await
            .unwrap()
            .status,
        "open",
        "one action is still disputed"
    );
    store
        .verify_remediation_item(&org, backups, true, "Agreed", &actor())
        .await
        .unwrap();
    let request = store.get_remediation_request(&org, &id).await.unwrap();
    assert_eq!(request.status, "closed");
    assert!(request.closed_at.is_some());
    assert_eq!(request.items_verified, 2);

    // A verified action is settled.
    let err = store
        .respond_remediation_item(&id, vpn, &done("late"), "Pat")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("verified")),
        "{err}"
    );
    let err = store
        .verify_remediation_item(&org, vpn, false, "no", &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");

    // Vendor answers are audited under the contact's name.
    let audit = store.audit_page(&org, Some(backups), 1, 10).await.unwrap();
    let labels: Vec<_> = audit
        .entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor_label.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("remediation.verify", "test"),
            ("remediation.respond", "vendor: Pat")
        ]
    );
}

#[tokio::test]
async fn overdue_actions_are_listed_oldest_first() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let a = vendor(store, &org, "Late Vendor").await;
    let b = vendor(store, &org, "Later Vendor").await;
    let first = store
        .create_remediation_request(
            &org,
            &a,
            "First plan",
            &[
                item("Recent", "high", "2025-06-01"),
                item("Future", "low", "2999-01-01"),
            ],
            &actor(),
        )
        .await
        .unwrap();
    store
        .create_remediation_request(
            &org,
            &b,
            "Second plan",
            &[item("Oldest", "medium", "2024-01-01")],
            &actor(),
        )
        .await
        .unwrap();
    let today = "2025-07-01";
    let overdue = store.overdue_remediation(&org, today).await.unwrap();
    let seen: Vec<_> = overdue
        .iter()
        .map(|o| {
            (
                o.item.action.as_str(),
                o.vendor_name.as_str(),
                o.request_title.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("Oldest", "Later Vendor", "Second plan"),
            ("Recent", "Late Vendor", "First plan")
        ]
    );
    assert_eq!(overdue[0].item.vendor_id, b);
    assert_eq!(
        store.overdue_remediation_count(&org, today).await.unwrap(),
        2
    );
    // Due today is not overdue yet.
    assert_eq!(
        store
            .overdue_remediation_count(&org, "2024-01-01")
            .await
            .unwrap(),
        0
    );

    // A verified action is no longer overdue, nor open.
    let recent = store.remediation_items(&first).await.unwrap()[0].id.clone();
    store
        .respond_remediation_item(&first, &recent, &done("Done"), "Pat")
        .await
        .unwrap();
    assert_eq!(
        store
            .open_remediation_for_vendor(&org, &a)
            .await
            .unwrap()
            .len(),
        2,
        "a claimed action is open until verified"
    );
    store
        .verify_remediation_item(&org, &recent, true, "", &actor())
        .await
        .unwrap();
    assert_eq!(
        store.overdue_remediation_count(&org, today).await.unwrap(),
        1
    );
    let open = store.open_remediation_for_vendor(&org, &a).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].action, "Future");
}
