//! Inventory import speed: 100,000 synthetic rows through `parse_csv`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mamori_formats::{parse_csv, synthetic_inventory_csv};

const ROWS: usize = 100_000;

fn parse_100k_rows(c: &mut Criterion) {
    let bytes = synthetic_inventory_csv(ROWS);
    let mut group = c.benchmark_group("inventory");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse_csv_100k_rows", |b| {
        // Dropping 100k drafts is part of a real import but not of parsing.
        b.iter_batched(
            || (),
            |()| parse_csv(std::hint::black_box(&bytes)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, parse_100k_rows);
criterion_main!(benches);
