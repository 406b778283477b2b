use sqlx::Row;

use crate::audit::{insert_audit, NewAudit};
use crate::error::StoreError;
use crate::user::UserRecord;
use crate::{new_id, now, on_pool, Actor, Store};

/// A signed-in browser session; the cookie holds a random token, the
/// database only its SHA-256.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiTokenRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        csrf_token: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        let at = now();
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)")
                .bind(token_hash)
                .bind(user_id)
                .bind(csrf_token)
                .bind(&at)
                .bind(expires_at)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// The live session for a token hash and its (active) user.
    pub async fn session_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let at = now();
        let sql = "SELECT s.token_hash, s.csrf_token, s.created_at AS s_created, s.expires_at, u.id, u.org_id, u.email, u.display_name, u.role, u.password_hash, u.locale, u.active, u.created_at \
                   FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = TRUE";
        on_pool!(self, pool => {
            let Some(row) = sqlx::query(sql).bind(token_hash).bind(&at).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let user = crate::user::user_from_row(&row)?;
            let session = SessionRecord {
                token_hash: row.try_get("token_hash")?,
                user_id: user.id.clone(),
                csrf_token: row.try_get("csrf_token")?,
                created_at: row.try_get("s_created")?,
                expires_at: row.try_get("expires_at")?,
            };
            Ok(Some((session, user)))
        })
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now()).execute(pool).await?;
            Ok(())
        })
    }

    pub async fn create_api_token(
        &self,
        org_id: &str,
        user_id: &str,
        name: &str,
        token_hash: &str,
        expires_at: Option<&str>,
        actor: &Actor,
    ) -> Result<ApiTokenRecord, StoreError> {
        let id = new_id();
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO api_tokens (id, org_id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&id).bind(org_id).bind(user_id).bind(name).bind(token_hash).bind(&at).bind(expires_at)
                .execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "token.create", entity_kind: "api_token", entity_id: Some(&id),
                summary: format!("created API token '{name}'"), before: None,
                after: Some(serde_json::json!({"name": name, "expires_at": expires_at})),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(ApiTokenRecord {
            id,
            user_id: user_id.to_string(),
            name: name.to_string(),
            created_at: at,
            expires_at: expires_at.map(str::to_string),
            revoked_at: None,
            last_used_at: None,
        })
    }

    pub async fn list_api_tokens(&self, user_id: &str) -> Result<Vec<ApiTokenRecord>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, user_id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC")
                .bind(user_id).fetch_all(pool).await?;
            rows.iter().map(|row| Ok(ApiTokenRecord {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                name: row.try_get("name")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
                revoked_at: row.try_get("revoked_at")?,
                last_used_at: row.try_get("last_used_at")?,
            })).collect()
        })
    }

    pub async fn revoke_api_token(
        &self,
        org_id: &str,
        user_id: &str,
        token_id: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(now()).bind(token_id).bind(user_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("API token"));
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "token.revoke", entity_kind: "api_token", entity_id: Some(token_id),
                summary: "revoked API token".into(), before: None, after: None,
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The active user behind a live (unrevoked, unexpired) API token.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<UserRecord>, StoreError> {
        let at = now();
        let sql = "SELECT t.id AS token_id, t.last_used_at, u.id, u.org_id, u.email, u.display_name, u.role, u.password_hash, u.locale, u.active, u.created_at \
                   FROM api_tokens t JOIN users u ON u.id = t.user_id \
                   WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.active = TRUE";
        on_pool!(self, pool => {
            let Some(row) = sqlx::query(sql).bind(token_hash).bind(&at).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let token_id: String = row.try_get("token_id")?;
            let last_used: Option<String> = row.try_get("last_used_at")?;
            // Record use at most once a minute: a write per API call would
            // serialise readers behind SQLite's single writer.
            let stale = crate::timestamp(chrono::Utc::now() - chrono::Duration::minutes(1));
            if last_used.is_none_or(|t| t < stale) {
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(&at).bind(&token_id).execute(pool).await?;
            }
            Ok(Some(crate::user::user_from_row(&row)?))
        })
    }
}
