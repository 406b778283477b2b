//! The conformance suite on OpenBao's Transit engine, and what only a
//! remote key manager shows: it can be down, refuse a token, or be switched
//! off by the customer behind Mamori's back.
//!
//! Needs a server: `eval "$(bash scripts/test-services/openbao.sh /tmp/bao-test)"`
//! sets MAMORI_TEST_OPENBAO_ADDR and MAMORI_TEST_OPENBAO_TOKEN. Without
//! MAMORI_TEST_OPENBAO_ADDR the OpenBao tests say so and pass.

mod common;

use std::time::Duration;

use common::{binding, fresh_kek, DOC};
use mamori_keys::envelope::Header;
use mamori_keys::openbao::{OpenBaoConfig, OpenBaoProvider, REWRAP_BATCH_SIZE};
use mamori_keys::{open, rewrap, seal, KeyError, KeyProvider};
use serde_json::{json, Value};

fn config() -> Option<OpenBaoConfig> {
    let Ok(addr) = std::env::var("MAMORI_TEST_OPENBAO_ADDR") else {
        println!(
            "skipped: MAMORI_TEST_OPENBAO_ADDR is not set (scripts/test-services/openbao.sh starts a server)"
        );
        return None;
    };
    let token = std::env::var("MAMORI_TEST_OPENBAO_TOKEN")
        .expect("MAMORI_TEST_OPENBAO_TOKEN must be set with MAMORI_TEST_OPENBAO_ADDR");
    Some(OpenBaoConfig::new(addr, token))
}

fn provider(config: &OpenBaoConfig) -> OpenBaoProvider {
    OpenBaoProvider::new(config.clone()).expect("OpenBao provider")
}

