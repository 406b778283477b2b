//! The risk register, run against SQLite and (when MAMORI_TEST_DATABASE_URL
//! is set) PostgreSQL.

use mamori_domain::*;
use mamori_store::test_support::{fresh_database, TestDatabase};
use mamori_store::*;

fn actor() -> Actor {
    Actor::system("test")
}

fn draft(name: &str, records: u64) -> VendorDraft {
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
        owner_name: None,
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
            record_count: records,
            locations: vec!["US".into()],
            connectivity: vec![Connectivity::ApiIntegration],
            subprocessors: vec![],
        }],
    }
}

/// An organisation, a risk owner and two vendors of different tiers.
struct Setup {
    db: TestDatabase,
    org: String,
    owner: String,
    big: String,
    big_tier: String,
    small: String,
}

async fn setup() -> Setup {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let owner = store
        .create_user(
            &org,
            NewUser {
                email: "rita@hospital.example".into(),
                display_name: "Rita Risk".into(),
                role: Role::RiskManager,
                password_hash: None,
                locale: None,
            },
            &actor(),
        )
        .await
        .unwrap()
        .id;
    let mut vendors = Vec::new();
    for (name, records) in [("Big Imaging", 5_000_000), ("Small Catering", 1)] {
        let d = draft(name, records);
        let rating = assess(&TieringPolicy::builtin(), d.risk_profile()).rating();
        let id = store
            .create_vendor(&org, &d, &rating, &actor())
            .await
            .unwrap();
        vendors.push((id, rating.tier.as_str().to_string()));
    }
    assert_ne!(
        vendors[0].1, vendors[1].1,
        "the two vendors need different tiers"
    );
    let (small, _) = vendors.pop().unwrap();
    let (big, big_tier) = vendors.pop().unwrap();
    Setup {
        db,
        org,
        owner,
        big,
        big_tier,
        small,
    }
}

/// Raises findings on a vendor through an assessment review.
async fn findings(store: &Store, org: &str, vendor: &str, questions: &[&str]) -> Vec<String> {
    let (template, _) = store
        .upsert_template("t", "1", "T", "test", 1, "{\"questions\":[]}")
        .await
        .unwrap();
    let assessment = store
        .create_assessment(org, vendor, &template, "high", "Review", None, &actor())
        .await
        .unwrap();
    let raised: Vec<NewFinding> = questions
        .iter()
        .map(|q| NewFinding {
            question_id: Some(q.to_string()),
            csf: vec![],
            title: format!("fails {q}"),
            detail: String::new(),
            severity: "high".into(),
            origin: "answer",
        })
        .collect();
    store
        .begin_review(
            org,
            &assessment,
            &ScoreSummary::default(),
            &raised,
            &actor(),
        )
        .await
        .unwrap();
    store
        .findings_for_assessment(&assessment)
        .await
        .unwrap()
        .into_iter()
        .map(|f| {
            assert_eq!(f.assessment_id.as_deref(), Some(assessment.as_str()));
            assert_eq!(f.source, "assessment");
            f.id
        })
        .collect()
}

fn risk(vendor: &str, title: &str, likelihood: i64, impact: i64) -> NewRisk {
    let score = likelihood * impact;
    NewRisk {
        vendor_id: vendor.to_string(),
        category: "cybersecurity".into(),
        title: title.to_string(),
        description: "What could happen".into(),
        inherent_likelihood: (likelihood + 1).min(5),
        inherent_impact: impact,
        residual_likelihood: likelihood,
        residual_impact: impact,
        residual_score: score,
        residual_level: if score >= 15 { "high" } else { "low" }.into(),
        treatment: "undecided".into(),
        status: "open".into(),
        ..Default::default()
    }
}

fn acceptance(expires_on: &str) -> NewAcceptance {
    NewAcceptance {
        accepted_by_id: None,
        accepted_by: "Carla CISO".into(),
        accepted_as: "CISO".into(),
        residual_level: "high".into(),
        residual_score: 16,
        above_threshold: true,
        justification: "Replacement contracted for next year".into(),
        compensating_controls: "Network segmentation".into(),
        expires_on: expires_on.into(),
    }
}

