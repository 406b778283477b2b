//! File storage for evidence. Callers see only `BlobStore`, so a layer that
//! encrypts under customer-held keys can wrap any implementation without
//! changing them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum BlobError {
    #[error("blob '{key}' not found")]
    NotFound { key: String },
    #[error("blob key '{0}' is not valid")]
    BadKey(String),
    /// The file could not be encrypted or decrypted under the customer's
    /// key: the key manager is unavailable, the key was revoked or
    /// destroyed, or the file was changed.
    #[error("blob '{key}': {source}")]
    Key {
        key: String,
        #[source]
        source: mamori_keys::KeyError,
    },
    #[error("file storage error on '{key}': {source}")]
    Io {
        key: String,
        #[source]
        source: std::io::Error,
    },
}

/// Stores opaque bytes under keys Mamori generates (`[a-z0-9-]`).
pub trait BlobStore: Send + Sync {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), BlobError>;
    /// Stores a blob that belongs to one vendor: an encrypting store keeps
    /// it under that vendor's key, so the vendor's files can be shredded
    /// alone. Plain stores treat it as `put`.
    fn put_for_vendor(&self, key: &str, vendor_id: &str, bytes: &[u8]) -> Result<(), BlobError> {
        let _ = vendor_id;
        self.put(key, bytes)
    }
    fn get(&self, key: &str) -> Result<Vec<u8>, BlobError>;
    /// The KEK a stored blob is sealed under; `None` for a blob stored in
    /// clear (or a store that does not encrypt).
    fn kek_of(&self, key: &str) -> Result<Option<String>, BlobError> {
        let _ = key;
        Ok(None)
    }
    /// Deleting a missing key is not an error.
    fn delete(&self, key: &str) -> Result<(), BlobError>;
    fn keys(&self) -> Result<Vec<String>, BlobError>;
}

/// Blobs as files in a directory, written to a temporary name, synced and
/// renamed so a crash never leaves a half-written file under a real key.
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn open(root: &Path) -> Result<Self, BlobError> {
        fs::create_dir_all(root).map_err(|source| BlobError::Io {
            key: root.display().to_string(),
            source,
        })?;
        Ok(FsBlobStore {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        let valid = !key.is_empty()
            && key.len() <= 128
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(BlobError::BadKey(key.to_string()));
        }
        Ok(self.root.join(key))
    }
}

impl BlobStore for FsBlobStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), BlobError> {
        let path = self.path(key)?;
        let io = |source| BlobError::Io {
            key: key.to_string(),
            source,
        };
        let tmp = self.root.join(format!(".{key}.partial"));
        let mut file = fs::File::create(&tmp).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, &path).map_err(io)
    }

    fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let path = self.path(key)?;
        fs::read(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => BlobError::NotFound {
                key: key.to_string(),
            },
            _ => BlobError::Io {
                key: key.to_string(),
                source,
            },
        })
    }

    fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(BlobError::Io {
                key: key.to_string(),
                source,
            }),
        }
    }

    fn keys(&self) -> Result<Vec<String>, BlobError> {
        let entries = fs::read_dir(&self.root).map_err(|source| BlobError::Io {
            key: self.root.display().to_string(),
            source,
        })?;
        Ok(entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| !name.starts_with('.'))
            .collect())
    }
}

/// Encrypts every blob under the customer's key before it reaches the
/// store below (`mamori_keys::seal`), bound to the tenant and the blob's
/// key, so a file copied to another name or installation does not open.
/// A vendor's files are sealed under that vendor's KEK when per-vendor keys
/// are on. Files written before encryption was enabled are read as they are
/// and reported in the log; they are sealed when written again.
pub struct SealedBlobStore {
    inner: std::sync::Arc<dyn BlobStore>,
    provider: std::sync::Arc<dyn mamori_keys::KeyProvider>,
    tenant: String,
    per_vendor_keys: bool,
    /// KEKs known to exist, so each is created at most once per process.
    known_keks: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl SealedBlobStore {
    pub fn new(
        inner: std::sync::Arc<dyn BlobStore>,
        provider: std::sync::Arc<dyn mamori_keys::KeyProvider>,
        tenant: &str,
    ) -> Self {
        Self {
            inner,
            provider,
            tenant: tenant.to_string(),
            per_vendor_keys: false,
            known_keks: Default::default(),
        }
    }

    /// Seals each vendor's files under the vendor's own KEK.
    pub fn with_per_vendor_keys(mut self, on: bool) -> Self {
        self.per_vendor_keys = on;
        self
    }

    fn binding<'a>(&'a self, key: &'a str) -> mamori_keys::Binding<'a> {
        mamori_keys::Binding {
            tenant: &self.tenant,
            kind: "blob",
            object_id: key,
        }
    }

    fn seal_under(&self, kek: &str, key: &str, bytes: &[u8]) -> Result<(), BlobError> {
        let key_error = |source| BlobError::Key {
            key: key.to_string(),
            source,
        };
        let known = self
            .known_keks
            .lock()
            .map(|k| k.contains(kek))
            .unwrap_or(false);
        if !known {
            self.provider.ensure_kek(kek).map_err(key_error)?;
            if let Ok(mut k) = self.known_keks.lock() {
                k.insert(kek.to_string());
            }
        }
        let sealed = mamori_keys::seal(self.provider.as_ref(), kek, &self.binding(key), bytes)
            .map_err(|e| {
                // A KEK destroyed meanwhile must be checked again next time.
                if let Ok(mut k) = self.known_keks.lock() {
                    k.remove(kek);
                }
                key_error(e)
            })?;
        self.inner.put(key, &sealed)
    }
}

impl BlobStore for SealedBlobStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), BlobError> {
        self.seal_under(mamori_keys::DEFAULT_KEK, key, bytes)
    }

    fn put_for_vendor(&self, key: &str, vendor_id: &str, bytes: &[u8]) -> Result<(), BlobError> {
        if self.per_vendor_keys {
            self.seal_under(&mamori_keys::vendor_kek(vendor_id), key, bytes)
        } else {
            self.put(key, bytes)
        }
    }

    fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let stored = self.inner.get(key)?;
        if !stored.starts_with(mamori_keys::envelope::MAGIC) {
            tracing::warn!(key, "evidence file stored before encryption was enabled");
            return Ok(stored);
        }
        mamori_keys::open(self.provider.as_ref(), &self.binding(key), &stored).map_err(|source| {
            BlobError::Key {
                key: key.to_string(),
                source,
            }
        })
    }

    fn kek_of(&self, key: &str) -> Result<Option<String>, BlobError> {
        let stored = self.inner.get(key)?;
        Ok(mamori_keys::envelope::Header::parse(&stored)
            .ok()
            .map(|(h, _)| h.kek.id))
    }

    fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key)
    }

    fn keys(&self) -> Result<Vec<String>, BlobError> {
        self.inner.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        store.put("abc-1", b"hello").unwrap();
        assert_eq!(store.get("abc-1").unwrap(), b"hello");
        assert_eq!(store.keys().unwrap(), ["abc-1"]);
        store.delete("abc-1").unwrap();
        store.delete("abc-1").unwrap();
        assert!(matches!(
            store.get("abc-1"),
            Err(BlobError::NotFound { .. })
        ));
    }

    #[test]
    fn keys_cannot_escape_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        for bad in ["../x", "a/b", "", "A"] {
            assert!(
                matches!(store.put(bad, b"x"), Err(BlobError::BadKey(_))),
                "{bad}"
            );
        }
    }
}
