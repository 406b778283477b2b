//! The conformance suite on the AWS KMS API (moto's server in development
//! and CI), and what KMS adds: the record is the encryption context, so KMS
//! itself refuses a DEK moved to another record.
//!
//! Needs a server: `eval "$(bash scripts/test-services/moto.sh /tmp/moto-test)"`
//! sets MAMORI_TEST_AWS_KMS_ENDPOINT. Without it the KMS tests say so and
//! pass.
//!
//! moto does not refuse a disabled or pending-deletion key on Decrypt or
//! GenerateDataKey, so shredding is checked through the key's state and
//! `ensure_kek`, not through failing unwraps.

mod common;

use std::time::Duration;

use common::{binding, fresh_kek, DOC};
use mamori_keys::aws_kms::{AwsKmsConfig, AwsKmsProvider, KMS_KEK_VERSION};
use mamori_keys::envelope::Header;
use mamori_keys::{open, rewrap, seal, Binding, KeyError, KeyProvider};

/// The test server's configuration: credentials `test`/`test` unless
/// MAMORI_TEST_AWS_ACCESS_KEY_ID and _SECRET_ACCESS_KEY name real ones (a
/// moto server that checks signatures needs an IAM user's key).
fn config() -> Option<AwsKmsConfig> {
    let Ok(endpoint) = std::env::var("MAMORI_TEST_AWS_KMS_ENDPOINT") else {
        println!(
            "skipped: MAMORI_TEST_AWS_KMS_ENDPOINT is not set (scripts/test-services/moto.sh starts a server)"
        );
        return None;
    };
    let key_id = std::env::var("MAMORI_TEST_AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "test".into());
    let secret =
        std::env::var("MAMORI_TEST_AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "test".into());
    let mut config = AwsKmsConfig::new("us-east-1", key_id, secret);
    config.endpoint = endpoint;
    Some(config)
}

fn provider() -> Option<AwsKmsProvider> {
    config().map(|c| AwsKmsProvider::new(c).expect("KMS provider"))
}

#[test]
fn aws_kms_passes_the_provider_suite() {
    let Some(p) = provider() else { return };
    common::conformance(
        &p,
        common::Abilities {
            visible_versions: false,
            enforces_destroy: false,
        },
    );
}

#[test]
fn kms_down_is_unavailable() {
    let mut config = AwsKmsConfig::new("us-east-1", "test", "secret-access-key-value");
    config.endpoint = "http://127.0.0.1:1".into();
    config.timeout = Duration::from_secs(3);
    let p = AwsKmsProvider::new(config).expect("KMS provider");
    common::unavailable(&p);
    match p.ensure_kek("mamori") {
        Err(KeyError::Unavailable(msg)) => {
            assert!(msg.contains("aws-kms at http://127.0.0.1:1"), "{msg}");
            assert!(!msg.contains("secret-access-key-value"), "{msg}");
        }
        other => panic!("ensure_kek against a closed port gave {other:?}"),
    }
}

#[test]
fn kms_enforces_the_encryption_context() {
    let Some(p) = provider() else { return };
    let kek = fresh_kek("context");
    p.ensure_kek(&kek).expect("create KEK");
    let sealed = seal(&p, &kek, &binding("e1"), DOC).expect("seal");
    let (header, _) = Header::parse(&sealed).expect("header");
    assert_eq!(header.kek.version, KMS_KEK_VERSION);
    p.unwrap_data_key(&header.kek, &header.wrapped_dek, &binding("e1"))
        .expect("the right record unwraps");
    let others = [
        binding("e2"),
        Binding {
            tenant: "org-2",
            ..binding("e1")
        },
        Binding {
            kind: "contract",
            ..binding("e1")
        },
    ];
    for other in others {
        // Refused by KMS already, before the payload's own check.
        match p.unwrap_data_key(&header.kek, &header.wrapped_dek, &other) {
            Err(KeyError::Unwrap(msg)) => {
                assert!(msg.contains("InvalidCiphertextException"), "{msg}")
            }
            Err(e) => panic!("a moved data key gave {e:?}"),
            Ok(_) => panic!("a data key unwrapped for another record: {other:?}"),
        }
    }
}

#[test]
fn another_keks_ciphertext_is_refused_by_kms() {
    let Some(p) = provider() else { return };
    let a = fresh_kek("key-a");
    let b = fresh_kek("key-b");
    p.ensure_kek(&a).expect("create KEK a");
    let b_ref = p.ensure_kek(&b).expect("create KEK b");
    let key = p.generate_data_key(&a, &binding("e1")).expect("data key");
    let result = p.unwrap_data_key(&b_ref, &key.wrapped, &binding("e1"));
    assert!(
        matches!(result, Err(KeyError::Unwrap(_))),
        "a DEK of KEK a unwrapped under KEK b"
    );
}

#[test]
fn rotation_keeps_version_one_and_old_data_keys() {
    let Some(p) = provider() else { return };
    let kek = fresh_kek("rotate");
    p.ensure_kek(&kek).expect("create KEK");
    let old = seal(&p, &kek, &binding("e1"), DOC).expect("seal");
    for _ in 0..2 {
        assert_eq!(p.rotate_kek(&kek).expect("rotate").version, KMS_KEK_VERSION);
    }
    assert_eq!(p.current_version(&kek).expect("current"), KMS_KEK_VERSION);
    assert!(rewrap(&p, &binding("e1"), &old).expect("rewrap").is_none());
    assert_eq!(open(&p, &binding("e1"), &old).expect("open"), DOC);
}

#[test]
fn a_destroyed_kek_is_pending_deletion_and_not_recreated() {
    let Some(p) = provider() else { return };
    let kek = fresh_kek("mamori-vendor-gone");
    p.ensure_kek(&kek).expect("create KEK");
    let key_id = p.key_metadata(&kek).expect("describe").key_id;
    seal(&p, &kek, &binding("e1"), DOC).expect("seal");
    p.destroy_kek(&kek).expect("destroy");
    let meta = p.key_metadata(&kek).expect("describe after destroy");
    assert_eq!(meta.key_state, "PendingDeletion");
    assert_eq!(meta.key_id, key_id, "the alias still names the same key");
    p.destroy_kek(&kek).expect("destroying again is harmless");
    match p.ensure_kek(&kek) {
        Err(KeyError::Unwrap(msg)) => assert!(msg.contains("destroyed"), "{msg}"),
        other => panic!("a destroyed KEK came back: {other:?}"),
    }
    assert_eq!(p.key_metadata(&kek).expect("describe").key_id, key_id);
    assert!(matches!(p.current_version(&kek), Err(KeyError::Unwrap(_))));
    assert!(matches!(p.rotate_kek(&kek), Err(KeyError::Unwrap(_))));
}

#[test]
fn a_missing_kek_is_refused() {
    let Some(p) = provider() else { return };
    let kek = fresh_kek("missing");
    match p.generate_data_key(&kek, &binding("e1")) {
        Err(KeyError::Unwrap(msg)) => assert!(msg.contains("NotFoundException"), "{msg}"),
        other => panic!("a data key under a missing KEK gave {other:?}"),
    }
    assert!(matches!(p.current_version(&kek), Err(KeyError::Unwrap(_))));
}

#[test]
fn a_wrong_secret_is_refused_without_showing_it() {
    let Some(mut config) = config() else { return };
    let wrong = fresh_kek("not-the-secret");
    config.secret_access_key = wrong.clone().into();
    let p = AwsKmsProvider::new(config).expect("KMS provider");
    match p.ensure_kek(&fresh_kek("signed")) {
        Ok(_) => println!(
            "skipped: this KMS server does not check signatures (moto checks them only with \
             INITIAL_NO_AUTH_ACTION_COUNT set, as scripts/test-services/moto.sh does)"
        ),
        Err(e) => {
            assert!(
                matches!(e, KeyError::Unwrap(_)),
                "a wrong secret gave {e:?}"
            );
            let text = format!("{e} {e:?} {p:?}");
            assert!(text.contains("Signature"), "{text}");
            assert!(!text.contains(&wrong), "the secret is in the error: {text}");
        }
    }
}
