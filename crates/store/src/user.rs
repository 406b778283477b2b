use mamori_domain::Role;
use sqlx::Row;

use crate::audit::{insert_audit, NewAudit};
use crate::error::StoreError;
use crate::{new_id, now, on_pool, Actor, Store};

#[derive(Debug, Clone, serde::Serialize)]
pub struct UserRecord {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub locale: Option<String>,
    pub active: bool,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub locale: Option<String>,
}

const USER_COLUMNS: &str =
    "id, org_id, email, display_name, role, password_hash, locale, active, created_at";

pub(crate) fn user_from_row<R: Row>(row: &R) -> Result<UserRecord, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).map_err(|e| StoreError::corrupt("user role", e))?,
        password_hash: row.try_get("password_hash")?,
        locale: row.try_get("locale")?,
        active: row.try_get("active")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// The organisation this installation serves, created on first start.
    pub async fn ensure_organisation(&self, name: &str) -> Result<String, StoreError> {
        on_pool!(self, pool => {
            let existing: Option<String> =
                sqlx::query_scalar("SELECT id FROM organisations ORDER BY created_at LIMIT 1")
                    .fetch_optional(pool)
                    .await?;
            if let Some(id) = existing {
                return Ok(id);
            }
            let id = new_id();
            sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(name)
                .bind(now())
                .execute(pool)
                .await?;
            Ok(id)
        })
    }

    pub async fn organisation_name(&self, org_id: &str) -> Result<String, StoreError> {
        on_pool!(self, pool => {
            sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
                .bind(org_id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound("organisation"))
        })
    }

    pub async fn count_users(&self, org_id: &str) -> Result<i64, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = $1")
                .bind(org_id)
                .fetch_one(pool)
                .await?)
        })
    }

    pub async fn create_user(
        &self,
        org_id: &str,
        user: NewUser,
        actor: &Actor,
    ) -> Result<UserRecord, StoreError> {
        let id = new_id();
        let at = now();
        let email = user.email.trim().to_lowercase();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO users (id, org_id, email, display_name, role, password_hash, locale, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $8)",
            )
            .bind(&id)
            .bind(org_id)
            .bind(&email)
            .bind(&user.display_name)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(&user.locale)
            .bind(&at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("a user with e-mail {email} already exists")),
                other => other,
            })?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "user.create",
                entity_kind: "user",
                entity_id: Some(&id),
                summary: format!("created user {email} ({})", user.role),
                before: None,
                after: Some(serde_json::json!({"email": email, "display_name": user.display_name, "role": user.role})),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        self.user_by_id(&id).await
    }

    pub async fn user_by_id(&self, id: &str) -> Result<UserRecord, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            match row {
                Some(row) => user_from_row(&row),
                None => Err(StoreError::NotFound("user")),
            }
        })
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let email = email.trim().to_lowercase();
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(&email).fetch_optional(pool).await?;
            row.as_ref().map(user_from_row).transpose()
        })
    }

    pub async fn list_users(&self, org_id: &str) -> Result<Vec<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY email");
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(org_id).fetch_all(pool).await?;
            rows.iter().map(user_from_row).collect()
        })
    }

    pub async fn set_password_hash(
        &self,
        org_id: &str,
        user_id: &str,
        hash: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND org_id = $4")
                .bind(hash)
                .bind(now())
                .bind(user_id)
                .bind(org_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("user"));
            }
            // A new password ends every existing session and API token of
            // that user: whoever held the old password may hold those too.
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now()).bind(user_id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "user.password",
                entity_kind: "user",
                entity_id: Some(user_id),
                summary: "password changed".into(),
                before: None,
                after: None,
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn update_user_access(
        &self,
        org_id: &str,
        user_id: &str,
        role: Role,
        active: bool,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let before = self.user_by_id(user_id).await?;
        if before.org_id != org_id {
            return Err(StoreError::NotFound("user"));
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE users SET role = $1, active = $2, updated_at = $3 WHERE id = $4 AND org_id = $5")
                .bind(role.as_str())
                .bind(active)
                .bind(now())
                .bind(user_id)
                .bind(org_id)
                .execute(&mut *tx)
                .await?;
            if !active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                    .bind(now()).bind(user_id).execute(&mut *tx).await?;
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "user.access",
                entity_kind: "user",
                entity_id: Some(user_id),
                summary: format!("{}: role {} active {}", before.email, role, active),
                before: Some(serde_json::json!({"role": before.role, "active": before.active})),
                after: Some(serde_json::json!({"role": role, "active": active})),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn set_user_locale(
        &self,
        user_id: &str,
        locale: Option<&str>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET locale = $1, updated_at = $2 WHERE id = $3")
                .bind(locale)
                .bind(now())
                .bind(user_id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }
}
