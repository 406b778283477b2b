use sqlx::Row;

use crate::error::StoreError;
use crate::{on_pool, Store};

/// A tiering policy as applied: its text, version and what applying it did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredPolicy {
    pub id: String,
    pub version: String,
    pub content: String,
    pub applied_at: String,
    pub applied_by: Option<String>,
    pub vendors_retiered: i64,
    pub tier_changes: i64,
}

impl Store {
    /// Just the version in force (cheap: checked before writes so every
    /// instance tiers with the policy applied last, wherever it was applied).
    pub async fn active_policy_version(&self, org_id: &str) -> Result<Option<String>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar("SELECT version FROM policies WHERE org_id = $1 ORDER BY applied_at DESC LIMIT 1")
                .bind(org_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// The policy in force: the one applied last.
    pub async fn active_policy(&self, org_id: &str) -> Result<Option<StoredPolicy>, StoreError> {
        Ok(self.policy_history(org_id, 1).await?.into_iter().next())
    }

    pub async fn policy_history(
        &self,
        org_id: &str,
        limit: u32,
    ) -> Result<Vec<StoredPolicy>, StoreError> {
        let sql = format!(
            "SELECT id, version, content, applied_at, applied_by, vendors_retiered, tier_changes \
             FROM policies WHERE org_id = $1 ORDER BY applied_at DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(org_id).fetch_all(pool).await?;
            rows.iter().map(|row| Ok(StoredPolicy {
                id: row.try_get("id")?,
                version: row.try_get("version")?,
                content: row.try_get("content")?,
                applied_at: row.try_get("applied_at")?,
                applied_by: row.try_get("applied_by")?,
                vendors_retiered: row.try_get("vendors_retiered")?,
                tier_changes: row.try_get("tier_changes")?,
            })).collect()
        })
    }
}
