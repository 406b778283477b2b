//! Corrective action plans: a risk-ordered list of actions sent to a vendor
//! through an expiring portal link, answered by the vendor (plan, done,
//! dispute) and verified by the organisation.
//!
//! Item status changes are guarded updates (`WHERE status = <read status>`),
//! so a vendor's answer and a reviewer's verification cannot both win.

use serde::Serialize;

use crate::audit::{insert_audit, NewAudit};
use crate::error::StoreError;
use crate::{new_id, now, on_pool, Actor, Store};

/// A request with its vendor and how far its actions have come.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RemediationRequestRecord {
    pub id: String,
    pub org_id: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub title: String,
    /// `open` or `closed`.
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub items_total: i64,
    /// Waiting for the vendor: requested, planned or reopened.
    pub items_open: i64,
    /// Claimed done by the vendor, waiting for verification.
    pub items_claimed: i64,
    pub items_disputed: i64,
    pub items_verified: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RemediationItemRecord {
    pub id: String,
    pub org_id: String,
    pub request_id: String,
    pub vendor_id: String,
    pub risk_id: Option<String>,
    pub position: i64,
    pub action: String,
    pub severity: String,
    pub due_on: String,
    /// `requested`, `planned`, `claimed_done`, `disputed`, `verified` or
    /// `reopened`.
    pub status: String,
    pub response_text: Option<String>,
    pub planned_on: Option<String>,
    pub response_evidence_id: Option<String>,
    pub responded_at: Option<String>,
    pub verified_by: Option<String>,
    pub verified_at: Option<String>,
    pub verifier_comment: Option<String>,
    pub risk_title: Option<String>,
}

/// One action to request; the caller orders them (worst risk first).
#[derive(Debug, Clone)]
pub struct NewRemediationItem {
    pub risk_id: Option<String>,
    pub action: String,
    pub severity: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
}

