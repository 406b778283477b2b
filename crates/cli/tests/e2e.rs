//! A real browser, end to end: `mamori serve --demo` driven through
//! chromedriver (W3C WebDriver over HTTP) and headless Chromium.
//!
//! The server here always uses SQLite in a temporary data directory, whatever
//! `MAMORI_TEST_DATABASE_URL` says: the test is about the browser and the web
//! pages, and the demo's fixed vendor count needs a database of its own.
//! (The storage backends are covered by `tests/cli.rs` and the store tests.)
//!
//! Everything stays on 127.0.0.1. Set `MAMORI_SCREENSHOT_DIR` to keep
//! `vendor.png` and `dashboard.png`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::blocking::Client;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_mamori");
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long to wait for anything that should happen: a server to start, a
/// page to load, an element to appear.
const PATIENCE: Duration = Duration::from_secs(20);
/// The server loads the demo before it listens; a debug build on a busy
/// two-core machine can take a while.
const START_PATIENCE: Duration = Duration::from_secs(90);
/// The vendors of the demo hospital.
const DEMO_VENDORS: u64 = 152;
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const VENDOR_NAME: &str = "E2E Telehealth Partners";

/// Kills a child process when dropped, so nothing outlives a failed assertion.
struct KillOnDrop {
    child: Child,
    name: &'static str,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        eprintln!("stopped {}", self.name);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// An HTTP client that never goes through a proxy: everything here is local.
fn http_client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// Polls `probe` until it returns `Some`, for at most `patience`.
#[track_caller]
fn wait_for<T>(what: &str, patience: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {patience:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------
// The Mamori server
// ---------------------------------------------------------------------------

struct Server {
    base: String,
    admin_email: String,
    admin_password: String,
    log: Arc<Mutex<Vec<String>>>,
    _process: KillOnDrop,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let port = free_port();
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data_dir)
            // SQLite in the data directory, always (see the top of the file).
            .env_remove("MAMORI_DATABASE_URL")
            .env_remove("MAMORI_DATA_DIR")
            .env_remove("MAMORI_LISTEN")
            .env_remove("MAMORI_SECURE_COOKIES")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mamori serve");
        let stderr = child.stderr.take().expect("stderr is piped");
        let process = KillOnDrop {
            child,
            name: "mamori serve",
        };

        // Read stderr to the end on a thread (so the server never blocks on
        // a full pipe), passing each line on and keeping a copy for failures.
        let log = Arc::new(Mutex::new(Vec::new()));
        let (lines_tx, lines) = mpsc::channel::<String>();
        let log_writer = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut log) = log_writer.lock() {
                    log.push(line.clone());
                }
                let _ = lines_tx.send(line);
            }
        });

        // The one-time administrator password, printed on first start.
        let mut admin_email = None;
        let mut admin_password = None;
        let deadline = Instant::now() + START_PATIENCE;
        while admin_email.is_none() || admin_password.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(v) = line.strip_prefix("    e-mail:") {
                        admin_email = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("    password:") {
                        admin_password = Some(v.trim().to_string());
                    }
                }
                Err(e) => panic!(
                    "no administrator password from mamori serve ({e:?}); its stderr:\n{}",
                    log.lock().map(|l| l.join("\n")).unwrap_or_default()
                ),
            }
        }
        let mut server = Server {
            base: format!("http://127.0.0.1:{port}"),
            admin_email: admin_email.unwrap_or_default(),
            admin_password: admin_password.unwrap_or_default(),
            log,
            _process: process,
        };
        assert_eq!(server.admin_email, "admin@mamori.local");
        assert!(
            server.admin_password.len() >= 12,
            "password {:?}",
            server.admin_password
        );

        let client = http_client();
        let healthz = format!("{}/healthz", server.base);
        wait_for("mamori /healthz", START_PATIENCE, || {
            if let Ok(Some(status)) = server._process.child.try_wait() {
                panic!(
                    "mamori serve exited with {status}; stderr:\n{}",
                    server.stderr()
                );
            }
            client
                .get(&healthz)
                .timeout(Duration::from_secs(2))
                .send()
                .ok()
                .filter(|r| r.status().is_success())
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn stderr(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------
// WebDriver
// ---------------------------------------------------------------------------

struct Driver {
    base: String,
    client: Client,
    _process: KillOnDrop,
}

impl Driver {
    fn start() -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut driver = Driver {
            base: format!("http://127.0.0.1:{port}"),
            client: http_client(),
            _process: KillOnDrop {
                child,
                name: "chromedriver",
            },
        };
        let status = format!("{}/status", driver.base);
        wait_for("chromedriver /status", PATIENCE, || {
            if let Ok(Some(status)) = driver._process.child.try_wait() {
                panic!("chromedriver exited with {status}");
            }
            let response = driver
                .client
                .get(&status)
                .timeout(Duration::from_secs(2))
                .send()
                .ok()?;
            let body: Value = response.json().ok()?;
            (body["value"]["ready"] == true).then_some(())
        });
        driver
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = response.status();
        let body: Value = response
            .json()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e})"));
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status}: {}",
            body["value"]
        );
        body["value"].clone()
    }

    fn new_session(&self, profile_dir: &Path) -> Session<'_> {
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            // Everything is on 127.0.0.1: never use a proxy from the environment.
            "--no-proxy-server".into(),
            "--window-size=1400,1000".into(),
            format!("--user-data-dir={}", profile_dir.display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                    "timeouts": { "pageLoad": 30_000, "script": 10_000, "implicit": 0 }
                }
            }
        });
        let value = self.call(reqwest::Method::POST, "/session", Some(capabilities));
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {value}"))
            .to_string();
        Session { driver: self, id }
    }
}

