//! `mamori discover`: shadow SaaS from log files, without a database.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use mamori_discovery::aggregate::Window;
use mamori_discovery::catalog::Catalog;
use mamori_discovery::formats::{FormatKind, Mapping, Parser};
use mamori_discovery::read::{discover, Options, Run};
use mamori_discovery::report::{build, Decisions, Report};

use crate::cli::DiscoverArgs;

/// `2026-12-01` (midnight UTC) or RFC 3339.
fn parse_time(flag: &str, text: &str) -> Result<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp());
    }
    anyhow::bail!("{flag} '{text}': give a date such as 2026-12-01 or a time such as 2026-12-01T09:00:00+09:00")
}

fn time_text(t: Option<i64>) -> String {
    t.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

pub fn load_catalog(extra: &[std::path::PathBuf]) -> Result<Catalog> {
    let mut catalog = Catalog::shipped().context("the shipped SaaS catalog is not valid")?;
    for path in extra {
        catalog.add_file(path)?;
    }
    Ok(catalog)
}

pub fn run(args: &DiscoverArgs) -> Result<()> {
    let parser = match args.format.as_str() {
        "auto" => {
            if args.map.is_some() {
                anyhow::bail!("--map needs --format csv or --format jsonl");
            }
            None
        }
        name => {
            let kind = FormatKind::from_name(name).with_context(|| {
                let names: Vec<&str> = FormatKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "--format {name}: not a known format; use auto or one of {}",
                    names.join(", ")
                )
            })?;
            match &args.map {
                Some(spec) if kind.takes_mapping() => {
                    let mapping =
                        Mapping::parse(spec).map_err(|e| anyhow::anyhow!("--map: {e}"))?;
                    Some(Parser::with_mapping(kind, mapping))
                }
                Some(_) => anyhow::bail!("--map applies to --format csv and jsonl only"),
                None => Some(Parser::new(kind)),
            }
        }
    };
    let window = Window {
        since: args
            .since
            .as_deref()
            .map(|t| parse_time("--since", t))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|t| parse_time("--until", t))
            .transpose()?,
    };
    let catalog = load_catalog(&args.catalog)?;
    let started = Instant::now();
    let run = discover(
        &args.files,
        &Options {
            parser,
            window,
            threads: args.threads,
            chunk_bytes: None,
        },
    )?;
    let secs = started.elapsed().as_secs_f64();
    let report = build(&run.tally, &catalog, &Decisions::default());
    let bytes: u64 = run.files.iter().map(|f| f.bytes).sum();
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({
            "apps": report.apps,
            "unknown": report.unknown,
            "files": run.files.iter().map(|f| serde_json::json!({
                "path": f.path, "format": f.format.name(), "lines": f.lines, "bytes": f.bytes, "warning": f.warning,
            })).collect::<Vec<_>>(),
            "skipped": run.skipped.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            "lines": run.tally.lines,
            "events": run.tally.events,
            "out_of_window": run.tally.out_of_window,
            "malformed": run.tally.malformed,
            "malformed_lines": run.tally.malformed_samples.iter().map(|m| serde_json::json!({
                "file": m.file, "line": m.line, "field": m.field, "reason": m.reason,
            })).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else if args.csv {
        write_csv(&mut out, &report)?;
    } else {
        write_text(&mut out, &run, &report, args.top)?;
    }
    eprintln!(
        "read {} in {:.2} s ({:.0} MB/s), {} lines, {} counted, {} malformed",
        human_bytes(bytes),
        secs,
        bytes as f64 / secs.max(1e-9) / 1e6,
        run.tally.lines,
        run.tally.events,
        run.tally.malformed
    );
    Ok(())
}

fn write_csv(out: &mut dyn Write, report: &Report) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "app",
        "vendor",
        "category",
        "status",
        "users",
        "source_ips",
        "transactions",
        "bytes_up",
        "bytes_down",
        "first_seen",
        "last_seen",
        "domains",
    ])?;
    for a in &report.apps {
        w.write_record([
            a.name.as_str(),
            &a.vendor,
            &a.category,
            a.status.as_str(),
            &a.users.to_string(),
            &a.sources.to_string(),
            &a.transactions.to_string(),
            &a.bytes_up.to_string(),
            &a.bytes_down.to_string(),
            &time_text(a.first_seen),
            &time_text(a.last_seen),
            &a.domains_seen.join(" "),
        ])?;
    }
    for u in &report.unknown {
        w.write_record([
            u.domain.as_str(),
            "",
            "",
            "unknown",
            &u.users.to_string(),
            &u.sources.to_string(),
            &u.transactions.to_string(),
            &u.bytes_up.to_string(),
            &u.bytes_down.to_string(),
            &time_text(u.first_seen),
            &time_text(u.last_seen),
            &u.hosts_seen.join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_text(out: &mut dyn Write, run: &Run, report: &Report, top: usize) -> Result<()> {
    for f in &run.files {
        writeln!(out, "{}: {} ({} lines)", f.path, f.format.name(), f.lines)?;
        if let Some(w) = &f.warning {
            writeln!(out, "  warning: {w}")?;
        }
    }
    for (path, first) in &run.skipped {
        writeln!(
            out,
            "{path}: skipped, format not recognised (first line: {:?})",
            clip(first, 60)
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Apps in the catalog: {} ({} unsanctioned)",
        report.apps.len(),
        report
            .apps
            .iter()
            .filter(|a| a.status == mamori_discovery::report::Sanction::Unsanctioned)
            .count()
    )?;
    writeln!(
        out,
        "{:<28} {:<22} {:<20} {:<13} {:>6} {:>6} {:>9} {:>9} {:>9}  {:<16} {:<16}  domains",
        "app",
        "vendor",
        "category",
        "status",
        "users",
        "ips",
        "requests",
        "up",
        "down",
        "first seen",
        "last seen"
    )?;
    for a in report.apps.iter().take(top) {
        writeln!(
            out,
            "{:<28} {:<22} {:<20} {:<13} {:>6} {:>6} {:>9} {:>9} {:>9}  {:<16} {:<16}  {}",
            clip(&a.name, 28),
            clip(&a.vendor, 22),
            clip(&a.category, 20),
            a.status.as_str(),
            a.users,
            a.sources,
            a.transactions,
            human_bytes(a.bytes_up),
            human_bytes(a.bytes_down),
            time_text(a.first_seen),
            time_text(a.last_seen),
            domains(&a.domains_seen)
        )?;
    }
    if report.apps.len() > top {
        writeln!(
            out,
            "… and {} more (--top, --json or --csv for all)",
            report.apps.len() - top
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Unknown destinations (not in the catalog): {}, by users and traffic",
        report.unknown.len()
    )?;
    writeln!(
        out,
        "{:<40} {:>6} {:>6} {:>9} {:>9} {:>9}  {:<16} {:<16}  hosts",
        "domain", "users", "ips", "requests", "up", "down", "first seen", "last seen"
    )?;
    for u in report.unknown.iter().take(top) {
        writeln!(
            out,
            "{:<40} {:>6} {:>6} {:>9} {:>9} {:>9}  {:<16} {:<16}  {}",
            clip(&u.domain, 40),
            u.users,
            u.sources,
            u.transactions,
            human_bytes(u.bytes_up),
            human_bytes(u.bytes_down),
            time_text(u.first_seen),
            time_text(u.last_seen),
            domains(&u.hosts_seen)
        )?;
    }
    if report.unknown.len() > top {
        writeln!(out, "… and {} more", report.unknown.len() - top)?;
    }
    if run.tally.malformed > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "Malformed lines: {} (not counted; the first {} shown)",
            run.tally.malformed,
            run.tally.malformed_samples.len()
        )?;
        for m in &run.tally.malformed_samples {
            writeln!(out, "  {}:{}: {}: {}", m.file, m.line, m.field, m.reason)?;
        }
    }
    if run.tally.out_of_window > 0 {
        writeln!(
            out,
            "Outside --since/--until: {} events",
            run.tally.out_of_window
        )?;
    }
    Ok(())
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn domains(list: &[String]) -> String {
    let mut s = list.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if list.len() > 3 {
        s.push_str(&format!(" (+{})", list.len() - 3));
    }
    s
}
