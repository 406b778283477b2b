//! The behaviour every key provider must show, run against each real key
//! manager (local file, SoftHSM2, OpenBao, the AWS KMS API) by the
//! `provider_*` test files.

#![allow(dead_code)]

use mamori_keys::envelope::Header;
use mamori_keys::{open, rewrap, seal, Binding, KeyError, KeyProvider};

pub const DOC: &[u8] = b"Penetration test report, Cedar Imaging Cloud, 2026: 3 high findings";

pub fn binding(id: &str) -> Binding<'_> {
    Binding {
        tenant: "org-1",
        kind: "evidence",
        object_id: id,
    }
}

/// A KEK name no earlier run used, so runs against a long-lived key
/// manager do not meet each other's keys.
pub fn fresh_kek(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{nanos:x}-{:x}", rand_u32())
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    getrandom(&mut b);
    u32::from_le_bytes(b)
}

fn getrandom(buf: &mut [u8]) {
    use std::io::Read;
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(buf);
    }
}

/// What a provider can show in tests.
pub struct Abilities {
    /// Rotation produces a new visible KEK version (not AWS KMS, whose
    /// backing-key versions are internal).
    pub visible_versions: bool,
    /// Destroying a KEK takes effect at once (moto does not enforce it).
    pub enforces_destroy: bool,
}

/// Runs the whole conformance suite against `p`.
pub fn conformance(p: &dyn KeyProvider, abilities: Abilities) {
    round_trip(p);
    tampering_fails(p);
    moved_ciphertext_fails(p);
    wrong_kek_fails(p);
    rotation(p, &abilities);
    if abilities.enforces_destroy {
        shredding(p);
    }
}

fn round_trip(p: &dyn KeyProvider) {
    let kek = fresh_kek("rt");
    let created = p.ensure_kek(&kek).expect("create KEK");
    assert_eq!(created.id, kek);
    // Idempotent.
    assert_eq!(p.ensure_kek(&kek).expect("ensure KEK again").id, kek);
    let sealed = seal(p, &kek, &binding("e1"), DOC).expect("seal");
    assert!(
        !contains(&sealed, DOC),
        "{}: plaintext in envelope",
        p.name()
    );
    assert_eq!(open(p, &binding("e1"), &sealed).expect("open"), DOC);
    let (header, _) = Header::parse(&sealed).expect("header");
    assert_eq!(header.kek.id, kek);
    // A fresh DEK and nonce per object.
    let again = seal(p, &kek, &binding("e1"), DOC).expect("seal again");
    assert_ne!(
        Header::parse(&again).unwrap().0.wrapped_dek,
        header.wrapped_dek
    );
    let empty = seal(p, &kek, &binding("e2"), b"").expect("seal empty");
    assert_eq!(open(p, &binding("e2"), &empty).expect("open empty"), b"");
}

fn tampering_fails(p: &dyn KeyProvider) {
    let kek = fresh_kek("tamper");
    p.ensure_kek(&kek).expect("create KEK");
    let sealed = seal(p, &kek, &binding("e1"), DOC).expect("seal");
    let (header, body) = Header::parse(&sealed).expect("header");
    let header_len = sealed.len() - body.len();
    let wrapped_start = 14 + header.kek.id.len();
    // One byte in each region: fixed header, KEK version, wrapped DEK,
    // nonce, ciphertext, tag.
    let positions = [
        4,
        5,
        8 + header.kek.id.len() + 3,
        wrapped_start,
        wrapped_start + header.wrapped_dek.len() / 2,
        header_len - 6,
        header_len + 3,
        sealed.len() - 1,
    ];
    for pos in positions {
        let mut bad = sealed.clone();
        bad[pos] ^= 0x01;
        assert!(
            open(p, &binding("e1"), &bad).is_err(),
            "{}: a changed byte at {pos} was accepted",
            p.name()
        );
    }
}

fn moved_ciphertext_fails(p: &dyn KeyProvider) {
    let kek = fresh_kek("moved");
    p.ensure_kek(&kek).expect("create KEK");
    let sealed = seal(p, &kek, &binding("e1"), DOC).expect("seal");
    let other_record = binding("e2");
    let other_tenant = Binding {
        tenant: "org-2",
        ..binding("e1")
    };
    let other_kind = Binding {
        kind: "contract",
        ..binding("e1")
    };
    for target in [other_record, other_tenant, other_kind] {
        let result = open(p, &target, &sealed);
        assert!(
            matches!(
                result,
                Err(KeyError::Authentication) | Err(KeyError::Unwrap(_))
            ),
            "{}: a moved ciphertext gave {result:?}",
            p.name()
        );
    }
}

