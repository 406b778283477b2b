//! Database fields encrypted under the customer's key: the value is an
//! envelope (`mamori_keys::seal`), base64 with a marker prefix, bound to the
//! record it belongs to. Which fields are sealed is the caller's decision
//! (see `docs/security/keys.md`); searchable metadata stays in clear.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use mamori_keys::{Binding, KeyError, KeyProvider};

/// Marks a sealed field value; a value without it was stored in clear.
pub const SEALED_PREFIX: &str = "mamori-sealed:v1:";

pub fn is_sealed(value: &str) -> bool {
    value.starts_with(SEALED_PREFIX)
}

/// Seals and opens field values of one installation.
pub struct FieldSealer {
    provider: Arc<dyn KeyProvider>,
    tenant: String,
    per_vendor_keys: bool,
    /// KEKs known to exist, so sealing does not ask the key manager twice.
    known_keks: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl FieldSealer {
    pub fn new(provider: Arc<dyn KeyProvider>, tenant: &str, per_vendor_keys: bool) -> Self {
        FieldSealer {
            provider,
            tenant: tenant.to_string(),
            per_vendor_keys,
            known_keks: Default::default(),
        }
    }

    /// Seals `value` of the record (`kind`, `object_id`) that belongs to
    /// `vendor_id` (under the vendor's KEK when per-vendor keys are on).
    /// Blocks on the key manager: async callers use a blocking thread.
    pub fn seal(
        &self,
        kind: &str,
        object_id: &str,
        vendor_id: Option<&str>,
        value: &str,
    ) -> Result<String, KeyError> {
        let kek = match vendor_id {
            Some(v) if self.per_vendor_keys => mamori_keys::vendor_kek(v),
            _ => mamori_keys::DEFAULT_KEK.to_string(),
        };
        let known = self
            .known_keks
            .lock()
            .map(|k| k.contains(&kek))
            .unwrap_or(false);
        if !known {
            self.provider.ensure_kek(&kek)?;
            if let Ok(mut k) = self.known_keks.lock() {
                k.insert(kek.clone());
            }
        }
        let binding = Binding {
            tenant: &self.tenant,
            kind,
            object_id,
        };
        let envelope = mamori_keys::seal(self.provider.as_ref(), &kek, &binding, value.as_bytes())
            .inspect_err(|_| {
                // A KEK destroyed meanwhile must be checked again next time.
                if let Ok(mut k) = self.known_keks.lock() {
                    k.remove(&kek);
                }
            })?;
        Ok(format!("{SEALED_PREFIX}{}", B64.encode(envelope)))
    }

    /// The envelope of a sealed value (for status and rewrap).
    pub fn envelope(stored: &str) -> Option<Vec<u8>> {
        B64.decode(stored.strip_prefix(SEALED_PREFIX)?).ok()
    }

    /// The value with its data key rewrapped under the current version of
    /// its KEK, or `None` when it is current already (or stored in clear).
    pub fn rewrap(
        &self,
        kind: &str,
        object_id: &str,
        stored: &str,
    ) -> Result<Option<String>, KeyError> {
        let Some(envelope) = Self::envelope(stored) else {
            return Ok(None);
        };
        let binding = Binding {
            tenant: &self.tenant,
            kind,
            object_id,
        };
        Ok(
            mamori_keys::rewrap(self.provider.as_ref(), &binding, &envelope)?
                .map(|new| format!("{SEALED_PREFIX}{}", B64.encode(new))),
        )
    }

    /// The clear value of a stored field: opened when sealed, as it is
    /// when it was stored in clear.
    pub fn open(&self, kind: &str, object_id: &str, stored: &str) -> Result<String, KeyError> {
        let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_string());
        };
        let envelope = B64.decode(encoded).map_err(|_| KeyError::Authentication)?;
        let binding = Binding {
            tenant: &self.tenant,
            kind,
            object_id,
        };
        let clear = mamori_keys::open(self.provider.as_ref(), &binding, &envelope)?;
        String::from_utf8(clear).map_err(|_| KeyError::Authentication)
    }
}
