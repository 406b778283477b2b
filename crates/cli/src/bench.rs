//! `mamori bench …`: throughput on generated data, printed as figures.

use std::time::Instant;

use anyhow::{Context, Result};
use mamori_domain::{assess, TieringPolicy};
use mamori_store::{Actor, Store};

use crate::cli::BenchCommand;

async fn fresh_store(url: Option<&str>) -> Result<(Store, Option<tempfile::TempDir>)> {
    match url {
        Some(url) => {
            let schema = format!("bench_{}", std::process::id());
            let store = Store::connect_postgres_schema(url, &schema).await?;
            Ok((store, None))
        }
        None => {
            let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
            let store = Store::open_data_dir(dir.path()).await?;
            Ok((store, Some(dir)))
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
        BenchCommand::Import { rows, database_url } => {
            let csv = mamori_formats::synthetic_inventory_csv(*rows);
            let (store, _dir) = fresh_store(database_url.as_deref()).await?;
            let started = mamori_app::setup::start(&store, "Bench Hospital").await?;
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
            store.close().await;
        }
        BenchCommand::Retier {
            vendors,
            database_url,
        } => {
            let (store, _dir) = fresh_store(database_url.as_deref()).await?;
            let started = mamori_app::setup::start(&store, "Bench Hospital").await?;
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
                &store,
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
            store.close().await;
        }
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