/// An acceptance judged on the risk as it is now.
async fn matching(store: &Store, org: &str, id: &str, expires_on: &str) -> NewAcceptance {
    let r = store.get_risk(org, id).await.unwrap();
    NewAcceptance {
        residual_level: r.residual_level,
        residual_score: r.residual_score,
        above_threshold: r.above_threshold,
        ..acceptance(expires_on)
    }
}

async fn risk_rows(db: &TestDatabase) -> u64 {
    // A no-op UPDATE counts the rows without exposing a query API.
    db.execute_sql("UPDATE risks SET title = title")
        .await
        .unwrap()
}

#[tokio::test]
async fn risks_are_evidenced_by_findings_of_their_own_vendor_only() {
    let s = setup().await;
    let store = &s.db.store;
    let own = findings(store, &s.org, &s.big, &["a", "b"]).await;
    let foreign = findings(store, &s.org, &s.small, &["c"]).await;

    let mut mixed = risk(&s.big, "Unpatched PACS", 4, 4);
    mixed.finding_ids = vec![own[0].clone(), foreign[0].clone()];
    let err = store
        .create_risk(&s.org, &mixed, &actor())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("another vendor")),
        "{err}"
    );

    let mut unknown = risk(&s.big, "Unpatched PACS", 4, 4);
    unknown.finding_ids = vec![own[0].clone(), "no-such-finding".into()];
    let err = store
        .create_risk(&s.org, &unknown, &actor())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("no-such-finding")),
        "{err}"
    );

    // The failed creates left nothing behind.
    assert_eq!(risk_rows(&s.db).await, 0);
    let audit = store.audit_page(&s.org, None, 1, 100).await.unwrap();
    assert!(audit.entries.iter().all(|e| e.entity_kind != "risk"));

    // Own findings (a duplicate id is linked once).
    let mut good = risk(&s.big, "Unpatched PACS", 4, 4);
    good.owner_id = Some(s.owner.clone());
    good.finding_ids = vec![own[0].clone(), own[1].clone(), own[0].clone()];
    let id = store.create_risk(&s.org, &good, &actor()).await.unwrap();
    let got = store.get_risk(&s.org, &id).await.unwrap();
    assert_eq!(got.finding_count, 2);
    assert_eq!(got.vendor_name, "Big Imaging");
    assert_eq!(got.vendor_tier, s.big_tier);
    assert_eq!(got.owner_name.as_deref(), Some("Rita Risk"));
    assert!(got.closed_at.is_none());
    let linked = store.findings_for_risk(&id).await.unwrap();
    assert_eq!(linked.len(), 2);
    let reverse = store.risks_for_findings(&own).await.unwrap();
    assert_eq!(reverse.len(), 2);
    assert!(reverse
        .iter()
        .all(|(_, r, t)| r == &id && t == "Unpatched PACS"));
    let events = store.risk_events(&s.org, &id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "created");
    let audit = store.audit_page(&s.org, Some(&id), 1, 10).await.unwrap();
    assert_eq!(audit.entries[0].action, "risk.create");

    // Linking later: the same vendor check, duplicates ignored.
    let err = store
        .link_findings(&s.org, &id, &foreign, Some("high".into()), &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let more = findings(store, &s.org, &s.big, &["d"]).await;
    let all: Vec<String> = own.iter().chain(&more).cloned().collect();
    let added = store
        .link_findings(&s.org, &id, &all, Some("high".into()), &actor())
        .await
        .unwrap();
    assert_eq!(added, 1);
    let got = store.get_risk(&s.org, &id).await.unwrap();
    assert_eq!(got.finding_count, 3);
    assert_eq!(got.worst_finding.as_deref(), Some("high"));
    assert_eq!(
        store.risk_events(&s.org, &id).await.unwrap()[1].action,
        "findings_linked"
    );

    // A risk of a vendor of the organisation only.
    let stranger = risk("no-such-vendor", "x", 1, 1);
    assert!(matches!(
        store.create_risk(&s.org, &stranger, &actor()).await,
        Err(StoreError::NotFound("vendor"))
    ));
}

