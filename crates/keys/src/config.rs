//! `keys.toml`: which key manager holds the KEKs, how to reach it, and the
//! retry and cache policy. Secrets (PINs, tokens, secret keys) are never
//! written in the file itself: it names an environment variable or a file
//! that holds them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::managed::{CachePolicy, RetryPolicy};
use crate::KeyError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// `local`, `pkcs11`, `openbao` or `aws-kms`.
    pub provider: String,
    /// One KEK per vendor, so offboarding can shred one vendor's files.
    #[serde(default = "default_true")]
    pub per_vendor_keys: bool,
    #[serde(default)]
    pub retry: RetrySection,
    #[serde(default)]
    pub cache: CacheSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs11: Option<Pkcs11Section>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openbao: Option<OpenBaoSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_kms: Option<AwsKmsSection>,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySection {
    pub attempts: u32,
    pub backoff_ms: u64,
}

impl Default for RetrySection {
    fn default() -> Self {
        RetrySection {
            attempts: 3,
            backoff_ms: 200,
        }
    }
}

/// The read cache of unwrapped data keys; off when `max_age_seconds` is 0.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    pub max_age_seconds: u64,
    pub max_uses: u32,
    pub max_entries: usize,
}

impl Default for CacheSection {
    fn default() -> Self {
        CacheSection {
            max_age_seconds: 0,
            max_uses: 100,
            max_entries: 1024,
        }
    }
}

/// Where a secret comes from: an environment variable or a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

