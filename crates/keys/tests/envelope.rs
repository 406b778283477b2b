//! Envelopes with the local key provider: round trip, tampering, moved
//! ciphertexts, wrong keys, rotation and shredding.

use mamori_keys::envelope::{Header, HeaderError};
use mamori_keys::local::LocalKeyProvider;
use mamori_keys::{open, rewrap, seal, Binding, KeyError, KeyProvider, DEFAULT_KEK};
use proptest::prelude::*;

const PASSPHRASE: &[u8] = b"correct horse battery staple";
const DOC: &[u8] = b"SOC 2 Type II report, Cedar Imaging Cloud, period 2025-01-01 to 2025-12-31";

fn binding(id: &str) -> Binding<'_> {
    Binding {
        tenant: "org-1",
        kind: "evidence",
        object_id: id,
    }
}

fn provider(dir: &tempfile::TempDir) -> LocalKeyProvider {
    LocalKeyProvider::create(&dir.path().join("keys.json"), PASSPHRASE).expect("key file")
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = provider(&dir);
    let sealed = seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap();
    assert!(
        !sealed.windows(DOC.len()).any(|w| w == DOC),
        "no plaintext in the envelope"
    );
    assert_eq!(open(&p, &binding("e1"), &sealed).unwrap(), DOC);
    // Two seals of the same document differ (fresh DEK and nonce).
    assert_ne!(seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap(), sealed);
    // An empty document works too.
    let empty = seal(&p, DEFAULT_KEK, &binding("e2"), b"").unwrap();
    assert_eq!(open(&p, &binding("e2"), &empty).unwrap(), b"");
}

#[test]
fn every_changed_byte_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = provider(&dir);
    let sealed = seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap();
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        assert!(
            open(&p, &binding("e1"), &bad).is_err(),
            "a change at byte {i} of {} went unnoticed",
            sealed.len()
        );
    }
}

#[test]
fn a_ciphertext_moved_to_another_record_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let p = provider(&dir);
    let sealed = seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap();
    for other in [
        Binding {
            tenant: "org-2",
            kind: "evidence",
            object_id: "e1",
        },
        Binding {
            tenant: "org-1",
            kind: "contract",
            object_id: "e1",
        },
        Binding {
            tenant: "org-1",
            kind: "evidence",
            object_id: "e2",
        },
        // Length prefixes keep "ab"+"c" apart from "a"+"bc".
        Binding {
            tenant: "org-1e",
            kind: "vidence",
            object_id: "e1",
        },
    ] {
        assert!(matches!(
            open(&p, &other, &sealed),
            Err(KeyError::Authentication)
        ));
    }
}

#[test]
fn another_key_file_cannot_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = provider(&dir);
    let other_dir = tempfile::tempdir().unwrap();
    let other = provider(&other_dir);
    let sealed = seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap();
    assert!(matches!(
        open(&other, &binding("e1"), &sealed),
        Err(KeyError::Unwrap(_))
    ));
}

#[test]
fn the_key_file_needs_its_passphrase_and_holds_no_key_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    let p = LocalKeyProvider::create(&path, PASSPHRASE).unwrap();
    let sealed = seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap();
    assert!(matches!(
        LocalKeyProvider::open(&path, b"wrong passphrase, long enough"),
        Err(KeyError::Config(_))
    ));
    let reopened = LocalKeyProvider::open(&path, PASSPHRASE).unwrap();
    assert_eq!(open(&reopened, &binding("e1"), &sealed).unwrap(), DOC);
    assert!(
        LocalKeyProvider::create(&path, PASSPHRASE).is_err(),
        "never overwritten"
    );
    assert!(
        !format!("{reopened:?}").contains("0x"),
        "Debug shows no key bytes"
    );
}

#[test]
fn rotation_rewraps_without_touching_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let p = provider(&dir);
    let old = seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap();
    let v2 = p.rotate_kek(DEFAULT_KEK).unwrap();
    assert_eq!(v2.version, 2);
    let new = seal(&p, DEFAULT_KEK, &binding("e2"), DOC).unwrap();
    assert_eq!(Header::parse(&new).unwrap().0.kek.version, 2);
    // Old and new both read.
    assert_eq!(open(&p, &binding("e1"), &old).unwrap(), DOC);
    assert_eq!(open(&p, &binding("e2"), &new).unwrap(), DOC);
    // Rewrap moves the old one to version 2; the payload bytes are the same.
    let rewrapped = rewrap(&p, &binding("e1"), &old)
        .unwrap()
        .expect("rewrapped");
    let (h_old, body_old) = Header::parse(&old).unwrap();
    let (h_new, body_new) = Header::parse(&rewrapped).unwrap();
    assert_eq!(h_new.kek.version, 2);
    assert_eq!(h_old.nonce, h_new.nonce);
    assert_eq!(body_old, body_new);
    assert_eq!(open(&p, &binding("e1"), &rewrapped).unwrap(), DOC);
    // Idempotent: rewrapping again changes nothing.
    assert!(rewrap(&p, &binding("e1"), &rewrapped).unwrap().is_none());
}

