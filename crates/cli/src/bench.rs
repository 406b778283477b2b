//! `mamori bench …`: throughput on generated data, printed as figures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate, Utc};
use mamori_domain::assessment::AssessmentPolicy;
use mamori_domain::questionnaire::{AnswerType, Question, Template};
use mamori_domain::risk::{RiskPolicy, ThresholdFacts, DEFAULT_RISK_POLICY_TOML};
use mamori_domain::scoring::{score, Answer};
use mamori_domain::{assess, RiskCategory, Tier, TieringPolicy};
use mamori_store::{Actor, NewFinding, NewRisk, RiskQuery, ScoreSummary, Store, VendorScope};

use crate::cli::BenchCommand;

/// A scratch database for one benchmark: a temporary SQLite directory
/// (removed when dropped) or a PostgreSQL schema of its own (dropped by
/// `finish`).
struct BenchDb {
    store: Store,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl BenchDb {
    fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// Refreshes the query planner's statistics, as start-up (SQLite) or
    /// autovacuum (PostgreSQL) would on a running server.
    async fn analyze(&self) -> Result<()> {
        match &self.postgres {
            None => self.store.optimize().await?,
            Some((url, schema)) => {
                use sqlx::Connection;
                let options: sqlx::postgres::PgConnectOptions =
                    url.parse().context("the database URL")?;
                let mut conn =
                    sqlx::PgConnection::connect_with(&options.options([("search_path", schema)]))
                        .await
                        .context("cannot connect to analyse the benchmark schema")?;
                // Only this schema's tables (search_path), not the whole database.
                sqlx::query("ANALYZE vendors, assessments, findings, risks")
                    .execute(&mut conn)
                    .await
                    .context("ANALYZE")?;
                let _ = conn.close().await;
            }
        }
        Ok(())
    }

    /// `finish`, but with `keep` leaves an SQLite database in place and
    /// prints where it is.
    async fn finish_keeping(mut self, keep: bool) -> Result<()> {
        if keep {
            if let Some(dir) = self._dir.take() {
                self.store.close().await;
                let path = dir.keep();
                eprintln!("kept the database in {}", path.join("mamori.db").display());
                return Ok(());
            }
            eprintln!("--keep applies to SQLite only; the PostgreSQL schema is removed");
        }
        self.finish().await
    }

    /// Closes the store and removes the scratch PostgreSQL schema.
    async fn finish(self) -> Result<()> {
        self.store.close().await;
        if let Some((url, schema)) = &self.postgres {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(url)
                .await
                .context("cannot connect to remove the benchmark schema")?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut conn)
                .await
                .with_context(|| format!("cannot drop the benchmark schema {schema}"))?;
            let _ = conn.close().await;
        }
        Ok(())
    }
}

