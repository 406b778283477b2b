//! Contracts with vendors, their clause checklists, and the findings raised
//! for clauses a contract lacks.
//!
//! Contract findings are identified by `source = 'contract'` and
//! `source_ref = '<contract id>:<clause key>'`, so a sync can find the one
//! finding of each clause again instead of raising duplicates.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use crate::assessment::FindingRecord;
use crate::audit::{insert_audit, NewAudit};
use crate::error::StoreError;
use crate::{new_id, now, on_pool, Actor, Store};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ContractRecord {
    pub id: String,
    pub org_id: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub title: String,
    /// `YYYY-MM-DD`.
    pub starts_on: Option<String>,
    /// `YYYY-MM-DD`.
    pub ends_on: Option<String>,
    pub renewal_notice_days: i64,
    /// In the currency's minor unit (cents).
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    pub owner_id: Option<String>,
    pub owner_name: Option<String>,
    /// Comma-separated ids of the vendor's services; see `service_id_list`.
    pub service_ids: String,
    pub document_evidence_id: Option<String>,
    pub clause_catalog_version: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl ContractRecord {
    pub fn service_id_list(&self) -> Vec<String> {
        split_ids(&self.service_ids)
    }
}

/// A contract to create, or the new fields of an existing one.
#[derive(Debug, Clone, Serialize)]
pub struct NewContract {
    pub vendor_id: String,
    pub title: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub renewal_notice_days: i64,
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    pub owner_id: Option<String>,
    pub service_ids: Vec<String>,
    pub clause_catalog_version: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClauseRecord {
    pub contract_id: String,
    pub clause_key: String,
    /// `present`, `partial`, `absent` or `unknown`.
    pub state: String,
    pub note: String,
    pub reference: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Debug, Clone)]
pub struct ClauseUpdate {
    pub clause_key: String,
    pub state: String,
    pub note: String,
    pub reference: String,
}

/// A clause the contract lacks, as the caller judged it against the catalog.
#[derive(Debug, Clone)]
pub struct ContractGap {
    pub clause_key: String,
    pub severity: String,
    pub title: String,
    pub detail: String,
    /// Comma-separated CSF ids, or empty.
    pub csf: String,
}

/// A service of the vendor a contract can cover.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ContractServiceOption {
    pub id: String,
    pub name: String,
}

const CLAUSE_STATES: [&str; 4] = ["present", "partial", "absent", "unknown"];

const CONTRACT_SELECT: &str = "SELECT c.id, c.org_id, c.vendor_id, v.legal_name AS vendor_name, c.title, c.starts_on, \
     c.ends_on, c.renewal_notice_days, c.value_minor, c.currency, c.owner_id, u.display_name AS owner_name, c.service_ids, \
     c.document_evidence_id, c.clause_catalog_version, c.created_by, c.created_at, c.updated_at \
     FROM contracts c JOIN vendors v ON v.id = c.vendor_id LEFT JOIN users u ON u.id = c.owner_id";

/// Soonest ending first; open-ended contracts last.
const CONTRACT_ORDER: &str =
    "ORDER BY CASE WHEN c.ends_on IS NULL THEN 1 ELSE 0 END, c.ends_on, c.title, c.id";

const FINDING_COLUMNS: &str = "id, vendor_id, assessment_id, question_id, csf, title, detail, raised_severity, severity, \
     origin, decision, status, reviewer_comment, decided_by, decided_at, created_at, source, source_ref, cvss_vector";

