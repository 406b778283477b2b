//! The web surface over real HTTP: sign-in, default-deny authorization of
//! every route, CSRF, vendor pages, the API and its OpenAPI document. Runs on
//! SQLite, or on PostgreSQL when MAMORI_TEST_DATABASE_URL is set.

use std::collections::HashMap;
use std::net::SocketAddr;

use mamori_domain::{Permission, Role, TieringPolicy};
use mamori_store::test_support::{fresh_database, TestDatabase};
use mamori_store::{Actor, NewUser};
use mamori_web::{build_router, route_table, AppState, WebConfig};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery staple";

struct TestApp {
    base: String,
    client: reqwest::Client,
    _db: TestDatabase,
    state: AppState,
    _evidence: tempfile::TempDir,
}

/// Signed-in browser: its session cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn spawn_app() -> TestApp {
    let db = fresh_database().await.expect("test database");
    let org_id = db
        .store
        .ensure_organisation("Test Hospital")
        .await
        .expect("org");
    let hash = mamori_app::password::hash_password(PASSWORD).expect("hash");
    for role in Role::ALL {
        db.store
            .create_user(
                &org_id,
                NewUser {
                    email: format!("{}@hospital.example", role.as_str()),
                    display_name: role.as_str().into(),
                    role: *role,
                    password_hash: Some(hash.clone()),
                    locale: None,
                },
                &Actor::system("test"),
            )
            .await
            .expect("user");
    }
    mamori_app::assessments::sync_builtin_templates(&db.store)
        .await
        .expect("built-in questionnaires");
    // Evidence is sealed under a local key file, one KEK per vendor, as
    // `mamori serve` does by default.
    let evidence = tempfile::tempdir().expect("evidence dir");
    let files: std::sync::Arc<dyn mamori_store::blob::BlobStore> = std::sync::Arc::new(
        mamori_store::blob::FsBlobStore::open(&evidence.path().join("files")).expect("blob store"),
    );
    let managed = mamori_keys::managed::ManagedProvider::new(
        Box::new(
            mamori_keys::local::LocalKeyProvider::create(
                &evidence.path().join("keys.json"),
                b"a test passphrase, long enough",
            )
            .expect("key file"),
        ),
        mamori_keys::managed::RetryPolicy::default(),
        None,
    );
    // Refusals (the kill switch) are audited, as `mamori serve` does.
    assert!(mamori_app::keys::audit_key_refusals(
        db.store.clone(),
        &managed,
        tokio::runtime::Handle::current()
    ));
    let keys: std::sync::Arc<dyn mamori_keys::KeyProvider> = std::sync::Arc::new(managed);
    let blobs: std::sync::Arc<dyn mamori_store::blob::BlobStore> = std::sync::Arc::new(
        mamori_store::blob::SealedBlobStore::new(files, keys.clone(), &org_id)
            .with_per_vendor_keys(true),
    );
    let sealer = mamori_store::sealed_fields::FieldSealer::new(keys.clone(), &org_id, true);
    let state = AppState::new(
        db.store.clone().with_field_sealer(sealer),
        org_id,
        TieringPolicy::builtin(),
        WebConfig::default(),
    )
    .with_blob_store(blobs)
    .with_key_provider(keys, true);
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
        client: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("client"),
        _db: db,
        state,
        _evidence: evidence,
    }
}