async fn fresh_store(url: Option<&str>) -> Result<BenchDb> {
    match url {
        Some(url) => {
            let schema = format!("bench_{}", std::process::id());
            let store = Store::connect_postgres_schema(url, &schema)
                .await
                .context("cannot open the benchmark database")?;
            Ok(BenchDb {
                store,
                _dir: None,
                postgres: Some((url.to_string(), schema)),
            })
        }
        None => {
            let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
            let store = Store::open_data_dir(dir.path()).await?;
            Ok(BenchDb {
                store,
                _dir: Some(dir),
                postgres: None,
            })
        }
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub async fn run(command: &BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Discover { megabytes, keep } => discover(*megabytes, *keep)?,
        BenchCommand::Keys {
            megabytes,
            rewraps,
            keys_configs,
            runs,
        } => {
            // The key managers' clients block: measured off the async runtime.
            std::thread::scope(|s| {
                s.spawn(|| keys(*megabytes, *rewraps, keys_configs, *runs))
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the benchmark thread panicked")))
            })?
        }
        BenchCommand::Import { rows, database_url } => {
            let csv = mamori_formats::synthetic_inventory_csv(*rows);
            let db = fresh_store(database_url.as_deref()).await?;
            let store = &db.store;
            let started = mamori_app::setup::start(store, "Bench Hospital").await?;
            let policy = TieringPolicy::builtin();
            // The same steps as `import_file`, timed one by one.
            let t = Instant::now();
            let parsed = mamori_formats::parse_inventory("bench.csv", &csv)?;
            let parse_secs = t.elapsed().as_secs_f64();
            let t2 = Instant::now();
            let tiered: Vec<_> = parsed
                .rows
                .into_iter()
                .map(|r| {
                    let risk = assess(&policy, r.vendor.risk_profile()).rating();
                    (r.vendor, risk)
                })
                .collect();
            let tier_secs = t2.elapsed().as_secs_f64();
            let t3 = Instant::now();
            let outcome = store
                .import_vendors(
                    &started.org_id,
                    &tiered,
                    "bench.csv",
                    &Actor::system("bench"),
                    &|_| {},
                )
                .await?;
            let store_secs = t3.elapsed().as_secs_f64();
            let secs = t.elapsed().as_secs_f64();
            println!(
                "import: {rows} rows ({:.1} MB CSV) → {} vendors in {secs:.2} s = {:.0} rows/s \
                 (parse {parse_secs:.2} s, tier {tier_secs:.2} s, store {store_secs:.2} s); peak memory {:.0} MiB",
                csv.len() as f64 / 1e6,
                outcome.created,
                *rows as f64 / secs,
                peak_rss_mib().unwrap_or(f64::NAN)
            );
            db.finish().await?;
        }
        BenchCommand::Retier {
            vendors,
            database_url,
        } => {
            let db = fresh_store(database_url.as_deref()).await?;
            let store = &db.store;
            let started = mamori_app::setup::start(store, "Bench Hospital").await?;
            let policy = TieringPolicy::builtin();
            let rows: Vec<_> = mamori_demo::synthetic_vendors(*vendors, 7)
                .into_iter()
                .map(|d| {
                    let r = assess(&policy, d.risk_profile()).rating();
                    (d, r)
                })
                .collect();
            store
                .import_vendors(
                    &started.org_id,
                    &rows,
                    "bench",
                    &Actor::system("bench"),
                    &|_| {},
                )
                .await?;
            // A stricter policy: every band 10 points lower, so many tiers move.
            let mut stricter = policy.clone();
            stricter.version = "bench-stricter".into();
            stricter.bands.moderate -= 10;
            stricter.bands.high -= 10;
            stricter.bands.critical -= 10;
            let text = stricter.to_toml();
            let t = Instant::now();
            let (_, outcome) = mamori_app::policy::apply_policy(
                store,
                &started.org_id,
                &text,
                &Actor::system("bench"),
            )
            .await?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "retier: {} vendors re-tiered ({} tier changes) in {secs:.3} s = {:.0} vendors/s",
                outcome.vendors,
                outcome.tier_changes,
                outcome.vendors as f64 / secs
            );
            db.finish().await?;
        }
        BenchCommand::Dashboard {
            vendors,
            assessments,
            repeat,
            keep,
            database_url,
        } => {
            dashboard(
                *vendors,
                *assessments,
                *repeat,
                *keep,
                database_url.as_deref(),
            )
            .await?
        }
        BenchCommand::RiskThreshold {
            risks,
            vendors,
            database_url,
        } => risk_threshold(*risks, *vendors, database_url.as_deref()).await?,
        BenchCommand::RiskHeatmap {
            risks,
            vendors,
            repeat,
            database_url,
        } => risk_heatmap(*risks, *vendors, *repeat, database_url.as_deref()).await?,
        BenchCommand::Seed { vendors } => {
            // Uses the global --data-dir through MAMORI_DATA_DIR or the default.
            let dir = std::env::var("MAMORI_DATA_DIR").unwrap_or_else(|_| "./mamori-data".into());
            let store = Store::open_data_dir(std::path::Path::new(&dir)).await?;
            let started =
                mamori_app::setup::start(&store, mamori_app::setup::DEFAULT_ORGANISATION).await?;
            if let Some((email, password)) = started.first_admin {
                eprintln!("administrator {email} / {password}");
            }
            let policy = TieringPolicy::builtin();
            let rows: Vec<_> = mamori_demo::synthetic_vendors(*vendors, 11)
                .into_iter()
                .map(|d| {
                    let r = assess(&policy, d.risk_profile()).rating();
                    (d, r)
                })
                .collect();
            let outcome = store
                .import_vendors(
                    &started.org_id,
                    &rows,
                    "seed",
                    &Actor::system("bench"),
                    &|_| {},
                )
                .await?;
            println!("seeded {} vendors into {dir}", outcome.created);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// bench dashboard
// ---------------------------------------------------------------------------

/// Every `n`-th answer of a synthetic answer set fails (0: all pass).
const FAIL_EVERY: [usize; 8] = [0, 40, 20, 12, 8, 6, 5, 4];

/// A value of a choice question other than its passing ones; for an
/// unscored question (an informational gate) its last value, so the gate
/// hides its follow-ups.
fn failing_value(q: &Question) -> String {
    let allowed: Vec<&str> = q
        .allowed_values()
        .into_iter()
        .filter(|v| *v != "na")
        .collect();
    let pick = if q.pass.is_empty() {
        allowed.last().copied()
    } else {
        allowed
            .iter()
            .copied()
            .find(|v| !q.pass.iter().any(|p| p == v))
    };
    pick.or_else(|| allowed.first().copied())
        .unwrap_or("no")
        .to_string()
}

fn passing_value(q: &Question) -> String {
    q.pass
        .first()
        .cloned()
        .or_else(|| q.allowed_values().first().map(|v| v.to_string()))
        .unwrap_or_else(|| "yes".into())
}

/// A full, deterministic set of answers in which every `fail_every`-th
/// question fails.
fn synthetic_answers(
    template: &Template,
    fail_every: usize,
    as_of: NaiveDate,
) -> HashMap<String, Answer> {
    template
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let fail = fail_every > 0 && i % fail_every == fail_every - 1;
            let answer = match q.answer_type {
                AnswerType::YesNo | AnswerType::Single => Answer::Choice(if fail {
                    failing_value(q)
                } else {
                    passing_value(q)
                }),
                AnswerType::Multiple => Answer::Choices(if fail {
                    vec![failing_value(q)]
                } else if q.pass.is_empty() {
                    vec![passing_value(q)]
                } else {
                    q.pass.clone()
                }),
                AnswerType::Number => Answer::Number(match (fail, q.min, q.max) {
                    (false, Some(a), Some(b)) => (a + b) / 2.0,
                    (false, Some(a), None) => a + 1.0,
                    (false, None, Some(b)) => b - 1.0,
                    (true, Some(a), _) => a - 1.0,
                    (true, None, Some(b)) => b + 1.0,
                    _ => 1.0,
                }),
                AnswerType::Date => {
                    let age = i64::from(q.max_age_days.unwrap_or(365));
                    Answer::Date(as_of - Duration::days(if fail { age + 30 } else { age / 2 }))
                }
                AnswerType::Text => Answer::Text(format!("Answer to {}", q.id)),
                AnswerType::File => Answer::Files(if fail { 0 } else { 2 }),
            };
            (q.id.clone(), answer)
        })
        .collect()
}

/// What one synthetic review records: the score and the findings raised.
#[derive(Clone)]
struct Review {
    summary: ScoreSummary,
    findings: Vec<NewFinding>,
}

fn review_of(template: &Template, fail_every: usize, as_of: NaiveDate) -> Review {
    let answers = synthetic_answers(template, fail_every, as_of);
    let card = score(template, &answers, as_of);
    let functions: serde_json::Map<String, serde_json::Value> = card
        .functions
        .iter()
        .filter_map(|(f, p)| p.score().map(|s| (f.clone(), serde_json::json!(s))))
        .collect();
    let findings = card
        .findings
        .iter()
        .filter_map(|f| {
            let q = template.question(&f.question_id)?;
            Some(NewFinding {
                question_id: Some(q.id.clone()),
                csf: f.csf.clone(),
                title: q.text.en.clone(),
                detail: match answers.get(&q.id) {
                    Some(a) => format!("Answered \"{}\".", a.display()),
                    None => "Not answered.".into(),
                },
                severity: f.severity.as_str().to_string(),
                origin: "answer",
            })
        })
        .collect();
    Review {
        summary: ScoreSummary {
            score: card.overall.score().map(i64::from),
            earned: i64::from(card.overall.earned),
            possible: i64::from(card.overall.possible),
            function_scores: serde_json::Value::Object(functions).to_string(),
            answered: card.answered as i64,
            visible: card.visible as i64,
        },
        findings,
    }
}

/// One completed assessment to seed.
struct Seed {
    vendor_id: String,
    tier: Tier,
    template: usize,
    review: usize,
    completed_on: NaiveDate,
    next_due: NaiveDate,
}

/// Plans, reviews and completes each assessment through the store's own
/// methods (three transactions each, with their audit records).
async fn seed_assessments(
    store: Store,
    org_id: Arc<str>,
    template_ids: Arc<Vec<String>>,
    reviews: Arc<Vec<Vec<Review>>>,
    work: Vec<Seed>,
    done: Arc<AtomicUsize>,
    bar: indicatif::ProgressBar,
) -> Result<()> {
    let actor = Actor::system("bench");
    for s in work {
        let review = &reviews[s.template][s.review];
        let id = store
            .create_assessment(
                &org_id,
                &s.vendor_id,
                &template_ids[s.template],
                s.tier.as_str(),
                &format!("{} assessment", s.completed_on.format("%Y")),
                None,
                &actor,
            )
            .await
            .context("create_assessment")?;
        store
            .begin_review(&org_id, &id, &review.summary, &review.findings, &actor)
            .await
            .context("begin_review")?;
        store
            .complete_assessment(
                &org_id,
                &id,
                &review.summary,
                &s.completed_on.to_string(),
                &s.next_due.to_string(),
                &actor,
            )
            .await
            .context("complete_assessment")?;
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        bar.set_position(n as u64);
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.saturating_sub(1).min(sorted.len() - 1)]
}

fn summary(samples: &mut [f64]) -> String {
    samples.sort_by(f64::total_cmp);
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(samples, 50.0),
        percentile(samples, 95.0),
        percentile(samples, 99.0),
        samples.last().copied().unwrap_or(f64::NAN)
    )
}

