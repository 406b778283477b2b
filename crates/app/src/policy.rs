//! Changing the tiering policy: validate, re-tier every vendor, record.

use mamori_domain::{assess, TieringPolicy};
use mamori_store::{Actor, RetierOutcome, Store};

use crate::AppError;

/// The policy in force for an organisation: the last one applied, or the
/// built-in default before any was applied.
pub async fn current_policy(store: &Store, org_id: &str) -> Result<TieringPolicy, AppError> {
    match store.active_policy(org_id).await? {
        Some(stored) => Ok(TieringPolicy::from_toml(&stored.content)?),
        None => Ok(TieringPolicy::builtin()),
    }
}

/// Validates a policy document and, if it is valid, re-tiers every vendor
/// under it in one transaction.
pub async fn apply_policy(
    store: &Store,
    org_id: &str,
    text: &str,
    actor: &Actor,
) -> Result<(TieringPolicy, RetierOutcome), AppError> {
    let policy = TieringPolicy::from_toml(text)?;
    // Every tier change names the policy version that caused it, so two
    // different policies must never share a version.
    let mut known = vec![TieringPolicy::builtin()];
    for stored in store.policy_history(org_id, 1000).await? {
        known.push(TieringPolicy::from_toml(&stored.content)?);
    }
    if known
        .iter()
        .any(|p| p.version == policy.version && *p != policy)
    {
        return Err(AppError::Policy(mamori_domain::PolicyError::Invalid(vec![format!(
            "version '{}' was used before with different rules: give the changed policy a new version",
            policy.version
        )])));
    }
    let outcome = retier_all(store, org_id, &policy, text, actor).await?;
    Ok((policy, outcome))
}

pub async fn retier_all(
    store: &Store,
    org_id: &str,
    policy: &TieringPolicy,
    text: &str,
    actor: &Actor,
) -> Result<RetierOutcome, AppError> {
    // A vendor edited while we compute makes the store refuse the whole
    // batch; read again and recompute (edits are rare, so this converges).
    const ATTEMPTS: usize = 5;
    for _ in 0..ATTEMPTS {
        let vendors = store.all_vendor_drafts(org_id).await?;
        let results: Vec<_> = vendors
            .into_iter()
            .map(|(id, tier, draft)| {
                let rating = assess(policy, draft.risk_profile()).rating();
                let hash = mamori_store::content_hash(&draft);
                (id, tier, rating, hash)
            })
            .collect();
        match store
            .apply_policy(org_id, &policy.version, text, &results, actor)
            .await
        {
            Err(mamori_store::StoreError::StaleRetier) => continue,
            other => return Ok(other?),
        }
    }
    Err(mamori_store::StoreError::StaleRetier.into())
}
