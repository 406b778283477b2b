//! Reading a file whole or in chunks, on one thread or several, gives the
//! same totals; compressed copies give the same totals too.

use std::io::Write;
use std::path::PathBuf;

use mamori_discovery::aggregate::Tally;
use mamori_discovery::read::{discover, Options};
use proptest::prelude::*;

/// One host's totals: name, transactions, bytes down, users, sources,
/// first and last seen.
type HostRow = (String, u64, u64, usize, usize, Option<i64>, Option<i64>);

/// Totals that must not depend on how the file was read.
fn summary(t: &Tally) -> (u64, u64, u64, Vec<HostRow>) {
    let mut hosts: Vec<_> = t
        .hosts
        .iter()
        .map(|(h, s)| {
            (
                h.to_string(),
                s.transactions,
                s.bytes_down,
                s.per_user.len(),
                s.sources.len(),
                s.first_seen,
                s.last_seen,
            )
        })
        .collect();
    hosts.sort();
    (t.lines, t.events, t.malformed, hosts)
}

fn log_file(dir: &tempfile::TempDir, bytes: u64, seed: u64) -> PathBuf {
    let path = dir.path().join("access.log");
    let mut f = std::fs::File::create(&path).expect("create");
    mamori_discovery::generate::squid_native(&mut f, bytes, seed).expect("generate");
    path
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn chunking_never_changes_the_totals(chunk in 200u64..40_000, threads in 1usize..4, seed in 0u64..1000) {
        let dir = tempfile::tempdir().expect("dir");
        let path = log_file(&dir, 120_000, seed);
        let whole = discover(std::slice::from_ref(&path), &Options { threads: 1, ..Default::default() }).expect("whole");
        let split = discover(&[path], &Options { threads, chunk_bytes: Some(chunk), ..Default::default() }).expect("split");
        prop_assert_eq!(summary(&whole.tally), summary(&split.tally));
        // Malformed lines keep their line numbers in the file.
        let lines = |r: &mamori_discovery::read::Run| r.tally.malformed_samples.iter().map(|m| m.line).collect::<Vec<_>>();
        prop_assert_eq!(lines(&whole), lines(&split));
    }
}

#[test]
fn compressed_files_read_the_same_and_truncation_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    let path = log_file(&dir, 300_000, 3);
    let plain = std::fs::read(&path).expect("read");
    let gz_path = dir.path().join("access.log.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).expect("gzip");
    let gz_bytes = gz.finish().expect("gzip");
    std::fs::write(&gz_path, &gz_bytes).expect("write");
    let zst_path = dir.path().join("access.log.zst");
    std::fs::write(&zst_path, zstd::encode_all(&plain[..], 3).expect("zstd")).expect("write");

    let opts = Options {
        threads: 1,
        ..Default::default()
    };
    let a = discover(&[path], &opts).expect("plain");
    let b = discover(&[gz_path], &opts).expect("gz");
    let c = discover(&[zst_path], &opts).expect("zst");
    assert_eq!(summary(&a.tally), summary(&b.tally));
    assert_eq!(summary(&a.tally), summary(&c.tally));
    assert!(b.files[0].warning.is_none());

    // A .gz cut in the middle: what was read counts, and the file says so.
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &gz_bytes[..gz_bytes.len() / 2]).expect("write");
    let d = discover(&[cut], &opts).expect("truncated gz is not fatal");
    let warning = d.files[0].warning.clone().expect("a warning");
    assert!(warning.contains("truncated"), "{warning}");
    assert!(d.tally.lines > 0 && d.tally.lines < a.tally.lines);
}

#[test]
fn directories_are_read_in_name_order_and_unknown_formats_are_named() {
    let dir = tempfile::tempdir().expect("dir");
    log_file(&dir, 20_000, 1);
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello\nworld\n").expect("write");
    // In a directory, a file of no known format is skipped and named.
    let run = discover(&[dir.path().to_path_buf()], &Options::default()).expect("read");
    assert_eq!(run.files.len(), 1);
    assert_eq!(run.skipped.len(), 1);
    assert!(run.skipped[0].0.ends_with("notes.txt"));
    // Named explicitly, it is an error that says what to do.
    let err = discover(&[notes], &Options::default()).expect_err("unknown format");
    let text = err.to_string();
    assert!(
        text.contains("notes.txt") && text.contains("--format"),
        "{text}"
    );
}
