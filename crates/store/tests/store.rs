//! Store behaviour, run against SQLite and (when MAMORI_TEST_DATABASE_URL is
//! set) PostgreSQL.

use mamori_domain::*;
use mamori_store::test_support::{fresh_database, postgres_url};
use mamori_store::*;

fn actor() -> Actor {
    Actor::system("test")
}

fn draft(name: &str, records: u64) -> VendorDraft {
    VendorDraft {
        external_id: None,
        legal_name: name.to_string(),
        aliases: vec!["Alias".into()],
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
            record_count: records,
            locations: vec!["US".into()],
            connectivity: vec![Connectivity::ApiIntegration],
            subprocessors: vec!["Hosting Co".into()],
        }],
    }
}

fn tiered(d: VendorDraft) -> (VendorDraft, Rating) {
    let risk = assess(&TieringPolicy::builtin(), d.risk_profile()).rating();
    (d, risk)
}

#[tokio::test]
async fn backend_in_use_is_reported() {
    let db = fresh_database().await.expect("database");
    match postgres_url() {
        Some(_) => assert_eq!(db.backend, Backend::Postgres),
        None => {
            eprintln!("MAMORI_TEST_DATABASE_URL not set: store tests ran on SQLite only");
            assert_eq!(db.backend, Backend::Sqlite)
        }
    }
}

#[tokio::test]
async fn vendor_round_trips_with_services_flows_and_history() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let (d, risk) = tiered(draft("Acme Imaging", 50_000));
    let id = store
        .create_vendor(&org, &d, &risk, &actor())
        .await
        .unwrap();
    let got = store
        .get_vendor(&org, &id, &VendorScope::All)
        .await
        .unwrap();
    assert_eq!(got.draft, d);
    assert_eq!(got.rating, risk);
    assert_eq!(got.tier_history.len(), 1);
    assert_eq!(got.tier_history[0].to_tier, risk.tier);

    // A second vendor with the same folded name is a conflict, not a duplicate.
    let (dup, dup_risk) = tiered(draft("ACME imaging", 1));
    let err = store
        .create_vendor(&org, &dup, &dup_risk, &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");

    // Editing to fewer records lowers the tier and records the change.
    let (smaller, smaller_risk) = tiered(draft("Acme Imaging", 10));
    store
        .update_vendor(
            &org,
            &id,
            &smaller,
            &smaller_risk,
            &VendorScope::All,
            &actor(),
        )
        .await
        .unwrap();
    let got = store
        .get_vendor(&org, &id, &VendorScope::All)
        .await
        .unwrap();
    assert_eq!(got.draft.data_flows[0].record_count, 10);
    if smaller_risk.tier != risk.tier {
        assert_eq!(got.tier_history.len(), 2);
        assert_eq!(got.tier_history[0].from_tier, Some(risk.tier));
    }
    let audit = store.audit_page(&org, Some(&id), 1, 50).await.unwrap();
    assert_eq!(audit.total, 2, "create and update are audited");
    assert!(audit.entries[0].before.is_some() && audit.entries[0].after.is_some());
}

#[tokio::test]
async fn owners_see_only_their_vendors() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let (mine, r1) = tiered(draft("Mine Corp", 1));
    let mut theirs = draft("Theirs Corp", 1);
    theirs.owner_email = "someone.else@hospital.example".into();
    let (theirs, r2) = tiered(theirs);
    let mine_id = store
        .create_vendor(&org, &mine, &r1, &actor())
        .await
        .unwrap();
    let theirs_id = store
        .create_vendor(&org, &theirs, &r2, &actor())
        .await
        .unwrap();
    let scope = VendorScope::OwnedBy("OWNER@hospital.example".into());
    let page = store
        .list_vendors(
            &org,
            &VendorListQuery {
                per_page: 50,
                ..Default::default()
            },
            &scope,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.vendors[0].id, mine_id);
    assert!(matches!(
        store.get_vendor(&org, &theirs_id, &scope).await,
        Err(StoreError::NotFound(_))
    ));
    let counts = store
        .dashboard_counts(&org, &scope, TieringPolicy::builtin().bands)
        .await
        .unwrap();
    assert_eq!(counts.total, 1);
}