/// A browser session; deleted (closing Chromium) when dropped.
struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.driver.base, self.id);
        let _ = self
            .driver
            .client
            .delete(url)
            .timeout(Duration::from_secs(10))
            .send();
    }
}

impl Session<'_> {
    fn get(&self, path: &str) -> Value {
        self.driver.call(
            reqwest::Method::GET,
            &format!("/session/{}{path}", self.id),
            None,
        )
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.driver.call(
            reqwest::Method::POST,
            &format!("/session/{}{path}", self.id),
            Some(body),
        )
    }

    fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    fn current_url(&self) -> String {
        self.get("/url").as_str().unwrap_or_default().to_string()
    }

    fn source(&self) -> String {
        self.get("/source").as_str().unwrap_or_default().to_string()
    }

    /// The element `css` selects, waiting for it to appear.
    #[track_caller]
    fn element(&self, css: &str) -> String {
        let path = format!("{}/session/{}/element", self.driver.base, self.id);
        let body = json!({ "using": "css selector", "value": css });
        wait_for(
            &format!("element {css} on {}", self.current_url()),
            PATIENCE,
            || {
                let response = self.driver.client.post(&path).json(&body).send().ok()?;
                if !response.status().is_success() {
                    return None;
                }
                let value: Value = response.json().ok()?;
                value["value"][ELEMENT_KEY].as_str().map(str::to_string)
            },
        )
    }

    fn text(&self, css: &str) -> String {
        let id = self.element(css);
        self.get(&format!("/element/{id}/text"))
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Waits until the text of `css` satisfies `ok`; returns it.
    #[track_caller]
    fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            // The element may be replaced by a navigation between the two calls.
            let id = self.element(css);
            let path = format!("{}/session/{}/element/{id}/text", self.driver.base, self.id);
            if let Ok(response) = self.driver.client.get(&path).send() {
                if let Ok(value) = response.json::<Value>() {
                    if let Some(text) = value["value"].as_str() {
                        last = text.trim().to_string();
                        if ok(&last) {
                            return last;
                        }
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css} on {}: expected {what}, last saw {last:?}",
                self.current_url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn clear_and_type(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.post(&format!("/element/{id}/clear"), json!({}));
        self.post(&format!("/element/{id}/value"), json!({ "text": text }));
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.post(&format!("/element/{id}/click"), json!({}));
    }

    fn is_selected(&self, css: &str) -> bool {
        let id = self.element(css);
        self.get(&format!("/element/{id}/selected")) == true
    }

    /// Ticks a checkbox (leaves it ticked if it already is).
    fn tick(&self, css: &str) {
        if !self.is_selected(css) {
            self.click(css);
        }
        assert!(self.is_selected(css), "{css} is ticked");
    }

    fn value_of(&self, css: &str) -> String {
        let id = self.element(css);
        self.get(&format!("/element/{id}/property/value"))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn screenshot(&self, dir: Option<&Path>, name: &str) {
        let png = self.get("/screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 screenshot"))
            .expect("valid base64");
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).expect("screenshot dir");
            let path = dir.join(name);
            std::fs::write(&path, &png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            println!("screenshot: {}", path.display());
        }
    }
}

fn total_vendors(session: &Session<'_>, expected: u64) {
    let text = session.wait_text("#total-vendors", &format!("{expected} vendors"), |t| {
        t.replace(',', "") == expected.to_string()
    });
    assert_eq!(text.replace(',', ""), expected.to_string());
}

#[test]
fn browser_signs_in_adds_a_critical_vendor_and_sees_the_dashboard() {
    let installed = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !installed {
        if std::env::var_os("CI").is_some() {
            panic!("{CHROMIUM} and {CHROMEDRIVER} are required on CI");
        }
        println!("skipping browser test: chromium/chromedriver not installed");
        return;
    }
    let screenshots: Option<PathBuf> = std::env::var_os("MAMORI_SCREENSHOT_DIR").map(PathBuf::from);
    let tmp = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();

    // Dropped in reverse order: the browser session first, then chromedriver,
    // then the server.
    let server = Server::start(&tmp.path().join("data"));
    println!(
        "mamori serve ready in {:.1} s at {}",
        started.elapsed().as_secs_f64(),
        server.base
    );
    let driver = Driver::start();
    let browser = driver.new_session(&tmp.path().join("chromium-profile"));

    // Signing in.
    browser.open(&server.url("/login"));
    browser.clear_and_type("#email", &server.admin_email);
    browser.clear_and_type("#password", &server.admin_password);
    browser.click("#sign-in");
    wait_for("the dashboard after signing in", PATIENCE, || {
        (!browser.current_url().contains("/login")).then_some(())
    });
    total_vendors(&browser, DEMO_VENDORS);

    // A new vendor: 250,000 patients' PHI stored and processed, and a
    // patient-care service that may be down 4 hours at most.
    browser.open(&server.url("/vendors/new"));
    browser.clear_and_type("#legal_name", VENDOR_NAME);
    browser.clear_and_type("#owner_email", "telehealth.owner@hospital.example");
    browser.click("#flow_0_class option[value=\"phi\"]");
    assert_eq!(browser.value_of("#flow_0_class"), "phi");
    browser.tick("#flow_0_store");
    browser.tick("#flow_0_process");
    browser.clear_and_type("#flow_0_records", "250000");
    browser.clear_and_type("#svc_0_name", "Virtual visits");
    browser.tick("#svc_0_care");
    browser.clear_and_type("#svc_0_mtd", "4");
    browser.click("#save-vendor");

    let tier = browser.wait_text("#vendor-tier", "the tier \"Critical\"", |t| t == "Critical");
    assert_eq!(tier, "Critical");
    let name = browser.text("#vendor-name");
    assert!(name.contains(VENDOR_NAME), "{name}");
    let summary = browser.text("#tier-summary");
    let lower = summary.to_lowercase();
    assert!(
        summary.contains("PHI") || lower.contains("patient care"),
        "the tier summary explains the tier: {summary:?}"
    );
    assert!(
        browser.current_url().contains("/vendors/"),
        "on the vendor page: {}",
        browser.current_url()
    );
    browser.screenshot(screenshots.as_deref(), "vendor.png");

    // The dashboard counts it.
    browser.open(&server.url("/"));
    total_vendors(&browser, DEMO_VENDORS + 1);
    browser.screenshot(screenshots.as_deref(), "dashboard.png");

    // A Japanese reader.
    browser.open(&server.url("/lang/ja?next=/"));
    wait_for("the Japanese dashboard", PATIENCE, || {
        browser.source().contains("ダッシュボード").then_some(())
    });
    let source = browser.source();
    assert!(
        source.contains("lang=\"ja\""),
        "the page is marked Japanese"
    );
    total_vendors(&browser, DEMO_VENDORS + 1);
    // And back to English.
    browser.open(&server.url("/lang/en?next=/"));
    wait_for("the English dashboard", PATIENCE, || {
        browser.source().contains("Dashboard").then_some(())
    });

    println!(
        "browser test done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(browser);
    drop(driver);
    let log = server.stderr();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
}
