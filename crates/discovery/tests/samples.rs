//! Every sample log under `shared/data/logs/` (outside this repository):
//! the format is detected from the first lines, every line parses, events
//! come out and few lines are malformed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mamori_discovery::formats::{detect, FormatKind, Parser};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/logs")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_none_or(|e| e != "md") {
            out.push(path);
        }
    }
}

/// The format a sample is in, by its folder (and extension for Zeek).
fn expected(path: &Path) -> FormatKind {
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|f| f.to_str())
        .unwrap_or_default();
    let json = path
        .extension()
        .is_some_and(|e| e == "ndjson" || e == "json");
    match folder {
        "squid" => FormatKind::SquidNative,
        "zscaler" if json => FormatKind::ZscalerJson,
        "zscaler" => FormatKind::ZscalerCsv,
        "panos" => FormatKind::Panos,
        "fortigate" => FormatKind::Fortigate,
        "cisco_asa" => FormatKind::CiscoAsa,
        "checkpoint" => FormatKind::Checkpoint,
        "cisco_umbrella" => FormatKind::Umbrella,
        "zeek" if json => FormatKind::ZeekJson,
        "zeek" => FormatKind::ZeekTsv,
        "bind_infoblox" => FormatKind::Bind,
        other => panic!(
            "{}: no expected format for folder '{other}'; add one",
            path.display()
        ),
    }
}

#[derive(Debug, Default)]
struct Counts {
    lines: usize,
    events: usize,
    skipped: usize,
    malformed: usize,
    /// Malformed lines per field named in the error.
    by_field: BTreeMap<&'static str, usize>,
}

#[test]
fn every_sample_file_parses() {
    let dir = samples_dir();
    if !dir.is_dir() {
        println!("skipped: ../shared/data/logs not found");
        return;
    }
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "no sample files in {}", dir.display());
    let mut failures = Vec::new();
    for path in &paths {
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let lines: Vec<&str> = text.lines().collect();
        let want = expected(path);
        let head: Vec<&str> = lines.iter().take(20).copied().collect();
        let got = detect(&head);
        if got != Some(want) {
            failures.push(format!("{name}: detected {got:?}, expected {want:?}"));
            continue;
        }
        let mut parser = Parser::new(want);
        let mut c = Counts::default();
        for line in &lines {
            if line.trim().is_empty() {
                continue;
            }
            c.lines += 1;
            match parser.parse(line) {
                Ok(Some(e)) => {
                    assert!(!e.host.trim().is_empty(), "{name}: empty host from {line}");
                    c.events += 1;
                }
                Ok(None) => c.skipped += 1,
                Err(e) => {
                    c.malformed += 1;
                    *c.by_field.entry(e.field).or_default() += 1;
                }
            }
        }
        println!(
            "{name} as {}: {} lines, {} events, {} without a connection, {} malformed {:?}",
            want.name(),
            c.lines,
            c.events,
            c.skipped,
            c.malformed,
            c.by_field
        );
        // Zeek's own test baselines mask the time stamps (`XXXXXXXXXX.XXXXXX`):
        // every record is then malformed in `ts`, and nothing else may be.
        let masked = text.contains("\nXXXXXXXXXX.");
        if masked {
            if c.by_field.keys().any(|f| *f != "ts") || c.malformed == 0 {
                failures.push(format!(
                    "{name}: expected only masked 'ts' fields to fail, got {:?}",
                    c.by_field
                ));
            }
            continue;
        }
        if c.events == 0 {
            failures.push(format!("{name}: no events"));
        }
        // At most one line in ten malformed.
        if c.malformed * 10 > c.lines {
            failures.push(format!(
                "{name}: {} of {} lines malformed {:?}",
                c.malformed, c.lines, c.by_field
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