#[test]
fn a_destroyed_kek_version_shreds_what_it_wrapped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    let p = LocalKeyProvider::create(&path, PASSPHRASE).unwrap();
    let shredded = seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap();
    p.rotate_kek(DEFAULT_KEK).unwrap();
    let kept = seal(&p, DEFAULT_KEK, &binding("e2"), DOC).unwrap();
    p.destroy_version(DEFAULT_KEK, 1).unwrap();
    assert!(matches!(
        open(&p, &binding("e1"), &shredded),
        Err(KeyError::Unwrap(_))
    ));
    assert_eq!(open(&p, &binding("e2"), &kept).unwrap(), DOC);
    // Also after reopening the file: version 1 is gone from it.
    let reopened = LocalKeyProvider::open(&path, PASSPHRASE).unwrap();
    assert_eq!(
        reopened.keks().unwrap(),
        vec![(DEFAULT_KEK.to_string(), vec![2])]
    );
    assert!(open(&reopened, &binding("e1"), &shredded).is_err());
    // A new version never reuses a destroyed number.
    p.rotate_kek(DEFAULT_KEK).unwrap();
    assert_eq!(
        p.keks().unwrap(),
        vec![(DEFAULT_KEK.to_string(), vec![2, 3])]
    );
}

#[test]
fn truncated_envelopes_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = provider(&dir);
    let sealed = seal(&p, DEFAULT_KEK, &binding("e1"), DOC).unwrap();
    assert!(matches!(
        Header::parse(b"PK\x03\x04"),
        Err(HeaderError::Magic)
    ));
    for len in 0..sealed.len().min(80) {
        assert!(open(&p, &binding("e1"), &sealed[..len]).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The header parser never panics and whatever it accepts, it writes
    /// back the same.
    #[test]
    fn header_parser_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok((header, rest)) = Header::parse(&bytes) {
            let mut again = header.encode().unwrap();
            again.extend_from_slice(rest);
            prop_assert_eq!(again, bytes);
        }
    }
}

/// The payload is plain AES-256-GCM (ciphertext, then the 16-byte tag) as
/// the format documents it: a second, independent implementation (RustCrypto
/// `aes-gcm`) opens what Mamori seals, and Mamori opens what it seals.
#[test]
fn the_payload_is_standard_aes_256_gcm() {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aes_gcm::{Aes256Gcm, Nonce};
    use mamori_keys::envelope::associated_data;

    let dir = tempfile::tempdir().unwrap();
    let p = provider(&dir);
    let b = binding("interop");

    let sealed = seal(&p, DEFAULT_KEK, &b, DOC).unwrap();
    let (header, payload) = Header::parse(&sealed).unwrap();
    let dek = p
        .unwrap_data_key(&header.kek, &header.wrapped_dek, &b)
        .unwrap();
    let other = Aes256Gcm::new_from_slice(dek.as_slice()).unwrap();
    let aad = associated_data(&header.nonce, &b);
    let opened = other
        .decrypt(
            Nonce::from_slice(&header.nonce),
            Payload {
                msg: payload,
                aad: &aad,
            },
        )
        .expect("RustCrypto opens Mamori's envelope");
    assert_eq!(opened, DOC);
    assert_eq!(payload.len(), DOC.len() + 16);

    let key = p.generate_data_key(DEFAULT_KEK, &b).unwrap();
    let nonce = [7u8; 12];
    let header = Header {
        kek: key.kek.clone(),
        wrapped_dek: key.wrapped.clone(),
        nonce,
    };
    let mut envelope = header.encode().unwrap();
    let aad = associated_data(&nonce, &b);
    let ciphertext = Aes256Gcm::new_from_slice(key.plaintext.as_slice())
        .unwrap()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: DOC,
                aad: &aad,
            },
        )
        .unwrap();
    envelope.extend_from_slice(&ciphertext);
    assert_eq!(open(&p, &b, &envelope).unwrap(), DOC);
}
