//! KEKs in an OpenBao (or HashiCorp Vault) Transit secrets engine.
//!
//! A KEK named `n` is the Transit key `n` (type `aes256-gcm96`) under the
//! configured mount. Data keys come from Transit's `datakey` endpoint; the
//! wrapped DEK stored in an envelope is Transit's ciphertext string
//! (`vault:v<N>:<base64>`) as bytes, and `N` is the KEK version recorded in
//! the envelope header. Rotation is Transit's key rotation, and rewrapping
//! uses Transit's `rewrap`, which never shows Mamori the DEK.
//!
//! Destroying a KEK deletes the Transit key with every version. Transit
//! would let a key of the same name be created again, so before deleting,
//! the provider creates a tombstone key `n.destroyed`; `ensure_kek` refuses
//! a name whose tombstone exists. KEK names may only hold ASCII letters,
//! digits, `-` and `_`, so no KEK name can be a tombstone's.
//!
//! The record binding is not sent to Transit: the payload's associated data
//! already binds it, and a DEK without its payload protects nothing.
//!
//! Calls block (HTTP with short timeouts); from async code, run them on a
//! blocking thread.

use std::io::Read;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::{Binding, DataKey, Dek, KekRef, KeyError, KeyProvider};

/// Transit key type of every KEK.
const KEY_TYPE: &str = "aes256-gcm96";
/// Suffix of the tombstone key written before a KEK is deleted.
const TOMBSTONE_SUFFIX: &str = ".destroyed";
/// Ciphertexts per `rewrap` request in [`OpenBaoProvider::rewrap_batch`].
/// OpenBao refuses a JSON body of more than 1,000 strings by default, and
/// each item takes two.
pub const REWRAP_BATCH_SIZE: usize = 250;
/// Largest response body read; Transit answers are small.
const MAX_BODY: u64 = 16 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default time for one whole request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the Transit engine is and how to authenticate.
#[derive(Clone)]
pub struct OpenBaoConfig {
    /// Base address, e.g. `https://bao.example.com:8200`.
    pub addr: String,
    /// A token whose policy allows the Transit paths of the KEKs.
    pub token: Zeroizing<String>,
    /// Mount path of the Transit engine (`transit`).
    pub mount: String,
    /// Namespace (`X-Vault-Namespace`), when the server uses them.
    pub namespace: Option<String>,
    /// Time for one whole request (connecting is limited to 2 s).
    pub timeout: Duration,
    /// Extra trusted CA certificate (PEM) for a server with a private CA.
    pub ca_cert_pem: Option<Vec<u8>>,
}

impl OpenBaoConfig {
    /// A configuration with the default mount (`transit`), no namespace and
    /// a 10 s request timeout.
    pub fn new(addr: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            addr: addr.into(),
            token: Zeroizing::new(token.into()),
            mount: "transit".into(),
            namespace: None,
            timeout: DEFAULT_TIMEOUT,
            ca_cert_pem: None,
        }
    }
}

impl std::fmt::Debug for OpenBaoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenBaoConfig")
            .field("addr", &self.addr)
            .field("token", &"<redacted>")
            .field("mount", &self.mount)
            .field("namespace", &self.namespace)
            .field("timeout", &self.timeout)
            .field("ca_cert_pem", &self.ca_cert_pem.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// KEKs as Transit keys of an OpenBao or Vault server.
pub struct OpenBaoProvider {
    addr: String,
    mount: String,
    client: Client,
}

impl std::fmt::Debug for OpenBaoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenBaoProvider")
            .field("addr", &self.addr)
            .field("mount", &self.mount)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Deserialize)]
struct KeyInfo {
    latest_version: u32,
    #[serde(rename = "type", default)]
    key_type: String,
    #[serde(default)]
    soft_deleted: bool,
}

#[derive(Deserialize)]
struct Ciphertext {
    ciphertext: String,
}

#[derive(Deserialize)]
struct BatchItem {
    #[serde(default)]
    ciphertext: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct BatchResults {
    batch_results: Vec<BatchItem>,
}

/// A KEK name as a Transit key name: ASCII letters, digits, `-`, `_`.
fn check_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty()
        || name.len() > 200
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(KeyError::Config(format!(
            "KEK name '{name}' is not usable as a Transit key (letters, digits, '-', '_')"
        )));
    }
    Ok(())
}