async fn dashboard(
    vendors: usize,
    assessments: usize,
    repeat: usize,
    keep: bool,
    database_url: Option<&str>,
) -> Result<()> {
    if vendors == 0 {
        anyhow::bail!("--vendors must be at least 1");
    }
    let db = fresh_store(database_url).await?;
    let store = db.store.clone();
    let started = mamori_app::setup::start(&store, "Bench Hospital").await?;
    let org_id: Arc<str> = Arc::from(started.org_id.as_str());
    mamori_app::assessments::sync_builtin_templates(&store).await?;
    let policy = TieringPolicy::builtin();
    let assessment_policy = AssessmentPolicy::default_policy();
    let today = Utc::now().date_naive();

    // Vendors.
    let t = Instant::now();
    let rows: Vec<_> = mamori_demo::synthetic_vendors(vendors, 13)
        .into_iter()
        .map(|d| {
            let r = assess(&policy, d.risk_profile()).rating();
            (d, r)
        })
        .collect();
    store
        .import_vendors(&org_id, &rows, "bench", &Actor::system("bench"), &|_| {})
        .await?;
    drop(rows);
    let stored = store.all_vendor_drafts(&org_id).await?;
    eprintln!(
        "seeded {} vendors in {:.1} s ({})",
        stored.len(),
        t.elapsed().as_secs_f64(),
        db.backend()
    );

    // The questionnaires each tier is sent, and the synthetic reviews of each.
    let mut keys: Vec<String> = Vec::new();
    for tier in Tier::ALL {
        let key = assessment_policy.template_key(*tier);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let mut template_ids = Vec::new();
    let mut reviews = Vec::new();
    for key in &keys {
        let record = store
            .template_by_key(key)
            .await
            .with_context(|| format!("questionnaire '{key}' is not installed"))?;
        let template = mamori_app::assessments::load_template(&store, &record.id).await?;
        reviews.push(
            FAIL_EVERY
                .iter()
                .map(|n| review_of(&template, *n, today))
                .collect::<Vec<_>>(),
        );
        template_ids.push(record.id);
    }

    // Completed assessments: 90 % of the vendors are assessed, each a few
    // times a year apart; the last one decides when the vendor is next due
    // (a spread from long overdue to years ahead). The rest were never
    // assessed.
    let assessed = (vendors * 9 / 10).clamp(1, stored.len().max(1));
    let rounds_of = |v: usize| assessments / assessed + usize::from(v < assessments % assessed);
    let workers = if db.postgres.is_some() { 4 } else { 1 };
    let mut work: Vec<Vec<Seed>> = (0..workers).map(|_| Vec::new()).collect();
    let mut findings_total = 0usize;
    for i in 0..assessments {
        let v = i % assessed;
        let Some((vendor_id, tier, _)) = stored.get(v) else {
            continue;
        };
        let round = i / assessed;
        let template = keys
            .iter()
            .position(|k| *k == assessment_policy.template_key(*tier))
            .unwrap_or(0);
        let review = (i * 5 + v) % FAIL_EVERY.len();
        let later_rounds = rounds_of(v).saturating_sub(round + 1) as i64;
        let completed_on = today - Duration::days(((v * 7919) % 800) as i64 + later_rounds * 365);
        findings_total += reviews[template][review].findings.len();
        work[v % workers].push(Seed {
            vendor_id: vendor_id.clone(),
            tier: *tier,
            template,
            review,
            completed_on,
            next_due: assessment_policy.next_due(*tier, completed_on),
        });
    }
    let bar = crate::progress_bar(assessments as u64);
    bar.set_message("seeding assessments");
    let done = Arc::new(AtomicUsize::new(0));
    let template_ids = Arc::new(template_ids);
    let reviews = Arc::new(reviews);
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in work {
        tasks.spawn(seed_assessments(
            store.clone(),
            Arc::clone(&org_id),
            Arc::clone(&template_ids),
            Arc::clone(&reviews),
            chunk,
            Arc::clone(&done),
            bar.clone(),
        ));
    }
    while let Some(result) = tasks.join_next().await {
        result.context("a seeding task panicked")??;
    }
    bar.finish_and_clear();
    // A few open assessments too (every 20th vendor has one planned).
    for (vendor_id, tier, _) in stored.iter().step_by(20) {
        let template = keys
            .iter()
            .position(|k| *k == assessment_policy.template_key(*tier))
            .unwrap_or(0);
        store
            .create_assessment(
                &org_id,
                vendor_id,
                &template_ids[template],
                tier.as_str(),
                "next assessment",
                None,
                &Actor::system("bench"),
            )
            .await?;
    }
    let seed_secs = t.elapsed().as_secs_f64();
    println!(
        "dashboard ({}): seeded {} vendors, {assessments} completed assessments with {findings_total} findings \
         in {seed_secs:.1} s = {:.0} assessments/s (store methods, {workers} writer(s))",
        db.backend(),
        stored.len(),
        assessments as f64 / seed_secs
    );
    // What start-up does to the planner statistics (SQLite: PRAGMA optimize).
    db.analyze().await?;

    // The dashboard's queries, timed.
    let today_s = today.to_string();
    let soon = (today + Duration::days(90)).to_string();
    let year_ago = mamori_store::timestamp(Utc::now() - Duration::days(365));
    let (mut total, mut counts_ms, mut assess_ms, mut overdue_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let warm_up = 5;
    let mut last = None;
    for i in 0..repeat + warm_up {
        let t0 = Instant::now();
        let counts = store
            .dashboard_counts(&org_id, &VendorScope::All, policy.bands)
            .await?;
        let t1 = Instant::now();
        let a = store
            .assessment_counts(&org_id, &today_s, &soon, &year_ago)
            .await?;
        let t2 = Instant::now();
        let overdue = store.overdue_vendors(&org_id, &today_s, 10).await?;
        let t3 = Instant::now();
        if i >= warm_up {
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
            counts_ms.push(ms(t0, t1));
            assess_ms.push(ms(t1, t2));
            overdue_ms.push(ms(t2, t3));
            total.push(ms(t0, t3));
        }
        last = Some((counts, a, overdue.len()));
    }
    if let Some((counts, a, overdue)) = last {
        println!(
            "  data: {} vendors; {} overdue, {} due within 90 days, {} never assessed, {} open assessments, \
             {} completed in the last year, average score {:?}, open findings (critical/high/medium/low) {:?}; \
             overdue list {overdue} rows",
            counts.total,
            a.overdue,
            a.due_within_90_days,
            a.never_assessed,
            a.open_assessments,
            a.completed_last_year,
            a.average_score,
            a.open_findings_by_severity
        );
    }
    println!(
        "  dashboard queries ×{repeat}: total {}",
        summary(&mut total)
    );
    println!("    dashboard_counts:  {}", summary(&mut counts_ms));
    println!("    assessment_counts: {}", summary(&mut assess_ms));
    println!("    overdue_vendors:   {}", summary(&mut overdue_ms));
    db.finish_keeping(keep).await
}

// ---------------------------------------------------------------------------
// bench risk-threshold, risk-heatmap
// ---------------------------------------------------------------------------

/// SplitMix64: a deterministic stream, so every run measures the same data.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `risks` generated risks over `vendors` generated vendors, scored and
/// flagged under the shipped policy as `create_risk` would; returns the
/// organisation.
async fn seed_risks(db: &BenchDb, risks: usize, vendors: usize) -> Result<String> {
    if vendors == 0 {
        anyhow::bail!("--vendors must be at least 1");
    }
    let store = &db.store;
    let started = mamori_app::setup::start(store, "Bench Hospital").await?;
    let org_id = started.org_id;
    let tiering = TieringPolicy::builtin();
    let rows: Vec<_> = mamori_demo::synthetic_vendors(vendors, 17)
        .into_iter()
        .map(|d| {
            let r = assess(&tiering, d.risk_profile()).rating();
            (d, r)
        })
        .collect();
    store
        .import_vendors(&org_id, &rows, "bench", &Actor::system("bench"), &|_| {})
        .await?;
    drop(rows);
    let stored = store.all_vendor_drafts(&org_id).await?;
    if stored.is_empty() {
        anyhow::bail!("no vendors were generated");
    }

    let policy = RiskPolicy::default_policy();
    let now = Utc::now();
    let steps = (
        u64::from(policy.matrix.likelihood_steps()),
        u64::from(policy.matrix.impact_steps()),
    );
    let mut mix = Mix(42);
    let t = Instant::now();
    let generated: Vec<NewRisk> = (0..risks)
        .map(|i| {
            let (vendor_id, tier, _) = &stored[mix.below(stored.len() as u64) as usize];
            let inherent_l = 1 + mix.below(steps.0);
            let inherent_i = 1 + mix.below(steps.1);
            // Controls lower likelihood or impact, never raise them.
            let residual_l = 1 + mix.below(inherent_l);
            let residual_i = 1 + mix.below(inherent_i);
            let residual = policy
                .rate(residual_l as u32, residual_i as u32)
                .map(|r| (r.score, r.level))
                .unwrap_or((1, policy.matrix.level(1)));
            // 60 % open, 25 % in treatment, 15 % closed.
            let status = match mix.below(20) {
                0..=11 => "open",
                12..=16 => "in_treatment",
                _ => "closed",
            };
            let reason = (status != "closed")
                .then(|| {
                    policy.threshold(&ThresholdFacts {
                        residual_score: residual.0,
                        tier: Some(*tier),
                        worst_open_finding: None,
                    })
                })
                .flatten();
            let category = RiskCategory::ALL[mix.below(RiskCategory::ALL.len() as u64) as usize];
            NewRisk {
                vendor_id: vendor_id.clone(),
                category: category.as_str().to_string(),
                title: format!("Generated risk {i:06}"),
                description: "Generated for a benchmark.".into(),
                inherent_likelihood: inherent_l as i64,
                inherent_impact: inherent_i as i64,
                existing_controls: "Generated controls".into(),
                residual_likelihood: residual_l as i64,
                residual_impact: residual_i as i64,
                residual_score: i64::from(residual.0),
                residual_level: residual.1.as_str().to_string(),
                treatment: (if status == "open" {
                    "undecided"
                } else {
                    "mitigate"
                })
                .into(),
                status: status.into(),
                due_on: reason.as_ref().map(|_| {
                    policy
                        .remediation_due(residual.1, now)
                        .format("%Y-%m-%d")
                        .to_string()
                }),
                above_threshold: reason.is_some(),
                threshold_reason: reason,
                ..Default::default()
            }
        })
        .collect();
    let inserted = store.bulk_insert_risks(&org_id, &generated).await?;
    eprintln!(
        "seeded {} vendors and {inserted} risks in {:.1} s ({})",
        stored.len(),
        t.elapsed().as_secs_f64(),
        db.backend()
    );
    // What start-up does to the planner statistics (SQLite: PRAGMA optimize).
    db.analyze().await?;
    Ok(org_id)
}

async fn risk_threshold(risks: usize, vendors: usize, database_url: Option<&str>) -> Result<()> {
    let db = fresh_store(database_url).await?;
    let org_id = seed_risks(&db, risks, vendors).await?;
    let store = &db.store;
    // The shipped policy with a lower residual threshold: every open risk
    // scoring 8 or 9 crosses it.
    let text = DEFAULT_RISK_POLICY_TOML
        .replacen(
            "version = \"2026.12-healthcare-1\"",
            "version = \"bench-stricter\"",
            1,
        )
        .replacen(
            "residual_score_at_least = 10",
            "residual_score_at_least = 8",
            1,
        );
    let stricter = RiskPolicy::parse(&text).context("the benchmark policy")?;
    if stricter.version != "bench-stricter" || stricter.threshold.residual_score_at_least != 8 {
        anyhow::bail!("the shipped risk policy changed; update the benchmark's edit of it");
    }

    // The pure part on its own, per risk, as a cross-check of the grouped
    // evaluation the apply uses.
    let inputs = store.threshold_inputs(&org_id).await?;
    let t = Instant::now();
    let changes = mamori_app::risks::evaluate_thresholds(&stricter, &inputs);
    let eval_secs = t.elapsed().as_secs_f64();
    drop(inputs);
    let t = Instant::now();
    let groups = store.threshold_groups(&org_id).await?;
    let group_load_secs = t.elapsed().as_secs_f64();
    let group_count = groups.len();
    drop(groups);

    let t = Instant::now();
    let outcome =
        mamori_app::risks::apply_risk_policy(store, &org_id, &text, &Actor::system("bench"))
            .await?;
    let secs = t.elapsed().as_secs_f64();
    if outcome.changed != changes.len() {
        anyhow::bail!(
            "apply changed {} risks, the per-risk evaluation {}",
            outcome.changed,
            changes.len()
        );
    }
    println!(
        "risk-threshold ({}): {} risks re-evaluated, {} threshold changes ({} now above) in {:.3} s = {:.0} risks/s; \
         {} fact groups read in {:.1} ms; per-risk evaluate_thresholds (pure, for comparison) {:.1} ms",
        db.backend(),
        outcome.evaluated,
        outcome.changed,
        outcome.now_above,
        secs,
        outcome.evaluated as f64 / secs,
        group_count,
        group_load_secs * 1000.0,
        eval_secs * 1000.0,
    );
    db.finish().await
}

async fn risk_heatmap(
    risks: usize,
    vendors: usize,
    repeat: usize,
    database_url: Option<&str>,
) -> Result<()> {
    let db = fresh_store(database_url).await?;
    let org_id = seed_risks(&db, risks, vendors).await?;
    let store = &db.store;
    // What the heat-map page asks for: the residual map of the active risks
    // and the first page of the register in its default order.
    let all = RiskQuery::default();
    let first_page = RiskQuery {
        limit: 50,
        ..RiskQuery::default()
    };
    let (mut total, mut map_ms, mut page_ms) = (Vec::new(), Vec::new(), Vec::new());
    let warm_up = 5;
    let mut last = None;
    for i in 0..repeat + warm_up {
        let t0 = Instant::now();
        let cells = store.heat_map(&org_id, &all, true).await?;
        let t1 = Instant::now();
        let page = store.list_risks(&org_id, &first_page).await?;
        let t2 = Instant::now();
        if i >= warm_up {
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
            map_ms.push(ms(t0, t1));
            page_ms.push(ms(t1, t2));
            total.push(ms(t0, t2));
        }
        last = Some((cells, page));
    }
    if let Some((cells, page)) = last {
        println!(
            "risk-heatmap ({}): {} active risks in {} cells; first page {} of {} risks",
            db.backend(),
            cells.iter().map(|c| c.count).sum::<i64>(),
            cells.len(),
            page.risks.len(),
            page.total
        );
    }
    println!("  heat map + first page ×{repeat}: {}", summary(&mut total));
    println!("    heat_map:   {}", summary(&mut map_ms));
    println!("    list_risks: {}", summary(&mut page_ms));
    db.finish().await
}

/// `bench keys`: see `BenchCommand::Keys`.
fn keys(megabytes: usize, rewraps: usize, configs: &[PathBuf], runs: usize) -> Result<()> {
    use mamori_keys::local::LocalKeyProvider;
    use mamori_keys::{Binding, KeyProvider, DEFAULT_KEK};

    if runs == 0 {
        anyhow::bail!("--runs must be at least 1");
    }
    // Every configuration is read and checked before anything is measured.
    let configs = configs
        .iter()
        .map(|path| {
            let config = mamori_keys::config::KeyConfig::load(path)?;
            if config.provider == "local" {
                anyhow::bail!(
                    "{}: the local key file is measured anyway; give key managers only",
                    path.display()
                );
            }
            Ok((path.clone(), config))
        })
        .collect::<Result<Vec<_>>>()?;

    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let key_file = dir.path().join("keys.json");
    let t = Instant::now();
    let provider = LocalKeyProvider::create(&key_file, b"benchmark passphrase, long enough")?;
    println!(
        "key file created (Argon2id master key) in {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let binding = Binding {
        tenant: "bench",
        kind: "blob",
        object_id: "throughput",
    };

    // Throughput: one large payload, so the per-object key work is noise.
    let payload = vec![0x5au8; megabytes * 1024 * 1024];
    let t = Instant::now();
    let sealed = mamori_keys::seal(&provider, DEFAULT_KEK, &binding, &payload)?;
    let seal_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let opened = mamori_keys::open(&provider, &binding, &sealed)?;
    let open_secs = t.elapsed().as_secs_f64();
    if opened != payload {
        anyhow::bail!("the round trip changed the payload");
    }
    println!(
        "AES-256-GCM, one core, {megabytes} MiB: seal {:.0} MB/s, open {:.0} MB/s \
         (compare: openssl speed -evp aes-256-gcm, 16384-byte blocks)",
        payload.len() as f64 / seal_secs / 1e6,
        payload.len() as f64 / open_secs / 1e6
    );
    drop((sealed, opened, payload));
    // What the cipher alone adds to one upload + download of the evidence
    // file: seal + open in memory, with the local key file's cheap key work.
    let file = vec![0x42u8; EVIDENCE_BYTES];
    let mut cipher = Vec::with_capacity(runs);
    for _ in 0..=runs {
        let t = Instant::now();
        let sealed = mamori_keys::seal(&provider, DEFAULT_KEK, &binding, &file)?;
        let opened = mamori_keys::open(&provider, &binding, &sealed)?;
        cipher.push(t.elapsed().as_secs_f64() * 1000.0);
        if opened != file {
            anyhow::bail!("the round trip changed the payload");
        }
    }
    // The first run (cold allocations) is a warm-up.
    cipher.remove(0);
    cipher.sort_by(f64::total_cmp);
    let cipher_ms = median(&cipher);
    println!(
        "AES-256-GCM seal + open of the 10 MB evidence file in memory: median {cipher_ms:.1} ms, \
         max {:.1} ms ({runs} runs)",
        cipher[cipher.len() - 1]
    );
    drop(file);

    evidence_file(
        dir.path(),
        Arc::new(provider),
        "local key file",
        runs,
        cipher_ms,
    )?;

    // Rewrap after a rotation: header-only work, payloads untouched.
    let provider = LocalKeyProvider::open(&key_file, b"benchmark passphrase, long enough")?;
    let envelopes: Vec<(String, Vec<u8>)> = (0..rewraps)
        .map(|i| {
            let id = format!("obj-{i}");
            let b = Binding {
                tenant: "bench",
                kind: "blob",
                object_id: &id,
            };
            let e = mamori_keys::seal(&provider, DEFAULT_KEK, &b, b"small evidence record")?;
            Ok((id, e))
        })
        .collect::<Result<_>>()?;
    provider.rotate_kek(DEFAULT_KEK)?;
    let t = Instant::now();
    let mut moved = 0usize;
    for (id, e) in &envelopes {
        let b = Binding {
            tenant: "bench",
            kind: "blob",
            object_id: id,
        };
        if mamori_keys::rewrap(&provider, &b, e)?.is_some() {
            moved += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "rewrap after rotation: {moved} data keys in {:.2} s = {:.0} objects/s (local key file, in memory)",
        secs,
        moved as f64 / secs
    );

    for (path, config) in &configs {
        key_manager(dir.path(), path, config, rewraps, runs, cipher_ms)
            .with_context(|| format!("key manager of {}", path.display()))?;
    }
    Ok(())
}

/// The evidence file of the upload + download figures (10 MB).
const EVIDENCE_BYTES: usize = 10 * 1000 * 1000;

/// A median (of sorted samples).
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// One key manager given with `--keys-config`: the evidence file and the
/// round trip, and for OpenBao the batch rewrap.
fn key_manager(
    root: &Path,
    path: &Path,
    config: &mamori_keys::config::KeyConfig,
    rewraps: usize,
    runs: usize,
    cipher_ms: f64,
) -> Result<()> {
    use mamori_keys::managed::ManagedProvider;

    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (inner, description) = config.connect_remote(base)?;
    // As the server wraps it: retries and the configured read cache.
    let provider: Arc<dyn mamori_keys::KeyProvider> = Arc::new(ManagedProvider::new(
        inner,
        config.retry_policy(),
        config.cache_policy(),
    ));
    let label = format!("{}: {description}", config.provider);
    evidence_file(root, provider, &label, runs, cipher_ms)?;
    if config.provider == "openbao" {
        let s = config
            .openbao
            .as_ref()
            .context("the [openbao] section is missing")?;
        let mut bao = mamori_keys::openbao::OpenBaoConfig::new(
            s.addr.clone(),
            s.token.read("the OpenBao token", base)?.to_string(),
        );
        bao.mount = s.mount.clone();
        bao.namespace = s.namespace.clone();
        bao.timeout = std::time::Duration::from_secs(s.timeout_seconds.max(1));
        let bao = mamori_keys::openbao::OpenBaoProvider::new(bao)?;
        openbao_rewrap(&bao, rewraps)?;
    }
    Ok(())
}

/// Upload + download of a 10 MB file through `SealedBlobStore` (per-vendor
/// keys) against the plain file store, then the key manager's round trip on
/// its own. The vendor KEK is created by a warm-up run and destroyed at the
/// end.
fn evidence_file(
    root: &Path,
    provider: Arc<dyn mamori_keys::KeyProvider>,
    label: &str,
    runs: usize,
    cipher_ms: f64,
) -> Result<()> {
    use mamori_keys::Binding;
    use mamori_store::blob::{BlobStore, FsBlobStore, SealedBlobStore};

    let work = tempfile::tempdir_in(root).context("cannot create a temporary directory")?;
    let file = vec![0x42u8; EVIDENCE_BYTES];
    let plain = FsBlobStore::open(&work.path().join("plain"))?;
    let inner: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(&work.path().join("sealed"))?);
    let sealed = SealedBlobStore::new(inner, provider.clone(), "bench").with_per_vendor_keys(true);
    let vendor = format!("bench-{}", std::process::id());
    let kek = mamori_keys::vendor_kek(&vendor);

    let outcome = (|| -> Result<()> {
        let (mut extra, mut base) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        // Run 0 creates the vendor's KEK: a warm-up, not counted.
        for i in 0..=runs {
            let key = format!("file-{i}");
            let t = Instant::now();
            plain.put_for_vendor(&key, &vendor, &file)?;
            let back = plain.get(&key)?;
            let plain_secs = t.elapsed().as_secs_f64();
            let t = Instant::now();
            sealed.put_for_vendor(&key, &vendor, &file)?;
            let back_sealed = sealed.get(&key)?;
            let sealed_secs = t.elapsed().as_secs_f64();
            if back != file || back_sealed != file {
                anyhow::bail!("a stored file came back changed");
            }
            plain.delete(&key)?;
            sealed.delete(&key)?;
            if i > 0 {
                extra.push((sealed_secs - plain_secs) * 1000.0);
                base.push(plain_secs * 1000.0);
            }
        }
        extra.sort_by(f64::total_cmp);
        base.sort_by(f64::total_cmp);

        // The key manager alone: a new data key, then unwrapping it.
        let binding = Binding {
            tenant: "bench",
            kind: "blob",
            object_id: "round-trip",
        };
        let (mut generate, mut unwrap, mut pair) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs.max(10) {
            let t0 = Instant::now();
            let key = provider.generate_data_key(&kek, &binding)?;
            let t1 = Instant::now();
            let dek = provider.unwrap_data_key(&key.kek, &key.wrapped, &binding)?;
            let t2 = Instant::now();
            if *dek != *key.plaintext {
                anyhow::bail!("the key manager unwrapped a different data key");
            }
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
            generate.push(ms(t0, t1));
            unwrap.push(ms(t1, t2));
            pair.push(ms(t0, t2));
        }
        for v in [&mut generate, &mut unwrap, &mut pair] {
            v.sort_by(f64::total_cmp);
        }
        println!(
            "[{label}] 10 MB evidence file, upload + download, sealed (per-vendor KEK) minus plain, \
             {runs} runs: median {:.1} ms, max {:.1} ms extra (plain: median {:.1} ms)",
            median(&extra),
            extra[extra.len() - 1],
            median(&base),
        );
        println!(
            "[{label}] of which: key manager round trip (generate_data_key + unwrap_data_key) \
             median {:.2} ms (generate {:.2} ms, unwrap {:.2} ms, max pair {:.2} ms, {} runs); \
             AES-256-GCM seal + open alone {cipher_ms:.1} ms (median, above)",
            median(&pair),
            median(&generate),
            median(&unwrap),
            pair[pair.len() - 1],
            pair.len(),
        );
        Ok(())
    })();
    if let Err(e) = provider.destroy_kek(&kek) {
        eprintln!("[{label}] could not destroy the benchmark KEK {kek}: {e}");
    }
    outcome
}

/// OpenBao: `rewraps` wrapped data keys under one KEK, a rotation, then
/// every key rewrapped with `rewrap_batch`. The KEK is destroyed at the end.
fn openbao_rewrap(bao: &mamori_keys::openbao::OpenBaoProvider, rewraps: usize) -> Result<()> {
    use mamori_keys::{Binding, KeyProvider};

    if rewraps == 0 {
        return Ok(());
    }
    let kek = format!("mamori-bench-rewrap-{}", std::process::id());
    bao.ensure_kek(&kek)?;
    let outcome = (|| -> Result<()> {
        let t = Instant::now();
        let wrapped = bao.wrap_random_batch(&kek, rewraps)?;
        let made_secs = t.elapsed().as_secs_f64();
        let old = bao.current_version(&kek)?;
        let new = bao.rotate_kek(&kek)?;
        let items: Vec<Vec<u8>> = wrapped.into_iter().map(|(_, w)| w).collect();

        // For comparison: one request per data key, on a sample.
        let binding = Binding {
            tenant: "bench",
            kind: "blob",
            object_id: "rewrap",
        };
        let sample = items.len().min(1000);
        let old_ref = mamori_keys::KekRef {
            id: kek.clone(),
            version: old,
        };
        let t = Instant::now();
        for w in &items[..sample] {
            bao.rewrap_data_key(&old_ref, w, &binding)?;
        }
        let single_secs = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let rewrapped = bao.rewrap_batch(&kek, &items)?;
        let secs = t.elapsed().as_secs_f64();
        let moved = rewrapped
            .iter()
            .filter(|(k, _)| k.version == new.version)
            .count();
        if moved != items.len() {
            anyhow::bail!(
                "{moved} of {} data keys are under version {} after the batch rewrap",
                items.len(),
                new.version
            );
        }
        // The rewrapped keys still unwrap (first and last).
        for (k, w) in [&rewrapped[0], &rewrapped[rewrapped.len() - 1]] {
            bao.unwrap_data_key(k, w, &binding)?;
        }
        println!(
            "[openbao] rewrap after rotation (v{old} → v{}): {moved} data keys with rewrap_batch in {secs:.2} s \
             = {:.0} objects/s; one request per key: {:.0} objects/s ({sample} keys); \
             the {} wrapped keys were made with Transit encrypt batches in {made_secs:.2} s",
            new.version,
            moved as f64 / secs,
            sample as f64 / single_secs,
            items.len(),
        );
        Ok(())
    })();
    if let Err(e) = bao.destroy_kek(&kek) {
        eprintln!("[openbao] could not destroy the benchmark KEK {kek}: {e}");
    }
    outcome
}

/// Shadow SaaS discovery over a generated Squid native log: one core, all
/// cores, `wc -l` (the I/O ceiling) and DuckDB grouping by host, on the
/// same file, in one run.
fn discover(megabytes: u64, keep: bool) -> Result<()> {
    use mamori_discovery::formats::{FormatKind, Parser};
    use mamori_discovery::read::{discover, Options};

    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let path = dir.path().join("access.log");
    let t = Instant::now();
    let lines = {
        let mut file = std::fs::File::create(&path).context("cannot create the log file")?;
        mamori_discovery::generate::squid_native(&mut file, megabytes * 1_000_000, 42)?
    };
    let size = std::fs::metadata(&path)?.len();
    let mb = size as f64 / 1e6;
    println!(
        "generated {mb:.0} MB Squid native log, {lines} lines, in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // A first `wc -l` warms the page cache so every reader starts alike.
    let _ = std::process::Command::new("wc")
        .arg("-l")
        .arg(&path)
        .output();
    let t = Instant::now();
    let wc = std::process::Command::new("wc")
        .arg("-l")
        .arg(&path)
        .output()
        .context("running wc -l")?;
    let wc_secs = t.elapsed().as_secs_f64();
    if !wc.status.success() {
        anyhow::bail!("wc -l failed");
    }
    println!("wc -l: {:.2} s = {:.0} MB/s", wc_secs, mb / wc_secs);

    let mut results = Vec::new();
    for threads in [1usize, 0] {
        let opts = Options {
            parser: Some(Parser::new(FormatKind::SquidNative)),
            threads,
            ..Default::default()
        };
        let t = Instant::now();
        let run = discover(std::slice::from_ref(&path), &opts)?;
        let secs = t.elapsed().as_secs_f64();
        let label = if threads == 1 {
            "1 thread".to_string()
        } else {
            format!(
                "{} threads",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            )
        };
        println!(
            "mamori discover, {label}: {secs:.2} s = {:.0} MB/s ({:.2} M lines/s); {} hosts, {} users, {} malformed; {:.2}x the time of wc -l",
            mb / secs,
            run.tally.lines as f64 / secs / 1e6,
            run.tally.hosts.len(),
            run.tally.user_names.len(),
            run.tally.malformed,
            secs / wc_secs
        );
        results.push(secs);
    }
    if let Some(rss) = peak_rss_mib() {
        println!("peak resident memory of this process: {rss:.0} MiB");
    }

    // DuckDB, when installed, grouping the same file by host.
    let script = r#"
import sys, time
try:
    import duckdb
except ImportError:
    print("skipped: DuckDB is not installed (pip install duckdb)")
    sys.exit(0)
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t = time.time()
rows = con.execute("""
  SELECT host, count(*) AS requests, sum(TRY_CAST(size AS BIGINT)) AS bytes
  FROM (SELECT split_part(split_part(regexp_replace(column0, '^.*?://', ''), '/', 1), ':', 1) AS host, size FROM (
    SELECT string_split(regexp_replace(trim(line), '\s+', ' ', 'g'), ' ') AS f, f[5] AS size, f[7] AS column0 FROM (
      SELECT column0 AS line FROM read_csv(?, header=false, sep=chr(1), quote='', escape='', columns={'column0':'VARCHAR'}, ignore_errors=true))))
  GROUP BY host""", [sys.argv[1]]).fetchall()
print(f"{time.time() - t:.3f} {len(rows)}")
"#;
    let duck = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output();
    match duck {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let mut parts = text.split_whitespace();
            match (
                parts.next().and_then(|s| s.parse::<f64>().ok()),
                parts.next(),
            ) {
                (Some(secs), Some(hosts)) => println!(
                    "DuckDB (all cores) grouping by host: {secs:.2} s = {:.0} MB/s, {hosts} hosts; mamori on all cores is {:.1}x faster",
                    mb / secs,
                    secs / results[1]
                ),
                _ => println!("DuckDB: {text}"),
            }
        }
        Ok(out) => println!(
            "DuckDB comparison failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => println!("skipped: DuckDB comparison (python3 not runnable: {e})"),
    }
    if keep {
        let kept = dir.keep();
        println!("kept {}", kept.join("access.log").display());
    }
    Ok(())
}