#[tokio::test]
async fn list_filters_sorts_and_pages_on_the_server() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let mut rows = Vec::new();
    for i in 0..30u64 {
        let mut d = draft(&format!("Vendor {i:02}"), i * 1_000);
        if i % 3 == 0 {
            d.data_flows[0].data_class = DataClass::Payment;
        }
        rows.push(tiered(d));
    }
    store
        .import_vendors(&org, &rows, "t.csv", &actor(), &|_| {})
        .await
        .unwrap();
    let q = VendorListQuery {
        per_page: 10,
        page: 2,
        ..Default::default()
    };
    let page = store
        .list_vendors(&org, &q, &VendorScope::All)
        .await
        .unwrap();
    assert_eq!(page.total, 30);
    assert_eq!(page.vendors.len(), 10);
    assert_eq!(page.vendors[0].legal_name, "Vendor 10");
    let q = VendorListQuery {
        data_class: Some(DataClass::Payment),
        per_page: 100,
        ..Default::default()
    };
    assert_eq!(
        store
            .list_vendors(&org, &q, &VendorScope::All)
            .await
            .unwrap()
            .total,
        10
    );
    let q = VendorListQuery {
        search: Some("vendor 2".into()),
        per_page: 100,
        ..Default::default()
    };
    assert_eq!(
        store
            .list_vendors(&org, &q, &VendorScope::All)
            .await
            .unwrap()
            .total,
        10
    );
    // LIKE wildcards in the search box are literal characters.
    let q = VendorListQuery {
        search: Some("%".into()),
        per_page: 100,
        ..Default::default()
    };
    assert_eq!(
        store
            .list_vendors(&org, &q, &VendorScope::All)
            .await
            .unwrap()
            .total,
        0
    );
    let q = VendorListQuery {
        sort: SortKey::Tier,
        descending: true,
        per_page: 100,
        ..Default::default()
    };
    let page = store
        .list_vendors(&org, &q, &VendorScope::All)
        .await
        .unwrap();
    let tiers: Vec<Tier> = page.vendors.iter().map(|v| v.tier).collect();
    let mut sorted = tiers.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(tiers, sorted);
}

#[tokio::test]
async fn reimport_updates_in_place_and_skips_unchanged() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let rows: Vec<_> = (0..5)
        .map(|i| tiered(draft(&format!("Co {i}"), 10)))
        .collect();
    let first = store
        .import_vendors(&org, &rows, "a.csv", &actor(), &|_| {})
        .await
        .unwrap();
    assert_eq!(first.created, 5);
    let again = store
        .import_vendors(&org, &rows, "a.csv", &actor(), &|_| {})
        .await
        .unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 5));
    let mut changed = rows.clone();
    changed[0] = tiered(draft("Co 0", 500_000));
    let third = store
        .import_vendors(&org, &changed, "a.csv", &actor(), &|_| {})
        .await
        .unwrap();
    assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 4));
    // The re-imported vendor has its own audit record, with before and after.
    let query = VendorListQuery {
        search: Some("co 0".into()),
        per_page: 5,
        ..Default::default()
    };
    let page = store
        .list_vendors(&org, &query, &VendorScope::All)
        .await
        .unwrap();
    let audit = store
        .audit_page(&org, Some(&page.vendors[0].id), 1, 10)
        .await
        .unwrap();
    let entry = audit
        .entries
        .iter()
        .find(|e| e.action == "vendor.update")
        .expect("per-vendor audit record");
    assert_eq!(
        entry.before.as_ref().unwrap()["data_flows"][0]["record_count"],
        10
    );
    assert_eq!(
        entry.after.as_ref().unwrap()["data_flows"][0]["record_count"],
        500_000
    );
    let page = store
        .list_vendors(
            &org,
            &VendorListQuery {
                per_page: 50,
                ..Default::default()
            },
            &VendorScope::All,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 5);
}