#[tokio::test]
async fn updates_record_the_changed_fields_before_and_after() {
    let s = setup().await;
    let store = &s.db.store;
    let id = store
        .create_risk(
            &s.org,
            &risk(&s.big, "Shared admin accounts", 4, 4),
            &actor(),
        )
        .await
        .unwrap();
    let current = store.get_risk(&s.org, &id).await.unwrap();

    // Nothing changed, nothing written.
    let same = store
        .update_risk(&s.org, &id, &RiskUpdate::from(&current), &actor())
        .await
        .unwrap();
    assert_eq!(same.updated_at, current.updated_at);
    assert_eq!(store.risk_events(&s.org, &id).await.unwrap().len(), 1);

    let mut edit = RiskUpdate::from(&current);
    edit.status = "in_treatment".into();
    edit.treatment = "mitigate".into();
    edit.residual_likelihood = 2;
    edit.residual_score = 8;
    edit.residual_level = "low".into();
    edit.description = "A much longer description".into();
    edit.due_on = Some("2030-03-31".into());
    let updated = store
        .update_risk(&s.org, &id, &edit, &actor())
        .await
        .unwrap();
    assert_eq!(updated.status, "in_treatment");
    assert_eq!(updated.residual_score, 8);
    assert!(updated.updated_at > current.updated_at);

    let events = store.risk_events(&s.org, &id).await.unwrap();
    assert_eq!(events.len(), 2);
    let event = &events[1];
    assert_eq!(event.action, "updated");
    let before = event.before().unwrap();
    let after = event.after().unwrap();
    let changed: Vec<&String> = after.as_object().unwrap().keys().collect();
    assert_eq!(
        changed.len(),
        7,
        "only changed fields are recorded: {changed:?}"
    );
    assert_eq!(before["status"], "open");
    assert_eq!(after["status"], "in_treatment");
    assert_eq!(before["residual_score"], 16);
    assert_eq!(after["residual_score"], 8);
    assert!(before.get("title").is_none());
    assert!(
        event.summary.contains("status open → in treatment"),
        "{}",
        event.summary
    );
    assert!(event.summary.contains("description changed"));
    let audit = store.audit_page(&s.org, Some(&id), 1, 10).await.unwrap();
    assert_eq!(audit.entries[0].action, "risk.update");
    assert_eq!(audit.entries[0].before.as_ref(), Some(&before));

    // Acceptance is not an edit.
    for (status, treatment) in [("accepted", "mitigate"), ("in_treatment", "accept")] {
        let mut accept = RiskUpdate::from(&updated);
        accept.status = status.into();
        accept.treatment = treatment.into();
        let err = store
            .update_risk(&s.org, &id, &accept, &actor())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    }
    // Nor is a date that is not one.
    let mut bad = RiskUpdate::from(&updated);
    bad.due_on = Some("31/03/2030".into());
    assert!(matches!(
        store.update_risk(&s.org, &id, &bad, &actor()).await,
        Err(StoreError::Conflict(_))
    ));

    // Closing stamps closed_at; reopening clears it.
    let mut close = RiskUpdate::from(&updated);
    close.status = "closed".into();
    let closed = store
        .update_risk(&s.org, &id, &close, &actor())
        .await
        .unwrap();
    assert!(closed.closed_at.is_some());
    let mut reopen = RiskUpdate::from(&closed);
    reopen.status = "open".into();
    let reopened = store
        .update_risk(&s.org, &id, &reopen, &actor())
        .await
        .unwrap();
    assert!(reopened.closed_at.is_none());

    assert!(matches!(
        store
            .update_risk(&s.org, "no-such-risk", &reopen, &actor())
            .await,
        Err(StoreError::NotFound("risk"))
    ));
}

