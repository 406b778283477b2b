use serde::Serialize;
use sqlx::Row;

use crate::error::StoreError;
use crate::{new_id, now, on_pool, Actor, Store};

/// What to record about one change.
pub struct NewAudit<'a> {
    pub action: &'static str,
    pub entity_kind: &'static str,
    pub entity_id: Option<&'a str>,
    pub summary: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: Option<String>,
    pub summary: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Writes one audit record with the executor of the caller's transaction, so
/// the change and its record commit or roll back together.
pub(crate) async fn insert_audit<'e, E, DB>(
    exec: E,
    org_id: &str,
    actor: &Actor,
    entry: NewAudit<'_>,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = DB>,
    DB: sqlx::Database,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO audit_log (id, org_id, at, actor_id, actor_label, action, entity_kind, entity_id, summary, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new_id())
    .bind(org_id.to_string())
    .bind(now())
    .bind(actor.user_id.clone())
    .bind(actor.label.clone())
    .bind(entry.action.to_string())
    .bind(entry.entity_kind.to_string())
    .bind(entry.entity_id.map(str::to_string))
    .bind(entry.summary)
    .bind(entry.before.map(|v| v.to_string()))
    .bind(entry.after.map(|v| v.to_string()))
    .execute(exec)
    .await?;
    Ok(())
}

impl Store {
    /// Records an event that changes no other table (sign-in, export…).
    pub async fn record_audit(
        &self,
        org_id: &str,
        actor: &Actor,
        entry: NewAudit<'_>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => insert_audit(pool, org_id, actor, entry).await)
    }

    /// Newest first.
    pub async fn audit_page(
        &self,
        org_id: &str,
        entity_id: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> Result<AuditPage, StoreError> {
        let per_page = per_page.clamp(1, 500);
        let page = page.max(1);
        let offset = i64::from(page - 1) * i64::from(per_page);
        let filter = if entity_id.is_some() {
            " AND entity_id = $2"
        } else {
            ""
        };
        let count_sql = format!("SELECT COUNT(*) FROM audit_log WHERE org_id = $1{filter}");
        let list_sql = format!(
            "SELECT id, at, actor_id, actor_label, action, entity_kind, entity_id, summary, before_json, after_json \
             FROM audit_log WHERE org_id = $1{filter} ORDER BY at DESC, id DESC LIMIT {per_page} OFFSET {offset}"
        );
        on_pool!(self, pool => {
            let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(org_id);
            let mut list = sqlx::query(&list_sql).bind(org_id);
            if let Some(entity) = entity_id {
                count = count.bind(entity);
                list = list.bind(entity);
            }
            let total = count.fetch_one(pool).await?;
            let rows = list.fetch_all(pool).await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in rows {
                let before: Option<String> = row.try_get("before_json")?;
                let after: Option<String> = row.try_get("after_json")?;
                entries.push(AuditEntry {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor_id: row.try_get("actor_id")?,
                    actor_label: row.try_get("actor_label")?,
                    action: row.try_get("action")?,
                    entity_kind: row.try_get("entity_kind")?,
                    entity_id: row.try_get("entity_id")?,
                    summary: row.try_get("summary")?,
                    before: before.and_then(|s| serde_json::from_str(&s).ok()),
                    after: after.and_then(|s| serde_json::from_str(&s).ok()),
                });
            }
            Ok(AuditPage { entries, total, page, per_page })
        })
    }
}
