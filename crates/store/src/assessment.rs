//! Frameworks, questionnaire templates, assessments, answers, portal links,
//! evidence and findings.
//!
//! Every status change is a guarded `UPDATE … WHERE status = <expected>` so
//! two reviewers (or a reviewer and the vendor's browser) cannot both move an
//! assessment; the loser gets `Conflict`.

use mamori_domain::assessment::AssessmentStatus;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{insert_audit, NewAudit};
use crate::error::StoreError;
use crate::{new_id, now, on_pool, Actor, Store};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FrameworkSummary {
    pub id: String,
    pub framework_key: String,
    pub name: String,
    pub version: String,
    pub source: String,
    pub element_count: i64,
    pub imported_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TemplateRecord {
    pub id: String,
    pub template_key: String,
    pub version: String,
    pub title: String,
    /// `builtin`, `import` or `vsaq`.
    pub origin: String,
    pub question_count: i64,
    pub content_json: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AssessmentRecord {
    pub id: String,
    pub org_id: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub template_id: String,
    pub template_key: String,
    pub template_version: String,
    pub status: String,
    pub tier: String,
    pub title: String,
    pub respond_by: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub submitted_at: Option<String>,
    pub completed_at: Option<String>,
    pub completed_by: Option<String>,
    pub updated_at: String,
    pub score: Option<i64>,
    pub score_earned: Option<i64>,
    pub score_possible: Option<i64>,
    pub function_scores: String,
    pub answered: i64,
    pub visible: i64,
}

impl AssessmentRecord {
    pub fn status(&self) -> Result<AssessmentStatus, StoreError> {
        AssessmentStatus::parse(&self.status)
            .map_err(|e| StoreError::corrupt("assessment status", e))
    }
}

const ASSESSMENT_SELECT: &str = "SELECT a.id, a.org_id, a.vendor_id, v.legal_name AS vendor_name, a.template_id, \
     t.template_key, t.version AS template_version, a.status, a.tier, a.title, a.respond_by, a.created_by, a.created_at, \
     a.sent_at, a.submitted_at, a.completed_at, a.completed_by, a.updated_at, a.score, a.score_earned, a.score_possible, \
     a.function_scores, a.answered, a.visible \
     FROM assessments a JOIN vendors v ON v.id = a.vendor_id JOIN questionnaire_templates t ON t.id = a.template_id";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredAnswer {
    pub question_id: String,
    pub answer_json: String,
    pub comment: Option<String>,
    pub answered_by: String,
    pub answered_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PortalLinkRecord {
    pub id: String,
    pub assessment_id: String,
    pub contact_name: String,
    pub contact_email: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// What a portal token resolves to.
#[derive(Debug, Clone)]
pub enum PortalAccess {
    Granted {
        link: Box<PortalLinkRecord>,
        org_id: String,
    },
    Expired,
    Revoked,
    Unknown,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EvidenceRecord {
    pub id: String,
    pub org_id: String,
    pub vendor_id: String,
    pub assessment_id: Option<String>,
    pub question_id: Option<String>,
    pub kind: String,
    pub issuer: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub issued_on: Option<String>,
    pub expires_on: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    /// When the vendor's KEK was destroyed: the file is unreadable for good.
    #[sqlx(default)]
    pub shredded_at: Option<String>,
}

/// Evidence metadata to store with a file already written to blob storage.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub vendor_id: String,
    pub assessment_id: Option<String>,
    pub question_id: Option<String>,
    pub kind: String,
    pub issuer: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub issued_on: Option<String>,
    pub expires_on: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FindingRecord {
    pub id: String,
    pub vendor_id: String,
    /// `None` for findings that come from elsewhere (e.g. a contract review).
    pub assessment_id: Option<String>,
    pub question_id: Option<String>,
    /// Comma-separated CSF ids.
    pub csf: String,
    pub title: String,
    pub detail: String,
    pub raised_severity: Option<String>,
    pub severity: String,
    /// `answer` (raised by scoring) or `manual`.
    pub origin: String,
    /// `pending`, `accepted` or `overridden`.
    pub decision: String,
    /// `open` or `dismissed`.
    pub status: String,
    pub reviewer_comment: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
    /// `assessment`, `contract`, …: where the finding was raised.
    pub source: String,
    /// The record of that source it came from (e.g. a contract id).
    pub source_ref: Option<String>,
    pub cvss_vector: Option<String>,
}

/// A finding to insert.
#[derive(Debug, Clone)]
pub struct NewFinding {
    pub question_id: Option<String>,
    pub csf: Vec<String>,
    pub title: String,
    pub detail: String,
    pub severity: String,
    pub origin: &'static str,
}

/// How a reviewer decides on a finding.
#[derive(Debug, Clone)]
pub enum FindingDecision {
    Accept,
    /// A new severity, or `None` to dismiss it; the comment is required.
    Override {
        severity: Option<String>,
        comment: String,
    },
}

/// The score to record when moving to review or completing.
#[derive(Debug, Clone, Default)]
pub struct ScoreSummary {
    pub score: Option<i64>,
    pub earned: i64,
    pub possible: i64,
    /// JSON object: function id → score.
    pub function_scores: String,
    pub answered: i64,
    pub visible: i64,
}

/// Counts for the assessment part of the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AssessmentCounts {
    pub overdue: i64,
    pub due_within_90_days: i64,
    pub never_assessed: i64,
    pub open_assessments: i64,
    pub completed_last_year: i64,
    pub average_score: Option<i64>,
    pub open_findings_by_severity: [i64; 4],
}

fn severity_index(s: &str) -> Option<usize> {
    ["critical", "high", "medium", "low"]
        .iter()
        .position(|x| *x == s)
}

impl Store {
    // ----- frameworks -------------------------------------------------

    /// Stores a framework; the same key and version again replaces it.
    pub async fn upsert_framework(
        &self,
        framework: &mamori_domain::framework::Framework,
    ) -> Result<String, StoreError> {
        let elements = serde_json::to_string(&framework.elements)
            .map_err(|e| StoreError::corrupt("framework", e))?;
        let count = framework.elements.len() as i64;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let existing: Option<String> = sqlx::query_scalar("SELECT id FROM frameworks WHERE framework_key = $1 AND version = $2")
                .bind(&framework.key).bind(&framework.version).fetch_optional(&mut *tx).await?;
            let id = match existing {
                Some(id) => {
                    sqlx::query("UPDATE frameworks SET name = $1, source = $2, element_count = $3, elements_json = $4, imported_at = $5 WHERE id = $6")
                        .bind(&framework.name).bind(&framework.source).bind(count).bind(&elements).bind(now()).bind(&id)
                        .execute(&mut *tx).await?;
                    id
                }
                None => {
                    let id = new_id();
                    sqlx::query("INSERT INTO frameworks (id, framework_key, name, version, source, element_count, elements_json, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                        .bind(&id).bind(&framework.key).bind(&framework.name).bind(&framework.version)
                        .bind(&framework.source).bind(count).bind(&elements).bind(now())
                        .execute(&mut *tx).await?;
                    id
                }
            };
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn list_frameworks(&self) -> Result<Vec<FrameworkSummary>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, FrameworkSummary>(
                "SELECT id, framework_key, name, version, source, element_count, imported_at FROM frameworks ORDER BY framework_key, version")
                .fetch_all(pool).await?)
        })
    }

    pub async fn get_framework(
        &self,
        key: &str,
    ) -> Result<Option<mamori_domain::framework::Framework>, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT framework_key, name, version, source, elements_json FROM frameworks WHERE framework_key = $1 ORDER BY imported_at DESC LIMIT 1")
                .bind(key).fetch_optional(pool).await?;
            let Some(row) = row else { return Ok(None) };
            let elements: String = row.try_get("elements_json")?;
            Ok(Some(mamori_domain::framework::Framework {
                key: row.try_get("framework_key")?,
                name: row.try_get("name")?,
                version: row.try_get("version")?,
                source: row.try_get("source")?,
                elements: serde_json::from_str(&elements).map_err(|e| StoreError::corrupt("framework elements", e))?,
            }))
        })
    }

    /// Replaces every mapping between two frameworks.
    pub async fn replace_mappings(
        &self,
        mappings: &[mamori_domain::framework::FrameworkMapping],
    ) -> Result<usize, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut pairs: Vec<(&str, &str)> = mappings.iter().map(|m| (m.source_framework.as_str(), m.target_framework.as_str())).collect();
            pairs.sort_unstable();
            pairs.dedup();
            for (s, t) in pairs {
                sqlx::query("DELETE FROM framework_mappings WHERE source_framework = $1 AND target_framework = $2")
                    .bind(s).bind(t).execute(&mut *tx).await?;
            }
            let mut written = 0;
            for m in mappings {
                let done = sqlx::query("INSERT INTO framework_mappings (source_framework, source_id, target_framework, target_id, relationship) \
                    VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                    .bind(&m.source_framework).bind(&m.source_id).bind(&m.target_framework).bind(&m.target_id).bind(&m.relationship)
                    .execute(&mut *tx).await?;
                written += done.rows_affected() as usize;
            }
            tx.commit().await?;
            Ok(written)
        })
    }

    /// (source framework, target framework, count) for every mapping set.
    pub async fn mapping_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT source_framework, target_framework, COUNT(*) AS n FROM framework_mappings GROUP BY source_framework, target_framework ORDER BY source_framework")
                .fetch_all(pool).await?;
            rows.iter().map(|r| Ok((r.try_get("source_framework")?, r.try_get("target_framework")?, r.try_get("n")?))).collect()
        })
    }

    // ----- templates --------------------------------------------------

    /// Stores a template version. The same key and version with the same
    /// content is a no-op; with different content it is refused, because
    /// assessments pin a version and must keep meaning what they meant.
    pub async fn upsert_template(
        &self,
        key: &str,
        version: &str,
        title: &str,
        origin: &str,
        question_count: i64,
        content_json: &str,
    ) -> Result<(String, bool), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let existing = sqlx::query("SELECT id, content_json FROM questionnaire_templates WHERE template_key = $1 AND version = $2")
                .bind(key).bind(version).fetch_optional(&mut *tx).await?;
            if let Some(row) = existing {
                let content: String = row.try_get("content_json")?;
                if content != content_json {
                    return Err(StoreError::Conflict(format!(
                        "template '{key}' version '{version}' exists with different content; give the changed template a new version")));
                }
                return Ok((row.try_get("id")?, false));
            }
            let id = new_id();
            sqlx::query("INSERT INTO questionnaire_templates (id, template_key, version, title, origin, question_count, content_json, created_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&id).bind(key).bind(version).bind(title).bind(origin).bind(question_count).bind(content_json).bind(now())
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok((id, true))
        })
    }

    /// The newest version of every template key.
    pub async fn list_templates(&self) -> Result<Vec<TemplateRecord>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, TemplateRecord>(
                "SELECT t.* FROM questionnaire_templates t WHERE t.created_at = \
                 (SELECT MAX(created_at) FROM questionnaire_templates u WHERE u.template_key = t.template_key) \
                 ORDER BY t.template_key")
                .fetch_all(pool).await?)
        })
    }

    pub async fn get_template(&self, id: &str) -> Result<TemplateRecord, StoreError> {
        on_pool!(self, pool => {
            sqlx::query_as::<_, TemplateRecord>("SELECT * FROM questionnaire_templates WHERE id = $1")
                .bind(id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("questionnaire template"))
        })
    }

    /// The newest version of a template key.
    pub async fn template_by_key(&self, key: &str) -> Result<TemplateRecord, StoreError> {
        on_pool!(self, pool => {
            sqlx::query_as::<_, TemplateRecord>("SELECT * FROM questionnaire_templates WHERE template_key = $1 ORDER BY created_at DESC LIMIT 1")
                .bind(key).fetch_optional(pool).await?.ok_or(StoreError::NotFound("questionnaire template"))
        })
    }

    // ----- assessments ------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn create_assessment(
        &self,
        org_id: &str,
        vendor_id: &str,
        template_id: &str,
        tier: &str,
        title: &str,
        respond_by: Option<&str>,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let id = new_id();
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let vendor: Option<String> = sqlx::query_scalar("SELECT legal_name FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(vendor_id).bind(org_id).fetch_optional(&mut *tx).await?;
            let vendor = vendor.ok_or(StoreError::NotFound("vendor"))?;
            sqlx::query("INSERT INTO assessments (id, org_id, vendor_id, template_id, status, tier, title, respond_by, created_by, created_at, updated_at) \
                VALUES ($1, $2, $3, $4, 'planned', $5, $6, $7, $8, $9, $9)")
                .bind(&id).bind(org_id).bind(vendor_id).bind(template_id).bind(tier).bind(title)
                .bind(respond_by).bind(&actor.label).bind(&at)
                .execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "assessment.create",
                entity_kind: "assessment",
                entity_id: Some(&id),
                summary: format!("planned assessment '{title}' for {vendor} ({tier} tier)"),
                before: None,
                after: Some(serde_json::json!({"vendor_id": vendor_id, "template_id": template_id, "status": "planned"})),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    pub async fn get_assessment(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<AssessmentRecord, StoreError> {
        let sql = format!("{ASSESSMENT_SELECT} WHERE a.id = $1 AND a.org_id = $2");
        on_pool!(self, pool => {
            sqlx::query_as::<_, AssessmentRecord>(&sql).bind(id).bind(org_id)
                .fetch_optional(pool).await?.ok_or(StoreError::NotFound("assessment"))
        })
    }

    /// Assessments, newest first; optionally of one vendor or one status.
    pub async fn list_assessments(
        &self,
        org_id: &str,
        vendor_id: Option<&str>,
        status: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<AssessmentRecord>, i64), StoreError> {
        let mut filter = String::from("a.org_id = $1");
        let mut binds = vec![org_id.to_string()];
        if let Some(v) = vendor_id {
            binds.push(v.to_string());
            filter.push_str(&format!(" AND a.vendor_id = ${}", binds.len()));
        }
        if let Some(s) = status {
            if s == "open" {
                filter.push_str(" AND a.status NOT IN ('completed', 'cancelled')");
            } else {
                binds.push(s.to_string());
                filter.push_str(&format!(" AND a.status = ${}", binds.len()));
            }
        }
        let sql = format!(
            "{ASSESSMENT_SELECT} WHERE {filter} ORDER BY a.updated_at DESC, a.id DESC LIMIT {} OFFSET {}",
            limit.clamp(1, 500),
            offset
        );
        let count_sql = format!("SELECT COUNT(*) FROM assessments a WHERE {filter}");
        on_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, AssessmentRecord>(&sql);
            let mut c = sqlx::query_scalar::<_, i64>(&count_sql);
            for b in &binds {
                q = q.bind(b);
                c = c.bind(b);
            }
            Ok((q.fetch_all(pool).await?, c.fetch_one(pool).await?))
        })
    }

    /// Moves an assessment from one of `from` to `to`, stamping the matching
    /// timestamp, with an audit record. Refused if the status moved meanwhile.
    pub async fn transition_assessment(
        &self,
        org_id: &str,
        id: &str,
        to: AssessmentStatus,
        actor: &Actor,
        note: &str,
    ) -> Result<(), StoreError> {
        let current = self.get_assessment(org_id, id).await?;
        let from = current.status()?;
        if !from.can_move_to(to) {
            return Err(StoreError::Conflict(format!(
                "an assessment that is {} cannot become {}",
                from.as_str().replace('_', " "),
                to.as_str().replace('_', " ")
            )));
        }
        if matches!(
            to,
            AssessmentStatus::UnderReview | AssessmentStatus::Completed
        ) {
            return Err(StoreError::Conflict(
                "review and completion record a score; use begin_review or complete_assessment"
                    .into(),
            ));
        }
        let at = now();
        let sql = "UPDATE assessments SET status = $1, updated_at = $4, \
            sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END, \
            submitted_at = CASE WHEN $1 = 'submitted' THEN $4 ELSE submitted_at END \
            WHERE id = $2 AND status = $3 AND org_id = $5";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(sql)
                .bind(to.as_str()).bind(id).bind(from.as_str()).bind(&at).bind(org_id)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("the assessment changed meanwhile; reload and try again".into()));
            }
            if !to.accepts_answers() && to != AssessmentStatus::Submitted && to != AssessmentStatus::UnderReview {
                // Completed or cancelled: every vendor link stops working.
                sqlx::query("UPDATE portal_links SET revoked_at = $1 WHERE assessment_id = $2 AND revoked_at IS NULL")
                    .bind(&at).bind(id).execute(&mut *tx).await?;
            }
            let summary = if note.is_empty() {
                format!("assessment '{}' of {}: {} → {}", current.title, current.vendor_name, from, to)
            } else {
                format!("assessment '{}' of {}: {} → {} ({note})", current.title, current.vendor_name, from, to)
            };
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "assessment.status",
                entity_kind: "assessment",
                entity_id: Some(id),
                summary,
                before: Some(serde_json::json!({"status": from.as_str()})),
                after: Some(serde_json::json!({"status": to.as_str()})),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Completes an assessment under review and records the result on the
    /// vendor: last assessed, score, open findings and next due date.
    pub async fn complete_assessment(
        &self,
        org_id: &str,
        id: &str,
        score: &ScoreSummary,
        completed_on: &str,
        next_due: &str,
        actor: &Actor,
    ) -> Result<i64, StoreError> {
        let current = self.get_assessment(org_id, id).await?;
        if current.status()? != AssessmentStatus::UnderReview {
            return Err(StoreError::Conflict(
                "only an assessment under review can be completed".into(),
            ));
        }
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE assessments SET status = 'completed', completed_at = $1, completed_by = $2, updated_at = $1, \
                score = $3, score_earned = $4, score_possible = $5, function_scores = $6, answered = $7, visible = $8 \
                WHERE id = $9 AND org_id = $10 AND status = 'under_review'")
                .bind(&at).bind(&actor.label).bind(score.score).bind(score.earned).bind(score.possible)
                .bind(&score.function_scores).bind(score.answered).bind(score.visible).bind(id).bind(org_id)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("the assessment changed meanwhile; reload and try again".into()));
            }
            // Pending findings stand unless a reviewer said otherwise.
            sqlx::query("UPDATE findings SET decision = 'accepted', decided_by = $1, decided_at = $2 WHERE assessment_id = $3 AND decision = 'pending'")
                .bind(&actor.label).bind(&at).bind(id).execute(&mut *tx).await?;
            let rows = sqlx::query("SELECT severity, COUNT(*) AS n FROM findings WHERE assessment_id = $1 AND status = 'open' GROUP BY severity")
                .bind(id).fetch_all(&mut *tx).await?;
            let mut by_severity = [0i64; 4];
            for r in &rows {
                let s: String = r.try_get("severity")?;
                if let Some(i) = severity_index(&s) {
                    by_severity[i] = r.try_get("n")?;
                }
            }
            let open: i64 = by_severity.iter().sum();
            // The vendor carries the result of its latest assessment only.
            sqlx::query("UPDATE vendors SET last_assessed_on = $1, assessment_score = $2, open_findings = $3, next_assessment_due = $4, \
                open_findings_critical = $5, open_findings_high = $6, open_findings_medium = $7, open_findings_low = $8 WHERE id = $9 AND org_id = $10")
                .bind(completed_on).bind(score.score).bind(open).bind(next_due)
                .bind(by_severity[0]).bind(by_severity[1]).bind(by_severity[2]).bind(by_severity[3])
                .bind(&current.vendor_id).bind(org_id)
                .execute(&mut *tx).await?;
            sqlx::query("UPDATE portal_links SET revoked_at = $1 WHERE assessment_id = $2 AND revoked_at IS NULL")
                .bind(&at).bind(id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "assessment.complete",
                entity_kind: "assessment",
                entity_id: Some(id),
                summary: format!("completed assessment '{}' of {}: score {}, {open} open finding(s), next due {next_due}",
                    current.title, current.vendor_name, score.score.map(|s| s.to_string()).unwrap_or_else(|| "n/a".into())),
                before: Some(serde_json::json!({"status": current.status})),
                after: Some(serde_json::json!({"status": "completed", "score": score.score, "open_findings": open, "next_due": next_due})),
            }).await?;
            tx.commit().await?;
            Ok(open)
        })
    }

    /// Moves a completed assessment into the past and records its dates on
    /// the vendor: for assessments done before Mamori was in use and entered
    /// afterwards (and for the demo's history).
    pub async fn backdate_assessment(
        &self,
        org_id: &str,
        id: &str,
        completed_at: &str,
        next_due: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let current = self.get_assessment(org_id, id).await?;
        if current.status()? != AssessmentStatus::Completed {
            return Err(StoreError::Conflict(
                "only a completed assessment can be backdated".into(),
            ));
        }
        let completed_on = completed_at.get(..10).unwrap_or(completed_at).to_string();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE assessments SET created_at = $1, sent_at = $1, submitted_at = $1, completed_at = $1, updated_at = $1 WHERE id = $2")
                .bind(completed_at).bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE vendors SET last_assessed_on = $1, next_assessment_due = $2 WHERE id = $3 AND org_id = $4")
                .bind(&completed_on).bind(next_due).bind(&current.vendor_id).bind(org_id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "assessment.backdate",
                entity_kind: "assessment",
                entity_id: Some(id),
                summary: format!("recorded assessment '{}' of {} as completed on {completed_on}, next due {next_due}", current.title, current.vendor_name),
                before: Some(serde_json::json!({"completed_at": current.completed_at})),
                after: Some(serde_json::json!({"completed_at": completed_at, "next_due": next_due})),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    // ----- answers ----------------------------------------------------

    pub async fn answers(&self, assessment_id: &str) -> Result<Vec<StoredAnswer>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, StoredAnswer>(
                "SELECT question_id, answer_json, comment, answered_by, answered_at FROM assessment_answers WHERE assessment_id = $1")
                .bind(assessment_id).fetch_all(pool).await?)
        })
    }

    /// Saves answers (`None` clears one) and the progress counts, in one
    /// transaction. Only while the assessment accepts answers (or, for an
    /// import, `allow_review` lets planned/sent/in-progress move to review).
    /// A sent assessment becomes in progress with its first answer.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_answers(
        &self,
        org_id: &str,
        assessment_id: &str,
        answers: &[(String, Option<String>)],
        progress: (i64, i64),
        by: &str,
        actor: &Actor,
        audit_summary: Option<String>,
    ) -> Result<(), StoreError> {
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let status: Option<String> = sqlx::query_scalar("SELECT status FROM assessments WHERE id = $1 AND org_id = $2")
                .bind(assessment_id).bind(org_id).fetch_optional(&mut *tx).await?;
            let status = status.ok_or(StoreError::NotFound("assessment"))?;
            let status = AssessmentStatus::parse(&status).map_err(|e| StoreError::corrupt("assessment status", e))?;
            let imported_into_plan = audit_summary.is_some() && status == AssessmentStatus::Planned;
            if !(status.accepts_answers() || imported_into_plan) {
                return Err(StoreError::Conflict(format!(
                    "answers cannot change while the assessment is {}", status.as_str().replace('_', " "))));
            }
            for (question, answer) in answers {
                match answer {
                    Some(json) => {
                        sqlx::query("INSERT INTO assessment_answers (assessment_id, question_id, answer_json, answered_by, answered_at) \
                            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (assessment_id, question_id) DO UPDATE SET \
                            answer_json = excluded.answer_json, answered_by = excluded.answered_by, answered_at = excluded.answered_at")
                            .bind(assessment_id).bind(question).bind(json).bind(by).bind(&at)
                            .execute(&mut *tx).await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM assessment_answers WHERE assessment_id = $1 AND question_id = $2")
                            .bind(assessment_id).bind(question).execute(&mut *tx).await?;
                    }
                }
            }
            let next = if status == AssessmentStatus::Sent && !answers.is_empty() { "in_progress" } else { status.as_str() };
            sqlx::query("UPDATE assessments SET answered = $1, visible = $2, status = $3, updated_at = $4 WHERE id = $5")
                .bind(progress.0).bind(progress.1).bind(next).bind(&at).bind(assessment_id)
                .execute(&mut *tx).await?;
            if next != status.as_str() {
                // The first answer moves it to in progress: a transition too.
                insert_audit(&mut *tx, org_id, actor, NewAudit {
                    action: "assessment.status",
                    entity_kind: "assessment",
                    entity_id: Some(assessment_id),
                    summary: format!("assessment {assessment_id}: sent → in progress (first answer by {by})"),
                    before: Some(serde_json::json!({"status": status.as_str()})),
                    after: Some(serde_json::json!({"status": next})),
                }).await?;
            }
            if let Some(summary) = audit_summary {
                insert_audit(&mut *tx, org_id, actor, NewAudit {
                    action: "assessment.answers_import",
                    entity_kind: "assessment",
                    entity_id: Some(assessment_id),
                    summary,
                    before: None,
                    after: Some(serde_json::json!({"answers": answers.len()})),
                }).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    // ----- portal links -----------------------------------------------

    /// Issues a portal link (revoking any earlier one) and, for a planned
    /// assessment, marks it sent.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_portal_link(
        &self,
        org_id: &str,
        assessment_id: &str,
        token_hash: &str,
        contact_name: &str,
        contact_email: &str,
        expires_at: &str,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let current = self.get_assessment(org_id, assessment_id).await?;
        let status = current.status()?;
        if !matches!(
            status,
            AssessmentStatus::Planned
                | AssessmentStatus::Sent
                | AssessmentStatus::InProgress
                | AssessmentStatus::Submitted
                | AssessmentStatus::UnderReview
        ) {
            return Err(StoreError::Conflict(
                "a completed or cancelled assessment cannot be sent".into(),
            ));
        }
        let id = new_id();
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE portal_links SET revoked_at = $1 WHERE assessment_id = $2 AND revoked_at IS NULL")
                .bind(&at).bind(assessment_id).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO portal_links (id, assessment_id, token_hash, contact_name, contact_email, created_by, created_at, expires_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&id).bind(assessment_id).bind(token_hash).bind(contact_name).bind(contact_email)
                .bind(&actor.label).bind(&at).bind(expires_at)
                .execute(&mut *tx).await?;
            // Sending (or re-sending for corrections) opens it to the vendor.
            if matches!(status, AssessmentStatus::Planned | AssessmentStatus::Submitted | AssessmentStatus::UnderReview) {
                let done = sqlx::query("UPDATE assessments SET status = 'sent', sent_at = $1, updated_at = $1 WHERE id = $2 AND status = $3")
                    .bind(&at).bind(assessment_id).bind(status.as_str()).execute(&mut *tx).await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict("the assessment changed meanwhile; reload and try again".into()));
                }
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "assessment.send",
                entity_kind: "assessment",
                entity_id: Some(assessment_id),
                summary: format!("sent assessment '{}' of {} to {contact_name} <{contact_email}>, link valid until {expires_at}",
                    current.title, current.vendor_name),
                before: Some(serde_json::json!({"status": status.as_str()})),
                after: Some(serde_json::json!({"status": if status.accepts_answers() { status.as_str() } else { "sent" }, "contact": contact_email})),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    pub async fn revoke_portal_links(
        &self,
        org_id: &str,
        assessment_id: &str,
        actor: &Actor,
    ) -> Result<u64, StoreError> {
        let current = self.get_assessment(org_id, assessment_id).await?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE portal_links SET revoked_at = $1 WHERE assessment_id = $2 AND revoked_at IS NULL")
                .bind(now()).bind(assessment_id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "assessment.revoke_link",
                entity_kind: "assessment",
                entity_id: Some(assessment_id),
                summary: format!("revoked the vendor link of assessment '{}' of {}", current.title, current.vendor_name),
                before: None,
                after: None,
            }).await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }

    pub async fn portal_links(
        &self,
        assessment_id: &str,
    ) -> Result<Vec<PortalLinkRecord>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, PortalLinkRecord>(
                "SELECT id, assessment_id, contact_name, contact_email, created_by, created_at, expires_at, revoked_at, last_used_at \
                 FROM portal_links WHERE assessment_id = $1 ORDER BY created_at DESC")
                .bind(assessment_id).fetch_all(pool).await?)
        })
    }

    /// Resolves a portal token hash. `now` is compared with the expiry.
    pub async fn resolve_portal_token(
        &self,
        token_hash: &str,
        at: &str,
    ) -> Result<PortalAccess, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT l.id, l.assessment_id, l.contact_name, l.contact_email, l.created_by, l.created_at, \
                l.expires_at, l.revoked_at, l.last_used_at, a.org_id FROM portal_links l JOIN assessments a ON a.id = l.assessment_id \
                WHERE l.token_hash = $1")
                .bind(token_hash).fetch_optional(pool).await?;
            let Some(row) = row else { return Ok(PortalAccess::Unknown) };
            let link = PortalLinkRecord {
                id: row.try_get("id")?,
                assessment_id: row.try_get("assessment_id")?,
                contact_name: row.try_get("contact_name")?,
                contact_email: row.try_get("contact_email")?,
                created_by: row.try_get("created_by")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
                revoked_at: row.try_get("revoked_at")?,
                last_used_at: row.try_get("last_used_at")?,
            };
            if link.revoked_at.is_some() {
                return Ok(PortalAccess::Revoked);
            }
            if link.expires_at.as_str() <= at {
                return Ok(PortalAccess::Expired);
            }
            sqlx::query("UPDATE portal_links SET last_used_at = $1 WHERE id = $2").bind(at).bind(&link.id).execute(pool).await?;
            Ok(PortalAccess::Granted { link: Box::new(link), org_id: row.try_get("org_id")? })
        })
    }

    // ----- evidence ---------------------------------------------------

    pub async fn add_evidence(
        &self,
        org_id: &str,
        e: &NewEvidence,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let id = new_id();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let vendor: Option<String> = sqlx::query_scalar("SELECT legal_name FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(&e.vendor_id).bind(org_id).fetch_optional(&mut *tx).await?;
            let vendor = vendor.ok_or(StoreError::NotFound("vendor"))?;
            sqlx::query("INSERT INTO evidence (id, org_id, vendor_id, assessment_id, question_id, kind, issuer, period_start, period_end, \
                issued_on, expires_on, file_name, content_type, size_bytes, sha256, storage_key, uploaded_by, uploaded_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)")
                .bind(&id).bind(org_id).bind(&e.vendor_id).bind(&e.assessment_id).bind(&e.question_id).bind(&e.kind)
                .bind(&e.issuer).bind(&e.period_start).bind(&e.period_end).bind(&e.issued_on).bind(&e.expires_on)
                .bind(&e.file_name).bind(&e.content_type).bind(e.size_bytes).bind(&e.sha256).bind(&e.storage_key)
                .bind(&e.uploaded_by).bind(now())
                .execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "evidence.upload",
                entity_kind: "evidence",
                entity_id: Some(&id),
                summary: format!("{} uploaded {} evidence '{}' ({} bytes) for {vendor}", e.uploaded_by, e.kind, e.file_name, e.size_bytes),
                before: None,
                after: Some(serde_json::json!({"kind": e.kind, "sha256": e.sha256, "assessment_id": e.assessment_id})),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    pub async fn evidence_for_vendor(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<Vec<EvidenceRecord>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, EvidenceRecord>("SELECT * FROM evidence WHERE vendor_id = $1 AND org_id = $2 ORDER BY uploaded_at DESC")
                .bind(vendor_id).bind(org_id).fetch_all(pool).await?)
        })
    }

    pub async fn evidence_for_assessment(
        &self,
        assessment_id: &str,
    ) -> Result<Vec<EvidenceRecord>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, EvidenceRecord>("SELECT * FROM evidence WHERE assessment_id = $1 ORDER BY uploaded_at")
                .bind(assessment_id).fetch_all(pool).await?)
        })
    }

    pub async fn get_evidence(&self, org_id: &str, id: &str) -> Result<EvidenceRecord, StoreError> {
        on_pool!(self, pool => {
            sqlx::query_as::<_, EvidenceRecord>("SELECT * FROM evidence WHERE id = $1 AND org_id = $2")
                .bind(id).bind(org_id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("evidence"))
        })
    }

    /// Deletes the metadata row; the caller deletes the blob after.
    pub async fn delete_evidence(
        &self,
        org_id: &str,
        id: &str,
        actor: &Actor,
    ) -> Result<EvidenceRecord, StoreError> {
        let record = self.get_evidence(org_id, id).await?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM evidence WHERE id = $1").bind(id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "evidence.delete",
                entity_kind: "evidence",
                entity_id: Some(id),
                summary: format!("deleted evidence '{}'", record.file_name),
                before: Some(serde_json::json!({"kind": record.kind, "sha256": record.sha256})),
                after: None,
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(record)
    }

    /// Records that a vendor's KEK was destroyed: marks the vendor and its
    /// evidence as shredded, in one transaction with the audit record.
    /// Returns the storage keys of the vendor's evidence files (to remove
    /// the ciphertext too). Running it again changes nothing more.
    pub async fn mark_vendor_shredded(
        &self,
        org_id: &str,
        vendor_id: &str,
        kek: &str,
        actor: &Actor,
    ) -> Result<Vec<String>, StoreError> {
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let name: String = sqlx::query_scalar("SELECT legal_name FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(vendor_id).bind(org_id).fetch_optional(&mut *tx).await?
                .ok_or(StoreError::NotFound("vendor"))?;
            let keys: Vec<String> = sqlx::query_scalar("SELECT storage_key FROM evidence WHERE vendor_id = $1 AND org_id = $2 ORDER BY storage_key")
                .bind(vendor_id).bind(org_id).fetch_all(&mut *tx).await?;
            sqlx::query("UPDATE vendors SET data_shredded_at = COALESCE(data_shredded_at, $1) WHERE id = $2 AND org_id = $3")
                .bind(&at).bind(vendor_id).bind(org_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE evidence SET shredded_at = COALESCE(shredded_at, $1) WHERE vendor_id = $2 AND org_id = $3")
                .bind(&at).bind(vendor_id).bind(org_id).execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "vendor.shred",
                entity_kind: "vendor",
                entity_id: Some(vendor_id),
                summary: format!("crypto-shredded the data of {name}: destroyed KEK {kek}; {} evidence file(s) can no longer be decrypted", keys.len()),
                before: None,
                after: Some(serde_json::json!({ "kek": kek, "evidence_files": keys.len() })),
            }).await?;
            tx.commit().await?;
            Ok(keys)
        })
    }

    /// Every sealed answer of vendors not shredded: (assessment id,
    /// question id, stored value).
    pub async fn sealed_answers(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT x.assessment_id, x.question_id, x.answer_json FROM assessment_answers x \
                JOIN assessments a ON a.id = x.assessment_id JOIN vendors v ON v.id = a.vendor_id \
                WHERE x.answer_json LIKE 'mamori-sealed:%' AND v.data_shredded_at IS NULL ORDER BY x.assessment_id, x.question_id")
                .fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get("assessment_id")?, r.try_get("question_id")?, r.try_get("answer_json")?)))
                .collect()
        })
    }

    /// The sealed answers of one vendor: (assessment id, question id, value).
    pub async fn sealed_answers_for_vendor(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT x.assessment_id, x.question_id, x.answer_json FROM assessment_answers x \
                JOIN assessments a ON a.id = x.assessment_id \
                WHERE a.vendor_id = $1 AND a.org_id = $2 AND x.answer_json LIKE 'mamori-sealed:%' ORDER BY x.assessment_id, x.question_id")
                .bind(vendor_id).bind(org_id).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get("assessment_id")?, r.try_get("question_id")?, r.try_get("answer_json")?)))
                .collect()
        })
    }

    /// Every evidence file: (storage key, vendor id, shredded).
    pub async fn evidence_files(&self) -> Result<Vec<(String, String, bool)>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT storage_key, vendor_id, shredded_at FROM evidence ORDER BY storage_key")
                .fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get("storage_key")?, r.try_get("vendor_id")?, r.try_get::<Option<String>, _>("shredded_at")?.is_some())))
                .collect()
        })
    }

    /// Replaces a sealed answer by its rewrapped form, only if it is still
    /// the value that was read (an answer edited meanwhile is left alone,
    /// and sealed afresh already). True when it was replaced.
    pub async fn replace_sealed_answer(
        &self,
        assessment_id: &str,
        question_id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE assessment_answers SET answer_json = $1 WHERE assessment_id = $2 AND question_id = $3 AND answer_json = $4")
                .bind(new).bind(assessment_id).bind(question_id).bind(old)
                .execute(pool).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// When the vendor's data was crypto-shredded, if it was.
    pub async fn vendor_shredded_at(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<Option<String>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar::<_, Option<String>>("SELECT data_shredded_at FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(vendor_id).bind(org_id).fetch_optional(pool).await?.flatten())
        })
    }

    /// Storage keys of every evidence row (to find orphaned blobs).
    pub async fn evidence_storage_keys(&self) -> Result<Vec<String>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar("SELECT storage_key FROM evidence").fetch_all(pool).await?)
        })
    }

    // ----- findings ---------------------------------------------------

    /// Starts review: records the score and replaces the findings raised by
    /// answers (manual findings and decided ones are kept).
    pub async fn begin_review(
        &self,
        org_id: &str,
        assessment_id: &str,
        score: &ScoreSummary,
        raised: &[NewFinding],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let current = self.get_assessment(org_id, assessment_id).await?;
        let from = current.status()?;
        if !from.can_move_to(AssessmentStatus::UnderReview) {
            return Err(StoreError::Conflict(format!(
                "an assessment that is {} cannot be reviewed",
                from.as_str().replace('_', " ")
            )));
        }
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE assessments SET status = 'under_review', updated_at = $1, score = $2, score_earned = $3, \
                score_possible = $4, function_scores = $5, answered = $6, visible = $7, \
                submitted_at = COALESCE(submitted_at, $1) WHERE id = $8 AND status = $9")
                .bind(&at).bind(score.score).bind(score.earned).bind(score.possible).bind(&score.function_scores)
                .bind(score.answered).bind(score.visible).bind(assessment_id).bind(from.as_str())
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("the assessment changed meanwhile; reload and try again".into()));
            }
            // Findings a reviewer already decided (in an earlier round of
            // review) stand; undecided raised ones are raised afresh.
            let decided_rows = sqlx::query("SELECT question_id, title FROM findings WHERE assessment_id = $1 AND origin <> 'manual' AND decision <> 'pending'")
                .bind(assessment_id).fetch_all(&mut *tx).await?;
            let mut decided: Vec<(Option<String>, String)> = Vec::with_capacity(decided_rows.len());
            for r in &decided_rows {
                decided.push((r.try_get("question_id")?, r.try_get("title")?));
            }
            sqlx::query("DELETE FROM findings WHERE assessment_id = $1 AND origin <> 'manual' AND decision = 'pending'")
                .bind(assessment_id).execute(&mut *tx).await?;
            for f in raised {
                let already = decided.iter().any(|(q, title)| match (&f.question_id, q) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => title == &f.title,
                    _ => false,
                });
                if already {
                    continue;
                }
                sqlx::query("INSERT INTO findings (id, org_id, vendor_id, assessment_id, question_id, csf, title, detail, raised_severity, severity, origin, decision, status, created_at) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, 'pending', 'open', $11)")
                    .bind(new_id()).bind(org_id).bind(&current.vendor_id).bind(assessment_id).bind(&f.question_id)
                    .bind(f.csf.join(",")).bind(&f.title).bind(&f.detail).bind(&f.severity).bind(f.origin).bind(&at)
                    .execute(&mut *tx).await?;
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "assessment.status",
                entity_kind: "assessment",
                entity_id: Some(assessment_id),
                summary: format!("assessment '{}' of {}: {} → under review (score {}, {} finding(s) raised)",
                    current.title, current.vendor_name, from, score.score.map(|s| s.to_string()).unwrap_or_else(|| "n/a".into()), raised.len()),
                before: Some(serde_json::json!({"status": from.as_str()})),
                after: Some(serde_json::json!({"status": "under_review", "score": score.score})),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn findings_for_assessment(
        &self,
        assessment_id: &str,
    ) -> Result<Vec<FindingRecord>, StoreError> {
        on_pool!(self, pool => {
            let mut rows = sqlx::query_as::<_, FindingRecord>(
                "SELECT id, vendor_id, assessment_id, question_id, csf, title, detail, raised_severity, severity, origin, decision, status, \
                 reviewer_comment, decided_by, decided_at, created_at, source, source_ref, cvss_vector FROM findings WHERE assessment_id = $1 ORDER BY created_at, id")
                .bind(assessment_id).fetch_all(pool).await?;
            rows.sort_by_key(|f| (f.status != "open", severity_index(&f.severity).unwrap_or(9)));
            Ok(rows)
        })
    }

    /// Open findings of the vendor's latest completed assessment (worst
    /// first); older assessments' findings were superseded by it.
    pub async fn open_findings_for_vendor(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<Vec<FindingRecord>, StoreError> {
        on_pool!(self, pool => {
            let mut rows = sqlx::query_as::<_, FindingRecord>(
                "SELECT f.id, f.vendor_id, f.assessment_id, f.question_id, f.csf, f.title, f.detail, f.raised_severity, f.severity, f.origin, \
                 f.decision, f.status, f.reviewer_comment, f.decided_by, f.decided_at, f.created_at, f.source, f.source_ref, f.cvss_vector \
                 FROM findings f JOIN assessments a ON a.id = f.assessment_id \
                 WHERE f.vendor_id = $1 AND f.org_id = $2 AND f.status = 'open' AND a.id = \
                 (SELECT id FROM assessments WHERE vendor_id = $1 AND status = 'completed' ORDER BY completed_at DESC LIMIT 1) \
                 ORDER BY f.created_at")
                .bind(vendor_id).bind(org_id).fetch_all(pool).await?;
            rows.sort_by_key(|f| severity_index(&f.severity).unwrap_or(9));
            Ok(rows)
        })
    }

    pub async fn add_manual_finding(
        &self,
        org_id: &str,
        assessment_id: &str,
        finding: &NewFinding,
        comment: &str,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let current = self.get_assessment(org_id, assessment_id).await?;
        if current.status()? != AssessmentStatus::UnderReview {
            return Err(StoreError::Conflict(
                "findings can be added while the assessment is under review".into(),
            ));
        }
        let id = new_id();
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO findings (id, org_id, vendor_id, assessment_id, question_id, csf, title, detail, raised_severity, severity, origin, decision, status, reviewer_comment, decided_by, decided_at, created_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, 'manual', 'accepted', 'open', $10, $11, $12, $12)")
                .bind(&id).bind(org_id).bind(&current.vendor_id).bind(assessment_id).bind(&finding.question_id)
                .bind(finding.csf.join(",")).bind(&finding.title).bind(&finding.detail).bind(&finding.severity)
                .bind(comment).bind(&actor.label).bind(&at)
                .execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "finding.add",
                entity_kind: "finding",
                entity_id: Some(&id),
                summary: format!("added {} finding '{}' to assessment '{}' of {}", finding.severity, finding.title, current.title, current.vendor_name),
                before: None,
                after: Some(serde_json::json!({"severity": finding.severity, "question_id": finding.question_id})),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    /// Records the CVSS vector a finding is rated by (already validated by
    /// the caller), with an audit record.
    pub async fn set_finding_cvss(
        &self,
        org_id: &str,
        finding_id: &str,
        vector: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE findings SET cvss_vector = $1 WHERE id = $2 AND org_id = $3")
                .bind(vector).bind(finding_id).bind(org_id).execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound("finding"));
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "finding.cvss",
                entity_kind: "finding",
                entity_id: Some(finding_id),
                summary: format!("rated finding by CVSS vector {vector}"),
                before: None,
                after: Some(serde_json::json!({"cvss_vector": vector})),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn decide_finding(
        &self,
        org_id: &str,
        finding_id: &str,
        decision: &FindingDecision,
        actor: &Actor,
    ) -> Result<FindingRecord, StoreError> {
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let before = sqlx::query_as::<_, FindingRecord>(
                "SELECT id, vendor_id, assessment_id, question_id, csf, title, detail, raised_severity, severity, origin, decision, status, \
                 reviewer_comment, decided_by, decided_at, created_at, source, source_ref, cvss_vector FROM findings WHERE id = $1 AND org_id = $2")
                .bind(finding_id).bind(org_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("finding"))?;
            let Some(assessment_id) = before.assessment_id.as_deref() else {
                return Err(StoreError::Conflict("only findings of an assessment are decided in its review".into()));
            };
            let status: String = sqlx::query_scalar("SELECT status FROM assessments WHERE id = $1").bind(assessment_id).fetch_one(&mut *tx).await?;
            if status != "under_review" {
                return Err(StoreError::Conflict("findings are decided while the assessment is under review".into()));
            }
            let (decision_label, severity, finding_status, comment) = match decision {
                FindingDecision::Accept => ("accepted", before.severity.clone(), "open", before.reviewer_comment.clone()),
                FindingDecision::Override { severity, comment } => match severity {
                    Some(s) => ("overridden", s.clone(), "open", Some(comment.clone())),
                    None => ("overridden", before.severity.clone(), "dismissed", Some(comment.clone())),
                },
            };
            sqlx::query("UPDATE findings SET decision = $1, severity = $2, status = $3, reviewer_comment = $4, decided_by = $5, decided_at = $6 WHERE id = $7")
                .bind(decision_label).bind(&severity).bind(finding_status).bind(&comment).bind(&actor.label).bind(&at).bind(finding_id)
                .execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "finding.decide",
                entity_kind: "finding",
                entity_id: Some(finding_id),
                summary: match decision {
                    FindingDecision::Accept => format!("accepted finding '{}' ({})", before.title, before.severity),
                    FindingDecision::Override { comment, .. } if finding_status == "dismissed" => format!("dismissed finding '{}': {comment}", before.title),
                    FindingDecision::Override { comment, .. } => format!("changed finding '{}' from {} to {severity}: {comment}", before.title, before.severity),
                },
                before: Some(serde_json::json!({"severity": before.severity, "status": before.status, "decision": before.decision})),
                after: Some(serde_json::json!({"severity": severity, "status": finding_status, "decision": decision_label})),
            }).await?;
            tx.commit().await?;
            Ok(FindingRecord {
                decision: decision_label.to_string(),
                severity,
                status: finding_status.to_string(),
                reviewer_comment: comment,
                decided_by: Some(actor.label.clone()),
                decided_at: Some(at.clone()),
                ..before
            })
        })
    }

    // ----- dashboard --------------------------------------------------

    /// Assessment counts for the dashboard. `today` and `soon` are dates
    /// (`YYYY-MM-DD`); `year_ago` a timestamp.
    pub async fn assessment_counts(
        &self,
        org_id: &str,
        today: &str,
        soon: &str,
        year_ago: &str,
    ) -> Result<AssessmentCounts, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT \
                COUNT(CASE WHEN next_assessment_due < $2 AND status NOT IN ('terminated', 'candidate') THEN 1 END) AS overdue, \
                COUNT(CASE WHEN next_assessment_due >= $2 AND next_assessment_due < $3 AND status NOT IN ('terminated', 'candidate') THEN 1 END) AS soon, \
                COUNT(CASE WHEN last_assessed_on IS NULL AND status NOT IN ('terminated', 'candidate') THEN 1 END) AS never, \
                CAST(AVG(assessment_score) AS BIGINT) AS avg_score, \
                CAST(COALESCE(SUM(open_findings_critical), 0) AS BIGINT) AS f0, CAST(COALESCE(SUM(open_findings_high), 0) AS BIGINT) AS f1, \
                CAST(COALESCE(SUM(open_findings_medium), 0) AS BIGINT) AS f2, CAST(COALESCE(SUM(open_findings_low), 0) AS BIGINT) AS f3 \
                FROM vendors WHERE org_id = $1")
                .bind(org_id).bind(today).bind(soon).fetch_one(pool).await?;
            let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assessments WHERE org_id = $1 AND status NOT IN ('completed', 'cancelled')")
                .bind(org_id).fetch_one(pool).await?;
            let completed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assessments WHERE org_id = $1 AND status = 'completed' AND completed_at >= $2")
                .bind(org_id).bind(year_ago).fetch_one(pool).await?;
            let mut counts = AssessmentCounts {
                overdue: row.try_get("overdue")?,
                due_within_90_days: row.try_get("soon")?,
                never_assessed: row.try_get("never")?,
                open_assessments: open,
                completed_last_year: completed,
                average_score: row.try_get("avg_score")?,
                open_findings_by_severity: [0; 4],
            };
            for (i, slot) in counts.open_findings_by_severity.iter_mut().enumerate() {
                *slot = row.try_get(format!("f{i}").as_str())?;
            }
            Ok(counts)
        })
    }

    /// Vendors whose next assessment is overdue, soonest first.
    pub async fn overdue_vendors(
        &self,
        org_id: &str,
        today: &str,
        limit: u32,
    ) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let sql = format!("SELECT id, legal_name, tier, next_assessment_due FROM vendors WHERE org_id = $1 AND next_assessment_due < $2 \
            AND status NOT IN ('terminated', 'candidate') ORDER BY next_assessment_due LIMIT {}", limit.clamp(1, 200));
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(org_id).bind(today).fetch_all(pool).await?;
            rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("legal_name")?, r.try_get("tier")?, r.try_get("next_assessment_due")?))).collect()
        })
    }

    /// The assessment result recorded on a vendor.
    pub async fn vendor_assessment_state(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<VendorAssessmentState, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT last_assessed_on, assessment_score, open_findings, next_assessment_due FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(vendor_id).bind(org_id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("vendor"))?;
            Ok(VendorAssessmentState {
                last_assessed_on: row.try_get("last_assessed_on")?,
                score: row.try_get("assessment_score")?,
                open_findings: row.try_get("open_findings")?,
                next_due: row.try_get("next_assessment_due")?,
            })
        })
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VendorAssessmentState {
    pub last_assessed_on: Option<String>,
    pub score: Option<i64>,
    pub open_findings: i64,
    pub next_due: Option<String>,
}
