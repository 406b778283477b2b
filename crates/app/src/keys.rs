//! Crypto-shredding a vendor's data when the relationship has ended.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mamori_domain::LifecycleStatus;
use mamori_keys::envelope::Header;
use mamori_keys::managed::{ManagedProvider, Refusal};
use mamori_keys::{vendor_kek, KeyError, KeyProvider};
use mamori_store::blob::BlobStore;
use mamori_store::sealed_fields::FieldSealer;
use mamori_store::{Actor, NewAudit, Store, VendorScope};

use crate::AppError;

/// A revoked KEK refuses every read; the audit log should show that it
/// happened, not every page view since. One record per tenant and KEK in
/// this window.
pub const REFUSAL_AUDIT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Records in the audit log of the record's tenant when the key manager
/// refuses a key — the customer's kill switch (a revoked or disabled KEK),
/// or a read of shredded data — at most once per KEK per
/// [`REFUSAL_AUDIT_WINDOW`]. Key calls run on blocking threads, so the
/// record is written by a task on `runtime`. Returns false when the
/// provider reports its refusals elsewhere already.
pub fn audit_key_refusals(
    store: Store,
    provider: &ManagedProvider,
    runtime: tokio::runtime::Handle,
) -> bool {
    let recorded: Mutex<HashMap<(String, String), Instant>> = Mutex::new(HashMap::new());
    provider.observe_refusals(Box::new(move |refusal: &Refusal<'_>| {
        let key = (refusal.tenant.to_string(), refusal.kek.to_string());
        {
            let Ok(mut recorded) = recorded.lock() else {
                return;
            };
            if recorded
                .get(&key)
                .is_some_and(|at| at.elapsed() < REFUSAL_AUDIT_WINDOW)
            {
                return;
            }
            recorded.retain(|_, at| at.elapsed() < REFUSAL_AUDIT_WINDOW);
            recorded.insert(key.clone(), Instant::now());
        }
        let (tenant, kek) = key;
        let reason: String = refusal.reason.chars().take(300).collect();
        tracing::warn!(%tenant, %kek, %reason, "the key manager refused a key");
        let store = store.clone();
        runtime.spawn(async move {
            let entry = NewAudit {
                action: "keys.refused",
                entity_kind: "key",
                entity_id: Some(&kek),
                summary: format!(
                    "the key manager refused KEK {kek}: nothing protected under it can be read \
                     until the key manager releases it (revoked, disabled or destroyed)"
                ),
                before: None,
                after: Some(serde_json::json!({ "kek": kek, "reason": reason })),
            };
            if let Err(e) = store
                .record_audit(&tenant, &Actor::system("key manager"), entry)
                .await
            {
                tracing::warn!(error = %e, "could not record the key refusal in the audit log");
            }
        });
    }))
}

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
/// Only a terminated vendor can be shredded, `confirm_name` must be its
/// name, and the installation must keep one KEK per vendor.
///
/// First, anything of the vendor's that is not under its KEK yet (files
/// stored in clear or under the installation's KEK before per-vendor keys,
/// answers sealed then) is sealed again under it, so destroying the KEK
/// leaves nothing readable. The KEK goes before the record: if anything
/// after it fails, the data is unreadable already and a rerun completes
/// the record. A key manager that does not confirm the destruction stops
/// everything, with nothing marked.
#[allow(clippy::too_many_arguments)]
pub async fn shred_vendor_data(
    store: &Store,
    provider: &dyn KeyProvider,
    files: &dyn BlobStore,
    org_id: &str,
    vendor_id: &str,
    confirm_name: &str,
    per_vendor_keys: bool,
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
    if !per_vendor_keys {
        return Err(AppError::Refused(
            "shredding one vendor needs one key per vendor (per_vendor_keys = true in keys.toml); with one key for the installation, destroying it would destroy every vendor's data".into(),
        ));
    }
    let kek = vendor_kek(vendor_id);
    let key_error = |what: &str, e: KeyError| {
        AppError::KeyUnavailable(format!(
            "shredding stopped before anything was destroyed: {what}: {e}"
        ))
    };
    let already = store.vendor_shredded_at(org_id, vendor_id).await?.is_some();
    let evidence = store.evidence_for_vendor(org_id, vendor_id).await?;
    let answers = store.sealed_answers_for_vendor(org_id, vendor_id).await?;
    if !already {
        // Everything of the vendor's under its own KEK first.
        for e in &evidence {
            let under = files
                .kek_of(&e.storage_key)
                .map_err(|err| AppError::KeyUnavailable(err.to_string()))?;
            if under.as_deref() != Some(kek.as_str()) {
                let bytes = files
                    .get(&e.storage_key)
                    .map_err(|err| AppError::KeyUnavailable(err.to_string()))?;
                files
                    .put_for_vendor(&e.storage_key, vendor_id, &bytes)
                    .map_err(|err| AppError::KeyUnavailable(err.to_string()))?;
            }
        }
        if !answers.is_empty() {
            let sealer = store.field_sealer().ok_or_else(|| {
                AppError::KeyUnavailable(
                    "the vendor has sealed answers but no key manager is configured".into(),
                )
            })?;
            for (assessment, question, value) in &answers {
                let object = crate::assessments::answer_object(assessment, question);
                let under = FieldSealer::envelope(value)
                    .and_then(|env| Header::parse(&env).ok().map(|(h, _)| h.kek.id));
                if under.as_deref() == Some(kek.as_str()) {
                    continue;
                }
                let clear = sealer
                    .open("answer", &object, value)
                    .map_err(|e| key_error("opening a sealed answer", e))?;
                let resealed = sealer
                    .seal("answer", &object, Some(vendor_id), &clear)
                    .map_err(|e| key_error("sealing an answer under the vendor's key", e))?;
                store
                    .replace_sealed_answer(assessment, question, value, &resealed)
                    .await?;
            }
        }
        let anything_sealed = !evidence.is_empty() || !answers.is_empty();
        match provider.destroy_kek(&kek) {
            Ok(()) => {}
            // Nothing was ever sealed under it, so there is nothing to destroy.
            Err(_) if !anything_sealed => {}
            Err(e) => {
                return Err(key_error(
                    "the key manager did not destroy the vendor's key",
                    e,
                ))
            }
        }
        if anything_sealed && provider.current_version(&kek).is_ok() {
            return Err(AppError::KeyUnavailable(format!(
                "the key manager still reports {kek} as usable after destroying it: nothing was marked as shredded"
            )));
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
