//! Payload cipher speed on one core, to set beside
//! `openssl speed -evp aes-256-gcm` on the same machine (target: at least
//! 80 % of it).
//!
//! - `aes_256_gcm_in_place`: the cipher exactly as `seal` calls it, on a
//!   buffer reused in place — the conditions `openssl speed` measures
//!   (16 KiB is its largest default block; 16 MiB is a large evidence file).
//! - `envelope`: the whole `seal` / `open` of one object with the local key
//!   file — data key, header, copy into the envelope, cipher.
//!
//! `cargo bench -p mamori-keys --bench cipher`

use std::hint::black_box;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mamori_keys::local::LocalKeyProvider;
use mamori_keys::{open, seal, Binding, DEFAULT_KEK};

const SIZES: [(usize, &str); 3] = [
    (16 * 1024, "16KiB"),
    (1024 * 1024, "1MiB"),
    (16 * 1024 * 1024, "16MiB"),
];

fn in_place(c: &mut Criterion) {
    let key = UnboundKey::new(&AES_256_GCM, &[0x11; 32]).expect("a 256-bit key");
    let key = LessSafeKey::new(key);
    let aad = [0x22u8; 64];
    let mut group = c.benchmark_group("aes_256_gcm_in_place");
    for (size, label) in SIZES {
        let mut buffer = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| {
                // Nonce reuse is harmless here: nothing is kept or sent.
                let tag = key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key([0; 12]),
                        Aad::from(&aad[..]),
                        &mut buffer,
                    )
                    .expect("sealing a buffer");
                let _ = black_box(tag);
            })
        });
    }
    group.finish();
}

fn envelope(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let provider = LocalKeyProvider::create(&dir.path().join("keys.json"), b"benchmark passphrase")
        .expect("a key file");
    let binding = Binding {
        tenant: "bench",
        kind: "evidence",
        object_id: "e1",
    };
    let mut group = c.benchmark_group("envelope");
    for (size, label) in SIZES {
        let payload = vec![0x42u8; size];
        let sealed = seal(&provider, DEFAULT_KEK, &binding, &payload).expect("seal");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("seal", label), |b| {
            b.iter(|| black_box(seal(&provider, DEFAULT_KEK, &binding, &payload).expect("seal")))
        });
        group.bench_function(BenchmarkId::new("open", label), |b| {
            b.iter(|| black_box(open(&provider, &binding, &sealed).expect("open")))
        });
    }
    group.finish();
}

criterion_group!(benches, in_place, envelope);
criterion_main!(benches);
