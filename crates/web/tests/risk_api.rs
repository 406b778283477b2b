//! The risk register's JSON API over real HTTP: risks and the heat map, the
//! policy's say on acceptances, corrective action plans, contracts, the risk
//! policy and the register export. Runs on SQLite, or on PostgreSQL when
//! MAMORI_TEST_DATABASE_URL is set.

use std::collections::HashMap;
use std::net::SocketAddr;

use mamori_domain::{Role, TieringPolicy};
use mamori_store::test_support::{fresh_database, TestDatabase};
use mamori_store::{Actor, NewUser};
use mamori_web::auth::{hash_token, random_token};
use mamori_web::{build_router, AppState, WebConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct TestApp {
    base: String,
    client: reqwest::Client,
    state: AppState,
    /// An API token per role.
    tokens: HashMap<Role, String>,
    _db: TestDatabase,
}

async fn spawn_app() -> TestApp {
    let db = fresh_database().await.expect("test database");
    let org_id = db
        .store
        .ensure_organisation("Test Hospital")
        .await
        .expect("org");
    let mut tokens = HashMap::new();
    for role in Role::ALL {
        let user = db
            .store
            .create_user(
                &org_id,
                NewUser {
                    email: format!("{}@hospital.example", role.as_str()),
                    display_name: role.as_str().into(),
                    role: *role,
                    password_hash: None,
                    locale: None,
                },
                &Actor::system("test"),
            )
            .await
            .expect("user");
        let token = format!("mamori_{}", random_token());
        db.store
            .create_api_token(
                &org_id,
                &user.id,
                "test",
                &hash_token(&token),
                None,
                &Actor::system("test"),
            )
            .await
            .expect("token");
        tokens.insert(*role, token);
    }
    let state = AppState::new(
        db.store.clone(),
        org_id,
        TieringPolicy::builtin(),
        WebConfig::default(),
    );
    let app = build_router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        state,
        tokens,
        _db: db,
    }
}