fn split_ids(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The service ids without blanks or repeats, in the order given.
fn clean_ids(ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    out
}

fn contract_fields(c: &NewContract, service_ids: &[String]) -> serde_json::Value {
    serde_json::json!({
        "vendor_id": c.vendor_id,
        "title": c.title.trim(),
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
        "renewal_notice_days": c.renewal_notice_days,
        "value_minor": c.value_minor,
        "currency": c.currency,
        "owner_id": c.owner_id,
        "service_ids": service_ids,
        "clause_catalog_version": c.clause_catalog_version,
    })
}

fn severity_index(s: &str) -> usize {
    ["critical", "high", "medium", "low"]
        .iter()
        .position(|x| *x == s)
        .unwrap_or(9)
}

fn source_ref(contract_id: &str, clause_key: &str) -> String {
    format!("{contract_id}:{clause_key}")
}

/// Matches every clause of a contract. Contract ids are UUIDs, which hold
/// no LIKE wildcards.
fn source_ref_pattern(contract_id: &str) -> String {
    format!("{contract_id}:%")
}

/// What a sync compares of a contract finding.
#[derive(sqlx::FromRow)]
struct ContractFindingRow {
    id: String,
    source_ref: String,
    status: String,
    severity: String,
    title: String,
    detail: String,
    csf: String,
}

impl ContractFindingRow {
    fn matches(&self, gap: &ContractGap) -> bool {
        self.severity == gap.severity
            && self.title == gap.title
            && self.detail == gap.detail
            && self.csf == gap.csf
    }
}

/// Checks what a contract refers to: the vendor, owner and services must be
/// the organisation's, and the services the vendor's. Returns the vendor's
/// name.
macro_rules! check_contract_refs {
    ($tx:expr, $org_id:expr, $contract:expr, $service_ids:expr) => {{
        if $contract.title.trim().is_empty() {
            return Err(StoreError::Conflict("a contract needs a title".into()));
        }
        if $contract.renewal_notice_days < 0 {
            return Err(StoreError::Conflict(
                "the renewal notice cannot be negative".into(),
            ));
        }
        let vendor: Option<String> =
            sqlx::query_scalar("SELECT legal_name FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(&$contract.vendor_id)
                .bind($org_id)
                .fetch_optional(&mut *$tx)
                .await?;
        let vendor = vendor.ok_or(StoreError::NotFound("vendor"))?;
        if let Some(owner) = &$contract.owner_id {
            let found: Option<String> =
                sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND org_id = $2")
                    .bind(owner)
                    .bind($org_id)
                    .fetch_optional(&mut *$tx)
                    .await?;
            found.ok_or(StoreError::NotFound("user"))?;
        }
        for service in $service_ids {
            let of: Option<String> =
                sqlx::query_scalar("SELECT vendor_id FROM services WHERE id = $1 AND org_id = $2")
                    .bind(service)
                    .bind($org_id)
                    .fetch_optional(&mut *$tx)
                    .await?;
            if of.as_deref() != Some($contract.vendor_id.as_str()) {
                return Err(StoreError::Conflict(format!(
                    "service {service} is not a service of {vendor}"
                )));
            }
        }
        vendor
    }};
}

impl Store {
    pub async fn create_contract(
        &self,
        org_id: &str,
        contract: &NewContract,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let service_ids = clean_ids(&contract.service_ids);
        let id = new_id();
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let vendor = check_contract_refs!(tx, org_id, contract, &service_ids);
            sqlx::query("INSERT INTO contracts (id, org_id, vendor_id, title, starts_on, ends_on, renewal_notice_days, value_minor, \
                currency, owner_id, service_ids, clause_catalog_version, created_by, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)")
                .bind(&id).bind(org_id).bind(&contract.vendor_id).bind(contract.title.trim()).bind(&contract.starts_on)
                .bind(&contract.ends_on).bind(contract.renewal_notice_days).bind(contract.value_minor).bind(&contract.currency)
                .bind(&contract.owner_id).bind(service_ids.join(",")).bind(&contract.clause_catalog_version)
                .bind(&actor.label).bind(&at)
                .execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "contract.create",
                entity_kind: "contract",
                entity_id: Some(&id),
                summary: format!("registered contract '{}' with {vendor}", contract.title.trim()),
                before: None,
                after: Some(contract_fields(contract, &service_ids)),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    /// Replaces a contract's fields. A contract stays with its vendor: its
    /// clauses and findings are about that vendor.
    pub async fn update_contract(
        &self,
        org_id: &str,
        id: &str,
        contract: &NewContract,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let current = self.get_contract(org_id, id).await?;
        if current.vendor_id != contract.vendor_id {
            return Err(StoreError::Conflict(
                "a contract cannot move to another vendor; register a new contract instead".into(),
            ));
        }
        let service_ids = clean_ids(&contract.service_ids);
        let before = contract_fields(
            &NewContract {
                vendor_id: current.vendor_id.clone(),
                title: current.title.clone(),
                starts_on: current.starts_on.clone(),
                ends_on: current.ends_on.clone(),
                renewal_notice_days: current.renewal_notice_days,
                value_minor: current.value_minor,
                currency: current.currency.clone(),
                owner_id: current.owner_id.clone(),
                service_ids: Vec::new(),
                clause_catalog_version: current.clause_catalog_version.clone(),
            },
            &current.service_id_list(),
        );
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let vendor = check_contract_refs!(tx, org_id, contract, &service_ids);
            let done = sqlx::query("UPDATE contracts SET title = $1, starts_on = $2, ends_on = $3, renewal_notice_days = $4, \
                value_minor = $5, currency = $6, owner_id = $7, service_ids = $8, clause_catalog_version = $9, updated_at = $10 \
                WHERE id = $11 AND org_id = $12")
                .bind(contract.title.trim()).bind(&contract.starts_on).bind(&contract.ends_on).bind(contract.renewal_notice_days)
                .bind(contract.value_minor).bind(&contract.currency).bind(&contract.owner_id).bind(service_ids.join(","))
                .bind(&contract.clause_catalog_version).bind(&at).bind(id).bind(org_id)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound("contract"));
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "contract.update",
                entity_kind: "contract",
                entity_id: Some(id),
                summary: format!("edited contract '{}' with {vendor}", contract.title.trim()),
                before: Some(before),
                after: Some(contract_fields(contract, &service_ids)),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn get_contract(&self, org_id: &str, id: &str) -> Result<ContractRecord, StoreError> {
        let sql = format!("{CONTRACT_SELECT} WHERE c.id = $1 AND c.org_id = $2");
        on_pool!(self, pool => {
            sqlx::query_as::<_, ContractRecord>(&sql).bind(id).bind(org_id)
                .fetch_optional(pool).await?.ok_or(StoreError::NotFound("contract"))
        })
    }

    pub async fn contracts_for_vendor(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<Vec<ContractRecord>, StoreError> {
        let sql =
            format!("{CONTRACT_SELECT} WHERE c.org_id = $1 AND c.vendor_id = $2 {CONTRACT_ORDER}");
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, ContractRecord>(&sql).bind(org_id).bind(vendor_id).fetch_all(pool).await?)
        })
    }

    /// Every contract, soonest ending first and open-ended ones last.
    pub async fn list_contracts(&self, org_id: &str) -> Result<Vec<ContractRecord>, StoreError> {
        let sql = format!("{CONTRACT_SELECT} WHERE c.org_id = $1 {CONTRACT_ORDER}");
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, ContractRecord>(&sql).bind(org_id).fetch_all(pool).await?)
        })
    }

    /// Contracts ending on or after `from` and on or before `to`
    /// (`YYYY-MM-DD`, both included), soonest first.
    pub async fn contracts_ending_between(
        &self,
        org_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<ContractRecord>, StoreError> {
        let sql = format!(
            "{CONTRACT_SELECT} WHERE c.org_id = $1 AND c.ends_on >= $2 AND c.ends_on <= $3 {CONTRACT_ORDER}"
        );
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, ContractRecord>(&sql).bind(org_id).bind(from).bind(to).fetch_all(pool).await?)
        })
    }

    /// The services of a vendor, for choosing what a contract covers.
    pub async fn contract_service_options(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<Vec<ContractServiceOption>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, ContractServiceOption>(
                "SELECT id, name FROM services WHERE org_id = $1 AND vendor_id = $2 ORDER BY position")
                .bind(org_id).bind(vendor_id).fetch_all(pool).await?)
        })
    }

    // ----- clauses ------------------------------------------------------

    /// Records the state of clauses, in one transaction. Returns how many
    /// clauses changed; unchanged ones are not rewritten.
    pub async fn set_clauses(
        &self,
        org_id: &str,
        contract_id: &str,
        updates: &[ClauseUpdate],
        actor: &Actor,
    ) -> Result<usize, StoreError> {
        if let Some(bad) = updates
            .iter()
            .find(|u| !CLAUSE_STATES.contains(&u.state.as_str()))
        {
            return Err(StoreError::Conflict(format!(
                "clause '{}' has the state '{}'; expected one of {}",
                bad.clause_key,
                bad.state,
                CLAUSE_STATES.join(", ")
            )));
        }
        if updates.iter().any(|u| u.clause_key.trim().is_empty()) {
            return Err(StoreError::Conflict("a clause needs a key".into()));
        }
        let contract = self.get_contract(org_id, contract_id).await?;
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query_as::<_, ClauseRecord>("SELECT * FROM contract_clauses WHERE contract_id = $1")
                .bind(contract_id).fetch_all(&mut *tx).await?;
            let mut known: HashMap<String, (String, String, String)> = rows.into_iter()
                .map(|c| (c.clause_key, (c.state, c.note, c.reference)))
                .collect();
            let mut changes: Vec<String> = Vec::new();
            let mut before = serde_json::Map::new();
            let mut after = serde_json::Map::new();
            for u in updates {
                let key = u.clause_key.trim();
                let next = (u.state.clone(), u.note.trim().to_string(), u.reference.trim().to_string());
                let previous = known.get(key);
                if previous == Some(&next) {
                    continue;
                }
                changes.push(match previous {
                    Some((state, ..)) if *state != next.0 => format!("{key}: {state} → {}", next.0),
                    Some(_) => format!("{key}: note or reference"),
                    None => format!("{key}: {}", next.0),
                });
                before.insert(key.to_string(), previous.map(|p| serde_json::json!({"state": p.0, "note": p.1, "reference": p.2}))
                    .unwrap_or(serde_json::Value::Null));
                after.insert(key.to_string(), serde_json::json!({"state": next.0, "note": next.1, "reference": next.2}));
                sqlx::query("INSERT INTO contract_clauses (contract_id, clause_key, state, note, reference, updated_by, updated_at) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (contract_id, clause_key) DO UPDATE SET \
                    state = excluded.state, note = excluded.note, reference = excluded.reference, \
                    updated_by = excluded.updated_by, updated_at = excluded.updated_at")
                    .bind(contract_id).bind(key).bind(&next.0).bind(&next.1).bind(&next.2).bind(&actor.label).bind(&at)
                    .execute(&mut *tx).await?;
                known.insert(key.to_string(), next);
            }
            if changes.is_empty() {
                return Ok(0);
            }
            sqlx::query("UPDATE contracts SET updated_at = $1 WHERE id = $2").bind(&at).bind(contract_id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "contract.clauses",
                entity_kind: "contract",
                entity_id: Some(contract_id),
                summary: format!("updated {} clause(s) of contract '{}' with {}: {}",
                    changes.len(), contract.title, contract.vendor_name, changes.join("; ")),
                before: Some(serde_json::Value::Object(before)),
                after: Some(serde_json::Value::Object(after)),
            }).await?;
            tx.commit().await?;
            Ok(changes.len())
        })
    }

    pub async fn contract_clauses(
        &self,
        contract_id: &str,
    ) -> Result<Vec<ClauseRecord>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, ClauseRecord>("SELECT * FROM contract_clauses WHERE contract_id = $1 ORDER BY clause_key")
                .bind(contract_id).fetch_all(pool).await?)
        })
    }

    /// Links the signed document, stored as evidence of the same vendor.
    pub async fn attach_contract_document(
        &self,
        org_id: &str,
        contract_id: &str,
        evidence_id: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let contract = self.get_contract(org_id, contract_id).await?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let evidence = sqlx::query("SELECT vendor_id, file_name FROM evidence WHERE id = $1 AND org_id = $2")
                .bind(evidence_id).bind(org_id).fetch_optional(&mut *tx).await?
                .ok_or(StoreError::NotFound("evidence"))?;
            let vendor_id: String = evidence.try_get("vendor_id")?;
            let file_name: String = evidence.try_get("file_name")?;
            if vendor_id != contract.vendor_id {
                return Err(StoreError::Conflict(format!("'{file_name}' is evidence of another vendor, not of {}", contract.vendor_name)));
            }
            sqlx::query("UPDATE contracts SET document_evidence_id = $1, updated_at = $2 WHERE id = $3 AND org_id = $4")
                .bind(evidence_id).bind(now()).bind(contract_id).bind(org_id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "contract.document",
                entity_kind: "contract",
                entity_id: Some(contract_id),
                summary: format!("attached '{file_name}' as the document of contract '{}' with {}", contract.title, contract.vendor_name),
                before: Some(serde_json::json!({"document_evidence_id": contract.document_evidence_id})),
                after: Some(serde_json::json!({"document_evidence_id": evidence_id})),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    // ----- findings -----------------------------------------------------

    /// Makes the contract's findings match its gaps: raises a finding for a
    /// new gap, reopens a resolved one whose gap came back, updates open ones
    /// whose severity or text changed, and resolves open ones whose clause
    /// is no longer a gap. Returns (added, updated, resolved); a reopened
    /// finding counts as added. A finding someone dismissed stays dismissed.
    pub async fn sync_contract_findings(
        &self,
        org_id: &str,
        contract_id: &str,
        gaps: &[ContractGap],
        actor: &Actor,
    ) -> Result<(usize, usize, usize), StoreError> {
        let contract = self.get_contract(org_id, contract_id).await?;
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut existing = sqlx::query_as::<_, ContractFindingRow>(
                "SELECT id, source_ref, status, severity, title, detail, csf FROM findings \
                 WHERE org_id = $1 AND source = 'contract' AND source_ref LIKE $2 ORDER BY created_at, id")
                .bind(org_id).bind(source_ref_pattern(&contract.id)).fetch_all(&mut *tx).await?;
            let (mut added, mut updated, mut resolved) = (0usize, 0usize, 0usize);
            let mut changes: Vec<String> = Vec::new();
            let mut gap_refs: Vec<String> = Vec::with_capacity(gaps.len());
            for gap in gaps {
                let reference = source_ref(&contract.id, gap.clause_key.trim());
                gap_refs.push(reference.clone());
                match existing.iter_mut().find(|f| f.source_ref == reference) {
                    None => {
                        let id = new_id();
                        sqlx::query("INSERT INTO findings (id, org_id, vendor_id, assessment_id, question_id, csf, title, detail, raised_severity, \
                            severity, origin, decision, status, decided_by, decided_at, created_at, source, source_ref) \
                            VALUES ($1, $2, $3, NULL, NULL, $4, $5, $6, $7, $7, 'contract', 'accepted', 'open', $8, $9, $9, 'contract', $10)")
                            .bind(&id).bind(org_id).bind(&contract.vendor_id).bind(&gap.csf).bind(&gap.title).bind(&gap.detail)
                            .bind(&gap.severity).bind(&actor.label).bind(&at).bind(&reference)
                            .execute(&mut *tx).await?;
                        changes.push(format!("raised {} '{}'", gap.severity, gap.title));
                        existing.push(ContractFindingRow {
                            id,
                            source_ref: reference,
                            status: "open".into(),
                            severity: gap.severity.clone(),
                            title: gap.title.clone(),
                            detail: gap.detail.clone(),
                            csf: gap.csf.clone(),
                        });
                        added += 1;
                    }
                    Some(found) if found.status == "open" || found.status == "resolved" => {
                        let reopen = found.status == "resolved";
                        if !reopen && found.matches(gap) {
                            continue;
                        }
                        sqlx::query("UPDATE findings SET status = 'open', severity = $1, raised_severity = $1, title = $2, detail = $3, csf = $4 WHERE id = $5")
                            .bind(&gap.severity).bind(&gap.title).bind(&gap.detail).bind(&gap.csf).bind(&found.id)
                            .execute(&mut *tx).await?;
                        if reopen {
                            changes.push(format!("reopened {} '{}'", gap.severity, gap.title));
                            added += 1;
                        } else {
                            changes.push(format!("updated '{}' ({} → {})", gap.title, found.severity, gap.severity));
                            updated += 1;
                        }
                        found.status = "open".into();
                        found.severity = gap.severity.clone();
                        found.title = gap.title.clone();
                        found.detail = gap.detail.clone();
                        found.csf = gap.csf.clone();
                    }
                    // Dismissed by a reviewer: that decision stands.
                    Some(_) => {}
                }
            }
            for gone in existing.iter().filter(|f| f.status == "open" && !gap_refs.contains(&f.source_ref)) {
                sqlx::query("UPDATE findings SET status = 'resolved' WHERE id = $1 AND status = 'open'")
                    .bind(&gone.id).execute(&mut *tx).await?;
                changes.push(format!("resolved '{}'", gone.title));
                resolved += 1;
            }
            if changes.is_empty() {
                return Ok((0, 0, 0));
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "contract.findings",
                entity_kind: "contract",
                entity_id: Some(contract_id),
                summary: format!("contract '{}' with {}: {}", contract.title, contract.vendor_name, changes.join("; ")),
                before: None,
                after: Some(serde_json::json!({"added": added, "updated": updated, "resolved": resolved,
                    "gaps": gaps.iter().map(|g| g.clause_key.trim()).collect::<Vec<_>>()})),
            }).await?;
            tx.commit().await?;
            Ok((added, updated, resolved))
        })
    }

    /// The findings raised from a contract: open first, worst first.
    pub async fn contract_findings(
        &self,
        org_id: &str,
        contract_id: &str,
    ) -> Result<Vec<FindingRecord>, StoreError> {
        let contract = self.get_contract(org_id, contract_id).await?;
        let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE org_id = $1 AND source = 'contract' AND source_ref LIKE $2 ORDER BY created_at, id");
        on_pool!(self, pool => {
            let mut rows = sqlx::query_as::<_, FindingRecord>(&sql).bind(org_id).bind(source_ref_pattern(&contract.id))
                .fetch_all(pool).await?;
            rows.sort_by_key(|f| (f.status != "open", severity_index(&f.severity)));
            Ok(rows)
        })
    }
}