#[tokio::test]
async fn applying_a_policy_retiers_everyone_and_records_changes() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let rows: Vec<_> = (0..20)
        .map(|i| tiered(draft(&format!("Co {i}"), i * 2_000)))
        .collect();
    store
        .import_vendors(&org, &rows, "a.csv", &actor(), &|_| {})
        .await
        .unwrap();
    // A stricter policy: any PHI at all is critical.
    let mut policy = TieringPolicy::builtin();
    policy.version = "strict-1".into();
    policy.floors.push(mamori_domain::policy::Floor {
        id: "any-phi".into(),
        tier: Tier::Critical,
        reason: "Any PHI".into(),
        reason_ja: None,
        when: mamori_domain::policy::Condition {
            data_class_in: Some(vec![DataClass::Phi]),
            ..Default::default()
        },
    });
    let drafts = store.all_vendor_drafts(&org).await.unwrap();
    assert_eq!(drafts.len(), 20);
    let results: Vec<_> = drafts
        .iter()
        .map(|(id, tier, d)| {
            (
                id.clone(),
                *tier,
                assess(&policy, d.risk_profile()).rating(),
                content_hash(d),
            )
        })
        .collect();
    let expected_changes = results.iter().filter(|(_, t, r, _)| *t != r.tier).count();
    let outcome = store
        .apply_policy(&org, &policy.version, &policy.to_toml(), &results, &actor())
        .await
        .unwrap();
    assert_eq!(outcome.tier_changes, expected_changes);
    assert!(expected_changes > 0);
    let active = store.active_policy(&org).await.unwrap().unwrap();
    assert_eq!(active.version, "strict-1");
    let page = store
        .list_vendors(
            &org,
            &VendorListQuery {
                per_page: 50,
                ..Default::default()
            },
            &VendorScope::All,
        )
        .await
        .unwrap();
    assert!(page
        .vendors
        .iter()
        .all(|v| v.tier == Tier::Critical && v.policy_version == "strict-1"));
    let changed = results.iter().find(|(_, t, r, _)| *t != r.tier).unwrap();
    let record = store
        .get_vendor(&org, &changed.0, &VendorScope::All)
        .await
        .unwrap();
    assert_eq!(record.tier_history[0].policy_version, "strict-1");
    assert_eq!(record.tier_history[0].cause, "policy applied");
}

#[tokio::test]
async fn users_sessions_and_tokens() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let user = store
        .create_user(
            &org,
            NewUser {
                email: "Ana@Hospital.example".into(),
                display_name: "Ana".into(),
                role: Role::RiskManager,
                password_hash: Some("h".into()),
                locale: None,
            },
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(user.email, "ana@hospital.example");
    let dup = store
        .create_user(
            &org,
            NewUser {
                email: "ana@hospital.example".into(),
                display_name: "Ana 2".into(),
                role: Role::Auditor,
                password_hash: None,
                locale: None,
            },
            &actor(),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    let far = timestamp(chrono::Utc::now() + chrono::Duration::hours(1));
    store
        .create_session("hash1", &user.id, "csrf", &far)
        .await
        .unwrap();
    let (session, found) = store.session_user("hash1").await.unwrap().unwrap();
    assert_eq!(found.id, user.id);
    assert_eq!(session.csrf_token, "csrf");
    let past = timestamp(chrono::Utc::now() - chrono::Duration::hours(1));
    store
        .create_session("expired", &user.id, "csrf", &past)
        .await
        .unwrap();
    assert!(store.session_user("expired").await.unwrap().is_none());
    let token = store
        .create_api_token(&org, &user.id, "ci", "thash", None, &actor())
        .await
        .unwrap();
    assert!(store.api_token_user("thash").await.unwrap().is_some());
    store
        .revoke_api_token(&org, &user.id, &token.id, &actor())
        .await
        .unwrap();
    assert!(store.api_token_user("thash").await.unwrap().is_none());
    // Deactivating a user ends their sessions.
    store
        .update_user_access(&org, &user.id, Role::RiskManager, false, &actor())
        .await
        .unwrap();
    assert!(store.session_user("hash1").await.unwrap().is_none());
}

#[tokio::test]
async fn a_failed_import_changes_nothing() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    // Two rows with the same key inside one batch violate the unique index:
    // the whole import must roll back.
    let rows = vec![
        tiered(draft("Same Co", 1)),
        tiered(draft("Same Co", 2)),
        tiered(draft("Other Co", 3)),
    ];
    assert!(store
        .import_vendors(&org, &rows, "bad.csv", &actor(), &|_| {})
        .await
        .is_err());
    let page = store
        .list_vendors(
            &org,
            &VendorListQuery {
                per_page: 50,
                ..Default::default()
            },
            &VendorScope::All,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 0);
    assert_eq!(store.audit_page(&org, None, 1, 10).await.unwrap().total, 0);
}