impl TestApp {
    async fn call(
        &self,
        role: Role,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.tokens[&role]);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    /// Calls and expects `status`; returns the JSON body.
    async fn expect(
        &self,
        role: Role,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        let resp = self.call(role, method.clone(), path, body).await;
        let got = resp.status();
        let text = resp.text().await.expect("body");
        assert_eq!(got, status, "{method} {path} as {role}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&self, role: Role, path: &str) -> Value {
        self.expect(role, Method::GET, path, None, StatusCode::OK)
            .await
    }

    async fn create_vendor(&self, name: &str) -> String {
        let body = json!({
            "legal_name": name, "vendor_type": "saas", "owner_email": "owner@hospital.example",
            "data_flows": [{"data_class": "phi", "actions": ["store", "process"], "record_count": 50000}]
        });
        let vendor = self
            .expect(
                Role::RiskManager,
                Method::POST,
                "/api/v1/vendors",
                Some(body),
                StatusCode::CREATED,
            )
            .await;
        vendor["id"].as_str().expect("vendor id").to_string()
    }

    async fn create_risk(&self, vendor: &str, title: &str, residual: (u32, u32)) -> String {
        let body = json!({
            "vendor_id": vendor, "category": "cybersecurity", "title": title,
            "description": "Backups are not tested.",
            "inherent_likelihood": 4, "inherent_impact": 5,
            "existing_controls": "Nightly backups",
            "residual_likelihood": residual.0, "residual_impact": residual.1,
            "treatment": "mitigate"
        });
        let created = self
            .expect(
                Role::RiskManager,
                Method::POST,
                "/api/v1/risks",
                Some(body),
                StatusCode::CREATED,
            )
            .await;
        created["id"].as_str().expect("risk id").to_string()
    }
}

fn in_a_month() -> String {
    (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn risks_heat_map_acceptance_and_export() {
    let app = spawn_app().await;
    let vendor = app.create_vendor("Harbor Lab Systems").await;
    let high = app.create_risk(&vendor, "Untested backups", (3, 4)).await;
    let low = app.create_risk(&vendor, "Stale contact list", (1, 2)).await;

    // Residual 12 is above the default threshold (10); residual 2 is not.
    let list = app.get(Role::Auditor, "/api/v1/risks").await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["risks"][0]["id"], high.as_str(), "worst first");
    assert_eq!(list["risks"][0]["residual_score"], 12);
    assert_eq!(list["risks"][0]["residual_level"], "high");
    assert_eq!(list["risks"][0]["inherent_score"], 20);
    assert_eq!(list["risks"][0]["above_threshold"], true);
    assert_eq!(list["risks"][1]["above_threshold"], false);
    assert!(list["risks"][0]["due_on"].is_string(), "deadline given");
    let above = app
        .get(
            Role::Auditor,
            "/api/v1/risks?above_threshold=true&sort=title",
        )
        .await;
    assert_eq!(above["total"], 1);
    let found = app
        .get(
            Role::Auditor,
            &format!("/api/v1/risks?q=stale&vendor={vendor}"),
        )
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["risks"][0]["id"], low.as_str());
    app.expect(
        Role::Auditor,
        Method::GET,
        "/api/v1/risks?status=maybe",
        None,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let map = app.get(Role::Auditor, "/api/v1/risks/heatmap").await;
    assert_eq!(map["basis"], "residual");
    assert_eq!(map["total"], 2);
    assert_eq!(map["likelihood"].as_array().map(Vec::len), Some(5));
    assert_eq!(map["impact"][4], "Severe");
    let cells = map["cells"].as_array().expect("cells");
    assert!(
        cells.iter().any(|c| c["likelihood"] == 3
            && c["impact"] == 4
            && c["count"] == 1
            && c["level"] == "high"),
        "{cells:?}"
    );
    let inherent = app
        .get(Role::Auditor, "/api/v1/risks/heatmap?basis=inherent")
        .await;
    assert_eq!(inherent["cells"].as_array().map(Vec::len), Some(1));
    assert_eq!(inherent["cells"][0]["count"], 2);
    assert_eq!(inherent["cells"][0]["level"], "critical");

    // Editing keeps the history.
    let edited = app
        .expect(
            Role::RiskManager,
            Method::PUT,
            &format!("/api/v1/risks/{high}"),
            Some(json!({
                "category": "cybersecurity", "title": "Untested backups of the LIS",
                "inherent_likelihood": 4, "inherent_impact": 5,
                "residual_likelihood": 3, "residual_impact": 4,
                "treatment": "mitigate", "status": "in_treatment"
            })),
            StatusCode::OK,
        )
        .await;
    assert_eq!(edited["title"], "Untested backups of the LIS");
    assert_eq!(edited["status"], "in_treatment");

    // Above the threshold only the acceptance authority may accept.
    let acceptance = json!({
        "justification": "Replacement system goes live next quarter.",
        "compensating_controls": "Weekly restore drill by the vendor.",
        "expires_on": in_a_month()
    });
    let refused = app
        .expect(
            Role::RiskManager,
            Method::POST,
            &format!("/api/v1/risks/{high}/acceptances"),
            Some(acceptance.clone()),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("refused")),
        "{refused}"
    );
    app.expect(
        Role::Auditor,
        Method::POST,
        &format!("/api/v1/risks/{high}/acceptances"),
        Some(acceptance.clone()),
        StatusCode::FORBIDDEN,
    )
    .await;
    app.expect(
        Role::AcceptanceAuthority,
        Method::POST,
        &format!("/api/v1/risks/{high}/acceptances"),
        Some(acceptance),
        StatusCode::CREATED,
    )
    .await;
    let risk = app
        .get(Role::AcceptanceAuthority, &format!("/api/v1/risks/{high}"))
        .await;
    assert_eq!(risk["status"], "accepted");
    assert_eq!(
        risk["acceptances"][0]["accepted_as"],
        "acceptance_authority"
    );
    let actions: Vec<&str> = risk["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions.first(), Some(&"created"));
    assert_eq!(actions.last(), Some(&"accepted"));
    let current = app.get(Role::Auditor, "/api/v1/acceptances").await;
    assert_eq!(current.as_array().map(Vec::len), Some(1));
    assert_eq!(current[0]["risk_id"], high.as_str());

    // The register as a file.
    let resp = app
        .call(Role::Auditor, Method::GET, "/api/v1/risks/export", None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let csv = resp.text().await.expect("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines
            .next()
            .map(|h| h.split(',').take(5).collect::<Vec<_>>()),
        Some(vec!["id", "vendor", "tier", "category", "title"])
    );
    let row = lines
        .find(|l| l.starts_with(&high))
        .expect("the accepted risk's row");
    assert!(
        row.contains("Harbor Lab Systems") && row.contains("Untested backups of the LIS"),
        "{row}"
    );
    assert!(row.contains(",4,5,3,4,12,high,"), "{row}");
    assert_eq!(csv.lines().count(), 3, "header and two risks");
    let resp = app
        .call(
            Role::Auditor,
            Method::GET,
            "/api/v1/risks/export?format=xlsx&status=accepted",
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.bytes().await.expect("xlsx").starts_with(b"PK"));
    app.expect(
        Role::Auditor,
        Method::GET,
        "/api/v1/risks/export?format=json",
        None,
        StatusCode::BAD_REQUEST,
    )
    .await;
    app.expect(
        Role::RelationshipOwner,
        Method::GET,
        "/api/v1/risks/export",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn remediation_contracts_and_the_risk_policy() {
    let app = spawn_app().await;
    let vendor = app.create_vendor("Northwind Imaging").await;
    let risk = app.create_risk(&vendor, "Unpatched PACS", (4, 4)).await;

    // A corrective action plan, sent to the vendor and verified.
    let created = app
        .expect(
            Role::RiskManager,
            Method::POST,
            &format!("/api/v1/vendors/{vendor}/remediation"),
            Some(json!({"title": "Patch the PACS", "actions": [{"risk_id": risk, "action": "Apply the vendor patch"}]})),
            StatusCode::CREATED,
        )
        .await;
    let request = created["id"].as_str().expect("id").to_string();
    let listed = app
        .get(
            Role::Auditor,
            &format!("/api/v1/remediation?vendor={vendor}"),
        )
        .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let detail = app
        .get(Role::Auditor, &format!("/api/v1/remediation/{request}"))
        .await;
    assert_eq!(detail["items"][0]["risk_id"], risk.as_str());
    assert_eq!(detail["items"][0]["status"], "requested");
    let item = detail["items"][0]["id"].as_str().expect("item").to_string();
    let sent = app
        .expect(
            Role::RiskManager,
            Method::POST,
            &format!("/api/v1/remediation/{request}/send"),
            Some(json!({"contact_name": "Ken Sato", "contact_email": "ken@northwind.example"})),
            StatusCode::OK,
        )
        .await;
    let path = sent["path"].as_str().expect("path");
    let token = path.strip_prefix("/remediate/").expect("portal path");
    assert!(sent["expires_at"].is_string());
    // Verifying needs the vendor's answer first.
    app.expect(
        Role::RiskManager,
        Method::POST,
        &format!("/api/v1/remediation/items/{item}/verify"),
        Some(json!({"accept": true})),
        StatusCode::CONFLICT,
    )
    .await;
    let access = mamori_app::risks::open_remediation(&app.state.store, token)
        .await
        .expect("open")
        .expect("the link opens the request");
    mamori_app::risks::respond_to_action(
        &app.state.store,
        &access,
        &item,
        &mamori_app::risks::VendorAnswer {
            kind: "done".into(),
            text: "Patched on all modalities.".into(),
            planned_on: String::new(),
        },
        None,
    )
    .await
    .expect("vendor answer");
    let verified = app
        .expect(
            Role::RiskManager,
            Method::POST,
            &format!("/api/v1/remediation/items/{item}/verify"),
            Some(json!({"accept": true, "comment": "Scan is clean."})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(verified["status"], "verified");
    let detail = app
        .get(Role::Auditor, &format!("/api/v1/remediation/{request}"))
        .await;
    assert_eq!(detail["status"], "closed");

    // A contract: missing clauses are findings until the checklist is kept.
    let created = app
        .expect(
            Role::RiskManager,
            Method::POST,
            &format!("/api/v1/vendors/{vendor}/contracts"),
            Some(json!({"title": "Master services agreement", "starts_on": "2026-01-01", "ends_on": "2028-12-31", "value": "120000.50", "currency": "jpy"})),
            StatusCode::CREATED,
        )
        .await;
    let contract = created["id"].as_str().expect("id").to_string();
    app.expect(
        Role::RiskManager,
        Method::POST,
        &format!("/api/v1/vendors/{vendor}/contracts"),
        Some(json!({"title": "Backwards", "starts_on": "2026-01-01", "ends_on": "2025-01-01"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let contracts = app
        .get(
            Role::Auditor,
            &format!("/api/v1/vendors/{vendor}/contracts"),
        )
        .await;
    assert_eq!(contracts.as_array().map(Vec::len), Some(1));
    assert_eq!(contracts[0]["value_minor"], 12000050);
    assert_eq!(contracts[0]["currency"], "JPY");
    let detail = app
        .get(Role::Auditor, &format!("/api/v1/contracts/{contract}"))
        .await;
    let catalog = detail["catalog"].as_array().expect("catalog");
    assert!(!catalog.is_empty());
    let open_findings = detail["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["status"] == "open")
        .count();
    assert!(
        open_findings > 0,
        "required clauses are missing until reviewed"
    );
    let all_present: Vec<Value> = catalog
        .iter()
        .map(|c| json!({"clause_key": c["key"], "state": "present", "reference": "§ 12"}))
        .collect();
    let saved = app
        .expect(
            Role::RiskManager,
            Method::PUT,
            &format!("/api/v1/contracts/{contract}/clauses"),
            Some(Value::Array(all_present)),
            StatusCode::OK,
        )
        .await;
    assert_eq!(saved["findings_resolved"], open_findings);
    app.expect(
        Role::RiskManager,
        Method::PUT,
        &format!("/api/v1/contracts/{contract}/clauses"),
        Some(json!([{"clause_key": "no_such_clause", "state": "present"}])),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let updated = app
        .expect(
            Role::RiskManager,
            Method::PUT,
            &format!("/api/v1/contracts/{contract}"),
            Some(json!({"title": "Master services agreement (renewed)", "ends_on": "2029-12-31"})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(updated["title"], "Master services agreement (renewed)");
    assert_eq!(updated["ends_on"], "2029-12-31");

    // The risk policy: read by analysts, applied by administrators.
    let policy = app.get(Role::RiskManager, "/api/v1/risk-policy").await;
    let version = policy["version"].as_str().expect("version").to_string();
    let text = policy["toml"].as_str().expect("toml").to_string();
    assert!(text.contains(&version));
    let changed = text
        .replace(&version, "test-2")
        .replace(
            "residual_score_at_least = 10",
            "residual_score_at_least = 20",
        )
        .replace("critical = 8", "critical = 20");
    let resp = app
        .client
        .post(format!("{}/api/v1/risk-policy", app.base))
        .bearer_auth(&app.tokens[&Role::RiskManager])
        .body(changed.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app
        .client
        .post(format!("{}/api/v1/risk-policy", app.base))
        .bearer_auth(&app.tokens[&Role::Administrator])
        .body(changed)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::OK);
    let outcome: Value = resp.json().await.expect("json");
    assert_eq!(outcome["version"], "test-2");
    assert_eq!(outcome["evaluated"], 1);
    assert_eq!(outcome["changed"], 1, "residual 16 is no longer above");
    let policy = app.get(Role::Auditor, "/api/v1/risk-policy").await;
    assert_eq!(policy["version"], "test-2");
    let risk = app
        .get(Role::Auditor, &format!("/api/v1/risks/{risk}"))
        .await;
    assert_eq!(risk["above_threshold"], false);
    let resp = app
        .client
        .post(format!("{}/api/v1/risk-policy", app.base))
        .bearer_auth(&app.tokens[&Role::Administrator])
        .body("version = ")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The register's API routes refuse anonymous callers and every role
/// without the route's permission (bearer tokens; the browser side is
/// covered with every other route in `web.rs`).
#[tokio::test]
async fn register_routes_are_default_deny() {
    let app = spawn_app().await;
    let ours = [
        "/api/v1/risk",
        "/api/v1/acceptances",
        "/api/v1/remediation",
        "/api/v1/contracts",
        "/api/v1/vendors/{id}/remediation",
        "/api/v1/vendors/{id}/contracts",
    ];
    let specs: Vec<_> = mamori_web::route_table()
        .into_iter()
        .filter(|s| ours.iter().any(|p| s.path.starts_with(p)))
        .collect();
    assert_eq!(specs.len(), 21, "every register route is checked");
    for spec in &specs {
        let url = format!(
            "{}{}",
            app.base,
            spec.path
                .replace("{id}", "00000000-0000-4000-8000-000000000000")
                .replace("{item_id}", "00000000-0000-4000-8000-000000000000")
        );
        let resp = app
            .client
            .request(spec.method.clone(), &url)
            .send()
            .await
            .expect("request");
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{} {}",
            spec.method,
            spec.path
        );
        for role in Role::ALL {
            let resp = app
                .client
                .request(spec.method.clone(), &url)
                .bearer_auth(&app.tokens[role])
                .send()
                .await
                .expect("request");
            if role.allows(spec.permission) {
                assert_ne!(
                    resp.status(),
                    StatusCode::FORBIDDEN,
                    "{role} may {} {}",
                    spec.method,
                    spec.path
                );
            } else {
                assert_eq!(
                    resp.status(),
                    StatusCode::FORBIDDEN,
                    "{role} must be refused {} {}",
                    spec.method,
                    spec.path
                );
            }
        }
    }
}