impl SecretSource {
    /// The secret, trimmed of surrounding white space. `what` names it in
    /// errors; the value itself never appears in one.
    pub fn read(&self, what: &str, base: &Path) -> Result<Zeroizing<String>, KeyError> {
        match (&self.env, &self.file) {
            (Some(var), None) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Zeroizing::new(v.trim().to_string())),
                _ => Err(KeyError::Config(format!(
                    "{what}: the environment variable {var} is not set"
                ))),
            },
            (None, Some(file)) => {
                let path = if file.is_absolute() {
                    file.clone()
                } else {
                    base.join(file)
                };
                let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                    KeyError::Config(format!("{what}: cannot read {}: {e}", path.display()))
                })?);
                Ok(Zeroizing::new(text.trim().to_string()))
            }
            _ => Err(KeyError::Config(format!(
                "{what}: give exactly one of `env` or `file`"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSection {
    /// The key file, relative to the data directory.
    pub file: PathBuf,
    /// Where the passphrase comes from; without it, `MAMORI_KEY_PASSPHRASE`
    /// or the development passphrase file beside the key file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<SecretSource>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Section {
    pub module: PathBuf,
    pub token_label: String,
    pub pin: SecretSource,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBaoSection {
    pub addr: String,
    #[serde(default = "default_mount")]
    pub mount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub token: SecretSource,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_mount() -> String {
    "transit".into()
}

fn default_timeout() -> u64 {
    10
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsKmsSection {
    pub endpoint: String,
    pub region: String,
    pub access_key_id: SecretSource,
    pub secret_access_key: SecretSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<SecretSource>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

impl KeyConfig {
    /// The development default: the local key file.
    pub fn local_default() -> Self {
        KeyConfig {
            provider: "local".into(),
            per_vendor_keys: true,
            retry: RetrySection::default(),
            cache: CacheSection::default(),
            local: Some(LocalSection {
                file: PathBuf::from("keys/local.json"),
                passphrase: None,
            }),
            pkcs11: None,
            openbao: None,
            aws_kms: None,
        }
    }

    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyError::Config(format!("{}: {e}", path.display())))?;
        // The parser's message only, not its excerpt of the file: a secret
        // written into the file by mistake must not reach a log.
        let config: KeyConfig = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|span| {
                    let line = text[..span.start.min(text.len())].lines().count().max(1);
                    format!(", line {line}")
                })
                .unwrap_or_default();
            KeyError::Config(format!("{}{at}: {}", path.display(), e.message()))
        })?;
        config.check().map_err(|e| match e {
            KeyError::Config(m) => KeyError::Config(format!("{}: {m}", path.display())),
            other => other,
        })?;
        Ok(config)
    }

    pub fn to_toml(&self) -> Result<String, KeyError> {
        toml::to_string_pretty(self).map_err(|e| KeyError::Config(e.to_string()))
    }

    /// The section of the chosen provider is present.
    pub fn check(&self) -> Result<(), KeyError> {
        let present = match self.provider.as_str() {
            "local" => true,
            "pkcs11" => self.pkcs11.is_some(),
            "openbao" => self.openbao.is_some(),
            "aws-kms" => self.aws_kms.is_some(),
            other => {
                return Err(KeyError::Config(format!(
                    "provider '{other}' is unknown (local, pkcs11, openbao or aws-kms)"
                )))
            }
        };
        if !present {
            return Err(KeyError::Config(format!(
                "provider '{}' needs its [{}] section",
                self.provider,
                self.provider.replace('-', "_")
            )));
        }
        Ok(())
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            attempts: self.retry.attempts.max(1),
            backoff: Duration::from_millis(self.retry.backoff_ms),
        }
    }

    pub fn cache_policy(&self) -> Option<CachePolicy> {
        (self.cache.max_age_seconds > 0 && self.cache.max_entries > 0).then(|| CachePolicy {
            max_age: Duration::from_secs(self.cache.max_age_seconds),
            max_uses: self.cache.max_uses.max(1),
            max_entries: self.cache.max_entries,
        })
    }
}

impl KeyConfig {
    /// Connects to the configured key manager when it is not the local key
    /// file (which the caller opens, since its passphrase handling belongs
    /// to the installation). Returns the provider and a description for
    /// logs (no secrets). `base` resolves relative secret files.
    pub fn connect_remote(
        &self,
        base: &Path,
    ) -> Result<(Box<dyn crate::KeyProvider>, String), KeyError> {
        self.check()?;
        match self.provider.as_str() {
            "pkcs11" => {
                let s = self.pkcs11.as_ref().ok_or_else(|| missing("pkcs11"))?;
                let config = crate::pkcs11::Pkcs11Config {
                    module: s.module.clone(),
                    token_label: s.token_label.clone(),
                    pin: s.pin.read("the HSM user PIN", base)?,
                };
                let provider = crate::pkcs11::Pkcs11KeyProvider::connect(config)?;
                Ok((
                    Box::new(provider),
                    format!("PKCS#11 token '{}' ({})", s.token_label, s.module.display()),
                ))
            }
            "openbao" => {
                let s = self.openbao.as_ref().ok_or_else(|| missing("openbao"))?;
                let mut config = crate::openbao::OpenBaoConfig::new(
                    s.addr.clone(),
                    s.token.read("the OpenBao token", base)?.to_string(),
                );
                config.mount = s.mount.clone();
                config.namespace = s.namespace.clone();
                config.timeout = Duration::from_secs(s.timeout_seconds.max(1));
                // Its blocking HTTP client lives on a thread of its own, so
                // async callers may hold it.
                let provider = crate::threaded::OwnThread::spawn(move || {
                    Ok(Box::new(crate::openbao::OpenBaoProvider::new(config)?)
                        as Box<dyn crate::KeyProvider>)
                })?;
                Ok((
                    Box::new(provider),
                    format!("OpenBao/Vault Transit at {} (mount {})", s.addr, s.mount),
                ))
            }
            "aws-kms" => {
                let s = self.aws_kms.as_ref().ok_or_else(|| missing("aws_kms"))?;
                let config = crate::aws_kms::AwsKmsConfig {
                    endpoint: s.endpoint.clone(),
                    region: s.region.clone(),
                    access_key_id: s
                        .access_key_id
                        .read("the AWS access key id", base)?
                        .to_string(),
                    secret_access_key: s
                        .secret_access_key
                        .read("the AWS secret access key", base)?,
                    session_token: match &s.session_token {
                        Some(t) => Some(t.read("the AWS session token", base)?),
                        None => None,
                    },
                    timeout: Duration::from_secs(s.timeout_seconds.max(1)),
                };
                let provider = crate::threaded::OwnThread::spawn(move || {
                    Ok(Box::new(crate::aws_kms::AwsKmsProvider::new(config)?)
                        as Box<dyn crate::KeyProvider>)
                })?;
                Ok((
                    Box::new(provider),
                    format!("AWS KMS API at {} ({})", s.endpoint, s.region),
                ))
            }
            other => Err(KeyError::Config(format!(
                "provider '{other}' is opened by the installation, not connected to"
            ))),
        }
    }
}

fn missing(section: &str) -> KeyError {
    KeyError::Config(format!("the [{section}] section is missing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_default_round_trips_through_toml() {
        let text = KeyConfig::local_default().to_toml().unwrap();
        let back: KeyConfig = toml::from_str(&text).unwrap();
        assert_eq!(back.provider, "local");
        assert!(back.per_vendor_keys);
        assert!(back.cache_policy().is_none());
    }

    #[test]
    fn a_missing_section_and_an_unknown_provider_are_named() {
        let c: KeyConfig = toml::from_str("provider = \"openbao\"").unwrap();
        assert!(c.check().unwrap_err().to_string().contains("[openbao]"));
        let c: KeyConfig = toml::from_str("provider = \"vault9\"").unwrap();
        assert!(c.check().unwrap_err().to_string().contains("unknown"));
        assert!(toml::from_str::<KeyConfig>("provider = \"local\"\npin = \"1234\"").is_err());
    }

    #[test]
    fn secrets_come_from_env_or_file_and_never_appear_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pin"), "  98765  \n").unwrap();
        let from_file = SecretSource {
            env: None,
            file: Some(PathBuf::from("pin")),
        };
        assert_eq!(
            from_file.read("HSM PIN", dir.path()).unwrap().as_str(),
            "98765"
        );
        let unset = SecretSource {
            env: Some("MAMORI_TEST_SURELY_UNSET_VARIABLE".into()),
            file: None,
        };
        let err = unset.read("HSM PIN", dir.path()).unwrap_err().to_string();
        assert!(err.contains("MAMORI_TEST_SURELY_UNSET_VARIABLE"));
        let both = SecretSource {
            env: Some("X".into()),
            file: Some(PathBuf::from("pin")),
        };
        assert!(both.read("HSM PIN", dir.path()).is_err());
    }
}
