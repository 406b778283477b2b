//! The envelope: one protected object as bytes.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "MMRE"
//! 4       1     format version (1)
//! 5       1     algorithm (1 = AES-256-GCM)
//! 6       2     KEK id length n (big-endian, 1..=255)
//! 8       n     KEK id (UTF-8)
//! 8+n     4     KEK version (big-endian)
//! 12+n    2     wrapped DEK length m (big-endian, 1..=1024)
//! 14+n    m     wrapped DEK (as the key manager returned it)
//! 14+n+m  12    nonce (random)
//! 26+n+m  ...   ciphertext followed by the 16-byte GCM tag
//! ```
//!
//! The associated data of the payload is the fixed part of the header
//! (magic, version, algorithm, nonce) and the record the object belongs to
//! (`Binding`), each length-prefixed. The KEK reference and the wrapped DEK
//! are left out on purpose: rotation rewraps the DEK under a new KEK version
//! without touching the payload, and their integrity is the key manager's
//! (AES key wrap and KMS ciphertexts are authenticated), so a changed byte
//! there fails at unwrapping.

use thiserror::Error;

pub const MAGIC: &[u8; 4] = b"MMRE";
pub const FORMAT_VERSION: u8 = 1;
pub const ALGORITHM_AES_256_GCM: u8 = 1;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
pub const MAX_KEK_ID_LEN: usize = 255;
pub const MAX_WRAPPED_DEK_LEN: usize = 1024;

/// Where a protected object belongs. A ciphertext moved to another record
/// (another tenant, kind or id) fails to decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    pub tenant: &'a str,
    /// What the object is: `evidence`, `contract`, `answer`, `api_token`…
    pub kind: &'a str,
    pub object_id: &'a str,
}

/// Which key-encryption key wrapped a DEK.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KekRef {
    pub id: String,
    pub version: u32,
}

/// The parsed header of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub kek: KekRef,
    pub wrapped_dek: Vec<u8>,
    pub nonce: [u8; NONCE_LEN],
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    #[error("not a Mamori envelope (bad magic)")]
    Magic,
    #[error("envelope format version {0} is not supported")]
    Version(u8),
    #[error("envelope algorithm {0} is not supported")]
    Algorithm(u8),
    #[error("the envelope is truncated at {0}")]
    Truncated(&'static str),
    #[error("the envelope's {0} has an invalid length")]
    Length(&'static str),
    #[error("the envelope's KEK id is not UTF-8")]
    KekId,
}

impl Header {
    /// Writes the header (everything before the ciphertext).
    pub fn encode(&self) -> Result<Vec<u8>, HeaderError> {
        let id = self.kek.id.as_bytes();
        if id.is_empty() || id.len() > MAX_KEK_ID_LEN {
            return Err(HeaderError::Length("KEK id"));
        }
        if self.wrapped_dek.is_empty() || self.wrapped_dek.len() > MAX_WRAPPED_DEK_LEN {
            return Err(HeaderError::Length("wrapped DEK"));
        }
        let mut out = Vec::with_capacity(26 + id.len() + self.wrapped_dek.len());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.push(ALGORITHM_AES_256_GCM);
        out.extend_from_slice(&(id.len() as u16).to_be_bytes());
        out.extend_from_slice(id);
        out.extend_from_slice(&self.kek.version.to_be_bytes());
        out.extend_from_slice(&(self.wrapped_dek.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.wrapped_dek);
        out.extend_from_slice(&self.nonce);
        Ok(out)
    }

    /// Reads a header; returns it and the rest (ciphertext and tag). Never
    /// panics, whatever the bytes.
    pub fn parse(bytes: &[u8]) -> Result<(Header, &[u8]), HeaderError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4, "magic")? != MAGIC {
            return Err(HeaderError::Magic);
        }
        let version = r.take(1, "version")?[0];
        if version != FORMAT_VERSION {
            return Err(HeaderError::Version(version));
        }
        let algorithm = r.take(1, "algorithm")?[0];
        if algorithm != ALGORITHM_AES_256_GCM {
            return Err(HeaderError::Algorithm(algorithm));
        }
        let id_len = r.u16("KEK id length")? as usize;
        if id_len == 0 || id_len > MAX_KEK_ID_LEN {
            return Err(HeaderError::Length("KEK id"));
        }
        let id = std::str::from_utf8(r.take(id_len, "KEK id")?)
            .map_err(|_| HeaderError::KekId)?
            .to_string();
        let kek_version = u32::from_be_bytes(
            r.take(4, "KEK version")?
                .try_into()
                .map_err(|_| HeaderError::Truncated("KEK version"))?,
        );
        let dek_len = r.u16("wrapped DEK length")? as usize;
        if dek_len == 0 || dek_len > MAX_WRAPPED_DEK_LEN {
            return Err(HeaderError::Length("wrapped DEK"));
        }
        let wrapped_dek = r.take(dek_len, "wrapped DEK")?.to_vec();
        let nonce: [u8; NONCE_LEN] = r
            .take(NONCE_LEN, "nonce")?
            .try_into()
            .map_err(|_| HeaderError::Truncated("nonce"))?;
        let rest = &bytes[r.at..];
        if rest.len() < TAG_LEN {
            return Err(HeaderError::Truncated("tag"));
        }
        Ok((
            Header {
                kek: KekRef {
                    id,
                    version: kek_version,
                },
                wrapped_dek,
                nonce,
            },
            rest,
        ))
    }
}

/// The associated data of an envelope's payload.
pub fn associated_data(nonce: &[u8; NONCE_LEN], binding: &Binding<'_>) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(MAGIC);
    aad.push(FORMAT_VERSION);
    aad.push(ALGORITHM_AES_256_GCM);
    aad.extend_from_slice(nonce);
    for part in [binding.tenant, binding.kind, binding.object_id] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], HeaderError> {
        let end = self.at.checked_add(n).ok_or(HeaderError::Truncated(what))?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(HeaderError::Truncated(what))?;
        self.at = end;
        Ok(slice)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, HeaderError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}