/// The key version of a Transit ciphertext `vault:v<N>:<base64>`.
pub fn ciphertext_version(ciphertext: &str) -> Option<u32> {
    let rest = ciphertext.strip_prefix("vault:v")?;
    let (digits, body) = rest.split_once(':')?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if body.is_empty() || body.contains(':') {
        return None;
    }
    digits.parse().ok().filter(|v| *v > 0)
}

/// The wrapped DEK as a Transit ciphertext whose version is the one in the
/// KEK reference; anything else is refused before asking the server.
fn wrapped_ciphertext<'a>(kek: &KekRef, wrapped: &'a [u8]) -> Result<&'a str, KeyError> {
    let text = std::str::from_utf8(wrapped)
        .map_err(|_| KeyError::Unwrap("the wrapped key is not a Transit ciphertext".into()))?;
    let version = ciphertext_version(text)
        .ok_or_else(|| KeyError::Unwrap("the wrapped key is not a Transit ciphertext".into()))?;
    if version != kek.version {
        return Err(KeyError::Unwrap(format!(
            "the wrapped key is under version {version} of KEK '{}', the envelope names version {}",
            kek.id, kek.version
        )));
    }
    Ok(text)
}

fn decode_dek(plaintext: Zeroizing<String>) -> Result<Dek, KeyError> {
    let bytes =
        Zeroizing::new(B64.decode(plaintext.as_bytes()).map_err(|_| {
            KeyError::Unwrap("OpenBao returned a data key that is not base64".into())
        })?);
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::Unwrap("OpenBao returned a data key of the wrong length".into()))?;
    Ok(Zeroizing::new(key))
}

/// The `errors` of an OpenBao error answer, shortened.
fn server_errors(body: &[u8]) -> String {
    let text = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errors").and_then(Value::as_array).map(|errs| {
                errs.iter()
                    .filter_map(Value::as_str)
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .unwrap_or_default();
    let text = if text.is_empty() {
        "no error text".to_string()
    } else {
        text
    };
    shorten(&text)
}

fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl OpenBaoProvider {
    /// A provider for the server in `config`. Nothing is sent yet.
    pub fn new(config: OpenBaoConfig) -> Result<Self, KeyError> {
        let addr = config.addr.trim().trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&addr)
            .map_err(|e| KeyError::Config(format!("OpenBao address '{addr}': {e}")))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.password().is_some()
            || url.query().is_some()
        {
            return Err(KeyError::Config(format!(
                "OpenBao address '{}' must be an https:// (or http://) URL without credentials or query",
                url.host_str().unwrap_or("?")
            )));
        }
        if url.scheme() == "http" && !is_loopback(&url) {
            tracing::warn!(addr = %addr, "the OpenBao token and data keys travel without TLS");
        }
        let mount = config.mount.trim().trim_matches('/').to_string();
        if mount.is_empty()
            || mount
                .split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            || !mount
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.'))
        {
            return Err(KeyError::Config(format!(
                "Transit mount '{mount}' is not a mount path"
            )));
        }
        if config.token.trim().is_empty() {
            return Err(KeyError::Config("the OpenBao token is empty".into()));
        }
        let mut headers = HeaderMap::new();
        let mut token = HeaderValue::from_str(config.token.trim()).map_err(|_| {
            KeyError::Config("the OpenBao token has characters a header cannot hold".into())
        })?;
        token.set_sensitive(true);
        headers.insert("X-Vault-Token", token);
        if let Some(ns) = config
            .namespace
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let value = HeaderValue::from_str(ns).map_err(|_| {
                KeyError::Config(format!("OpenBao namespace '{ns}' is not a header value"))
            })?;
            headers.insert("X-Vault-Namespace", value);
        }
        let mut builder = Client::builder()
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(config.timeout)
            // The token travels in a header that redirects would carry to
            // wherever they point.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("mamori-keys");
        if let Some(pem) = &config.ca_cert_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| KeyError::Config(format!("OpenBao CA certificate: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .build()
            .map_err(|e| KeyError::Config(format!("OpenBao HTTP client: {e}")))?;
        Ok(Self {
            addr,
            mount,
            client,
        })
    }

    fn unavailable(&self, what: impl std::fmt::Display) -> KeyError {
        KeyError::Unavailable(format!("openbao at {}: {what}", self.addr))
    }

    /// Sends one request; a 2xx answer's body (empty for 204), or the
    /// error it maps to. `what` names the operation for messages.
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match self.send(method, path, body, what)? {
            (status, body) if status.is_success() => Ok(body),
            (status, body) => Err(self.refusal(status, &body, what)),
        }
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<(StatusCode, Zeroizing<Vec<u8>>), KeyError> {
        let url = format!("{}/v1/{}/{}", self.addr, self.mount, path);
        let mut request = self.client.request(method, url);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().map_err(|e| self.transport(what, e))?;
        let status = response.status();
        let body = self.read_body(response, what)?;
        Ok((status, body))
    }

    fn transport(&self, what: &str, e: reqwest::Error) -> KeyError {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        };
        let mut detail = String::new();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        if detail.is_empty() {
            self.unavailable(format!("{what}: {kind}"))
        } else {
            self.unavailable(format!("{what}: {kind} ({detail})"))
        }
    }

    fn read_body(&self, response: Response, what: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        // Sized up front: a buffer that grows leaves its earlier copies,
        // which may hold a data key, in freed memory.
        let mut body = Zeroizing::new(Vec::with_capacity(body_capacity(&response)));
        response
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .map_err(|e| self.unavailable(format!("{what}: reading the answer: {e}")))?;
        Ok(body)
    }

    /// The error of a non-2xx answer.
    fn refusal(&self, status: StatusCode, body: &[u8], what: &str) -> KeyError {
        let errors = server_errors(body);
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            // 503 also covers a sealed server.
            self.unavailable(format!("{what}: HTTP {}: {errors}", status.as_u16()))
        } else if status.is_redirection() {
            self.unavailable(format!(
                "{what}: HTTP {} (redirects are not followed; use the active node's address)",
                status.as_u16()
            ))
        } else {
            KeyError::Unwrap(format!(
                "openbao refused {what} (HTTP {}): {errors}",
                status.as_u16()
            ))
        }
    }

    fn parse_data<T: for<'de> Deserialize<'de>>(
        &self,
        body: &[u8],
        what: &str,
    ) -> Result<T, KeyError> {
        #[derive(Deserialize)]
        struct Envelope<T> {
            data: T,
        }
        serde_json::from_slice::<Envelope<T>>(body)
            .map(|e| e.data)
            .map_err(|e| self.unavailable(format!("{what}: unexpected answer: {e}")))
    }

    /// The Transit key's description, `None` when it does not exist.
    fn key_info(&self, name: &str, what: &str) -> Result<Option<KeyInfo>, KeyError> {
        let (status, body) = self.send(Method::GET, &format!("keys/{name}"), None, what)?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.refusal(status, &body, what));
        }
        self.parse_data(&body, what).map(Some)
    }

    fn tombstone(name: &str) -> String {
        format!("{name}{TOMBSTONE_SUFFIX}")
    }

    fn is_destroyed(&self, name: &str) -> Result<bool, KeyError> {
        let what = format!("checking whether KEK '{name}' was destroyed");
        Ok(self.key_info(&Self::tombstone(name), &what)?.is_some())
    }

    fn create_key(&self, name: &str) -> Result<(), KeyError> {
        self.call(
            Method::POST,
            &format!("keys/{name}"),
            Some(&json!({ "type": KEY_TYPE })),
            &format!("creating Transit key '{name}'"),
        )
        .map(|_| ())
    }

    /// The live key's latest version, with a clear error when it is gone.
    fn live_version(&self, name: &str) -> Result<u32, KeyError> {
        match self.key_info(name, &format!("reading KEK '{name}'"))? {
            Some(info) if info.soft_deleted => Err(KeyError::Unwrap(format!(
                "KEK '{name}' is deleted in OpenBao"
            ))),
            Some(info) => Ok(info.latest_version),
            None if self.is_destroyed(name)? => {
                Err(KeyError::Unwrap(format!("KEK '{name}' was destroyed")))
            }
            None => Err(KeyError::Unwrap(format!(
                "there is no KEK '{name}' in OpenBao"
            ))),
        }
    }

    /// Rewraps many DEKs of one KEK under its current version in few
    /// requests (Transit's `batch_input`, [`REWRAP_BATCH_SIZE`] at a time).
    /// Each item is a wrapped DEK as stored in an envelope; the answer has
    /// one entry per item, in order, and an item already under the current
    /// version comes back unchanged. One refused item fails the call.
    pub fn rewrap_batch(
        &self,
        kek: &str,
        items: &[Vec<u8>],
    ) -> Result<Vec<(KekRef, Vec<u8>)>, KeyError> {
        check_name(kek)?;
        let mut out = Vec::with_capacity(items.len());
        for (chunk_no, chunk) in items.chunks(REWRAP_BATCH_SIZE).enumerate() {
            let mut inputs = Vec::with_capacity(chunk.len());
            let mut versions = Vec::with_capacity(chunk.len());
            for (i, wrapped) in chunk.iter().enumerate() {
                let index = chunk_no * REWRAP_BATCH_SIZE + i;
                let text = std::str::from_utf8(wrapped).ok();
                let version = text.and_then(ciphertext_version).ok_or_else(|| {
                    KeyError::Unwrap(format!("item {index}: not a Transit ciphertext"))
                })?;
                versions.push(version);
                inputs.push(json!({ "ciphertext": text }));
            }
            let what = format!("rewrapping {} data keys under '{kek}'", chunk.len());
            let body = self.call(
                Method::POST,
                &format!("rewrap/{kek}"),
                Some(&json!({ "batch_input": inputs })),
                &what,
            )?;
            let results: BatchResults = self.parse_data(&body, &what)?;
            if results.batch_results.len() != chunk.len() {
                return Err(self.unavailable(format!(
                    "{what}: {} results for {} items",
                    results.batch_results.len(),
                    chunk.len()
                )));
            }
            for (i, item) in results.batch_results.into_iter().enumerate() {
                let index = chunk_no * REWRAP_BATCH_SIZE + i;
                if let Some(err) = item.error.filter(|e| !e.is_empty()) {
                    return Err(KeyError::Unwrap(format!(
                        "openbao refused rewrapping item {index} under '{kek}': {}",
                        shorten(&err)
                    )));
                }
                let ciphertext = item.ciphertext.unwrap_or_default();
                let version = ciphertext_version(&ciphertext).ok_or_else(|| {
                    self.unavailable(format!("{what}: item {index}: unexpected ciphertext"))
                })?;
                if version == versions[i] {
                    out.push((
                        KekRef {
                            id: kek.to_string(),
                            version,
                        },
                        chunk[i].clone(),
                    ));
                } else {
                    out.push((
                        KekRef {
                            id: kek.to_string(),
                            version,
                        },
                        ciphertext.into_bytes(),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// `count` fresh random 256-bit values wrapped under the current
    /// version of `kek`, in few requests (Transit's `encrypt` with
    /// `batch_input`, [`REWRAP_BATCH_SIZE`] at a time). The wrapped forms
    /// are Transit ciphertexts like those of `generate_data_key`, so
    /// `unwrap_data_key` and [`Self::rewrap_batch`] accept them; the
    /// plaintext values are discarded and, unlike real data keys, travel in
    /// request bodies that are not zeroed. For load tests of rewrapping
    /// only: never protect data with them.
    pub fn wrap_random_batch(
        &self,
        kek: &str,
        count: usize,
    ) -> Result<Vec<(KekRef, Vec<u8>)>, KeyError> {
        use rand::RngCore;
        check_name(kek)?;
        let mut out = Vec::with_capacity(count);
        let mut value = [0u8; 32];
        while out.len() < count {
            let n = (count - out.len()).min(REWRAP_BATCH_SIZE);
            let inputs: Vec<Value> = (0..n)
                .map(|_| {
                    rand::rngs::OsRng.fill_bytes(&mut value);
                    json!({ "plaintext": B64.encode(value) })
                })
                .collect();
            let what = format!("wrapping {n} random values under '{kek}'");
            let body = self.call(
                Method::POST,
                &format!("encrypt/{kek}"),
                Some(&json!({ "batch_input": inputs })),
                &what,
            )?;
            let results: BatchResults = self.parse_data(&body, &what)?;
            if results.batch_results.len() != n {
                return Err(self.unavailable(format!(
                    "{what}: {} results for {n} items",
                    results.batch_results.len()
                )));
            }
            for item in results.batch_results {
                if let Some(err) = item.error.filter(|e| !e.is_empty()) {
                    return Err(KeyError::Unwrap(format!(
                        "openbao refused {what}: {}",
                        shorten(&err)
                    )));
                }
                let ciphertext = item.ciphertext.unwrap_or_default();
                let version = ciphertext_version(&ciphertext)
                    .ok_or_else(|| self.unavailable(format!("{what}: unexpected ciphertext")))?;
                out.push((
                    KekRef {
                        id: kek.to_string(),
                        version,
                    },
                    ciphertext.into_bytes(),
                ));
            }
        }
        value.fill(0);
        Ok(out)
    }
}

/// Room for a whole answer: its announced length, or 64 KiB.
fn body_capacity(response: &Response) -> usize {
    response.content_length().unwrap_or(64 * 1024).min(MAX_BODY) as usize + 1
}

/// Whether a URL points at this machine (plain HTTP is fine there).
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

impl KeyProvider for OpenBaoProvider {
    fn name(&self) -> &str {
        "openbao"
    }

    fn generate_data_key(&self, kek_id: &str, _binding: &Binding<'_>) -> Result<DataKey, KeyError> {
        check_name(kek_id)?;
        #[derive(Deserialize)]
        struct Generated {
            plaintext: String,
            ciphertext: String,
        }
        let what = format!("creating a data key under '{kek_id}'");
        let body = self.call(
            Method::POST,
            &format!("datakey/plaintext/{kek_id}"),
            Some(&json!({ "bits": 256 })),
            &what,
        )?;
        let generated: Generated = self.parse_data(&body, &what)?;
        let plaintext = Zeroizing::new(generated.plaintext);
        let version = ciphertext_version(&generated.ciphertext)
            .ok_or_else(|| self.unavailable(format!("{what}: unexpected ciphertext")))?;
        Ok(DataKey {
            plaintext: decode_dek(plaintext)?,
            wrapped: generated.ciphertext.into_bytes(),
            kek: KekRef {
                id: kek_id.to_string(),
                version,
            },
        })
    }

    fn unwrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        _binding: &Binding<'_>,
    ) -> Result<Dek, KeyError> {
        check_name(&kek.id)?;
        let ciphertext = wrapped_ciphertext(kek, wrapped)?;
        #[derive(Deserialize)]
        struct Decrypted {
            plaintext: String,
        }
        let what = format!("unwrapping a data key under '{}'", kek.id);
        let body = self.call(
            Method::POST,
            &format!("decrypt/{}", kek.id),
            Some(&json!({ "ciphertext": ciphertext })),
            &what,
        )?;
        let decrypted: Decrypted = self.parse_data(&body, &what)?;
        decode_dek(Zeroizing::new(decrypted.plaintext))
    }

    fn rewrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        _binding: &Binding<'_>,
    ) -> Result<(KekRef, Vec<u8>), KeyError> {
        check_name(&kek.id)?;
        let ciphertext = wrapped_ciphertext(kek, wrapped)?;
        let what = format!("rewrapping a data key under '{}'", kek.id);
        let body = self.call(
            Method::POST,
            &format!("rewrap/{}", kek.id),
            Some(&json!({ "ciphertext": ciphertext })),
            &what,
        )?;
        let rewrapped: Ciphertext = self.parse_data(&body, &what)?;
        let version = ciphertext_version(&rewrapped.ciphertext)
            .ok_or_else(|| self.unavailable(format!("{what}: unexpected ciphertext")))?;
        if version == kek.version {
            // Already under the current version: Transit re-encrypted it
            // anyway, but the stored one is just as good.
            return Ok((kek.clone(), wrapped.to_vec()));
        }
        Ok((
            KekRef {
                id: kek.id.clone(),
                version,
            },
            rewrapped.ciphertext.into_bytes(),
        ))
    }

    fn current_version(&self, kek_id: &str) -> Result<u32, KeyError> {
        check_name(kek_id)?;
        self.live_version(kek_id)
    }

    fn ensure_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        check_name(kek_id)?;
        if self.is_destroyed(kek_id)? {
            return Err(KeyError::Unwrap(format!(
                "KEK '{kek_id}' was destroyed; it is not created again"
            )));
        }
        match self.key_info(kek_id, &format!("reading KEK '{kek_id}'"))? {
            Some(info) if info.key_type != KEY_TYPE => {
                return Err(KeyError::Config(format!(
                    "Transit key '{kek_id}' has type '{}', not {KEY_TYPE}",
                    info.key_type
                )))
            }
            Some(_) => {}
            None => self.create_key(kek_id)?,
        }
        Ok(KekRef {
            id: kek_id.to_string(),
            version: self.live_version(kek_id)?,
        })
    }

    fn rotate_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        check_name(kek_id)?;
        self.call(
            Method::POST,
            &format!("keys/{kek_id}/rotate"),
            Some(&json!({})),
            &format!("rotating key '{kek_id}'"),
        )?;
        Ok(KekRef {
            id: kek_id.to_string(),
            version: self.live_version(kek_id)?,
        })
    }

    fn destroy_kek(&self, kek_id: &str) -> Result<(), KeyError> {
        check_name(kek_id)?;
        if self
            .key_info(kek_id, &format!("reading KEK '{kek_id}'"))?
            .is_none()
        {
            if self.is_destroyed(kek_id)? {
                return Ok(());
            }
            return Err(KeyError::Config(format!(
                "there is no KEK '{kek_id}' in OpenBao"
            )));
        }
        // The tombstone first: if deleting fails half-way, the KEK can no
        // longer be created again, and destroying again finishes the work.
        self.create_key(&Self::tombstone(kek_id))?;
        self.call(
            Method::POST,
            &format!("keys/{kek_id}/config"),
            Some(&json!({ "deletion_allowed": true })),
            &format!("allowing deletion of key '{kek_id}'"),
        )?;
        self.call(
            Method::DELETE,
            &format!("keys/{kek_id}"),
            None,
            &format!("deleting key '{kek_id}'"),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_versions() {
        assert_eq!(ciphertext_version("vault:v1:abc="), Some(1));
        assert_eq!(ciphertext_version("vault:v42:abc="), Some(42));
        assert_eq!(ciphertext_version("vault:v0:abc="), None);
        assert_eq!(ciphertext_version("vault:v:abc="), None);
        assert_eq!(ciphertext_version("vault:vx1:abc="), None);
        assert_eq!(ciphertext_version("vault:v1:"), None);
        assert_eq!(ciphertext_version("vault:v1:a:b"), None);
        assert_eq!(ciphertext_version("wault:v1:abc="), None);
        assert_eq!(ciphertext_version("vault:v99999999999:abc="), None);
    }

    #[test]
    fn a_version_other_than_the_headers_is_refused() {
        let kek = KekRef {
            id: "mamori".into(),
            version: 2,
        };
        assert!(wrapped_ciphertext(&kek, b"vault:v2:abc=").is_ok());
        assert!(matches!(
            wrapped_ciphertext(&kek, b"vault:v1:abc="),
            Err(KeyError::Unwrap(_))
        ));
        assert!(matches!(
            wrapped_ciphertext(&kek, &[0xff, 0x00]),
            Err(KeyError::Unwrap(_))
        ));
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("mamori-vendor-42_a").is_ok());
        for bad in ["", "a/b", "a.destroyed", "a b", "../x", "a?b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let config = OpenBaoConfig::new("http://127.0.0.1:8200", "s.secret-token-value");
        assert!(!format!("{config:?}").contains("secret-token-value"));
        let provider = OpenBaoProvider::new(config).expect("provider");
        assert!(!format!("{provider:?}").contains("secret-token-value"));
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert!(OpenBaoProvider::new(OpenBaoConfig::new("ftp://x", "t")).is_err());
        let with_password = OpenBaoConfig::new("https://u:hunter2@bao.example", "t");
        match OpenBaoProvider::new(with_password) {
            Err(KeyError::Config(msg)) => assert!(!msg.contains("hunter2"), "{msg}"),
            other => panic!("an address with a password gave {other:?}"),
        }
        let mut config = OpenBaoConfig::new("http://127.0.0.1:8200", "t");
        config.mount = "transit/../sys".into();
        assert!(OpenBaoProvider::new(config).is_err());
        assert!(OpenBaoProvider::new(OpenBaoConfig::new("http://127.0.0.1:8200", " ")).is_err());
        let mut config = OpenBaoConfig::new("http://127.0.0.1:8200", "t");
        config.mount = "transit?x=1".into();
        assert!(OpenBaoProvider::new(config).is_err());
    }
}