/// The vendor's answer to one action.
#[derive(Debug, Clone)]
pub enum RemediationResponse {
    Plan {
        text: String,
        planned_on: Option<String>,
    },
    Done {
        text: String,
        evidence_id: Option<String>,
    },
    Dispute {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RemediationLinkRecord {
    pub id: String,
    pub request_id: String,
    pub contact_name: String,
    pub contact_email: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// What a valid remediation token opens.
#[derive(Debug, Clone, Serialize)]
pub struct RemediationAccess {
    pub request: RemediationRequestRecord,
    pub link: RemediationLinkRecord,
}

/// An action past its due date, with what it belongs to.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OverdueItem {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub item: RemediationItemRecord,
    pub vendor_name: String,
    pub request_title: String,
}

const OPEN_STATUSES: &str = "('requested', 'planned', 'reopened')";

fn request_select(filter: &str) -> String {
    format!(
        "SELECT r.id, r.org_id, r.vendor_id, v.legal_name AS vendor_name, r.title, r.status, r.created_by, r.created_at, \
         r.updated_at, r.closed_at, COUNT(i.id) AS items_total, \
         COUNT(CASE WHEN i.status IN {OPEN_STATUSES} THEN 1 END) AS items_open, \
         COUNT(CASE WHEN i.status = 'claimed_done' THEN 1 END) AS items_claimed, \
         COUNT(CASE WHEN i.status = 'disputed' THEN 1 END) AS items_disputed, \
         COUNT(CASE WHEN i.status = 'verified' THEN 1 END) AS items_verified \
         FROM remediation_requests r JOIN vendors v ON v.id = r.vendor_id \
         LEFT JOIN remediation_items i ON i.request_id = r.id \
         WHERE {filter} \
         GROUP BY r.id, r.org_id, r.vendor_id, v.legal_name, r.title, r.status, r.created_by, r.created_at, r.updated_at, r.closed_at"
    )
}

const ITEM_COLUMNS: &str = "i.id, i.org_id, i.request_id, i.vendor_id, i.risk_id, i.position, i.action, i.severity, \
     i.due_on, i.status, i.response_text, i.planned_on, i.response_evidence_id, i.responded_at, i.verified_by, \
     i.verified_at, i.verifier_comment, k.title AS risk_title";

fn item_select(filter: &str) -> String {
    format!("SELECT {ITEM_COLUMNS} FROM remediation_items i LEFT JOIN risks k ON k.id = i.risk_id WHERE {filter}")
}

fn overdue_select() -> String {
    format!(
        "SELECT {ITEM_COLUMNS}, v.legal_name AS vendor_name, r.title AS request_title \
         FROM remediation_items i JOIN remediation_requests r ON r.id = i.request_id \
         JOIN vendors v ON v.id = i.vendor_id LEFT JOIN risks k ON k.id = i.risk_id \
         WHERE i.org_id = $1 AND i.status <> 'verified' AND i.due_on < $2 \
         ORDER BY i.due_on, r.created_at, i.position"
    )
}

fn status_words(status: &str) -> String {
    status.replace('_', " ")
}

impl Store {
    /// Creates a request with its actions, in the given order.
    pub async fn create_remediation_request(
        &self,
        org_id: &str,
        vendor_id: &str,
        title: &str,
        items: &[NewRemediationItem],
        actor: &Actor,
    ) -> Result<String, StoreError> {
        if items.is_empty() {
            return Err(StoreError::Conflict(
                "a remediation request needs at least one action".into(),
            ));
        }
        if let Some(blank) = items.iter().position(|i| i.action.trim().is_empty()) {
            return Err(StoreError::Conflict(format!(
                "action {} has no text",
                blank + 1
            )));
        }
        let id = new_id();
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let vendor: Option<String> = sqlx::query_scalar("SELECT legal_name FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(vendor_id).bind(org_id).fetch_optional(&mut *tx).await?;
            let vendor = vendor.ok_or(StoreError::NotFound("vendor"))?;
            for risk_id in items.iter().filter_map(|i| i.risk_id.as_deref()) {
                let owner: Option<String> = sqlx::query_scalar("SELECT vendor_id FROM risks WHERE id = $1 AND org_id = $2")
                    .bind(risk_id).bind(org_id).fetch_optional(&mut *tx).await?;
                match owner {
                    None => return Err(StoreError::NotFound("risk")),
                    Some(owner) if owner != vendor_id => {
                        return Err(StoreError::Conflict(format!("risk {risk_id} is a risk of another vendor, not of {vendor}")));
                    }
                    Some(_) => {}
                }
            }
            sqlx::query("INSERT INTO remediation_requests (id, org_id, vendor_id, title, status, created_by, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, 'open', $5, $6, $6)")
                .bind(&id).bind(org_id).bind(vendor_id).bind(title).bind(&actor.label).bind(&at)
                .execute(&mut *tx).await?;
            for (position, item) in items.iter().enumerate() {
                sqlx::query("INSERT INTO remediation_items (id, org_id, request_id, vendor_id, risk_id, position, action, severity, due_on, status) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'requested')")
                    .bind(new_id()).bind(org_id).bind(&id).bind(vendor_id).bind(&item.risk_id).bind(position as i64)
                    .bind(item.action.trim()).bind(&item.severity).bind(&item.due_on)
                    .execute(&mut *tx).await?;
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "remediation.create",
                entity_kind: "remediation_request",
                entity_id: Some(&id),
                summary: format!("requested {} corrective action(s) from {vendor}: '{title}'", items.len()),
                before: None,
                after: Some(serde_json::json!({
                    "vendor_id": vendor_id,
                    "status": "open",
                    "items": items.iter().map(|i| serde_json::json!({
                        "risk_id": i.risk_id, "action": i.action.trim(), "severity": i.severity, "due_on": i.due_on,
                    })).collect::<Vec<_>>(),
                })),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    pub async fn get_remediation_request(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<RemediationRequestRecord, StoreError> {
        let sql = request_select("r.id = $1 AND r.org_id = $2");
        on_pool!(self, pool => {
            sqlx::query_as::<_, RemediationRequestRecord>(&sql).bind(id).bind(org_id)
                .fetch_optional(pool).await?.ok_or(StoreError::NotFound("remediation request"))
        })
    }

    /// Requests, newest first; optionally of one vendor.
    pub async fn remediation_requests(
        &self,
        org_id: &str,
        vendor_id: Option<&str>,
    ) -> Result<Vec<RemediationRequestRecord>, StoreError> {
        let filter = if vendor_id.is_some() {
            "r.org_id = $1 AND r.vendor_id = $2"
        } else {
            "r.org_id = $1"
        };
        let sql = format!(
            "{} ORDER BY r.created_at DESC, r.id DESC",
            request_select(filter)
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, RemediationRequestRecord>(&sql).bind(org_id);
            if let Some(vendor) = vendor_id {
                q = q.bind(vendor);
            }
            Ok(q.fetch_all(pool).await?)
        })
    }

    /// The actions of a request in the order they were requested.
    pub async fn remediation_items(
        &self,
        request_id: &str,
    ) -> Result<Vec<RemediationItemRecord>, StoreError> {
        let sql = format!("{} ORDER BY i.position", item_select("i.request_id = $1"));
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, RemediationItemRecord>(&sql).bind(request_id).fetch_all(pool).await?)
        })
    }

    // ----- portal links -----------------------------------------------

    /// Issues a link to the request, revoking any earlier one.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_remediation_link(
        &self,
        org_id: &str,
        request_id: &str,
        token_hash: &str,
        contact_name: &str,
        contact_email: &str,
        expires_at: &str,
        actor: &Actor,
    ) -> Result<RemediationLinkRecord, StoreError> {
        let request = self.get_remediation_request(org_id, request_id).await?;
        if request.status != "open" {
            return Err(StoreError::Conflict(
                "a closed remediation request cannot be sent".into(),
            ));
        }
        let link = RemediationLinkRecord {
            id: new_id(),
            request_id: request_id.to_string(),
            contact_name: contact_name.to_string(),
            contact_email: contact_email.to_string(),
            created_by: actor.label.clone(),
            created_at: now(),
            expires_at: expires_at.to_string(),
            revoked_at: None,
            last_used_at: None,
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE remediation_links SET revoked_at = $1 WHERE request_id = $2 AND revoked_at IS NULL")
                .bind(&link.created_at).bind(request_id).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO remediation_links (id, request_id, token_hash, contact_name, contact_email, created_by, created_at, expires_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&link.id).bind(request_id).bind(token_hash).bind(contact_name).bind(contact_email)
                .bind(&link.created_by).bind(&link.created_at).bind(expires_at)
                .execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "remediation.link",
                entity_kind: "remediation_request",
                entity_id: Some(request_id),
                summary: format!("sent remediation request '{}' of {} to {contact_name} <{contact_email}>, link valid until {expires_at}",
                    request.title, request.vendor_name),
                before: None,
                after: Some(serde_json::json!({"contact": contact_email, "expires_at": expires_at})),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(link)
    }

    pub async fn revoke_remediation_links(
        &self,
        org_id: &str,
        request_id: &str,
        actor: &Actor,
    ) -> Result<u64, StoreError> {
        let request = self.get_remediation_request(org_id, request_id).await?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE remediation_links SET revoked_at = $1 WHERE request_id = $2 AND revoked_at IS NULL")
                .bind(now()).bind(request_id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "remediation.revoke_link",
                entity_kind: "remediation_request",
                entity_id: Some(request_id),
                summary: format!("revoked the vendor link of remediation request '{}' of {}", request.title, request.vendor_name),
                before: None,
                after: None,
            }).await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }

    pub async fn remediation_links(
        &self,
        request_id: &str,
    ) -> Result<Vec<RemediationLinkRecord>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, RemediationLinkRecord>(
                "SELECT id, request_id, contact_name, contact_email, created_by, created_at, expires_at, revoked_at, last_used_at \
                 FROM remediation_links WHERE request_id = $1 ORDER BY created_at DESC")
                .bind(request_id).fetch_all(pool).await?)
        })
    }

    /// Resolves a token hash. `None` for an unknown, revoked or expired
    /// link and for a closed request: the vendor learns nothing from which.
    pub async fn resolve_remediation_token(
        &self,
        token_hash: &str,
        at: &str,
    ) -> Result<Option<RemediationAccess>, StoreError> {
        let sql = request_select("r.id = $1");
        on_pool!(self, pool => {
            let link = sqlx::query_as::<_, RemediationLinkRecord>(
                "SELECT id, request_id, contact_name, contact_email, created_by, created_at, expires_at, revoked_at, last_used_at \
                 FROM remediation_links WHERE token_hash = $1")
                .bind(token_hash).fetch_optional(pool).await?;
            let Some(link) = link else { return Ok(None) };
            if link.revoked_at.is_some() || link.expires_at.as_str() <= at {
                return Ok(None);
            }
            let request = sqlx::query_as::<_, RemediationRequestRecord>(&sql).bind(&link.request_id)
                .fetch_optional(pool).await?;
            let Some(request) = request.filter(|r| r.status == "open") else { return Ok(None) };
            sqlx::query("UPDATE remediation_links SET last_used_at = $1 WHERE id = $2").bind(at).bind(&link.id).execute(pool).await?;
            Ok(Some(RemediationAccess { request, link: RemediationLinkRecord { last_used_at: Some(at.to_string()), ..link } }))
        })
    }

    // ----- answers and verification -------------------------------------

    /// Records the vendor's answer to one action of the request its link
    /// opens. Only actions waiting for the vendor can be answered.
    pub async fn respond_remediation_item(
        &self,
        request_id: &str,
        item_id: &str,
        response: &RemediationResponse,
        contact_label: &str,
    ) -> Result<RemediationItemRecord, StoreError> {
        let (next, text, planned_on, evidence_id) = match response {
            RemediationResponse::Plan { text, planned_on } => {
                ("planned", text.trim(), planned_on.as_deref(), None)
            }
            RemediationResponse::Done { text, evidence_id } => {
                ("claimed_done", text.trim(), None, evidence_id.as_deref())
            }
            RemediationResponse::Dispute { reason } => {
                if reason.trim().is_empty() {
                    return Err(StoreError::Conflict("a dispute needs a reason".into()));
                }
                ("disputed", reason.trim(), None, None)
            }
        };
        let actor = Actor {
            user_id: None,
            label: format!("vendor: {contact_label}"),
        };
        let at = now();
        let sql = item_select("i.id = $1 AND i.request_id = $2");
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let before = sqlx::query_as::<_, RemediationItemRecord>(&sql).bind(item_id).bind(request_id)
                .fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("remediation action"))?;
            if !matches!(before.status.as_str(), "requested" | "planned" | "reopened") {
                return Err(StoreError::Conflict(format!(
                    "this action is {} and cannot be answered", status_words(&before.status))));
            }
            if let Some(evidence) = evidence_id {
                let found: Option<String> = sqlx::query_scalar("SELECT id FROM evidence WHERE id = $1 AND org_id = $2 AND vendor_id = $3")
                    .bind(evidence).bind(&before.org_id).bind(&before.vendor_id).fetch_optional(&mut *tx).await?;
                found.ok_or(StoreError::NotFound("evidence"))?;
            }
            // A plan keeps its date through a later "done" or dispute.
            let planned_on = if next == "planned" { planned_on.map(str::to_string) } else { before.planned_on.clone() };
            let done = sqlx::query("UPDATE remediation_items SET status = $1, response_text = $2, planned_on = $3, \
                response_evidence_id = $4, responded_at = $5 WHERE id = $6 AND request_id = $7 AND status = $8")
                .bind(next).bind(text).bind(&planned_on).bind(evidence_id).bind(&at)
                .bind(item_id).bind(request_id).bind(&before.status)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("the action changed meanwhile; reload and try again".into()));
            }
            sqlx::query("UPDATE remediation_requests SET updated_at = $1 WHERE id = $2")
                .bind(&at).bind(request_id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, &before.org_id, &actor, NewAudit {
                action: "remediation.respond",
                entity_kind: "remediation_item",
                entity_id: Some(item_id),
                summary: format!("{contact_label} answered action {} '{}': {} → {}",
                    before.position + 1, before.action, status_words(&before.status), status_words(next)),
                before: Some(serde_json::json!({"status": before.status})),
                after: Some(serde_json::json!({"status": next, "text": text, "planned_on": planned_on, "evidence_id": evidence_id})),
            }).await?;
            tx.commit().await?;
            Ok(RemediationItemRecord {
                status: next.to_string(),
                response_text: Some(text.to_string()),
                planned_on,
                response_evidence_id: evidence_id.map(str::to_string),
                responded_at: Some(at.clone()),
                ..before
            })
        })
    }

    /// Accepts (verified) or rejects (reopened, comment required) what the
    /// vendor claimed or disputed. The request closes once every action is
    /// verified.
    pub async fn verify_remediation_item(
        &self,
        org_id: &str,
        item_id: &str,
        accept: bool,
        comment: &str,
        actor: &Actor,
    ) -> Result<RemediationItemRecord, StoreError> {
        let comment = comment.trim();
        if !accept && comment.is_empty() {
            return Err(StoreError::Conflict(
                "say why the action is reopened".into(),
            ));
        }
        let next = if accept { "verified" } else { "reopened" };
        let stored_comment = (!comment.is_empty()).then(|| comment.to_string());
        let at = now();
        let sql = item_select("i.id = $1 AND i.org_id = $2");
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let before = sqlx::query_as::<_, RemediationItemRecord>(&sql).bind(item_id).bind(org_id)
                .fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("remediation action"))?;
            if !matches!(before.status.as_str(), "claimed_done" | "disputed") {
                return Err(StoreError::Conflict(format!(
                    "this action is {}; only a claimed or disputed action can be verified", status_words(&before.status))));
            }
            let done = sqlx::query("UPDATE remediation_items SET status = $1, verified_by = $2, verified_at = $3, verifier_comment = $4 \
                WHERE id = $5 AND status = $6")
                .bind(next).bind(&actor.label).bind(&at).bind(&stored_comment).bind(item_id).bind(&before.status)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("the action changed meanwhile; reload and try again".into()));
            }
            let unverified: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM remediation_items WHERE request_id = $1 AND status <> 'verified'")
                .bind(&before.request_id).fetch_one(&mut *tx).await?;
            let closes = unverified == 0;
            if closes {
                sqlx::query("UPDATE remediation_requests SET status = 'closed', closed_at = $1, updated_at = $1 WHERE id = $2")
                    .bind(&at).bind(&before.request_id).execute(&mut *tx).await?;
                // Nothing is left for the vendor to answer.
                sqlx::query("UPDATE remediation_links SET revoked_at = $1 WHERE request_id = $2 AND revoked_at IS NULL")
                    .bind(&at).bind(&before.request_id).execute(&mut *tx).await?;
            } else {
                sqlx::query("UPDATE remediation_requests SET updated_at = $1 WHERE id = $2")
                    .bind(&at).bind(&before.request_id).execute(&mut *tx).await?;
            }
            let verdict = if accept { "verified" } else { "reopened" };
            let mut summary = format!("{verdict} action {} '{}' (was {})", before.position + 1, before.action, status_words(&before.status));
            if !comment.is_empty() {
                summary.push_str(&format!(": {comment}"));
            }
            if closes {
                summary.push_str("; every action is verified, the request is closed");
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "remediation.verify",
                entity_kind: "remediation_item",
                entity_id: Some(item_id),
                summary,
                before: Some(serde_json::json!({"status": before.status})),
                after: Some(serde_json::json!({"status": next, "comment": comment, "request_closed": closes})),
            }).await?;
            tx.commit().await?;
            Ok(RemediationItemRecord {
                status: next.to_string(),
                verified_by: Some(actor.label.clone()),
                verified_at: Some(at.clone()),
                verifier_comment: stored_comment,
                ..before
            })
        })
    }

    // ----- follow-up ----------------------------------------------------

    /// Actions not verified whose due date (`YYYY-MM-DD`) is before `today`,
    /// oldest first.
    pub async fn overdue_remediation(
        &self,
        org_id: &str,
        today: &str,
    ) -> Result<Vec<OverdueItem>, StoreError> {
        let sql = overdue_select();
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, OverdueItem>(&sql).bind(org_id).bind(today).fetch_all(pool).await?)
        })
    }

    pub async fn overdue_remediation_count(
        &self,
        org_id: &str,
        today: &str,
    ) -> Result<i64, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM remediation_items WHERE org_id = $1 AND status <> 'verified' AND due_on < $2")
                .bind(org_id).bind(today).fetch_one(pool).await?)
        })
    }

    /// Every action of the vendor not verified yet (waiting for the vendor
    /// or for verification), soonest due first.
    pub async fn open_remediation_for_vendor(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<Vec<RemediationItemRecord>, StoreError> {
        let sql = format!(
            "{} ORDER BY i.due_on, i.position",
            item_select("i.org_id = $1 AND i.vendor_id = $2 AND i.status <> 'verified'")
        );
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, RemediationItemRecord>(&sql).bind(org_id).bind(vendor_id).fetch_all(pool).await?)
        })
    }
}