#[tokio::test]
async fn schemas_of_both_backends_agree() {
    assert_eq!(
        Store::migration_versions(Backend::Sqlite),
        Store::migration_versions(Backend::Postgres),
        "every migration needs a twin in the other backend's tree"
    );
    let Some(url) = postgres_url() else {
        eprintln!("skipping the live schema comparison: MAMORI_TEST_DATABASE_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_data_dir(dir.path()).await.unwrap();
    sqlite.migrate().await.unwrap();
    let schema = format!("t_{}", uuid_like());
    let pg = Store::connect_postgres_schema(&url, &schema).await.unwrap();
    pg.migrate().await.unwrap();
    assert_eq!(
        sqlite.schema_columns().await.unwrap(),
        pg.schema_columns().await.unwrap()
    );
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[tokio::test]
async fn mistyped_urls_are_errors() {
    for url in [
        "postgress://localhost/x",
        "sqlite://",
        "mysql://x",
        "/tmp/x.db",
        "sqlite:///no/such/dir/x.db",
    ] {
        let err = Store::connect(url)
            .await
            .err()
            .unwrap_or_else(|| panic!("{url} must fail"));
        assert!(matches!(err, StoreError::BadUrl { .. }), "{url}: {err}");
    }
}

#[tokio::test]
async fn retiering_refuses_vendors_edited_meanwhile_and_stale_policies() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let (d, r) = tiered(draft("Edited Co", 10));
    let id = store.create_vendor(&org, &d, &r, &actor()).await.unwrap();
    let mut policy = TieringPolicy::builtin();
    policy.version = "next-1".into();
    let drafts = store.all_vendor_drafts(&org).await.unwrap();
    let results: Vec<_> = drafts
        .iter()
        .map(|(id, tier, d)| {
            (
                id.clone(),
                *tier,
                assess(&policy, d.risk_profile()).rating(),
                content_hash(d),
            )
        })
        .collect();
    // Someone edits the vendor after its draft was read for re-tiering.
    let (edited, edited_rating) = tiered(draft("Edited Co", 900_000));
    store
        .update_vendor(
            &org,
            &id,
            &edited,
            &edited_rating,
            &VendorScope::All,
            &actor(),
        )
        .await
        .unwrap();
    let err = store
        .apply_policy(&org, &policy.version, &policy.to_toml(), &results, &actor())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::StaleRetier), "{err}");
    assert!(
        store.active_policy(&org).await.unwrap().is_none(),
        "nothing was applied"
    );
    assert_eq!(
        store
            .get_vendor(&org, &id, &VendorScope::All)
            .await
            .unwrap()
            .rating,
        edited_rating
    );

    // Once a policy is in force, a rating from another policy is refused.
    let fresh: Vec<_> = store
        .all_vendor_drafts(&org)
        .await
        .unwrap()
        .iter()
        .map(|(id, tier, d)| {
            (
                id.clone(),
                *tier,
                assess(&policy, d.risk_profile()).rating(),
                content_hash(d),
            )
        })
        .collect();
    store
        .apply_policy(&org, &policy.version, &policy.to_toml(), &fresh, &actor())
        .await
        .unwrap();
    let (late, late_rating) = tiered(draft("Late Co", 1));
    let err = store
        .create_vendor(&org, &late, &late_rating, &actor())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::PolicyChanged(ref v) if v == "next-1"),
        "{err}"
    );
}