fn wrong_kek_fails(p: &dyn KeyProvider) {
    let a = fresh_kek("wrong-a");
    let b = fresh_kek("wrong-b");
    p.ensure_kek(&a).expect("create KEK a");
    let b_ref = p.ensure_kek(&b).expect("create KEK b");
    let sealed = seal(p, &a, &binding("e1"), DOC).expect("seal");
    let (mut header, body) = Header::parse(&sealed).expect("header");
    header.kek = b_ref;
    let mut moved = header.encode().expect("encode");
    moved.extend_from_slice(body);
    assert!(
        open(p, &binding("e1"), &moved).is_err(),
        "{}: a data key opened under another KEK",
        p.name()
    );
}

fn rotation(p: &dyn KeyProvider, abilities: &Abilities) {
    let kek = fresh_kek("rotate");
    let v1 = p.ensure_kek(&kek).expect("create KEK");
    let old = seal(p, &kek, &binding("e1"), DOC).expect("seal old");
    let v2 = p.rotate_kek(&kek).expect("rotate");
    if abilities.visible_versions {
        assert!(
            v2.version > v1.version,
            "{}: rotation kept the version",
            p.name()
        );
        assert_eq!(p.current_version(&kek).expect("current"), v2.version);
    }
    let new = seal(p, &kek, &binding("e2"), DOC).expect("seal new");
    assert_eq!(Header::parse(&new).unwrap().0.kek.version, v2.version);
    assert_eq!(open(p, &binding("e1"), &old).expect("open old"), DOC);
    assert_eq!(open(p, &binding("e2"), &new).expect("open new"), DOC);
    let rewrapped = rewrap(p, &binding("e1"), &old).expect("rewrap");
    let current = match &rewrapped {
        Some(env) => env.clone(),
        None => {
            assert!(
                !abilities.visible_versions,
                "{}: nothing rewrapped",
                p.name()
            );
            old.clone()
        }
    };
    let (h_old, body_old) = Header::parse(&old).unwrap();
    let (h_new, body_new) = Header::parse(&current).unwrap();
    assert_eq!(h_new.kek.version, v2.version);
    assert_eq!(h_old.nonce, h_new.nonce);
    assert_eq!(body_old, body_new, "the payload was re-encrypted");
    assert_eq!(
        open(p, &binding("e1"), &current).expect("open rewrapped"),
        DOC
    );
    assert!(
        rewrap(p, &binding("e1"), &current)
            .expect("rewrap again")
            .is_none(),
        "{}: rewrap is not idempotent",
        p.name()
    );
}

fn shredding(p: &dyn KeyProvider) {
    let vendor_a = fresh_kek("mamori-vendor-a");
    let vendor_b = fresh_kek("mamori-vendor-b");
    p.ensure_kek(&vendor_a).expect("create KEK a");
    p.ensure_kek(&vendor_b).expect("create KEK b");
    let a = seal(p, &vendor_a, &binding("a1"), DOC).expect("seal a");
    p.rotate_kek(&vendor_a).expect("rotate a");
    let a2 = seal(p, &vendor_a, &binding("a2"), DOC).expect("seal a2");
    let b = seal(p, &vendor_b, &binding("b1"), DOC).expect("seal b");
    p.destroy_kek(&vendor_a).expect("destroy");
    for (id, env) in [("a1", &a), ("a2", &a2)] {
        let result = open(p, &binding(id), env);
        assert!(
            matches!(result, Err(KeyError::Unwrap(_))),
            "{}: shredded data gave {result:?}",
            p.name()
        );
    }
    assert!(p.generate_data_key(&vendor_a, &binding("a3")).is_err());
    assert!(
        p.ensure_kek(&vendor_a).is_err(),
        "{}: a destroyed KEK came back",
        p.name()
    );
    assert_eq!(
        open(p, &binding("b1"), &b).expect("other vendor still opens"),
        DOC
    );
}

/// A provider whose key manager is down answers with `Unavailable` and no
/// envelope.
pub fn unavailable(p: &dyn KeyProvider) {
    let result = seal(p, "mamori", &binding("e1"), DOC);
    assert!(
        matches!(result, Err(KeyError::Unavailable(_))),
        "{}: a key manager that is down gave {result:?}",
        p.name()
    );
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