#[tokio::test]
async fn heat_map_counts_cells_under_every_filter() {
    let s = setup().await;
    let store = &s.db.store;
    let mut specs = vec![
        (s.big.as_str(), "cybersecurity", true, 4, 4),
        (s.big.as_str(), "cybersecurity", false, 4, 4),
        (s.big.as_str(), "privacy", false, 2, 3),
        (s.small.as_str(), "cybersecurity", true, 4, 4),
        (s.small.as_str(), "operational", false, 1, 5),
    ];
    let mut ids = Vec::new();
    for (i, (vendor, category, owned, l, imp)) in specs.drain(..).enumerate() {
        let mut r = risk(vendor, &format!("risk {i}"), l, imp);
        r.category = category.into();
        r.owner_id = owned.then(|| s.owner.clone());
        ids.push(store.create_risk(&s.org, &r, &actor()).await.unwrap());
    }
    // A closed risk is not on the default (active) map.
    let mut closed = risk(&s.big, "old", 5, 5);
    closed.status = "closed".into();
    store.create_risk(&s.org, &closed, &actor()).await.unwrap();

    let cells = |l: i64, i: i64, c: i64| HeatCell {
        likelihood: l,
        impact: i,
        count: c,
    };
    let org = s.org.as_str();
    let map = |q: RiskQuery| async move { store.heat_map(org, &q, true).await.unwrap() };
    assert_eq!(
        map(RiskQuery::default()).await,
        vec![cells(1, 5, 1), cells(2, 3, 1), cells(4, 4, 3)]
    );
    assert_eq!(
        map(RiskQuery {
            vendor_id: Some(s.big.clone()),
            ..Default::default()
        })
        .await,
        vec![cells(2, 3, 1), cells(4, 4, 2)]
    );
    assert_eq!(
        map(RiskQuery {
            category: Some("cybersecurity".into()),
            ..Default::default()
        })
        .await,
        vec![cells(4, 4, 3)]
    );
    assert_eq!(
        map(RiskQuery {
            tier: Some(s.big_tier.clone()),
            ..Default::default()
        })
        .await,
        vec![cells(2, 3, 1), cells(4, 4, 2)]
    );
    assert_eq!(
        map(RiskQuery {
            owner_id: Some(s.owner.clone()),
            ..Default::default()
        })
        .await,
        vec![cells(4, 4, 2)]
    );
    assert_eq!(
        map(RiskQuery {
            owner_id: Some(s.owner.clone()),
            tier: Some(s.big_tier.clone()),
            category: Some("cybersecurity".into()),
            ..Default::default()
        })
        .await,
        vec![cells(4, 4, 1)]
    );
    assert_eq!(
        map(RiskQuery {
            status: Some("all".into()),
            ..Default::default()
        })
        .await,
        vec![
            cells(1, 5, 1),
            cells(2, 3, 1),
            cells(4, 4, 3),
            cells(5, 5, 1)
        ]
    );
    // Inherent: likelihood one higher (at most 5).
    let inherent = store
        .heat_map(&s.org, &RiskQuery::default(), false)
        .await
        .unwrap();
    assert_eq!(
        inherent,
        vec![cells(2, 5, 1), cells(3, 3, 1), cells(5, 4, 3)]
    );
}

