//! The `mamori` command line, end to end: every test runs the real binary
//! (`CARGO_BIN_EXE_mamori`) in a temporary directory of its own.
//!
//! Backend: by default each test gets an SQLite database in its own data
//! directory (`--data-dir DIR`). When `MAMORI_TEST_DATABASE_URL` is a
//! `postgres://` URL, the database-touching tests instead create a fresh
//! PostgreSQL database per test (`CREATE DATABASE mamori_cli_<random>`), pass
//! it with `--database-url`, and drop it afterwards. Each test prints the
//! backend it ran on (visible with `-- --nocapture`).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

const BIN: &str = env!("CARGO_BIN_EXE_mamori");
const TEST_DATABASE_ENV: &str = "MAMORI_TEST_DATABASE_URL";
/// No single command of these tests should come near this; it only stops a
/// hung binary from hanging the test run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
const CATEGORIES: [&str; 7] = [
    "cybersecurity",
    "reputational",
    "compliance",
    "privacy",
    "operational",
    "strategic",
    "financial",
];
const TIERS: [&str; 4] = ["low", "moderate", "high", "critical"];

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    what: String,
}

impl Output {
    /// Asserts exit code 0.
    #[track_caller]
    fn success(self) -> Output {
        assert_eq!(
            self.code,
            Some(0),
            "`{}` failed\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts the given exit code.
    #[track_caller]
    fn exit_code(self, code: i32) -> Output {
        assert_eq!(
            self.code,
            Some(code),
            "`{}`: expected exit code {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs a command to completion (bounded by `COMMAND_TIMEOUT`), feeding
/// `stdin` and collecting both output streams on threads so a chatty child
/// can never block on a full pipe.
fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    let what = format!("{cmd:?}");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let collect = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = collect(Box::new(child.stdout.take().expect("stdout is piped")));
    let err = collect(Box::new(child.stderr.take().expect("stderr is piped")));
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{what}` did not finish within {COMMAND_TIMEOUT:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for `{what}`: {e}"),
        }
    };
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    Output {
        code: status.code(),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
        what,
    }
}

/// A `mamori` command with no database chosen and the MAMORI_* environment
/// of the developer's shell removed, so only the flags given count.
fn mamori_bare(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .env_remove("MAMORI_DATABASE_URL")
        .env_remove("MAMORI_DATA_DIR")
        .env_remove("MAMORI_LISTEN");
    cmd
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:x}_{:x}_{}",
        nanos & 0xffff_ffff_ffff,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

// ---------------------------------------------------------------------------
// A database per test
// ---------------------------------------------------------------------------

enum Backend {
    Sqlite,
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

/// The PostgreSQL URL tests should use, if any (same rule as
/// `mamori_store::test_support::postgres_url`).
fn postgres_admin_url() -> Option<String> {
    std::env::var(TEST_DATABASE_ENV)
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[authority_start..]
        .find('/')
        .map(|i| authority_start + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// One test's world: a temporary directory (the working directory of every
/// command, and the home of the SQLite data directory and of test files) and
/// the database the commands use.
struct TestDb {
    dir: tempfile::TempDir,
    backend: Backend,
}

impl TestDb {
    /// The backend the environment asks for.
    fn new(test: &str) -> TestDb {
        match postgres_admin_url() {
            Some(admin_url) => {
                let name = format!("mamori_cli_{}", unique_suffix());
                block_on(async {
                    let mut conn = PgConnection::connect(&admin_url)
                        .await
                        .unwrap_or_else(|e| panic!("cannot connect to {TEST_DATABASE_ENV}: {e}"));
                    conn.execute(format!("CREATE DATABASE {name}").as_str())
                        .await
                        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                    let _ = conn.close().await;
                });
                let url = with_database_name(&admin_url, &name);
                println!("[{test}] backend: PostgreSQL (database {name})");
                TestDb {
                    dir: tempfile::tempdir().expect("temp dir"),
                    backend: Backend::Postgres {
                        admin_url,
                        name,
                        url,
                    },
                }
            }
            None => Self::sqlite(test),
        }
    }

    /// SQLite in `<tmp>/data`, whatever the environment says.
    fn sqlite(test: &str) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        println!(
            "[{test}] backend: SQLite ({})",
            dir.path().join("data").display()
        );
        TestDb {
            dir,
            backend: Backend::Sqlite,
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn sqlite_file(&self) -> PathBuf {
        self.data_dir().join("mamori.db")
    }

    /// A path for a test file in the temporary directory.
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.file(name);
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// `mamori <database flag> ARGS…`, the database flag before the
    /// subcommand.
    fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = mamori_bare(self.dir.path());
        match &self.backend {
            Backend::Sqlite => cmd.arg("--data-dir").arg(self.data_dir()),
            Backend::Postgres { url, .. } => cmd.arg("--database-url").arg(url),
        };
        cmd.args(args);
        cmd
    }

    fn mamori<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        run(&mut self.cmd(args), None)
    }

    fn mamori_env<I, S>(&self, args: I, env: &[(&str, &str)]) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.cmd(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd, None)
    }

    fn mamori_stdin<I, S>(&self, args: I, stdin: &str) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        run(&mut self.cmd(args), Some(stdin.as_bytes()))
    }

    /// `vendors list --json`, parsed.
    fn vendors(&self) -> Vec<Value> {
        parse_vendor_list(&self.mamori(["vendors", "list", "--json"]).success())
    }

    /// One integer from SQL with one text parameter, on whichever backend.
    fn sql_i64(&self, sql: &str, param: &str) -> i64 {
        block_on(async {
            match &self.backend {
                Backend::Sqlite => {
                    let mut conn = sqlite_connect(&self.sqlite_file()).await;
                    let n = sqlx::query_scalar::<_, i64>(sql)
                        .bind(param)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    let _ = conn.close().await;
                    n
                }
                Backend::Postgres { url, .. } => {
                    let mut conn = PgConnection::connect(url).await.expect("connect");
                    let n = sqlx::query_scalar::<_, i64>(sql)
                        .bind(param)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    let _ = conn.close().await;
                    n
                }
            }
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Backend::Postgres {
            admin_url, name, ..
        } = &self.backend
        {
            let result = block_on(async {
                let mut conn = PgConnection::connect(admin_url).await?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await?;
                conn.close().await
            });
            if let Err(e) = result {
                eprintln!("note: could not drop test database {name}: {e}");
            }
        }
    }
}

async fn sqlite_connect(file: &Path) -> SqliteConnection {
    let url = format!("sqlite://{}", file.display());
    let options = SqliteConnectOptions::from_str(&url)
        .expect("sqlite url")
        .create_if_missing(false);
    SqliteConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", file.display()))
}

#[track_caller]
fn parse_vendor_list(out: &Output) -> Vec<Value> {
    let value: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "`vendors list --json` printed no JSON ({e}):\n{}",
            out.stdout
        )
    });
    value.as_array().expect("a JSON array of vendors").clone()
}

fn names(vendors: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = vendors
        .iter()
        .map(|v| v["legal_name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

fn vendor<'a>(vendors: &'a [Value], legal_name: &str) -> &'a Value {
    vendors
        .iter()
        .find(|v| v["legal_name"] == legal_name)
        .unwrap_or_else(|| panic!("no vendor {legal_name:?} in {vendors:#?}"))
}

/// The number before `label` in an import summary such as
/// `f.csv: 4 rows read, 4 created, 0 updated, 0 unchanged, 0 skipped in 0.01 s`.
#[track_caller]
fn count_before(text: &str, label: &str) -> usize {
    let at = text
        .find(&format!(" {label}"))
        .unwrap_or_else(|| panic!("no '{label}' in {text:?}"));
    let digits: String = text[..at]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number before '{label}' in {text:?}"))
}

// ---------------------------------------------------------------------------
// Inventory files
// ---------------------------------------------------------------------------

fn template_header() -> String {
    mamori_formats::TEMPLATE_COLUMNS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// One CSV line in template column order; unnamed columns stay empty.
fn csv_row(cells: &[(&str, &str)]) -> String {
    for (name, _) in cells {
        assert!(
            mamori_formats::TEMPLATE_COLUMNS
                .iter()
                .any(|c| c.name == *name),
            "{name} is not a template column"
        );
    }
    mamori_formats::TEMPLATE_COLUMNS
        .iter()
        .map(|c| {
            cells
                .iter()
                .find(|(name, _)| *name == c.name)
                .map(|(_, v)| csv_field(v))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_file(rows: &[String]) -> String {
    let mut out = template_header();
    out.push('\n');
    for row in rows {
        out.push_str(row);
        out.push('\n');
    }
    out
}

const CEDAR: &str = "Cedar Imaging Cloud, Inc.";
const HARBOR: &str = "Harbor Billing Partners LLC";
const SUMMIT: &str = "Summit Advisory LLC";
const MAPLE: &str = "Maple Scheduling Co";

/// Four valid vendors: one critical by the patient-care floor, one billing
/// house, one consultant with no data, and one that is Low by the default
/// bands (privacy 15, cybersecurity 5) but not by stricter ones.
fn good_inventory() -> String {
    csv_file(&[
        csv_row(&[
            ("external_id", "CLI-001"),
            ("legal_name", CEDAR),
            ("aliases", "Cedar PACS; CedarView"),
            ("domains", "cedarimaging.example"),
            ("vendor_type", "saas"),
            ("deployment", "public_cloud"),
            ("tenancy", "multi_tenant"),
            ("status", "active"),
            ("owner_email", "r.tanaka@hospital.example"),
            ("owner_name", "Rei Tanaka"),
            ("notes", "Cloud PACS for radiology.\nBAA signed in 2023."),
            ("service_name", "Radiology image archive"),
            ("max_downtime_hours", "4"),
            ("business_processes", "Radiology reading; Emergency imaging"),
            ("patient_care_impact", "yes"),
            ("patients_affected", "120000"),
            ("records_affected", "2500000"),
            ("revenue_dependency", "medium"),
            ("data_classes", "phi"),
            ("data_actions", "store; process"),
            ("record_count", "250,000"),
            ("data_locations", "US"),
            ("connectivity", "api_integration; network_access"),
            ("subprocessors", "Amazon Web Services"),
        ]),
        csv_row(&[
            ("external_id", "CLI-002"),
            ("legal_name", HARBOR),
            ("vendor_type", "billing_rcm"),
            ("deployment", "private_cloud"),
            ("tenancy", "single_tenant"),
            ("status", "onboarding"),
            ("owner_email", "m.sato@hospital.example"),
            ("service_name", "Claims submission"),
            ("max_downtime_hours", "72"),
            ("revenue_dependency", "high"),
            ("data_classes", "payment"),
            ("data_actions", "process"),
            ("record_count", "5000"),
            ("connectivity", "remote_admin"),
        ]),
        csv_row(&[
            ("legal_name", SUMMIT),
            ("vendor_type", "consulting"),
            ("status", "candidate"),
            ("owner_email", "ciso@hospital.example"),
        ]),
        csv_row(&[
            ("external_id", "CLI-004"),
            ("legal_name", MAPLE),
            ("vendor_type", "saas"),
            ("tenancy", "multi_tenant"),
            ("owner_email", "front.desk@hospital.example"),
            ("data_classes", "personal_data"),
            ("data_actions", "store"),
            ("record_count", "500"),
            ("data_locations", "US"),
        ]),
    ])
}

#[track_caller]
fn assert_well_formed(v: &Value) {
    let tier = v["tier"].as_str().unwrap_or_default();
    assert!(TIERS.contains(&tier), "bad tier in {v:#}");
    let scores = v["scores"]
        .as_object()
        .unwrap_or_else(|| panic!("no scores in {v:#}"));
    assert_eq!(scores.len(), CATEGORIES.len(), "scores of {v:#}");
    for category in CATEGORIES {
        let score = scores
            .get(category)
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("no {category} score in {v:#}"));
        assert!(score <= 100, "{category} score {score} in {v:#}");
    }
    assert!(
        v["policy_version"].as_str().is_some_and(|s| !s.is_empty()),
        "{v:#}"
    );
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn template_is_written_as_csv_and_xlsx() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("template.csv");
    let out = run(
        mamori_bare(dir.path())
            .args(["import", "vendors", "--template", "-o"])
            .arg(&csv),
        None,
    )
    .success();
    assert!(out.stderr.contains("wrote"), "{}", out.stderr);
    let text = fs::read_to_string(&csv).expect("template CSV");
    let header = text.lines().next().expect("a header line");
    assert_eq!(header, template_header());
    assert!(
        text.lines().count() >= 2,
        "the template has example rows:\n{text}"
    );

    let xlsx = dir.path().join("template.xlsx");
    run(
        mamori_bare(dir.path())
            .args(["import", "vendors", "--template", "--format", "xlsx", "-o"])
            .arg(&xlsx),
        None,
    )
    .success();
    let bytes = fs::read(&xlsx).expect("template XLSX");
    assert!(bytes.starts_with(b"PK"), "an XLSX is a ZIP file");
    assert!(bytes.len() > 1000, "XLSX of {} bytes", bytes.len());

    let out = run(
        mamori_bare(dir.path()).args([
            "import",
            "vendors",
            "--template",
            "--format",
            "ods",
            "-o",
            "x.ods",
        ]),
        None,
    )
    .exit_code(2);
    assert!(out.stderr.contains("ods"), "{}", out.stderr);

    // Writing a template opens no database.
    assert!(!dir.path().join("mamori-data").exists());

    // The template imports as it is.
    let db = TestDb::new("template_is_written_as_csv_and_xlsx");
    let out = db
        .mamori([Path::new("import"), Path::new("vendors"), &csv])
        .success();
    assert!(count_before(&out.stdout, "created") >= 1, "{}", out.stdout);
    let out = db
        .mamori([Path::new("import"), Path::new("vendors"), &xlsx])
        .success();
    assert_eq!(count_before(&out.stdout, "created"), 0, "{}", out.stdout);
}

#[test]
fn good_csv_imports_and_reimport_creates_no_duplicates() {
    let db = TestDb::new("good_csv_imports_and_reimport_creates_no_duplicates");
    let file = db.write("inventory.csv", good_inventory());
    let out = db
        .mamori([Path::new("import"), Path::new("vendors"), &file])
        .success();
    assert!(out.stdout.contains("4 rows read"), "{}", out.stdout);
    assert_eq!(count_before(&out.stdout, "created"), 4, "{}", out.stdout);

    let vendors = db.vendors();
    assert_eq!(names(&vendors), [CEDAR, HARBOR, MAPLE, SUMMIT]);
    for v in &vendors {
        assert_well_formed(v);
    }
    let cedar = vendor(&vendors, CEDAR);
    assert_eq!(cedar["tier"], "critical", "{cedar:#}");
    assert_eq!(cedar["owner_email"], "r.tanaka@hospital.example");
    assert_eq!(cedar["vendor_type"], "saas");
    assert!(cedar["scores"]["privacy"].as_u64() > Some(0), "{cedar:#}");
    let summit = vendor(&vendors, SUMMIT);
    assert_eq!(summit["tier"], "low", "{summit:#}");
    assert_eq!(summit["status"], "candidate");
    assert_eq!(vendor(&vendors, MAPLE)["tier"], "low");
    // Highest tier first.
    assert_eq!(vendors[0]["tier"], "critical");

    // The same file again: nothing new, nothing changed.
    let out = db
        .mamori([Path::new("import"), Path::new("vendors"), &file])
        .success();
    assert!(out.stdout.contains(" 0 created"), "{}", out.stdout);
    assert_eq!(count_before(&out.stdout, "unchanged"), 4, "{}", out.stdout);
    let again = db.vendors();
    assert_eq!(again.len(), 4);
    let ids = |vs: &[Value]| {
        let mut ids: Vec<String> = vs.iter().map(|v| v["id"].to_string()).collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&again),
        ids(&vendors),
        "re-import keeps the same vendors"
    );

    // Filters of `vendors list`.
    let critical = parse_vendor_list(
        &db.mamori(["vendors", "list", "--json", "--tier", "critical"])
            .success(),
    );
    assert!(critical.iter().all(|v| v["tier"] == "critical"));
    assert!(critical.iter().any(|v| v["legal_name"] == CEDAR));
    let found = parse_vendor_list(
        &db.mamori(["vendors", "list", "--json", "--search", "Summit"])
            .success(),
    );
    assert_eq!(names(&found), [SUMMIT]);
    let table = db.mamori(["vendors", "list"]).success();
    assert!(table.stdout.starts_with("TIER"), "{}", table.stdout);
    assert_eq!(table.stdout.lines().count(), 5, "{}", table.stdout);
}

#[test]
fn data_dir_is_accepted_after_the_subcommand() {
    // A flag-parsing test: always SQLite, the data directory is the point.
    let db = TestDb::sqlite("data_dir_is_accepted_after_the_subcommand");
    let file = db.write("inventory.csv", good_inventory());
    let data = db.data_dir();
    let out = run(
        mamori_bare(db.dir.path())
            .args(["import", "vendors"])
            .arg(&file)
            .arg("--data-dir")
            .arg(&data),
        None,
    )
    .success();
    assert_eq!(count_before(&out.stdout, "created"), 4, "{}", out.stdout);
    assert!(db.sqlite_file().is_file(), "the database is in --data-dir");
    let out = run(
        mamori_bare(db.dir.path())
            .args(["vendors", "list", "--json", "--data-dir"])
            .arg(&data),
        None,
    )
    .success();
    assert_eq!(parse_vendor_list(&out).len(), 4);
    assert!(
        !db.dir.path().join("mamori-data").exists(),
        "the default ./mamori-data must not be used when --data-dir is given"
    );

    // The environment variable works too, and the flag wins over it.
    let out = run(
        mamori_bare(db.dir.path())
            .env("MAMORI_DATA_DIR", &data)
            .args(["vendors", "list", "--json"]),
        None,
    )
    .success();
    assert_eq!(parse_vendor_list(&out).len(), 4);
    let other = db.dir.path().join("other");
    let out = run(
        mamori_bare(db.dir.path())
            .env("MAMORI_DATA_DIR", &data)
            .args(["vendors", "list", "--json", "--data-dir"])
            .arg(&other),
        None,
    )
    .success();
    assert_eq!(parse_vendor_list(&out).len(), 0);
}

#[test]
fn bad_csv_is_rejected_whole_unless_skip_invalid() {
    let db = TestDb::new("bad_csv_is_rejected_whole_unless_skip_invalid");
    let file = db.write(
        "bad.csv",
        csv_file(&[
            csv_row(&[
                ("legal_name", "Good One Inc"),
                ("vendor_type", "saas"),
                ("owner_email", "a@hospital.example"),
            ]),
            csv_row(&[
                ("legal_name", "Bad Records Inc"),
                ("vendor_type", "saas"),
                ("owner_email", "a@hospital.example"),
                ("data_classes", "phi"),
                ("data_actions", "store"),
                ("record_count", "-5"),
            ]),
            csv_row(&[
                ("legal_name", "Good Three Inc"),
                ("vendor_type", "iaas"),
                ("owner_email", "b@hospital.example"),
            ]),
            csv_row(&[
                ("legal_name", ""),
                ("vendor_type", "saas"),
                ("owner_email", "c@hospital.example"),
            ]),
        ]),
    );
    let import = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> =
            vec!["import".as_ref(), "vendors".as_ref(), file.as_os_str()];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        db.mamori(args)
    };

    let out = import(&[]).exit_code(2);
    // Rows are numbered as in a spreadsheet: the header is row 1.
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("record_count"))
        .unwrap_or_else(|| panic!("no record_count error:\n{}", out.stderr));
    assert!(line.contains("row 3"), "{line}");
    assert!(line.contains("-5"), "{line}");
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("row 5"))
        .unwrap_or_else(|| panic!("no error for row 5:\n{}", out.stderr));
    assert!(line.contains("legal_name"), "{line}");
    assert!(
        out.stderr.contains("nothing was imported"),
        "{}",
        out.stderr
    );
    assert!(db.vendors().is_empty(), "a rejected file imports nothing");

    // A dry run of a bad file reports the same errors and changes nothing.
    let out = import(&["--dry-run"]).exit_code(2);
    assert!(out.stderr.contains("row 3"), "{}", out.stderr);
    assert!(db.vendors().is_empty());
    // … and with --skip-invalid it says what would be imported.
    let out = import(&["--dry-run", "--skip-invalid"]).success();
    assert!(out.stdout.contains("dry run"), "{}", out.stdout);
    assert!(out.stdout.contains("2 valid rows"), "{}", out.stdout);
    assert!(db.vendors().is_empty(), "--dry-run changes nothing");

    let out = import(&["--skip-invalid"]).success();
    assert_eq!(count_before(&out.stdout, "created"), 2, "{}", out.stdout);
    assert_eq!(count_before(&out.stdout, "skipped"), 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("row 3"),
        "skipped rows are reported:\n{}",
        out.stderr
    );
    assert_eq!(names(&db.vendors()), ["Good One Inc", "Good Three Inc"]);

    // A good file under --dry-run: valid, and still nothing changes.
    let good = db.write("good.csv", good_inventory());
    let out = db
        .mamori([
            Path::new("import"),
            Path::new("vendors"),
            &good,
            Path::new("--dry-run"),
        ])
        .success();
    assert!(
        out.stdout.contains("dry run, 4 valid rows"),
        "{}",
        out.stdout
    );
    assert_eq!(db.vendors().len(), 2);

    // Not an inventory at all.
    let junk = db.write("junk.csv", "name,colour\nfoo,blue\n");
    let out = db
        .mamori([Path::new("import"), Path::new("vendors"), &junk])
        .exit_code(2);
    assert!(out.stderr.contains("junk.csv"), "{}", out.stderr);
    let missing = db.file("missing.csv");
    let out = db
        .mamori([Path::new("import"), Path::new("vendors"), &missing])
        .exit_code(2);
    assert!(out.stderr.contains("missing.csv"), "{}", out.stderr);
    assert_eq!(db.vendors().len(), 2);
}

#[test]
fn chpl_product_list_imports_as_vendors() {
    let db = TestDb::new("chpl_product_list_imports_as_vendors");
    let real = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/monitoring/onc-chpl_products-info.json");
    let (file, expected) = if real.is_file() {
        println!("using the real CHPL file {}", real.display());
        (real, Some(223))
    } else {
        println!(
            "skipping real CHPL file: not found at {}; using the small fixture",
            real.display()
        );
        (
            repo_root().join("crates/formats/tests/fixtures/chpl_products_small.json"),
            None,
        )
    };
    let owner = "it@hospital.example";
    let out = db
        .mamori([
            Path::new("import"),
            Path::new("chpl"),
            &file,
            Path::new("--owner"),
            Path::new(owner),
        ])
        .success();
    let created = count_before(&out.stdout, "created");
    if let Some(expected) = expected {
        assert_eq!(created, expected, "{}", out.stdout);
    }
    assert!(created > 0, "{}", out.stdout);
    let vendors = db.vendors();
    assert_eq!(vendors.len(), created);
    for v in &vendors {
        assert_well_formed(v);
        assert_eq!(v["owner_email"], owner, "{v:#}");
    }

    // Importing the list again creates nothing.
    let out = db
        .mamori([
            Path::new("import"),
            Path::new("chpl"),
            &file,
            Path::new("--owner"),
            Path::new(owner),
        ])
        .success();
    assert!(out.stdout.contains(" 0 created"), "{}", out.stdout);
    assert_eq!(db.vendors().len(), created);

    // Convert only.
    let converted = db.file("chpl.csv");
    db.mamori([
        Path::new("import"),
        Path::new("chpl"),
        &file,
        Path::new("--owner"),
        Path::new(owner),
        Path::new("-o"),
        &converted,
    ])
    .success();
    let csv = fs::read_to_string(&converted).expect("converted CSV");
    assert_eq!(csv.lines().next(), Some(template_header().as_str()));

    // Not a CHPL file; a bad owner address.
    let junk = db.write("junk.json", "{\"hello\": 1}");
    let out = db
        .mamori([
            Path::new("import"),
            Path::new("chpl"),
            &junk,
            Path::new("--owner"),
            Path::new(owner),
        ])
        .exit_code(2);
    assert!(
        out.stderr.contains("not a CHPL product list"),
        "{}",
        out.stderr
    );
    db.mamori([
        Path::new("import"),
        Path::new("chpl"),
        &file,
        Path::new("--owner"),
        Path::new("not-an-address"),
    ])
    .exit_code(2);
    assert_eq!(db.vendors().len(), created);
}

#[test]
fn policy_check_and_apply() {
    let db = TestDb::new("policy_check_and_apply");
    let policy_file = repo_root().join("policy/tiering.toml");
    let text = fs::read_to_string(&policy_file).expect("policy/tiering.toml");

    let out = db
        .mamori([Path::new("policy"), Path::new("check"), &policy_file])
        .success();
    assert!(
        out.stdout.contains("valid tiering policy"),
        "{}",
        out.stdout
    );

    // Bands that do not rise.
    let bands_line = text
        .lines()
        .find(|l| l.starts_with("bands"))
        .expect("a bands line")
        .to_string();
    let broken = db.write(
        "broken.toml",
        text.replace(
            &bands_line,
            "bands = { moderate = 25, high = 50, critical = 45 }",
        ),
    );
    let out = db
        .mamori([Path::new("policy"), Path::new("check"), &broken])
        .exit_code(2);
    assert!(out.stderr.contains("bands must rise"), "{}", out.stderr);
    assert!(out.stderr.contains("broken.toml"), "{}", out.stderr);
    // Not TOML at all.
    let garbage = db.write("garbage.toml", "version = \n[[[");
    db.mamori([Path::new("policy"), Path::new("check"), &garbage])
        .exit_code(2);

    let inventory = db.write("inventory.csv", good_inventory());
    db.mamori([Path::new("import"), Path::new("vendors"), &inventory])
        .success();
    let before = db.vendors();
    let default_version = before[0]["policy_version"].as_str().unwrap().to_string();
    assert!(
        text.contains(&format!("version = \"{default_version}\"")),
        "{default_version}"
    );

    // A broken policy is not applied.
    db.mamori([Path::new("policy"), Path::new("apply"), &broken])
        .exit_code(2);
    assert!(db
        .vendors()
        .iter()
        .all(|v| v["policy_version"] == default_version.as_str()));

    // Stricter bands (they must keep rising, so all three come down).
    let strict_version = "2026.12-cli-test-strict";
    let version_line = text
        .lines()
        .find(|l| l.starts_with("version"))
        .expect("a version line")
        .to_string();
    let strict = db.write(
        "strict.toml",
        text.replace(
            &bands_line,
            "bands = { moderate = 15, high = 30, critical = 40 }",
        )
        .replace(&version_line, &format!("version = \"{strict_version}\"")),
    );
    db.mamori([Path::new("policy"), Path::new("check"), &strict])
        .success();
    let out = db
        .mamori([Path::new("policy"), Path::new("apply"), &strict])
        .success();
    assert!(out.stdout.contains(strict_version), "{}", out.stdout);
    assert!(out.stdout.contains("4 vendors re-tiered"), "{}", out.stdout);
    let changes = count_before(&out.stdout, "tier changes");
    assert!(changes >= 1, "{}", out.stdout);

    let after = db.vendors();
    assert_eq!(after.len(), 4);
    for v in &after {
        assert_well_formed(v);
        assert_eq!(v["policy_version"], strict_version, "{v:#}");
        let old = vendor(&before, v["legal_name"].as_str().unwrap());
        let rank = |t: &Value| {
            TIERS
                .iter()
                .position(|x| *x == t.as_str().unwrap())
                .unwrap()
        };
        assert!(
            rank(&v["tier"]) >= rank(&old["tier"]),
            "stricter bands never lower a tier: {v:#}"
        );
        assert_eq!(v["scores"], old["scores"], "only the bands changed");
    }
    // Maple: privacy 15 was Low, is Moderate under the stricter bands.
    assert_eq!(vendor(&after, MAPLE)["tier"], "moderate");
    let moved = after
        .iter()
        .filter(|v| v["tier"] != vendor(&before, v["legal_name"].as_str().unwrap())["tier"])
        .count();
    assert_eq!(
        moved, changes,
        "the printed tier changes match the vendors that moved"
    );

    let out = db.mamori(["policy", "show"]).success();
    assert!(out.stdout.contains(strict_version), "{}", out.stdout);
}

#[test]
fn export_writes_json_csv_and_xlsx_that_reimport_unchanged() {
    let db = TestDb::new("export_writes_json_csv_and_xlsx_that_reimport_unchanged");
    let inventory = db.write("inventory.csv", good_inventory());
    db.mamori([Path::new("import"), Path::new("vendors"), &inventory])
        .success();
    let listed = db.vendors();

    let export = |format: &str| {
        let path = db.file(&format!("export.{format}"));
        db.mamori([
            Path::new("export"),
            Path::new("vendors"),
            Path::new("--format"),
            Path::new(format),
            Path::new("-o"),
            &path,
        ])
        .success();
        fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };

    let json: Value = serde_json::from_slice(&export("json")).expect("export.json is JSON");
    let json = json.as_array().expect("a JSON array");
    assert_eq!(json.len(), 4);
    for v in json {
        let listed = vendor(&listed, v["legal_name"].as_str().expect("legal_name"));
        assert_eq!(v["id"], listed["id"]);
        assert_eq!(v["tier"], listed["tier"]);
        assert_eq!(v["scores"], listed["scores"]);
    }

    let csv = String::from_utf8(export("csv")).expect("UTF-8 CSV");
    let header = csv.lines().next().expect("header");
    for column in mamori_formats::TEMPLATE_COLUMNS
        .iter()
        .map(|c| c.name)
        .chain(mamori_formats::ASSESSMENT_COLUMN_NAMES.iter().copied())
    {
        assert!(
            header.split(',').any(|h| h == column),
            "{column} missing from {header}"
        );
    }
    assert!(csv.contains("Cedar Imaging Cloud"), "{csv}");

    let xlsx = export("xlsx");
    assert!(xlsx.starts_with(b"PK"), "XLSX is a ZIP file");

    // To standard output when no file is named.
    let out = db
        .mamori(["export", "vendors", "--format", "csv"])
        .success();
    assert_eq!(out.stdout, csv);

    for file in ["export.csv", "export.xlsx"] {
        let out = db
            .mamori([Path::new("import"), Path::new("vendors"), &db.file(file)])
            .success();
        assert!(out.stdout.contains(" 0 created"), "{file}: {}", out.stdout);
        assert_eq!(
            count_before(&out.stdout, "unchanged"),
            4,
            "{file}: {}",
            out.stdout
        );
    }
    assert_eq!(db.vendors().len(), 4);

    let out = db
        .mamori(["export", "vendors", "--format", "pdf"])
        .exit_code(2);
    assert!(out.stderr.contains("pdf"), "{}", out.stderr);
}

#[test]
fn admin_create_user_reads_the_password_from_stdin() {
    let db = TestDb::new("admin_create_user_reads_the_password_from_stdin");
    let users = |email: &str| db.sql_i64("SELECT COUNT(*) FROM users WHERE email = $1", email);

    let out = db
        .mamori_stdin(
            [
                "admin",
                "create-user",
                "--email",
                "x@h.example",
                "--role",
                "auditor",
            ],
            "correct horse battery staple\n",
        )
        .success();
    assert!(out.stdout.contains("x@h.example"), "{}", out.stdout);
    assert!(out.stdout.contains("auditor"), "{}", out.stdout);
    assert_eq!(users("x@h.example"), 1);
    assert_eq!(
        db.sql_i64(
            "SELECT COUNT(*) FROM users WHERE email = $1 AND role = 'auditor'",
            "x@h.example"
        ),
        1
    );
    // The first start also created the administrator, whose password is shown once.
    assert!(out.stderr.contains("admin@mamori.local"), "{}", out.stderr);
    assert_eq!(users("admin@mamori.local"), 1);

    // Too short.
    let out = db
        .mamori_stdin(
            [
                "admin",
                "create-user",
                "--email",
                "y@h.example",
                "--role",
                "auditor",
            ],
            "short pw\n",
        )
        .exit_code(2);
    assert!(out.stderr.contains("12"), "{}", out.stderr);
    assert_eq!(users("y@h.example"), 0);
    // Eleven characters is still too short; a password is never echoed.
    let out = db
        .mamori_stdin(
            [
                "admin",
                "create-user",
                "--email",
                "y@h.example",
                "--role",
                "auditor",
            ],
            "elevenchars",
        )
        .exit_code(2);
    assert!(!out.stderr.contains("elevenchars") && !out.stdout.contains("elevenchars"));
    assert_eq!(users("y@h.example"), 0);

    // Unknown role, bad address, duplicate.
    db.mamori_stdin(
        [
            "admin",
            "create-user",
            "--email",
            "z@h.example",
            "--role",
            "overlord",
        ],
        "correct horse battery staple",
    )
    .exit_code(2);
    db.mamori_stdin(
        [
            "admin",
            "create-user",
            "--email",
            "not-an-address",
            "--role",
            "auditor",
        ],
        "correct horse battery staple",
    )
    .exit_code(2);
    let out = db
        .mamori_stdin(
            [
                "admin",
                "create-user",
                "--email",
                "x@h.example",
                "--role",
                "auditor",
            ],
            "another long password",
        )
        .exit_code(2);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(users("x@h.example"), 1);
    assert_eq!(users("z@h.example"), 0);
}

#[test]
fn mistyped_database_url_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    for url in [
        "postgress://x",
        "postgress://mamori:s3cret-pw@db.example/mamori",
        "sqlit://mamori.db",
        "mamori.db",
    ] {
        let out = run(
            mamori_bare(dir.path()).args(["vendors", "list", "--database-url", url]),
            None,
        )
        .exit_code(2);
        assert!(
            out.stderr.contains("not understood"),
            "{url}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("s3cret-pw"),
            "the password is redacted: {}",
            out.stderr
        );
        // The same, given before the subcommand and through the environment.
        run(
            mamori_bare(dir.path()).args(["--database-url", url, "vendors", "list"]),
            None,
        )
        .exit_code(2);
        run(
            mamori_bare(dir.path())
                .env("MAMORI_DATABASE_URL", url)
                .args(["vendors", "list"]),
            None,
        )
        .exit_code(2);
    }
    let left: Vec<_> = fs::read_dir(dir.path())
        .expect("read temp dir")
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .expect("dir entries");
    assert!(
        left.is_empty(),
        "a bad URL must create nothing, found {left:?}"
    );
}

/// Kills `mamori import vendors BIG.csv` with SIGKILL at several moments and
/// checks that every vendor of the file is there or none is, and that the
/// SQLite file stays intact.
#[test]
fn sigkill_during_import_leaves_the_database_consistent() {
    const ROWS: usize = 60_000;
    if postgres_admin_url().is_some() {
        println!(
            "skipping sigkill_during_import_leaves_the_database_consistent on PostgreSQL: \
             it checks the embedded SQLite file; run without {TEST_DATABASE_ENV} to run it"
        );
        return;
    }
    let db = TestDb::sqlite("sigkill_during_import_leaves_the_database_consistent");
    let mut csv = template_header();
    csv.push('\n');
    for i in 0..ROWS {
        let row = csv_row(&[
            ("external_id", &format!("BIG-{i:05}")),
            ("legal_name", &format!("Bulk Vendor {i:05} Inc")),
            ("vendor_type", "saas"),
            ("deployment", "public_cloud"),
            ("tenancy", "multi_tenant"),
            ("owner_email", &format!("owner{}@hospital.example", i % 40)),
            ("service_name", "Hosted service"),
            ("max_downtime_hours", "24"),
            ("business_processes", "Scheduling; Billing"),
            ("patient_care_impact", if i % 2 == 0 { "yes" } else { "no" }),
            ("revenue_dependency", "low"),
            ("data_classes", "phi"),
            ("data_actions", "store; process"),
            ("record_count", &(1000 + i).to_string()),
            ("data_locations", "US"),
            ("connectivity", "api_integration"),
            ("subprocessors", "Amazon Web Services"),
        ]);
        csv.push_str(&row);
        csv.push('\n');
    }
    let big = db.write("big.csv", csv);
    let wal = db.data_dir().join("mamori.db-wal");

    // First start (migrations, administrator) outside the kills, so every
    // kill lands in the import.
    assert!(db.vendors().is_empty());

    let check = |when: &str| -> i64 {
        let counts = block_on(async {
            let mut conn = sqlite_connect(&db.sqlite_file()).await;
            let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_all(&mut conn)
                .await
                .expect("PRAGMA integrity_check");
            assert_eq!(integrity, ["ok"], "{when}: integrity_check");
            let fk: Vec<sqlx::sqlite::SqliteRow> = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&mut conn)
                .await
                .expect("PRAGMA foreign_key_check");
            assert!(fk.is_empty(), "{when}: {} foreign key violations", fk.len());
            let mut counts = Vec::new();
            // Imports record no tier changes (the vendor row carries the
            // policy version), so those three tables are the whole import.
            for table in ["vendors", "services", "data_flows"] {
                let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&mut conn)
                    .await
                    .expect("count");
                counts.push((table, n));
            }
            let _ = conn.close().await;
            counts
        });
        for (table, n) in &counts {
            assert!(
                *n == 0 || *n == ROWS as i64,
                "{when}: {table} holds {n} rows, neither 0 nor {ROWS}: a partial import"
            );
        }
        let vendors = counts[0].1;
        assert!(
            counts.iter().all(|(_, n)| *n == vendors),
            "{when}: {counts:?}"
        );
        // And the CLI agrees. Listing 60,000 vendors as JSON is slow, so a
        // complete import is checked with one search instead.
        if vendors == 0 {
            assert!(db.vendors().is_empty(), "{when}: vendors list --json");
        } else {
            let found = parse_vendor_list(
                &db.mamori(["vendors", "list", "--json", "--search", "Bulk Vendor 59999"])
                    .success(),
            );
            assert_eq!(names(&found), ["Bulk Vendor 59999 Inc"], "{when}");
        }
        println!("{when}: {vendors} vendors; integrity ok");
        vendors
    };

    let spawn = || {
        db.cmd([Path::new("import"), Path::new("vendors"), &big])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the import")
    };

    // Kills at fixed moments. In a debug build these land while the file is
    // read and validated, before the write transaction begins.
    let mut complete = false;
    for delay_ms in [300u64, 550, 800] {
        let mut child = spawn();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let finished = child.try_wait().expect("try_wait").is_some();
        child.kill().expect("SIGKILL"); // SIGKILL on Unix
        child.wait().expect("wait");
        if finished {
            println!("note: the import finished within {delay_ms} ms");
        }
        complete |= check(&format!("SIGKILL after {delay_ms} ms")) == ROWS as i64;
    }

    // Kills in the middle of the write transaction: once the write-ahead log
    // has grown by N MiB, the import is writing rows (a complete import
    // writes about 300 MiB).
    for grown_mib in [4u64, 48] {
        if complete {
            break;
        }
        let start_len = fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let mut child = spawn();
        let started = Instant::now();
        let deadline = started + COMMAND_TIMEOUT;
        let exited = loop {
            if child.try_wait().expect("try_wait").is_some() {
                break true;
            }
            let len = fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
            if len > start_len + grown_mib * 1024 * 1024 {
                break false;
            }
            assert!(
                Instant::now() < deadline,
                "the import neither wrote nor finished"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let _ = child.kill();
        child.wait().expect("wait");
        let when = format!(
            "SIGKILL after the WAL grew {grown_mib} MiB ({} ms)",
            started.elapsed().as_millis()
        );
        if exited {
            println!("note: the import finished before the WAL grew {grown_mib} MiB");
        }
        complete |= check(&when) == ROWS as i64;
    }

    // Undisturbed, the same file imports completely (so a count of 0 above
    // was a rolled-back import, not a file the importer rejects).
    if !complete {
        let out = db
            .mamori([Path::new("import"), Path::new("vendors"), &big])
            .success();
        assert_eq!(count_before(&out.stdout, "created"), ROWS, "{}", out.stdout);
    }
    assert_eq!(check("after a complete import"), ROWS as i64);
}

// ---------------------------------------------------------------------------
// Frameworks and questionnaires
// ---------------------------------------------------------------------------

/// `../shared/data/<sub>` next to the repository, when present.
fn shared_data(sub: &str) -> Option<PathBuf> {
    let dir = repo_root().join("../shared/data").join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping the real files of {sub}: {} not found",
            dir.display()
        );
        None
    }
}

/// The number after `label ` in a summary such as
/// `questions per depth: lite 41, standard 97, full 155`.
#[track_caller]
fn count_after(text: &str, label: &str) -> usize {
    let at = text
        .find(&format!(" {label} "))
        .unwrap_or_else(|| panic!("no '{label}' in {text:?}"));
    let digits: String = text[at + label.len() + 2..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after '{label}' in {text:?}"))
}

/// The rows of a `frameworks list` or `questionnaires list` table whose first
/// column is `key`, split into columns.
fn table_rows<'a>(stdout: &'a str, key: &str) -> Vec<Vec<&'a str>> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.first() == Some(&key))
        .collect()
}

#[test]
fn frameworks_import_and_list() {
    let db = TestDb::new("frameworks_import_and_list");

    // Before any import: the compiled-in CSF 2.0 index, no mappings.
    let out = db.mamori(["frameworks", "list"]).success();
    let builtin: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.ends_with("(built in)"))
        .collect();
    assert_eq!(builtin.len(), 1, "{}", out.stdout);
    assert!(builtin[0].starts_with("nist-csf-2.0 "), "{}", out.stdout);
    assert!(
        out.stdout.contains("no framework mappings"),
        "{}",
        out.stdout
    );

    // A file that is no framework: refused, and the error names it.
    let junk = db.write("vendor-notes.csv", "name,comment\nAcme,fine\n");
    let out = db
        .mamori([Path::new("frameworks"), Path::new("import"), &junk])
        .exit_code(2);
    assert!(out.stderr.contains("vendor-notes.csv"), "{}", out.stderr);
    let missing = db.file("no-such-catalog.xml");
    let out = db
        .mamori([Path::new("frameworks"), Path::new("import"), &missing])
        .exit_code(2);
    assert!(out.stderr.contains("no-such-catalog.xml"), "{}", out.stderr);

    let Some(dir) = shared_data("frameworks") else {
        return;
    };
    let import = |name: &str| {
        db.mamori([
            Path::new("frameworks"),
            Path::new("import"),
            &dir.join(name),
        ])
        .success()
    };

    let out = import("NIST_CSF_v2.0_catalog.xml");
    assert!(
        out.stdout.contains("imported framework nist-csf-2.0 "),
        "{}",
        out.stdout
    );
    let csf2_elements = count_before(&out.stdout, "elements");
    assert_eq!(count_before(&out.stdout, "function"), 6, "{}", out.stdout);
    assert!(
        count_before(&out.stdout, "subcategory") >= 106,
        "{}",
        out.stdout
    );

    let out = import("csf-1.1-core.csv");
    assert!(
        out.stdout.contains("imported framework nist-csf-1.1 "),
        "{}",
        out.stdout
    );
    let csf11_elements = count_before(&out.stdout, "elements");
    assert_eq!(count_before(&out.stdout, "function"), 5, "{}", out.stdout);
    assert_eq!(count_before(&out.stdout, "category"), 23, "{}", out.stdout);
    assert_eq!(
        count_before(&out.stdout, "subcategory"),
        108,
        "{}",
        out.stdout
    );

    let out = import("csf-1.1_to_csf-2.0.csv");
    assert!(
        out.stdout.contains("nist-csf-1.1 → nist-csf-2.0"),
        "{}",
        out.stdout
    );
    let mappings = count_before(&out.stdout, "mappings");
    assert!(mappings > 100, "{}", out.stdout);

    let out = db.mamori(["frameworks", "list"]).success();
    // KEY VERSION ELEMENTS NAME…: the stored CSF 2.0 next to the built-in one.
    let csf2 = table_rows(&out.stdout, "nist-csf-2.0");
    assert_eq!(csf2.len(), 2, "{}", out.stdout);
    assert!(
        csf2.iter()
            .any(|cols| cols[2] == csf2_elements.to_string() && !cols.contains(&"(built in)")),
        "{}",
        out.stdout
    );
    let csf11 = table_rows(&out.stdout, "nist-csf-1.1");
    // One framework row and one mapping row (FROM TO COUNT).
    assert!(
        csf11
            .iter()
            .any(|cols| cols[2] == csf11_elements.to_string()),
        "{}",
        out.stdout
    );
    assert!(
        csf11
            .iter()
            .any(|cols| cols[1] == "nist-csf-2.0" && cols[2] == mappings.to_string()),
        "{}",
        out.stdout
    );

    // Importing again replaces rather than adds.
    import("csf-1.1_to_csf-2.0.csv");
    import("csf-1.1-core.csv");
    let again = db.mamori(["frameworks", "list"]).success();
    assert_eq!(again.stdout, out.stdout);
}

/// A one-question template, valid unless `extra` breaks it.
fn small_template(version: &str, extra: &str) -> String {
    format!(
        r#"key = "cli-test"
version = "{version}"
title = {{ en = "CLI test questionnaire", ja = "CLI テスト質問票" }}

[[question]]
id = "access.mfa"
type = "yes_no"
text = {{ en = "Do you require multi-factor authentication?", ja = "多要素認証を必須にしていますか?" }}
csf = ["PR.AA-03"]
weight = 5
pass = ["yes"]
{extra}"#
    )
}

#[test]
fn questionnaires_list_check_import_and_sheet() {
    let db = TestDb::new("questionnaires_list_check_import_and_sheet");

    // The shipped baseline checks, with its questions per depth.
    let baseline = repo_root().join("content/questionnaires/healthcare-baseline.toml");
    let out = db
        .mamori([Path::new("questionnaires"), Path::new("check"), &baseline])
        .success();
    assert!(out.stdout.contains("valid questionnaire"), "{}", out.stdout);
    let per_depth: Vec<(String, usize)> = ["lite", "standard", "full"]
        .iter()
        .map(|d| {
            (
                format!("healthcare-baseline/{d}"),
                count_after(&out.stdout, d),
            )
        })
        .collect();
    assert!(
        per_depth[0].1 < per_depth[1].1 && per_depth[1].1 < per_depth[2].1,
        "{}",
        out.stdout
    );

    // The built-in templates are there from the first start: three depths.
    let out = db.mamori(["questionnaires", "list"]).success();
    for (key, questions) in &per_depth {
        let rows = table_rows(&out.stdout, key);
        assert_eq!(rows.len(), 1, "{key}:\n{}", out.stdout);
        // KEY VERSION ORIGIN QUESTIONS TITLE…
        assert_eq!(rows[0][2], "builtin", "{}", out.stdout);
        assert_eq!(rows[0][3], questions.to_string(), "{}", out.stdout);
    }

    // Broken files: non-zero exit, the message names the question.
    let gate = small_template(
        "1",
        r#"
[[question]]
id = "access.mfa_scope"
type = "text"
text = { en = "Which systems?" }
show_if = { question = "access.sso", any = ["yes"] }
"#,
    );
    let file = db.write("broken-gate.toml", gate);
    let out = db
        .mamori([Path::new("questionnaires"), Path::new("check"), &file])
        .exit_code(2);
    assert!(out.stderr.contains("broken-gate.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("access.mfa_scope"), "{}", out.stderr);
    assert!(out.stderr.contains("access.sso"), "{}", out.stderr);
    let csf = small_template("1", "").replace("PR.AA-03", "PR.AC-1");
    let file = db.write("broken-csf.toml", csf);
    let out = db
        .mamori([Path::new("questionnaires"), Path::new("check"), &file])
        .exit_code(2);
    assert!(out.stderr.contains("access.mfa"), "{}", out.stderr);
    assert!(out.stderr.contains("PR.AC-1"), "{}", out.stderr);
    // …and a broken file is not imported.
    db.mamori([Path::new("questionnaires"), Path::new("import"), &file])
        .exit_code(2);

    // A good file imports; the same version with other content is refused.
    let good = db.write("cli-test.toml", small_template("1", ""));
    let out = db
        .mamori([Path::new("questionnaires"), Path::new("check"), &good])
        .success();
    assert!(out.stdout.contains("1 questions"), "{}", out.stdout);
    let out = db
        .mamori([Path::new("questionnaires"), Path::new("import"), &good])
        .success();
    assert!(out.stdout.contains("imported cli-test 1"), "{}", out.stdout);
    let changed = db.write(
        "cli-test-changed.toml",
        small_template("1", "").replace("weight = 5", "weight = 9"),
    );
    let out = db
        .mamori([Path::new("questionnaires"), Path::new("import"), &changed])
        .exit_code(2);
    assert!(out.stderr.contains("new version"), "{}", out.stderr);
    let out = db.mamori(["questionnaires", "list"]).success();
    let rows = table_rows(&out.stdout, "cli-test");
    assert_eq!(rows.len(), 1, "{}", out.stdout);
    assert_eq!(rows[0][1..4], ["1", "import", "1"], "{}", out.stdout);

    // Blank answer sheets: one row per question, in English or Japanese.
    let sheet = db.file("lite.csv");
    db.mamori([
        Path::new("questionnaires"),
        Path::new("sheet"),
        Path::new("healthcare-baseline/lite"),
        Path::new("-o"),
        &sheet,
    ])
    .success();
    let text = fs::read_to_string(&sheet).expect("answer sheet");
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("question_id,") && h.contains(",answer,")),
        "{text}"
    );
    assert_eq!(lines.count(), per_depth[0].1, "{text}");
    let en = db
        .mamori(["questionnaires", "sheet", "cli-test"])
        .success()
        .stdout;
    let ja = db
        .mamori(["questionnaires", "sheet", "cli-test", "--lang", "ja"])
        .success()
        .stdout;
    assert!(en.contains("multi-factor authentication"), "{en}");
    assert!(ja.contains("多要素認証"), "{ja}");
    let out = db
        .mamori(["questionnaires", "sheet", "no-such-questionnaire"])
        .exit_code(2);
    assert!(
        out.stderr.contains("no-such-questionnaire"),
        "{}",
        out.stderr
    );

    // A Google VSAQ questionnaire imports as a template of origin "vsaq".
    if let Some(dir) = shared_data("questionnaires") {
        let vsaq = dir.join("vsaq_webapp.json");
        let out = db
            .mamori([Path::new("questionnaires"), Path::new("import"), &vsaq])
            .success();
        assert!(out.stdout.contains("imported VSAQ"), "{}", out.stdout);
        let out = db.mamori(["questionnaires", "list"]).success();
        let rows = table_rows(&out.stdout, "vsaq-webapp");
        assert_eq!(rows.len(), 1, "{}", out.stdout);
        assert_eq!(rows[0][2], "vsaq", "{}", out.stdout);
    }
}

#[test]
fn keys_seal_rotate_rewrap_and_verify_the_evidence_files() {
    let db = TestDb::new("keys_seal_rotate_rewrap_and_verify_the_evidence_files");
    // The first command starts Mamori (organisation, key file).
    db.mamori(["keys", "status"]).success();
    let data = match db.backend {
        Backend::Sqlite => db.data_dir(),
        Backend::Postgres { .. } => db.dir.path().join("mamori-data"),
    };
    assert!(
        data.join("keys/local.json").is_file(),
        "a key file in the data directory"
    );
    // A file stored before encryption was enabled.
    let evidence = data.join("evidence");
    fs::create_dir_all(&evidence).unwrap();
    let secret = b"%PDF-1.4 legacy penetration test report";
    fs::write(evidence.join("legacy-1"), secret).unwrap();
    let status = db.mamori(["keys", "status"]).success();
    assert!(
        status.stdout.contains("not yet encrypted: 1"),
        "{}",
        status.stdout
    );
    // Verification refuses unencrypted files.
    assert_eq!(db.mamori(["keys", "verify"]).code, Some(2));

    let out = db.mamori(["keys", "rewrap"]).success();
    assert!(out.stdout.contains("sealed 1"), "{}", out.stdout);
    let stored = fs::read(evidence.join("legacy-1")).unwrap();
    assert!(
        !stored.windows(20).any(|w| w == &secret[..20]),
        "no plaintext left"
    );
    assert!(db
        .mamori(["keys", "verify"])
        .success()
        .stdout
        .contains("1 file(s) checked, 0 failed"));

    let out = db.mamori(["keys", "rotate"]).success();
    assert!(out.stdout.contains("v2"), "{}", out.stdout);
    assert!(out.stdout.contains("rewrapped 1"), "{}", out.stdout);
    let status = db.mamori(["keys", "status"]).success();
    assert!(status.stdout.contains("v2: 1"), "{}", status.stdout);
    // Idempotent: nothing left to rewrap.
    let again = db.mamori(["keys", "rewrap"]).success();
    assert!(again.stdout.contains("rewrapped 0"), "{}", again.stdout);
    db.mamori(["keys", "verify"]).success();

    // A changed byte is caught.
    let mut bad = fs::read(evidence.join("legacy-1")).unwrap();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    fs::write(evidence.join("legacy-1"), bad).unwrap();
    let out = db.mamori(["keys", "verify"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stdout.contains("failed authentication"),
        "{}",
        out.stdout
    );
}

#[test]
fn keys_init_points_mamori_at_a_real_key_manager() {
    let (Ok(addr), Ok(_)) = (
        std::env::var("MAMORI_TEST_OPENBAO_ADDR"),
        std::env::var("MAMORI_TEST_OPENBAO_TOKEN"),
    ) else {
        println!("skipped: MAMORI_TEST_OPENBAO_ADDR is not set (scripts/test-services/openbao.sh starts a server)");
        return;
    };
    let db = TestDb::new("keys_init_points_mamori_at_a_real_key_manager");
    let out = db
        .mamori([
            "keys",
            "init",
            "--provider",
            "openbao",
            "--addr",
            &addr,
            "--secret-env",
            "MAMORI_TEST_OPENBAO_TOKEN",
        ])
        .success();
    assert!(out.stdout.contains("OpenBao"), "{}", out.stdout);
    assert!(out.stdout.contains("KEK: mamori version"), "{}", out.stdout);
    // The token is named, never written.
    let data = match db.backend {
        Backend::Sqlite => db.data_dir(),
        Backend::Postgres { .. } => db.dir.path().join("mamori-data"),
    };
    let config = fs::read_to_string(data.join("keys.toml")).unwrap();
    assert!(config.contains("MAMORI_TEST_OPENBAO_TOKEN"), "{config}");
    let token = std::env::var("MAMORI_TEST_OPENBAO_TOKEN").unwrap();
    assert!(!config.contains(&token));
    // A second init does not silently replace the key manager.
    let again = db.mamori(["keys", "init", "--provider", "local"]);
    assert_ne!(again.code, Some(0));
    let status = db.mamori(["keys", "status"]).success();
    assert!(
        status.stdout.contains("reachable: yes"),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains(&token));
    // Evidence sealed by the key manager verifies.
    let evidence = data.join("evidence");
    fs::create_dir_all(&evidence).unwrap();
    fs::write(
        evidence.join("legacy-1"),
        b"%PDF-1.4 business associate agreement",
    )
    .unwrap();
    assert!(db
        .mamori(["keys", "rewrap"])
        .success()
        .stdout
        .contains("sealed 1"));
    let status = db.mamori(["keys", "status"]).success();
    assert!(
        status.stdout.contains("KEK mamori (current v"),
        "{}",
        status.stdout
    );
    db.mamori(["keys", "verify"]).success();
    // A secret that is missing is named, and nothing starts.
    let out = db.mamori_env(["keys", "status"], &[("MAMORI_TEST_OPENBAO_TOKEN", "")]);
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("MAMORI_TEST_OPENBAO_TOKEN"),
        "{}",
        out.stderr
    );
}

/// Shadow SaaS from a proxy log, with no database: apps named from the
/// catalog, unknown destinations kept, malformed lines placed, a user's
/// catalog file honoured, standard input read with --format.
#[test]
fn discover_names_apps_keeps_unknown_hosts_and_places_bad_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("access.log");
    std::fs::write(
        &log,
        concat!(
            "1780000000.100    120 10.1.0.5 TCP_TUNNEL/200 5120 CONNECT app.box.com:443 HOSPITAL\\nurse01 HIER_DIRECT/198.51.100.7 -\n",
            "1780000001.200     80 10.1.0.6 TCP_MISS/200 900 GET http://upload.box.com/u nurse02@hospital.example HIER_DIRECT/198.51.100.7 text/html\r\n",
            "1780000002.300     40 10.1.0.7 TCP_TUNNEL/200 700 CONNECT radnotes-ai.example:443 drsmith HIER_DIRECT/203.0.113.9 -\n",
            "1780000003 this line is cut short\n",
            "1780000004.500     10 10.1.0.5 TCP_TUNNEL/200 300 CONNECT app.box.com:443 nurse01 HIER_DIRECT/198.51.100.7 -\n",
        ),
    )
    .expect("write log");
    let out = run(
        mamori_bare(dir.path())
            .args(["discover", "--json"])
            .arg(&log),
        None,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let apps = v["apps"].as_array().expect("apps");
    let box_app = apps
        .iter()
        .find(|a| a["app_id"] == "box")
        .expect("Box found");
    assert_eq!(box_app["users"], 2, "nurse01 in two spellings counts once");
    assert_eq!(box_app["transactions"], 3);
    assert_eq!(box_app["status"], "unsanctioned");
    let unknown = v["unknown"].as_array().expect("unknown");
    assert!(unknown.iter().any(|u| u["domain"] == "radnotes-ai.example"));
    assert_eq!(v["malformed"], 1);
    assert_eq!(v["malformed_lines"][0]["line"], 4);

    // A user's catalog names the unknown app.
    let catalog = dir.path().join("mine.toml");
    std::fs::write(
        &catalog,
        "version = \"local-1\"\n[[app]]\nid = \"radnotes\"\nname = \"RadNotes AI\"\nvendor = \"RadNotes\"\ncategory = \"ai-assistant\"\ndomains = [\"radnotes-ai.example\"]\n",
    )
    .expect("write catalog");
    let out = run(
        mamori_bare(dir.path())
            .args(["discover", "--csv", "--catalog"])
            .arg(&catalog)
            .arg(&log),
        None,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout
            .contains("RadNotes AI,RadNotes,ai-assistant,unsanctioned"),
        "{}",
        out.stdout
    );

    // Standard input needs its format named.
    let text = std::fs::read(&log).expect("read");
    let out = run(mamori_bare(dir.path()).args(["discover", "-"]), Some(&text));
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("--format"), "{}", out.stderr);
    let out = run(
        mamori_bare(dir.path()).args(["discover", "--format", "squid", "-"]),
        Some(&text),
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("Box"), "{}", out.stdout);
    assert!(out.stdout.contains("standard input:4"), "{}", out.stdout);
}
