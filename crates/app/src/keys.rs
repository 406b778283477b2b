//! Crypto-shredding a vendor's data when the relationship has ended.

use mamori_domain::LifecycleStatus;
use mamori_keys::{vendor_kek, KeyError, KeyProvider};
use mamori_store::blob::BlobStore;
use mamori_store::{Actor, Store, VendorScope};

use crate::AppError;

/// What a shred did.
#[derive(Debug, Clone)]
pub struct ShredOutcome {
    pub vendor_name: String,
    pub kek: String,
    /// Evidence records whose files can no longer be decrypted.
    pub evidence: usize,
    /// Ciphertext files removed from the data directory as well.
    pub files_removed: usize,
}

/// Destroys the vendor's KEK in the key manager, then records it (vendor
/// and evidence marked, audit record) and removes the ciphertext files.
/// Only a terminated vendor can be shredded, and `confirm_name` must be its
/// name. The KEK goes first: if anything after it fails, the data is
/// unreadable already and a rerun completes the record.
pub async fn shred_vendor_data(
    store: &Store,
    provider: &dyn KeyProvider,
    files: &dyn BlobStore,
    org_id: &str,
    vendor_id: &str,
    confirm_name: &str,
    actor: &Actor,
) -> Result<ShredOutcome, AppError> {
    let vendor = store
        .get_vendor(org_id, vendor_id, &VendorScope::All)
        .await?;
    let name = vendor.draft.legal_name.trim().to_string();
    if vendor.draft.status != LifecycleStatus::Terminated {
        return Err(AppError::Refused(format!(
            "{name} is {}: only a terminated vendor's data can be shredded",
            vendor.draft.status
        )));
    }
    if confirm_name.trim() != name {
        return Err(AppError::Refused(format!(
            "type the vendor's name exactly ('{name}') to confirm the shredding"
        )));
    }
    let kek = vendor_kek(vendor_id);
    match provider.destroy_kek(&kek) {
        Ok(()) => {}
        // Never created (no files were sealed under it) or destroyed by an
        // earlier, interrupted run: nothing is readable under it either way.
        Err(KeyError::Config(reason)) | Err(KeyError::Unwrap(reason)) => {
            tracing::info!(%kek, %reason, "vendor KEK absent or destroyed already");
        }
        Err(e) => {
            return Err(AppError::Refused(format!(
                "the key manager did not destroy {kek}: {e}"
            )))
        }
    }
    let keys = store
        .mark_vendor_shredded(org_id, vendor_id, &kek, actor)
        .await?;
    let mut removed = 0;
    for key in &keys {
        if files.delete(key).is_ok() {
            removed += 1;
        }
    }
    Ok(ShredOutcome {
        vendor_name: name,
        kek,
        evidence: keys.len(),
        files_removed: removed,
    })
}