#[tokio::test]
async fn acceptance_is_recorded_and_immutable() {
    let s = setup().await;
    let store = &s.db.store;
    let mut above = risk(&s.big, "Legacy OS", 4, 4);
    above.above_threshold = true;
    above.threshold_reason = Some("residual score 16 is at or above 10".into());
    let id = store.create_risk(&s.org, &above, &actor()).await.unwrap();
    let acceptance_id = store
        .record_acceptance(
            &s.org,
            &id,
            &matching(store, &s.org, &id, "2030-06-30").await,
            &actor(),
        )
        .await
        .unwrap();
    let got = store.get_risk(&s.org, &id).await.unwrap();
    assert_eq!(
        (got.status.as_str(), got.treatment.as_str()),
        ("accepted", "accept")
    );
    let current = store.acceptances(&s.org, true).await.unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, acceptance_id);
    assert_eq!(current[0].risk_title, "Legacy OS");
    assert_eq!(current[0].vendor_name, "Big Imaging");
    assert_eq!(current[0].risk_status, "accepted");
    assert!(current[0].above_threshold);
    let audit = store.audit_page(&s.org, Some(&id), 1, 10).await.unwrap();
    assert_eq!(audit.entries[0].action, "risk.accept");
    let after = audit.entries[0].after.as_ref().unwrap();
    assert_eq!(
        after["justification"],
        "Replacement contracted for next year"
    );
    assert_eq!(after["expires_on"], "2030-06-30");
    assert_eq!(
        store.risk_events(&s.org, &id).await.unwrap()[1].action,
        "accepted"
    );

    // The schema itself refuses to change a decision, on both backends.
    let edit = format!(
        "UPDATE risk_acceptances SET expires_on = '2099-12-31' WHERE id = '{acceptance_id}'"
    );
    let err = s.db.execute_sql(&edit).await.unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    assert_eq!(
        store.acceptances_for_risk(&s.org, &id).await.unwrap()[0].expires_on,
        "2030-06-30"
    );

    // Editing an accepted risk (without un-accepting it) is allowed.
    let mut edit = RiskUpdate::from(&got);
    edit.description = "Still there".into();
    store
        .update_risk(&s.org, &id, &edit, &actor())
        .await
        .unwrap();

    // A new decision is a new row; the newest is the current one.
    store
        .record_acceptance(
            &s.org,
            &id,
            &matching(store, &s.org, &id, "2031-01-31").await,
            &actor(),
        )
        .await
        .unwrap();
    let history = store.acceptances_for_risk(&s.org, &id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].expires_on, "2031-01-31");
    let current = store.acceptances(&s.org, true).await.unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].expires_on, "2031-01-31");
    assert_eq!(store.acceptances(&s.org, false).await.unwrap().len(), 2);

    // Closed risks are not accepted; dates must be dates.
    let mut closed = risk(&s.big, "Gone", 1, 1);
    closed.status = "closed".into();
    let closed = store.create_risk(&s.org, &closed, &actor()).await.unwrap();
    assert!(matches!(
        store
            .record_acceptance(
                &s.org,
                &closed,
                &matching(store, &s.org, &closed, "2030-06-30").await,
                &actor()
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .record_acceptance(
                &s.org,
                &id,
                &matching(store, &s.org, &id, "next year").await,
                &actor()
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Creating a risk as accepted skips the decision: refused.
    let mut accepted = risk(&s.big, "Sneaky", 1, 1);
    accepted.status = "accepted".into();
    assert!(matches!(
        store.create_risk(&s.org, &accepted, &actor()).await,
        Err(StoreError::Conflict(_))
    ));
}

#[tokio::test]
async fn acceptances_hold_through_their_expiry_date() {
    let s = setup().await;
    let store = &s.db.store;
    let id = store
        .create_risk(&s.org, &risk(&s.big, "Legacy OS", 4, 4), &actor())
        .await
        .unwrap();
    let later = store
        .create_risk(&s.org, &risk(&s.small, "Paper menus", 1, 1), &actor())
        .await
        .unwrap();
    store
        .record_acceptance(
            &s.org,
            &id,
            &matching(store, &s.org, &id, "2030-06-30").await,
            &actor(),
        )
        .await
        .unwrap();
    store
        .record_acceptance(
            &s.org,
            &later,
            &matching(store, &s.org, &later, "2030-12-31").await,
            &actor(),
        )
        .await
        .unwrap();
    let counts = store.risk_counts(&s.org, "2030-07-31").await.unwrap();
    assert_eq!((counts.accepted, counts.accepted_expiring), (2, 1));

    let none = store
        .expire_acceptances(&s.org, "2030-06-30", &actor())
        .await
        .unwrap();
    assert!(none.is_empty(), "valid on its expiry day: {none:?}");
    assert_eq!(
        store.get_risk(&s.org, &id).await.unwrap().status,
        "accepted"
    );

    let expired = store
        .expire_acceptances(&s.org, "2030-07-01", &actor())
        .await
        .unwrap();
    assert_eq!(expired, vec![id.clone()]);
    let got = store.get_risk(&s.org, &id).await.unwrap();
    assert_eq!(
        (got.status.as_str(), got.treatment.as_str()),
        ("open", "undecided")
    );
    assert_eq!(
        store.get_risk(&s.org, &later).await.unwrap().status,
        "accepted"
    );
    // The decision itself is kept as it was.
    let history = store.acceptances_for_risk(&s.org, &id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].expires_on, "2030-06-30");
    assert_eq!(history[0].risk_status, "open");
    let events = store.risk_events(&s.org, &id).await.unwrap();
    assert_eq!(events.last().unwrap().action, "acceptance_expired");
    let audit = store.audit_page(&s.org, Some(&id), 1, 10).await.unwrap();
    assert_eq!(audit.entries[0].action, "risk.acceptance_expired");
    // Only accepted risks count as current acceptances; running again is a no-op.
    assert_eq!(store.acceptances(&s.org, true).await.unwrap().len(), 1);
    assert!(store
        .expire_acceptances(&s.org, "2030-07-02", &actor())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn applying_a_risk_policy_updates_flags_in_one_transaction() {
    let s = setup().await;
    let store = &s.db.store;
    let a = store
        .create_risk(&s.org, &risk(&s.big, "A", 4, 4), &actor())
        .await
        .unwrap();
    let mut flagged = risk(&s.small, "B", 1, 1);
    flagged.above_threshold = true;
    flagged.threshold_reason = Some("old rule".into());
    let b = store.create_risk(&s.org, &flagged, &actor()).await.unwrap();

    let inputs = store.threshold_inputs(&s.org).await.unwrap();
    assert_eq!(inputs.len(), 2);
    let input_a = inputs.iter().find(|i| i.id == a).unwrap();
    assert_eq!(input_a.vendor_tier, s.big_tier);
    assert!(!input_a.above_threshold);
    assert!(inputs.iter().find(|i| i.id == b).unwrap().above_threshold);
    assert!(store.active_risk_policy(&s.org).await.unwrap().is_none());

    // A change for a risk that is not there refuses the whole application.
    let bad = vec![
        change(&a, true, Some("score 16 ≥ 15"), "high"),
        change("no-such-risk", true, None, "low"),
    ];
    assert!(matches!(
        store
            .apply_threshold_changes(&s.org, "r1", "{}", 2, &bad, &actor())
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.active_risk_policy(&s.org).await.unwrap().is_none());
    assert!(!store.get_risk(&s.org, &a).await.unwrap().above_threshold);

    let changes = vec![
        change(&a, true, Some("score 16 ≥ 15"), "high"),
        change(&b, false, None, "low"),
    ];
    store
        .apply_threshold_changes(&s.org, "r1", "{\"threshold\":15}", 2, &changes, &actor())
        .await
        .unwrap();
    let got_a = store.get_risk(&s.org, &a).await.unwrap();
    assert!(got_a.above_threshold);
    assert_eq!(got_a.threshold_reason.as_deref(), Some("score 16 ≥ 15"));
    let got_b = store.get_risk(&s.org, &b).await.unwrap();
    assert!(!got_b.above_threshold);
    assert!(got_b.threshold_reason.is_none());
    assert_eq!(
        store.active_risk_policy(&s.org).await.unwrap(),
        Some(("r1".to_string(), "{\"threshold\":15}".to_string()))
    );
    let audit = store.audit_page(&s.org, None, 1, 1).await.unwrap();
    assert_eq!(audit.entries[0].action, "risk_policy.apply");
    assert_eq!(
        audit.entries[0].after.as_ref().unwrap()["threshold_changes"],
        2
    );

    let counts = store.risk_counts(&s.org, "2030-01-01").await.unwrap();
    assert_eq!(counts.above_threshold_undecided, 1);
    assert_eq!(counts.open, 2);
    assert_eq!(counts.by_level.get("high"), Some(&1));
    assert_eq!(counts.by_level.get("low"), Some(&1));
}

#[tokio::test]
async fn list_filters_search_sorts_and_pages() {
    let s = setup().await;
    let store = &s.db.store;
    let mut r1 = risk(&s.big, "Unencrypted backups", 4, 4);
    r1.owner_id = Some(s.owner.clone());
    r1.above_threshold = true;
    let mut r2 = risk(&s.big, "100% uptime claim", 2, 2);
    r2.category = "operational".into();
    r2.due_on = Some("2030-01-15".into());
    let r3 = risk(&s.small, "Food safety", 3, 5);
    let mut r4 = risk(&s.small, "Closed issue", 5, 5);
    r4.status = "closed".into();
    let mut ids = Vec::new();
    for r in [&r1, &r2, &r3, &r4] {
        ids.push(store.create_risk(&s.org, r, &actor()).await.unwrap());
    }
    let org = s.org.as_str();
    let list = |q: RiskQuery| async move {
        let page = store.list_risks(org, &q).await.unwrap();
        (
            page.total,
            page.risks.into_iter().map(|r| r.title).collect::<Vec<_>>(),
        )
    };
    // Default: every status, highest residual score first.
    let (total, titles) = list(RiskQuery::default()).await;
    assert_eq!(total, 4);
    assert_eq!(
        titles,
        [
            "Closed issue",
            "Unencrypted backups",
            "Food safety",
            "100% uptime claim"
        ]
    );
    let (total, _) = list(RiskQuery {
        status: Some("active".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(total, 3);
    // Search is case-insensitive over the title and the vendor's name.
    assert_eq!(
        list(RiskQuery {
            search: Some("BACKUP".into()),
            ..Default::default()
        })
        .await
        .1,
        ["Unencrypted backups"]
    );
    assert_eq!(
        list(RiskQuery {
            search: Some("catering".into()),
            ..Default::default()
        })
        .await
        .0,
        2
    );
    // LIKE wildcards in the search are literal text.
    assert_eq!(
        list(RiskQuery {
            search: Some("0%".into()),
            ..Default::default()
        })
        .await
        .1,
        ["100% uptime claim"]
    );
    assert_eq!(
        list(RiskQuery {
            search: Some("'; DROP TABLE risks; --".into()),
            ..Default::default()
        })
        .await
        .0,
        0
    );
    // Filters combine.
    assert_eq!(
        list(RiskQuery {
            vendor_id: Some(s.big.clone()),
            category: Some("cybersecurity".into()),
            ..Default::default()
        })
        .await
        .1,
        ["Unencrypted backups"]
    );
    assert_eq!(
        list(RiskQuery {
            tier: Some(s.big_tier.clone()),
            status: Some("open".into()),
            ..Default::default()
        })
        .await
        .0,
        2
    );
    assert_eq!(
        list(RiskQuery {
            owner_id: Some(s.owner.clone()),
            ..Default::default()
        })
        .await
        .1,
        ["Unencrypted backups"]
    );
    assert_eq!(
        list(RiskQuery {
            above_threshold: Some(false),
            level: Some("high".into()),
            ..Default::default()
        })
        .await
        .1,
        ["Closed issue", "Food safety"]
    );
    // Sorting and paging.
    assert_eq!(
        list(RiskQuery {
            sort: RiskSort::Title,
            limit: 2,
            offset: 1,
            ..Default::default()
        })
        .await,
        (
            4,
            vec!["Closed issue".to_string(), "Food safety".to_string()]
        )
    );
    assert_eq!(
        list(RiskQuery {
            sort: RiskSort::Due,
            limit: 1,
            ..Default::default()
        })
        .await
        .1,
        ["100% uptime claim"]
    );
    let vendor_risks = store.risks_for_vendor(&s.org, &s.small).await.unwrap();
    assert_eq!(
        vendor_risks
            .iter()
            .map(|r| r.title.as_str())
            .collect::<Vec<_>>(),
        ["Food safety", "Closed issue"],
        "closed risks last"
    );
}

#[tokio::test]
async fn bulk_insert_loads_risks_with_their_links() {
    let s = setup().await;
    let store = &s.db.store;
    let own = findings(store, &s.org, &s.big, &["a"]).await;
    let rows: Vec<NewRisk> = (0..3000)
        .map(|i| {
            let mut r = risk(
                if i % 2 == 0 { &s.big } else { &s.small },
                &format!("bulk {i}"),
                i % 5 + 1,
                (i / 5) % 5 + 1,
            );
            if i == 0 {
                r.finding_ids = own.clone();
            }
            r
        })
        .collect();
    assert_eq!(store.bulk_insert_risks(&s.org, &rows).await.unwrap(), 3000);
    let page = store
        .list_risks(&s.org, &RiskQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 3000);
    let cells = store
        .heat_map(&s.org, &RiskQuery::default(), true)
        .await
        .unwrap();
    assert_eq!(cells.len(), 25);
    assert_eq!(cells.iter().map(|c| c.count).sum::<i64>(), 3000);
    assert_eq!(store.risks_for_findings(&own).await.unwrap().len(), 1);

    // A foreign finding refuses the whole load.
    let mut foreign = risk(&s.small, "foreign", 1, 1);
    foreign.finding_ids = own.clone();
    assert!(matches!(
        store.bulk_insert_risks(&s.org, &[foreign]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(risk_rows(&s.db).await, 3000);
}

/// Timings at 100,000 risks; run with `--ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn timings_at_100k_risks() {
    let s = setup().await;
    let store = &s.db.store;
    let rows: Vec<NewRisk> = (0..100_000)
        .map(|i| {
            risk(
                if i % 2 == 0 { &s.big } else { &s.small },
                &format!("bulk {i}"),
                i % 5 + 1,
                (i / 5) % 5 + 1,
            )
        })
        .collect();
    let started = std::time::Instant::now();
    store.bulk_insert_risks(&s.org, &rows).await.unwrap();
    eprintln!(
        "{:?}: bulk insert of 100,000 risks: {:?}",
        s.db.backend,
        started.elapsed()
    );

    let started = std::time::Instant::now();
    let inputs = store.threshold_inputs(&s.org).await.unwrap();
    eprintln!(
        "{:?}: threshold inputs: {:?}",
        s.db.backend,
        started.elapsed()
    );
    let changes: Vec<ThresholdChange> = inputs
        .iter()
        .map(|i| ThresholdChange {
            risk_id: i.id.clone(),
            above_threshold: true,
            reason: Some(format!("score {}", i.residual_score)),
            level: i.residual_level.clone(),
        })
        .collect();
    let started = std::time::Instant::now();
    store
        .apply_threshold_changes(&s.org, "r1", "{}", 100_000, &changes, &actor())
        .await
        .unwrap();
    eprintln!(
        "{:?}: 100,000 threshold changes: {:?}",
        s.db.backend,
        started.elapsed()
    );

    let started = std::time::Instant::now();
    let cells = store
        .heat_map(&s.org, &RiskQuery::default(), true)
        .await
        .unwrap();
    eprintln!("{:?}: heat map: {:?}", s.db.backend, started.elapsed());
    assert_eq!(cells.iter().map(|c| c.count).sum::<i64>(), 100_000);
    let started = std::time::Instant::now();
    let page = store
        .list_risks(&s.org, &RiskQuery::default())
        .await
        .unwrap();
    eprintln!(
        "{:?}: first page of the list: {:?}",
        s.db.backend,
        started.elapsed()
    );
    assert_eq!(page.total, 100_000);
    let started = std::time::Instant::now();
    store
        .list_risks(
            &s.org,
            &RiskQuery {
                search: Some("bulk 9999".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    eprintln!("{:?}: search: {:?}", s.db.backend, started.elapsed());
}

fn change(id: &str, above: bool, reason: Option<&str>, level: &str) -> ThresholdChange {
    ThresholdChange {
        risk_id: id.to_string(),
        above_threshold: above,
        reason: reason.map(str::to_string),
        level: level.to_string(),
    }
}

#[tokio::test]
async fn an_acceptance_judged_on_a_stale_score_is_refused() {
    let s = setup().await;
    let store = &s.db.store;
    let id = store
        .create_risk(&s.org, &risk(&s.big, "Legacy OS", 4, 4), &actor())
        .await
        .unwrap();
    // Judged when the risk scored 12; it scores 16 now.
    let stale = NewAcceptance {
        residual_score: 12,
        ..matching(store, &s.org, &id, "2030-06-30").await
    };
    assert!(matches!(
        store.record_acceptance(&s.org, &id, &stale, &actor()).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_risk(&s.org, &id).await.unwrap().status, "open");
    assert!(store.acceptances(&s.org, false).await.unwrap().is_empty());
}