async fn planned_assessment(store: &Store, org: &str, name: &str) -> (String, String) {
    let (d, risk) = tiered(draft(name, 50_000));
    let vendor = store.create_vendor(org, &d, &risk, &actor()).await.unwrap();
    let (template, _) = store
        .upsert_template("t", "1", "T", "test", 1, "{\"questions\":[]}")
        .await
        .unwrap();
    let id = store
        .create_assessment(
            org,
            &vendor,
            &template,
            risk.tier.as_str(),
            "Test",
            None,
            &actor(),
        )
        .await
        .unwrap();
    (vendor, id)
}

#[tokio::test]
async fn template_versions_are_immutable() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let (first, added) = store
        .upsert_template("k", "1", "K", "test", 1, "{\"a\":1}")
        .await
        .unwrap();
    assert!(added);
    let (again, added) = store
        .upsert_template("k", "1", "K", "test", 1, "{\"a\":1}")
        .await
        .unwrap();
    assert_eq!((again, added), (first, false));
    let changed = store
        .upsert_template("k", "1", "K", "test", 1, "{\"a\":2}")
        .await;
    assert!(
        matches!(changed, Err(StoreError::Conflict(_))),
        "{changed:?}"
    );
}

#[tokio::test]
async fn portal_links_expire_are_revoked_by_reissue_and_by_completion() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let (vendor, id) = planned_assessment(store, &org, "Linked Vendor").await;
    store
        .issue_portal_link(
            &org,
            &id,
            "hash-one",
            "Pat",
            "pat@v.example",
            "2999-01-01T00:00:00.000000Z",
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(
        store.get_assessment(&org, &id).await.unwrap().status,
        "sent"
    );
    let at = now();
    assert!(matches!(
        store.resolve_portal_token("hash-one", &at).await.unwrap(),
        PortalAccess::Granted { .. }
    ));
    assert!(matches!(
        store.resolve_portal_token("no-such", &at).await.unwrap(),
        PortalAccess::Unknown
    ));
    assert!(matches!(
        store
            .resolve_portal_token("hash-one", "3000-01-01T00:00:00.000000Z")
            .await
            .unwrap(),
        PortalAccess::Expired
    ));
    // A new link ends the old one.
    store
        .issue_portal_link(
            &org,
            &id,
            "hash-two",
            "Pat",
            "pat@v.example",
            "2999-01-01T00:00:00.000000Z",
            &actor(),
        )
        .await
        .unwrap();
    assert!(matches!(
        store.resolve_portal_token("hash-one", &at).await.unwrap(),
        PortalAccess::Revoked
    ));

    // Answers are accepted while sent; the first one moves it to in progress.
    store
        .save_answers(
            &org,
            &id,
            &[(
                "q1".into(),
                Some("{\"kind\":\"choice\",\"value\":\"yes\"}".into()),
            )],
            (1, 3),
            "pat",
            &actor(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store.get_assessment(&org, &id).await.unwrap().status,
        "in_progress"
    );

    // Review, then a guarded completion: the second attempt loses.
    let score = ScoreSummary {
        score: Some(80),
        earned: 8,
        possible: 10,
        function_scores: "{}".into(),
        answered: 1,
        visible: 3,
    };
    let finding = NewFinding {
        question_id: Some("q1".into()),
        csf: vec!["PR.AA-03".into()],
        title: "No MFA".into(),
        detail: String::new(),
        severity: "high".into(),
        origin: "answer",
    };
    store
        .begin_review(&org, &id, &score, std::slice::from_ref(&finding), &actor())
        .await
        .unwrap();
    let open = store
        .complete_assessment(&org, &id, &score, "2026-12-01", "2027-12-01", &actor())
        .await
        .unwrap();
    assert_eq!(open, 1);
    let again = store
        .complete_assessment(&org, &id, &score, "2026-12-01", "2027-12-01", &actor())
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert!(matches!(
        store.resolve_portal_token("hash-two", &at).await.unwrap(),
        PortalAccess::Revoked
    ));
    let state = store.vendor_assessment_state(&org, &vendor).await.unwrap();
    assert_eq!(state.score, Some(80));
    assert_eq!(state.open_findings, 1);
    assert_eq!(state.next_due.as_deref(), Some("2027-12-01"));
    // Answers are closed once completed.
    let late = store
        .save_answers(
            &org,
            &id,
            &[("q1".into(), None)],
            (0, 3),
            "pat",
            &actor(),
            None,
        )
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
}

#[tokio::test]
async fn reviewer_decisions_survive_a_second_round_of_review() {
    let db = fresh_database().await.expect("database");
    let store = &db.store;
    let org = store.ensure_organisation("Test Hospital").await.unwrap();
    let (_, id) = planned_assessment(store, &org, "Reviewed Vendor").await;
    let raised = |q: &str| NewFinding {
        question_id: Some(q.into()),
        csf: vec![],
        title: format!("fails {q}"),
        detail: String::new(),
        severity: "medium".into(),
        origin: "answer",
    };
    let score = ScoreSummary::default();
    store
        .begin_review(&org, &id, &score, &[raised("a"), raised("b")], &actor())
        .await
        .unwrap();
    let findings = store.findings_for_assessment(&id).await.unwrap();
    let a = findings
        .iter()
        .find(|f| f.question_id.as_deref() == Some("a"))
        .unwrap();
    store
        .decide_finding(
            &org,
            &a.id,
            &FindingDecision::Override {
                severity: None,
                comment: "not relevant to us".into(),
            },
            &actor(),
        )
        .await
        .unwrap();
    // Back to the vendor for corrections, and reviewed again.
    store
        .issue_portal_link(
            &org,
            &id,
            "h",
            "Pat",
            "pat@v.example",
            "2999-01-01T00:00:00.000000Z",
            &actor(),
        )
        .await
        .unwrap();
    store
        .transition_assessment(
            &org,
            &id,
            mamori_domain::assessment::AssessmentStatus::Submitted,
            &actor(),
            "",
        )
        .await
        .unwrap();
    store
        .begin_review(&org, &id, &score, &[raised("a"), raised("b")], &actor())
        .await
        .unwrap();
    let findings = store.findings_for_assessment(&id).await.unwrap();
    assert_eq!(findings.len(), 2, "no duplicates: {findings:?}");
    let a = findings
        .iter()
        .find(|f| f.question_id.as_deref() == Some("a"))
        .unwrap();
    assert_eq!(a.status, "dismissed");
    assert_eq!(a.reviewer_comment.as_deref(), Some("not relevant to us"));
}

#[test]
fn bulk_import_rebuilds_the_same_dashboard_index_the_migrations_create() {
    // Imports drop and re-create `vendors_dashboard`; both definitions must
    // stay the same, on both backends.
    let normalise = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("( ", "(")
    };
    let code = normalise(VENDORS_DASHBOARD_INDEX);
    for backend in ["sqlite", "postgres"] {
        let path = format!(
            "{}/migrations/{backend}/0002_assessments.sql",
            env!("CARGO_MANIFEST_DIR")
        );
        let sql = normalise(&std::fs::read_to_string(&path).unwrap());
        assert!(
            sql.contains(&format!("{code};")),
            "{path} does not create: {code}"
        );
    }
}