fn cookie_from(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

impl TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn try_login(&self, email: &str, password: &str) -> reqwest::Response {
        let page = self
            .client
            .get(self.url("/login"))
            .send()
            .await
            .expect("login page");
        let login_cookie = cookie_from(&page, "mamori_login_csrf").expect("login csrf cookie");
        let html = page.text().await.expect("html");
        let csrf = hidden_field(&html, "csrf").expect("csrf field");
        self.client
            .post(self.url("/login"))
            .header(COOKIE, login_cookie)
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("login post")
    }

    async fn login(&self, role: Role) -> Browser {
        let resp = self
            .try_login(&format!("{}@hospital.example", role.as_str()), PASSWORD)
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in as {role}");
        let cookie = cookie_from(&resp, "mamori_session").expect("session cookie");
        let set = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        let html = self
            .client
            .get(self.url("/account"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .expect("account")
            .text()
            .await
            .expect("html");
        let csrf = hidden_field(&html, "csrf").expect("csrf in page");
        Browser { cookie, csrf }
    }

    async fn get(&self, b: &Browser, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header(COOKIE, &b.cookie)
            .send()
            .await
            .expect("get")
    }

    async fn post_form(
        &self,
        b: &Browser,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf", &b.csrf)];
        all.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .header(COOKIE, &b.cookie)
            .form(&all)
            .send()
            .await
            .expect("post")
    }

    async fn api_token(&self, role: Role) -> String {
        let b = self.login(role).await;
        let resp = self
            .client
            .post(self.url("/api/v1/tokens"))
            .header(COOKIE, &b.cookie)
            .header("x-csrf-token", &b.csrf)
            .json(&serde_json::json!({"name": "test", "days": 1}))
            .send()
            .await
            .expect("token");
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: serde_json::Value = resp.json().await.expect("json");
        body["token"].as_str().expect("token string").to_string()
    }
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "00000000-0000-4000-8000-000000000000")
        .replace("{item_id}", "00000000-0000-4000-8000-000000000000")
        .replace("{file}", "app.css")
        .replace("{code}", "en")
        .replace("{format}", "csv")
        .replace("{token}", "not-a-real-portal-token")
}

#[tokio::test]
async fn every_route_is_default_deny() {
    let app = spawn_app().await;
    let table = route_table();
    assert!(table.len() > 40);
    let mut browsers = HashMap::new();
    for role in Role::ALL {
        browsers.insert(*role, app.login(*role).await);
    }
    for spec in &table {
        let url = app.url(&concrete(spec.path));
        // Without signing in.
        let resp = app
            .client
            .request(spec.method.clone(), &url)
            .send()
            .await
            .expect("request");
        if spec.permission == Permission::PortalLink {
            // The link is the credential: a made-up one opens nothing (an
            // upload without a multipart body is refused even before that).
            assert!(
                matches!(
                    resp.status(),
                    StatusCode::NOT_FOUND | StatusCode::GONE | StatusCode::BAD_REQUEST
                ),
                "{} {} with a made-up link gave {}",
                spec.method,
                spec.path,
                resp.status()
            );
            continue;
        }
        if spec.permission == Permission::Public {
            assert_ne!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{} {}",
                spec.method,
                spec.path
            );
            continue;
        }
        if spec.path.starts_with("/api/") {
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{} {} must refuse anonymous callers",
                spec.method,
                spec.path
            );
        } else {
            assert_eq!(
                resp.status(),
                StatusCode::SEE_OTHER,
                "{} {} must send anonymous callers to sign-in",
                spec.method,
                spec.path
            );
            let location = resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(
                location.starts_with("/login"),
                "{} {} redirected to {location}",
                spec.method,
                spec.path
            );
        }
        // Each role without the permission is refused.
        for role in Role::ALL {
            if role.allows(spec.permission) {
                continue;
            }
            let b = &browsers[role];
            let resp = app
                .client
                .request(spec.method.clone(), &url)
                .header(COOKIE, &b.cookie)
                .header("x-csrf-token", &b.csrf)
                .send()
                .await
                .expect("request");
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

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().expect("paths");
    for spec in route_table()
        .iter()
        .filter(|s| s.path.starts_with("/api/v1/"))
    {
        let entry = paths
            .get(spec.path)
            .unwrap_or_else(|| panic!("{} missing from OpenAPI", spec.path));
        let method = spec.method.as_str().to_lowercase();
        assert!(
            entry.get(&method).is_some(),
            "{} {} missing from OpenAPI",
            method,
            spec.path
        );
    }
    assert!(doc["components"]["schemas"]["VendorInput"].is_object());
}

#[tokio::test]
async fn sign_in_failures_rate_limit_and_sign_out() {
    let app = spawn_app().await;
    let resp = app
        .try_login("auditor@hospital.example", "wrong password!")
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(cookie_from(&resp, "mamori_session").is_none());
    for _ in 0..5 {
        app.try_login("risk_manager@hospital.example", "wrong password!")
            .await;
    }
    // Even the right password is refused while the account is locked.
    let resp = app
        .try_login("risk_manager@hospital.example", PASSWORD)
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // A forged sign-in form (no matching cookie) is refused.
    let resp = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("email", "auditor@hospital.example"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let b = app.login(Role::Auditor).await;
    assert_eq!(app.get(&b, "/vendors").await.status(), StatusCode::OK);
    let resp = app.post_form(&b, "/logout", &[]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let after = app.get(&b, "/vendors").await;
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the old session cookie no longer works"
    );
}

#[tokio::test]
async fn state_changing_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let b = app.login(Role::RiskManager).await;
    let fields = [
        ("legal_name", "Forged Co"),
        ("vendor_type", "saas"),
        ("deployment", "public_cloud"),
        ("tenancy", "multi_tenant"),
        ("status", "active"),
        ("owner_email", "o@hospital.example"),
    ];
    let resp = app
        .client
        .post(app.url("/vendors"))
        .header(COOKIE, &b.cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let mut wrong = fields.to_vec();
    wrong.push(("csrf", "0000"));
    let resp = app
        .client
        .post(app.url("/vendors"))
        .header(COOKIE, &b.cookie)
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app.post_form(&b, "/vendors", &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn registering_a_phi_vendor_tiers_it_and_counts_it() {
    let app = spawn_app().await;
    let b = app.login(Role::RiskManager).await;
    let resp = app
        .post_form(
            &b,
            "/vendors",
            &[
                ("legal_name", "Harbor Lab Systems"),
                ("vendor_type", "clinical_lab"),
                ("deployment", "hybrid"),
                ("tenancy", "single_tenant"),
                ("status", "active"),
                ("owner_email", "lab.director@hospital.example"),
                ("svc_0_name", "Reference testing"),
                ("svc_0_mtd", "12"),
                ("svc_0_care", "on"),
                ("svc_0_revenue", "medium"),
                ("flow_0_class", "phi"),
                ("flow_0_store", "on"),
                ("flow_0_process", "on"),
                ("flow_0_records", "45,000"),
                ("flow_0_locations", "US"),
                ("flow_0_conn", "api_integration"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp
        .headers()
        .get(LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let html = app.get(&b, &location).await.text().await.unwrap();
    assert!(html.contains("Harbor Lab Systems"));
    assert!(
        html.contains("id=\"vendor-tier\">High") || html.contains("id=\"vendor-tier\">Critical"),
        "tier badge shown"
    );
    assert!(
        html.contains("PHI for more than 10,000 patients") || html.contains("patient care"),
        "explanation shown"
    );
    let dash = app.get(&b, "/").await.text().await.unwrap();
    assert!(
        dash.contains("id=\"total-vendors\">1<"),
        "dashboard counts the vendor"
    );
    assert!(dash.contains("<svg"), "dashboard draws charts");

    // The same vendor through the API, with its explanation.
    let id = location.trim_start_matches("/vendors/");
    let token = app.api_token(Role::Auditor).await;
    let risk: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/v1/vendors/{id}/risk")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(risk["tier"] == "high" || risk["tier"] == "critical");
    assert!(risk["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["factor_id"] == "privacy-phi-10k"));
    assert!(risk["summary"].as_str().unwrap().contains("because"));

    // A rejected form keeps what was typed and names the problem.
    let resp = app
        .post_form(
            &b,
            "/vendors",
            &[
                ("legal_name", "Typo Inc"),
                ("vendor_type", "saas"),
                ("deployment", "public_cloud"),
                ("tenancy", "multi_tenant"),
                ("status", "active"),
                ("owner_email", "o@hospital.example"),
                ("flow_0_class", "phi"),
                ("flow_0_store", "on"),
                ("flow_0_records", "lots"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("data flow 1 records") && html.contains("Typo Inc"));
}

#[tokio::test]
async fn api_tokens_scope_and_owner_visibility() {
    let app = spawn_app().await;
    let manager = app.api_token(Role::RiskManager).await;
    let auditor = app.api_token(Role::Auditor).await;
    let owner = app.api_token(Role::RelationshipOwner).await;
    let vendor = |name: &str, owner: &str| {
        serde_json::json!({
            "legal_name": name, "vendor_type": "saas", "owner_email": owner,
            "data_flows": [{"data_class": "personal_data", "actions": ["store"], "record_count": 100}]
        })
    };
    for (name, who) in [
        ("Owned One", "relationship_owner@hospital.example"),
        ("Someone Else's", "other@hospital.example"),
    ] {
        let resp = app
            .client
            .post(app.url("/api/v1/vendors"))
            .bearer_auth(&manager)
            .json(&vendor(name, who))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let dup = app
        .client
        .post(app.url("/api/v1/vendors"))
        .bearer_auth(&manager)
        .json(&vendor("OWNED one", "x@hospital.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    let bad = app
        .client
        .post(app.url("/api/v1/vendors"))
        .bearer_auth(&manager)
        .json(&vendor("", "not-an-email"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let list: serde_json::Value = app
        .client
        .get(app.url("/api/v1/vendors"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "owners see only their vendors");
    assert_eq!(list["vendors"][0]["legal_name"], "Owned One");
    let all: serde_json::Value = app
        .client
        .get(app.url("/api/v1/vendors?sort=name"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 2);
    let resp = app
        .client
        .post(app.url("/api/v1/vendors"))
        .bearer_auth(&auditor)
        .json(&vendor("Nope", "a@hospital.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "auditors change nothing"
    );

    // A revoked token stops working at once.
    let tokens: serde_json::Value = app
        .client
        .get(app.url("/api/v1/tokens"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tokens[0]["id"].as_str().unwrap();
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app
        .client
        .get(app.url("/api/v1/vendors"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_import_is_all_or_nothing_and_policy_apply_retiers() {
    let app = spawn_app().await;
    let token = app.api_token(Role::Administrator).await;
    let good = String::from_utf8(mamori_formats::inventory::template_csv()).unwrap();
    let mut bad = good.clone();
    bad.push_str("\n,Broken Vendor Ltd,,,spaceship,,,,someone@hospital.example,,,,,,,,,,,,-5,,,\n");
    let resp = app
        .client
        .post(app.url("/api/v1/vendors/import?file_name=bad.csv"))
        .bearer_auth(&token)
        .body(bad)
        .send()
        .await
        .unwrap();
    assert!(
        resp.status() == StatusCode::UNPROCESSABLE_ENTITY
            || resp.status() == StatusCode::BAD_REQUEST,
        "{}",
        resp.status()
    );
    let list: serde_json::Value = app
        .client
        .get(app.url("/api/v1/vendors"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0, "a failed import changes nothing");

    let report: serde_json::Value = app
        .client
        .post(app.url("/api/v1/vendors/import?file_name=good.csv"))
        .bearer_auth(&token)
        .body(good.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = report["created"].as_u64().unwrap();
    assert!(created >= 1);
    let again: serde_json::Value = app
        .client
        .post(app.url("/api/v1/vendors/import?file_name=good.csv"))
        .bearer_auth(&token)
        .body(good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["created"], 0, "re-import creates no duplicates");

    let strict = mamori_domain::DEFAULT_POLICY_TOML
        .replace(
            "bands = { moderate = 25, high = 50, critical = 75 }",
            "bands = { moderate = 5, high = 10, critical = 15 }",
        )
        .replace(
            "version = \"2026.12-healthcare-1\"",
            "version = \"strict-test\"",
        );
    let check: serde_json::Value = app
        .client
        .post(app.url("/api/v1/policy/check"))
        .bearer_auth(&token)
        .body("bands = 3")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check["valid"], false);
    let applied: serde_json::Value = app
        .client
        .post(app.url("/api/v1/policy/apply"))
        .bearer_auth(&token)
        .body(strict)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(applied["version"], "strict-test");
    assert_eq!(applied["vendors"].as_u64().unwrap(), created);
    assert_eq!(app.state.policy().await.version, "strict-test");
    let list: serde_json::Value = app
        .client
        .get(app.url("/api/v1/vendors"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["policy_version"] == "strict-test"));
    let audit: serde_json::Value = app
        .client
        .get(app.url("/api/v1/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"policy.apply") && actions.contains(&"vendor.import"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn pages_speak_japanese_when_asked() {
    let app = spawn_app().await;
    let b = app.login(Role::Administrator).await;
    let html = app
        .client
        .get(app.url("/"))
        .header(COOKIE, &b.cookie)
        .header("accept-language", "ja,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("lang=\"ja\"") && html.contains("ダッシュボード"));
    let html = app.get(&b, "/").await.text().await.unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("Dashboard"));
    let login = app
        .client
        .get(app.url("/login"))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("サインイン"));
}

#[tokio::test]
async fn security_headers_and_health() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        resp.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    let missing = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[test]
fn every_translation_key_used_by_templates_exists() {
    let catalog = mamori_web::i18n::Catalog::builtin();
    let keys: std::collections::HashSet<&str> = catalog.keys().collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for marker in ["t(\"", "label(\""] {
            let mut rest = text.as_str();
            while let Some(i) = rest.find(marker) {
                rest = &rest[i + marker.len()..];
                let end = rest.find('"').unwrap();
                let key = &rest[..end];
                if marker == "t(\"" {
                    assert!(
                        keys.contains(key),
                        "{}: unknown translation key {key}",
                        path.display()
                    );
                    checked += 1;
                }
                rest = &rest[end..];
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} keys found: the scan is broken"
    );
}

/// The id at the end of a `Location: /assessments/{id}` redirect.
fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Registers the demo's first vendor of a tier and returns its id.
async fn demo_vendor(app: &TestApp, tier: mamori_domain::Tier) -> String {
    let policy = TieringPolicy::builtin();
    let draft = mamori_demo::demo_organisation()
        .vendors
        .into_iter()
        .find(|d| mamori_domain::assess(&policy, d.risk_profile()).tier == tier)
        .expect("a demo vendor of the tier");
    mamori_app::vendors::create_vendor(
        &app.state.store,
        &app.state.org_id,
        &policy,
        &draft,
        &Actor::system("test"),
    )
    .await
    .expect("vendor")
}

fn portal_token(html: &str) -> String {
    let start = html.find("/portal/").expect("portal link shown") + "/portal/".len();
    html[start..start + 43].to_string()
}

#[tokio::test]
async fn assessment_lifecycle_over_http_and_the_portal_reaches_nothing_else() {
    let app = spawn_app().await;
    let rm = app.login(Role::RiskManager).await;
    let high = demo_vendor(&app, mamori_domain::Tier::High).await;
    let other = demo_vendor(&app, mamori_domain::Tier::Low).await;

    // Plan: the template follows the tier (High → full).
    let resp = app
        .post_form(&rm, &format!("/vendors/{high}/assessments"), &[])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = location(&resp);
    let id = page.trim_start_matches("/assessments/").to_string();
    let html = app.get(&rm, &page).await.text().await.unwrap();
    assert!(
        html.contains("healthcare-baseline/full"),
        "High tier gets the full questionnaire"
    );

    // A second assessment, of another vendor, that the link must not reach.
    let resp = app
        .post_form(&rm, &format!("/vendors/{other}/assessments"), &[])
        .await;
    let other_id = location(&resp)
        .trim_start_matches("/assessments/")
        .to_string();

    // Send: the link is shown once.
    let resp = app
        .post_form(
            &rm,
            &format!("/assessments/{id}/send"),
            &[
                ("contact_name", "Pat Vendor"),
                ("contact_email", "pat@vendor.example"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let token = portal_token(&resp.text().await.unwrap());

    // The portal opens, with no session at all.
    let portal = app
        .client
        .get(app.url(&format!("/portal/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(portal.status(), StatusCode::OK);
    let html = portal.text().await.unwrap();
    assert!(
        html.contains("id=\"question-soc2.has_report\""),
        "portal shows the questionnaire"
    );
    assert!(!html.contains(&other_id));

    // Default-deny: the token opens no other route, as a bearer token, as a
    // cookie, or glued onto other paths.
    for path in [
        "/",
        "/vendors",
        &format!("/vendors/{high}"),
        &format!("/assessments/{id}"),
        &format!("/assessments/{other_id}"),
        "/api/v1/vendors",
        "/api/v1/me",
        "/evidence/00000000-0000-4000-8000-000000000000",
    ] {
        for (name, value) in [
            ("authorization", format!("Bearer {token}")),
            ("cookie", format!("mamori_session={token}")),
        ] {
            let resp = app
                .client
                .get(app.url(path))
                .header(name, &value)
                .send()
                .await
                .unwrap();
            assert!(
                matches!(
                    resp.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER
                ),
                "{path} with the portal token as {name} gave {}",
                resp.status()
            );
        }
    }
    let resp = app
        .client
        .get(app.url(&format!("/portal/{token}/../assessments/{other_id}")))
        .send()
        .await
        .unwrap();
    assert_ne!(resp.status(), StatusCode::OK);

    // Autosave: JSON answer with visibility and progress.
    let resp = app
        .client
        .post(app.url(&format!("/portal/{token}/answers")))
        .header("accept", "application/json")
        .form(&[("q:soc2.has_report", "yes"), ("q:iam.mfa_workforce", "yes")])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["answered"].as_u64().unwrap() >= 1, "{body}");
    assert_eq!(body["visibility"]["soc2.has_report"], true);
    // A bad answer is refused with the question named, and nothing is saved.
    let resp = app
        .client
        .post(app.url(&format!("/portal/{token}/answers")))
        .header("accept", "application/json")
        .form(&[("q:soc2.has_report", "perhaps")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["problems"]["soc2.has_report"].is_string(), "{body}");

    // Evidence: a PDF is stored; an HTML file is refused and leaves nothing.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let upload = |bytes: Vec<u8>, name: &'static str| {
        reqwest::multipart::Form::new()
            .text("question_id", "soc2.report")
            .text("kind", "soc2_type2")
            .text("period_end", "2026-09-30")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            )
    };
    let resp = app
        .client
        .post(app.url(&format!("/portal/{token}/evidence")))
        .multipart(upload(pdf, "soc2.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = app
        .client
        .post(app.url(&format!("/portal/{token}/evidence")))
        .multipart(upload(
            b"<html><script>alert(1)</script></html>".to_vec(),
            "x.html",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let files = app.state.store.evidence_for_assessment(&id).await.unwrap();
    assert_eq!(files.len(), 1, "only the PDF was kept");
    assert_eq!(files[0].content_type, "application/pdf");

    // Submit, review, override one finding, complete.
    let resp = app
        .client
        .post(app.url(&format!("/portal/{token}/submit")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .post_form(&rm, &format!("/assessments/{id}/review"), &[])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let findings = app.state.store.findings_for_assessment(&id).await.unwrap();
    assert!(!findings.is_empty(), "unanswered questions raise findings");
    let first = &findings[0];
    // An override without a comment is refused.
    let resp = app
        .post_form(
            &rm,
            &format!("/findings/{}/decide", first.id),
            &[("action", "override"), ("severity", "low")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = app
        .post_form(
            &rm,
            &format!("/findings/{}/decide", first.id),
            &[
                ("action", "override"),
                ("severity", "low"),
                ("comment", "compensating control in place"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    // An auditor can read but not decide.
    let auditor = app.login(Role::Auditor).await;
    assert_eq!(
        app.get(&auditor, &format!("/assessments/{id}"))
            .await
            .status(),
        StatusCode::OK
    );
    let resp = app
        .post_form(
            &auditor,
            &format!("/findings/{}/decide", first.id),
            &[("action", "accept")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let resp = app
        .post_form(&rm, &format!("/assessments/{id}/complete"), &[])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let state = app
        .state
        .store
        .vendor_assessment_state(&app.state.org_id, &high)
        .await
        .unwrap();
    assert!(state.score.is_some());
    assert_eq!(state.open_findings, findings.len() as i64);
    let due = state.next_due.expect("next due date set");
    let expected = mamori_app::assessments::today()
        .checked_add_months(chrono::Months::new(12))
        .unwrap()
        .to_string();
    assert_eq!(due, expected, "High tier is re-assessed in 12 months");

    // The link no longer opens; the report and OSCAL export work.
    let resp = app
        .client
        .get(app.url(&format!("/portal/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
    assert_eq!(
        app.get(&rm, &format!("/assessments/{id}/report"))
            .await
            .status(),
        StatusCode::OK
    );
    let oscal: serde_json::Value = app
        .get(&rm, &format!("/assessments/{id}/oscal"))
        .await
        .json()
        .await
        .unwrap();
    assert!(oscal["assessment-results"]["results"][0]["findings"]
        .as_array()
        .is_some_and(|f| !f.is_empty()));
    validate_oscal(&oscal);

    // The same through the JSON API, as an auditor.
    let token = app.api_token(Role::Auditor).await;
    let list: serde_json::Value = app
        .client
        .get(app.url("/api/v1/assessments?status=completed"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let detail: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/v1/assessments/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["status"], "completed");
    assert_eq!(
        detail["functions"].as_array().map(Vec::len),
        Some(6),
        "{detail}"
    );
    let overridden = detail["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == first.id.as_str())
        .expect("the overridden finding");
    assert_eq!(overridden["severity"], "low");
    assert_eq!(
        overridden["reviewer_comment"],
        "compensating control in place"
    );
    assert!(
        detail["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["origin"] == "evidence"),
        "a High-tier vendor without a penetration-test summary gets an evidence finding"
    );

    // Every transition is in the audit log.
    let audit = app
        .state
        .store
        .audit_page(&app.state.org_id, Some(&id), 1, 100)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "assessment.create",
        "assessment.send",
        "assessment.status",
        "assessment.complete",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

/// Checks an exported document with a real OSCAL implementation when one is
/// configured (CI sets `MAMORI_OSCAL_VALIDATOR` to the compliance-trestle
/// script); says so when it skips.
fn validate_oscal(document: &serde_json::Value) {
    let Ok(validator) = std::env::var("MAMORI_OSCAL_VALIDATOR") else {
        eprintln!("skipping OSCAL validation of the export: MAMORI_OSCAL_VALIDATOR is not set");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("assessment-results.json");
    std::fs::write(&path, serde_json::to_vec_pretty(document).expect("json")).expect("write");
    let mut parts = validator.split_whitespace();
    let program = parts.next().expect("validator command");
    let output = std::process::Command::new(program)
        .args(parts)
        .arg(&path)
        .output()
        .expect("run the OSCAL validator");
    assert!(
        output.status.success(),
        "the exported assessment results are not valid OSCAL:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn vendor_with_status(
    app: &TestApp,
    name: &str,
    status: mamori_domain::LifecycleStatus,
) -> String {
    let policy = TieringPolicy::builtin();
    let mut draft = mamori_demo::demo_organisation()
        .vendors
        .into_iter()
        .next()
        .expect("a demo vendor");
    draft.legal_name = name.to_string();
    draft.external_id = None;
    draft.status = status;
    mamori_app::vendors::create_vendor(
        &app.state.store,
        &app.state.org_id,
        &policy,
        &draft,
        &Actor::system("test"),
    )
    .await
    .expect("vendor")
}

async fn upload_test_evidence(app: &TestApp, vendor_id: &str, text: &str) -> String {
    let blobs = app.state.blobs.clone().expect("blob store");
    mamori_app::assessments::upload_evidence(
        &app.state.store,
        &blobs,
        &app.state.org_id,
        vendor_id,
        None,
        &mamori_app::assessments::EvidenceForm {
            kind: "pentest".into(),
            issuer: "Test Lab".into(),
            issued_on: Some("2026-06-01".into()),
            ..Default::default()
        },
        "pentest.txt",
        text.as_bytes(),
        "test",
        &Actor::system("test"),
    )
    .await
    .expect("evidence upload")
}

fn tree_contains(dir: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).expect("dir").any(|entry| {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            tree_contains(&path, needle)
        } else {
            std::fs::read(&path)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        }
    })
}

#[tokio::test]
async fn evidence_is_sealed_per_vendor_the_kill_switch_blocks_reads_and_shredding_is_final() {
    use mamori_domain::LifecycleStatus;
    let app = spawn_app().await;
    let admin = app.login(Role::Administrator).await;
    let ended = vendor_with_status(
        &app,
        "Former Imaging Partner KK",
        LifecycleStatus::Terminated,
    )
    .await;
    let active = vendor_with_status(&app, "Current Lab Services KK", LifecycleStatus::Active).await;
    let secret_a = "Pentest finding: PACS gateway admin password is pacs-admin-2026";
    let secret_b = "Pentest finding: LIS interface accepts unauthenticated HL7";
    let ev_a = upload_test_evidence(&app, &ended, secret_a).await;
    let ev_b = upload_test_evidence(&app, &active, secret_b).await;

    // Readable through Mamori; nowhere in the clear on disk.
    let resp = app.get(&admin, &format!("/evidence/{ev_a}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.expect("body"), secret_a);
    assert!(!tree_contains(app._evidence.path(), secret_a.as_bytes()));
    assert!(!tree_contains(app._evidence.path(), secret_b.as_bytes()));

    // Shredding is refused for a vendor that is still active, and without
    // the exact name.
    let resp = app
        .post_form(
            &admin,
            &format!("/vendors/{active}/shred"),
            &[("confirm_name", "Current Lab Services KK")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app
        .post_form(
            &admin,
            &format!("/vendors/{ended}/shred"),
            &[("confirm_name", "Former Imaging")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let page = app
        .get(&admin, &format!("/vendors/{ended}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("shred-form"),
        "the terminated vendor offers shredding"
    );

    let resp = app
        .post_form(
            &admin,
            &format!("/vendors/{ended}/shred"),
            &[("confirm_name", "Former Imaging Partner KK")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = app.get(&admin, &format!("/evidence/{ev_a}")).await;
    assert_eq!(resp.status(), StatusCode::GONE);
    assert!(resp.text().await.expect("body").contains("crypto-shredded"));
    let page = app
        .get(&admin, &format!("/vendors/{ended}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("id=\"shredded\""),
        "the vendor page says it was shredded"
    );
    assert!(!page.contains("shred-form"));
    let keys = app.state.keys.clone().expect("key provider");
    assert!(
        keys.generate_data_key(
            &mamori_keys::vendor_kek(&ended),
            &mamori_keys::Binding {
                tenant: "x",
                kind: "y",
                object_id: "z"
            }
        )
        .is_err(),
        "the vendor's KEK is gone from the key manager"
    );
    let audit = app
        .state
        .store
        .audit_page(&app.state.org_id, Some(&ended), 1, 50)
        .await
        .expect("audit");
    assert!(audit.entries.iter().any(|e| e.action == "vendor.shred"));
    // Nothing more is stored for a shredded vendor.
    let blobs = app.state.blobs.clone().expect("blob store");
    let refused = mamori_app::assessments::upload_evidence(
        &app.state.store,
        &blobs,
        &app.state.org_id,
        &ended,
        None,
        &mamori_app::assessments::EvidenceForm {
            kind: "pentest".into(),
            issuer: "Test Lab".into(),
            ..Default::default()
        },
        "late.txt",
        b"a late upload",
        "test",
        &Actor::system("test"),
    )
    .await;
    assert!(
        matches!(refused, Err(mamori_app::AppError::Gone(_))),
        "{refused:?}"
    );
    // The other vendor is untouched.
    let resp = app.get(&admin, &format!("/evidence/{ev_b}")).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // The kill switch: the customer revokes the KEK in their key manager.
    // Reads stop with a clear answer, not a crash or partial data.
    keys.destroy_kek(&mamori_keys::vendor_kek(&active))
        .expect("revoke");
    let resp = app.get(&admin, &format!("/evidence/{ev_b}")).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = resp.text().await.expect("body");
    assert!(body.contains("key manager refused"), "{body}");
    assert!(!body.contains("LIS interface"));
    // The refusal is in the audit log, once however often it happens.
    let resp = app.get(&admin, &format!("/evidence/{ev_b}")).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let revoked = mamori_keys::vendor_kek(&active);
    let mut refusals = 0;
    for _ in 0..50 {
        let audit = app
            .state
            .store
            .audit_page(&app.state.org_id, Some(&revoked), 1, 50)
            .await
            .expect("audit");
        refusals = audit
            .entries
            .iter()
            .filter(|e| e.action == "keys.refused")
            .count();
        if refusals > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(refusals, 1, "one audit record of the refusal");
}

#[tokio::test]
async fn sensitive_answers_are_sealed_in_the_database_and_a_revoked_key_hides_the_assessment() {
    let app = spawn_app().await;
    let rm = app.login(Role::RiskManager).await;
    let vendor = demo_vendor(&app, mamori_domain::Tier::High).await;
    let resp = app
        .post_form(&rm, &format!("/vendors/{vendor}/assessments"), &[])
        .await;
    let page = location(&resp);
    let id = page.trim_start_matches("/assessments/").to_string();
    let resp = app
        .post_form(
            &rm,
            &format!("/assessments/{id}/send"),
            &[
                ("contact_name", "Pat Vendor"),
                ("contact_email", "pat@vendor.example"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let store = &app.state.store;
    let org = &app.state.org_id;
    let ctx = mamori_app::assessments::load_context(store, org, &id)
        .await
        .expect("context");
    let sensitive = ctx
        .template
        .questions
        .iter()
        .find(|q| q.sensitive)
        .expect("the full questionnaire has a sensitive question")
        .id
        .clone();
    let secret = "Ransomware on 2026-03-02 exposed 41,200 radiology records";
    let mut values = std::collections::HashMap::new();
    values.insert(sensitive.clone(), vec![secret.to_string()]);
    values.insert("soc2.has_report".to_string(), vec!["yes".to_string()]);
    mamori_app::assessments::save_answers(store, &ctx, &values, "vendor", &Actor::system("test"))
        .await
        .expect("save")
        .expect("no problems");

    // In the database: sealed, bound to its record; other answers in clear.
    let raw = store.answers(&id).await.expect("answers");
    let stored = raw
        .iter()
        .find(|a| a.question_id == sensitive)
        .expect("stored");
    assert!(mamori_store::sealed_fields::is_sealed(&stored.answer_json));
    assert!(!stored.answer_json.contains("Ransomware"));
    let plain = raw
        .iter()
        .find(|a| a.question_id == "soc2.has_report")
        .expect("stored");
    assert!(!mamori_store::sealed_fields::is_sealed(&plain.answer_json));
    // Through Mamori: the answer reads back.
    let ctx = mamori_app::assessments::load_context(store, org, &id)
        .await
        .expect("context");
    let shown = serde_json::to_string(&ctx.answers[&sensitive]).expect("json");
    assert!(shown.contains("Ransomware"), "{shown}");
    assert_eq!(app.get(&rm, &page).await.status(), StatusCode::OK);

    // Rotation: the sealed answer is rewrapped in place (payload untouched)
    // and still reads; a second pass finds nothing to do.
    let keys = app.state.keys.clone().expect("keys");
    keys.rotate_kek(&mamori_keys::vendor_kek(&vendor))
        .expect("rotate");
    let sealer = store.field_sealer().expect("sealer");
    let sealed = store.sealed_answers().await.expect("sealed answers");
    assert_eq!(sealed.len(), 1);
    let (a_id, q_id, value) = &sealed[0];
    let object = mamori_app::assessments::answer_object(a_id, q_id);
    let new = sealer
        .rewrap("answer", &object, value)
        .expect("rewrap")
        .expect("moved");
    assert!(store
        .replace_sealed_answer(a_id, q_id, value, &new)
        .await
        .expect("replace"));
    assert!(
        !store
            .replace_sealed_answer(a_id, q_id, value, &new)
            .await
            .expect("stale"),
        "a stale value is not replaced"
    );
    assert!(sealer
        .rewrap("answer", &object, &new)
        .expect("rewrap")
        .is_none());
    let ctx = mamori_app::assessments::load_context(store, org, &id)
        .await
        .expect("context");
    assert!(serde_json::to_string(&ctx.answers[&sensitive])
        .expect("json")
        .contains("Ransomware"));

    // The customer revokes the vendor's KEK: no partial assessment, a clear answer.
    keys.destroy_kek(&mamori_keys::vendor_kek(&vendor))
        .expect("revoke");
    let err = mamori_app::assessments::load_context(store, org, &id)
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(err, mamori_app::AppError::KeyUnavailable(_)),
        "{err}"
    );
    let resp = app.get(&rm, &page).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = resp.text().await.expect("body");
    assert!(body.contains("sealed under the customer"), "{body}");
    assert!(!body.contains("radiology"));
}

#[tokio::test]
async fn an_upload_while_the_key_manager_is_down_stores_nothing() {
    let app = spawn_app().await;
    let vendor = vendor_with_status(
        &app,
        "Cloud PACS Partner KK",
        mamori_domain::LifecycleStatus::Active,
    )
    .await;
    // A real OpenBao client pointed at a port where nothing listens.
    let down: std::sync::Arc<dyn mamori_keys::KeyProvider> =
        std::sync::Arc::new(mamori_keys::managed::ManagedProvider::new(
            Box::new(
                mamori_keys::threaded::OwnThread::spawn(|| {
                    Ok(Box::new(mamori_keys::openbao::OpenBaoProvider::new(
                        mamori_keys::openbao::OpenBaoConfig::new(
                            "http://127.0.0.1:1",
                            "unused-token",
                        ),
                    )?) as Box<dyn mamori_keys::KeyProvider>)
                })
                .expect("provider"),
            ),
            mamori_keys::managed::RetryPolicy {
                attempts: 2,
                backoff: std::time::Duration::from_millis(10),
            },
            None,
        ));
    let files_dir = app._evidence.path().join("files");
    let before = std::fs::read_dir(&files_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    let files: std::sync::Arc<dyn mamori_store::blob::BlobStore> =
        std::sync::Arc::new(mamori_store::blob::FsBlobStore::open(&files_dir).expect("files"));
    let sealed: std::sync::Arc<dyn mamori_store::blob::BlobStore> = std::sync::Arc::new(
        mamori_store::blob::SealedBlobStore::new(files, down, &app.state.org_id)
            .with_per_vendor_keys(true),
    );
    let err = mamori_app::assessments::upload_evidence(
        &app.state.store,
        &sealed,
        &app.state.org_id,
        &vendor,
        None,
        &mamori_app::assessments::EvidenceForm {
            kind: "pentest".into(),
            issuer: "Test Lab".into(),
            ..Default::default()
        },
        "pentest.txt",
        b"Pentest report that must not be stored in clear",
        "test",
        &Actor::system("test"),
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(err, mamori_app::AppError::KeyUnavailable(_)),
        "{err}"
    );
    assert!(err.to_string().contains("cannot be reached"), "{err}");
    let after = std::fs::read_dir(&files_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(before, after, "no file written");
    let records = app
        .state
        .store
        .evidence_for_vendor(&app.state.org_id, &vendor)
        .await
        .expect("evidence");
    assert!(records.is_empty(), "no evidence record");
}
