//! OSCAL catalog import speed: the full SP 800-53 rev5 MODERATE resolved
//! catalog (JSON, ~3.9 MB) through `parse_oscal_catalog`; target < 300 ms.
//! The file lives in the shared reference data beside the repository; the
//! bench says so and does nothing when it is absent.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mamori_formats::parse_oscal_catalog;

const CATALOG: &str =
    "frameworks/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json";

fn parse_sp800_53_moderate(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(CATALOG);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("SKIPPED: oscal bench needs {} ({err})", path.display());
            return;
        }
    };
    let mut group = c.benchmark_group("oscal");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("sp800_53_moderate_json", |b| {
        b.iter_batched(
            || (),
            |()| parse_oscal_catalog("moderate.json", std::hint::black_box(&bytes)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, parse_sp800_53_moderate);
criterion_main!(benches);