/// What the customer does on their own server, outside Mamori: a call to
/// the Transit API with the test's token.
fn admin(config: &OpenBaoConfig, method: reqwest::Method, path: &str, body: Value) -> Value {
    let url = format!(
        "{}/v1/{}/{path}",
        config.addr.trim_end_matches('/'),
        config.mount
    );
    let response = reqwest::blocking::Client::new()
        .request(method, url)
        .header("X-Vault-Token", config.token.as_str())
        .json(&body)
        .send()
        .expect("OpenBao answers");
    let status = response.status();
    let text = response.text().unwrap_or_default();
    assert!(status.is_success(), "{path}: HTTP {status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[test]
fn openbao_transit_passes_the_provider_suite() {
    let Some(config) = config() else { return };
    common::conformance(
        &provider(&config),
        common::Abilities {
            visible_versions: true,
            enforces_destroy: true,
        },
    );
}

#[test]
fn openbao_down_is_unavailable() {
    let mut config = OpenBaoConfig::new("http://127.0.0.1:1", "some-token");
    config.timeout = Duration::from_secs(3);
    let p = provider(&config);
    common::unavailable(&p);
    match p.ensure_kek("mamori") {
        Err(KeyError::Unavailable(msg)) => {
            assert!(msg.contains("openbao at http://127.0.0.1:1"), "{msg}");
            assert!(!msg.contains("some-token"), "{msg}");
        }
        other => panic!("ensure_kek against a closed port gave {other:?}"),
    }
}

#[test]
fn a_wrong_token_is_refused_without_showing_it() {
    let Some(mut config) = config() else { return };
    let good = provider(&config);
    let kek = fresh_kek("token");
    good.ensure_kek(&kek).expect("create KEK");
    let sealed = seal(&good, &kek, &binding("e1"), DOC).expect("seal");

    let wrong = fresh_kek("not-a-valid-token");
    config.token = wrong.clone().into();
    let bad = provider(&config);
    let errors = [
        bad.ensure_kek(&kek).expect_err("ensure with a wrong token"),
        seal(&bad, &kek, &binding("e2"), DOC).expect_err("seal with a wrong token"),
        open(&bad, &binding("e1"), &sealed).expect_err("open with a wrong token"),
    ];
    for e in errors {
        assert!(matches!(e, KeyError::Unwrap(_)), "a wrong token gave {e:?}");
        let text = format!("{e} {e:?}");
        assert!(text.contains("403"), "{text}");
        assert!(!text.contains(&wrong), "the token is in the error: {text}");
    }
    assert!(!format!("{bad:?} {config:?}").contains(&wrong));
}

#[test]
fn an_envelope_naming_another_version_is_refused() {
    let Some(config) = config() else { return };
    let p = provider(&config);
    let kek = fresh_kek("version");
    p.ensure_kek(&kek).expect("create KEK");
    let sealed = seal(&p, &kek, &binding("e1"), DOC).expect("seal");
    p.rotate_kek(&kek).expect("rotate");
    let (mut header, body) = Header::parse(&sealed).expect("header");
    assert_eq!(header.kek.version, 1);
    assert!(header.wrapped_dek.starts_with(b"vault:v1:"));
    header.kek.version = 2;
    let mut edited = header.encode().expect("encode");
    edited.extend_from_slice(body);
    match open(&p, &binding("e1"), &edited) {
        Err(KeyError::Unwrap(msg)) => assert!(msg.contains("version 1"), "{msg}"),
        other => panic!("an edited KEK version gave {other:?}"),
    }
    assert!(matches!(
        rewrap(&p, &binding("e1"), &edited),
        Err(KeyError::Unwrap(_))
    ));
    assert_eq!(
        open(&p, &binding("e1"), &sealed).expect("the original opens"),
        DOC
    );
}

#[test]
fn the_customer_can_retire_old_versions() {
    let Some(config) = config() else { return };
    let p = provider(&config);
    let kek = fresh_kek("retire");
    p.ensure_kek(&kek).expect("create KEK");
    let old = seal(&p, &kek, &binding("e1"), DOC).expect("seal old");
    let v2 = p.rotate_kek(&kek).expect("rotate");
    let new = seal(&p, &kek, &binding("e2"), DOC).expect("seal new");
    // Out of band: version 1 may no longer decrypt.
    admin(
        &config,
        reqwest::Method::POST,
        &format!("keys/{kek}/config"),
        json!({ "min_decryption_version": v2.version }),
    );
    match open(&p, &binding("e1"), &old) {
        Err(KeyError::Unwrap(msg)) => assert!(msg.contains("openbao refused"), "{msg}"),
        other => panic!("a retired KEK version gave {other:?}"),
    }
    assert!(matches!(
        rewrap(&p, &binding("e1"), &old),
        Err(KeyError::Unwrap(_))
    ));
    assert_eq!(open(&p, &binding("e2"), &new).expect("open new"), DOC);
}

#[test]
fn the_customer_can_delete_the_key() {
    let Some(config) = config() else { return };
    let p = provider(&config);
    let kek = fresh_kek("kill-switch");
    p.ensure_kek(&kek).expect("create KEK");
    let sealed = seal(&p, &kek, &binding("e1"), DOC).expect("seal");
    // Out of band: the customer deletes the Transit key.
    admin(
        &config,
        reqwest::Method::POST,
        &format!("keys/{kek}/config"),
        json!({ "deletion_allowed": true }),
    );
    admin(
        &config,
        reqwest::Method::DELETE,
        &format!("keys/{kek}"),
        json!({}),
    );
    let result = open(&p, &binding("e1"), &sealed);
    assert!(
        matches!(result, Err(KeyError::Unwrap(_))),
        "a deleted key gave {result:?}"
    );
    assert!(matches!(
        seal(&p, &kek, &binding("e2"), DOC),
        Err(KeyError::Unwrap(_))
    ));
    assert!(matches!(p.current_version(&kek), Err(KeyError::Unwrap(_))));
}

#[test]
fn a_destroyed_kek_leaves_a_tombstone() {
    let Some(config) = config() else { return };
    let p = provider(&config);
    let kek = fresh_kek("tombstone");
    p.ensure_kek(&kek).expect("create KEK");
    p.destroy_kek(&kek).expect("destroy");
    p.destroy_kek(&kek).expect("destroying again is harmless");
    match p.ensure_kek(&kek) {
        Err(KeyError::Unwrap(msg)) => assert!(msg.contains("destroyed"), "{msg}"),
        other => panic!("a destroyed KEK came back: {other:?}"),
    }
    match p.current_version(&kek) {
        Err(KeyError::Unwrap(msg)) => assert!(msg.contains("destroyed"), "{msg}"),
        other => panic!("a destroyed KEK has a version: {other:?}"),
    }
    assert!(matches!(
        p.destroy_kek(&fresh_kek("never")),
        Err(KeyError::Config(_))
    ));
}

#[test]
fn many_data_keys_rewrap_in_batches() {
    let Some(config) = config() else { return };
    let p = provider(&config);
    let kek = fresh_kek("batch");
    p.ensure_kek(&kek).expect("create KEK");
    let ids: Vec<String> = (0..REWRAP_BATCH_SIZE + 20)
        .map(|i| format!("e{i}"))
        .collect();
    let mut envelopes: Vec<Vec<u8>> = ids[..REWRAP_BATCH_SIZE]
        .iter()
        .map(|id| seal(&p, &kek, &binding(id), DOC).expect("seal"))
        .collect();
    let v2 = p.rotate_kek(&kek).expect("rotate");
    envelopes.extend(
        ids[REWRAP_BATCH_SIZE..]
            .iter()
            .map(|id| seal(&p, &kek, &binding(id), DOC).expect("seal after rotation")),
    );
    let wrapped: Vec<Vec<u8>> = envelopes
        .iter()
        .map(|env| Header::parse(env).expect("header").0.wrapped_dek)
        .collect();
    let started = std::time::Instant::now();
    let rewrapped = p.rewrap_batch(&kek, &wrapped).expect("batch rewrap");
    println!(
        "rewrapped {} data keys in {:?}",
        wrapped.len(),
        started.elapsed()
    );
    assert_eq!(rewrapped.len(), envelopes.len());
    for (i, ((kek_ref, dek), env)) in rewrapped.iter().zip(&envelopes).enumerate() {
        assert_eq!(kek_ref.version, v2.version);
        let (mut header, body) = Header::parse(env).expect("header");
        if i >= REWRAP_BATCH_SIZE {
            assert_eq!(dek, &header.wrapped_dek, "a current DEK was changed");
        } else {
            assert_ne!(dek, &header.wrapped_dek);
        }
        header.kek = kek_ref.clone();
        header.wrapped_dek = dek.clone();
        let mut updated = header.encode().expect("encode");
        updated.extend_from_slice(body);
        if i % 97 == 0 || i >= REWRAP_BATCH_SIZE {
            assert_eq!(open(&p, &binding(&ids[i]), &updated).expect("open"), DOC);
        }
    }
    // One bad item fails the batch, naming it.
    let mut bad = wrapped[..3].to_vec();
    bad[1] = b"vault:v1:AAAA".to_vec();
    match p.rewrap_batch(&kek, &bad) {
        Err(KeyError::Unwrap(msg)) => assert!(msg.contains("item 1"), "{msg}"),
        other => panic!("a bad batch item gave {other:?}"),
    }
    assert!(p.rewrap_batch(&kek, &[]).expect("empty batch").is_empty());
}
