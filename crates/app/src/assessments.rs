//! Assessment use cases: templates, creating an assessment from a vendor's
//! tier, sending it through a portal link, answers (portal, spreadsheet),
//! evidence files, review with scoring and findings, completion.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use mamori_domain::assessment::{
    evidence_status, AssessmentPolicy, AssessmentStatus, EvidenceDates, EvidenceKind,
    EvidenceStatus,
};
use mamori_domain::framework::csf2;
use mamori_domain::questionnaire::{baseline, AnswerType, Severity, Template, TemplateFile};
use mamori_domain::scoring::{parse_answer, score, Answer, ScoreCard};
use mamori_domain::Tier;
use mamori_formats::answer_sheet::parse_answer_sheet;
use mamori_store::blob::BlobStore;
use mamori_store::{
    Actor, AssessmentRecord, EvidenceRecord, FindingDecision, FindingRecord, NewEvidence,
    NewFinding, PortalAccess, ScoreSummary, Store, StoreError,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::AppError;

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: usize = 25 * 1024 * 1024;

/// Stores the questionnaires shipped in the binary (each depth a template).
/// New versions are added; existing versions are left alone.
pub async fn sync_builtin_templates(store: &Store) -> Result<usize, AppError> {
    let file = baseline().map_err(|e| AppError::Template(e.to_string()))?;
    let mut added = 0;
    for template in file.templates() {
        if store_template(store, &template, "builtin").await?.1 {
            added += 1;
        }
    }
    Ok(added)
}

/// Stores one template version; `(id, newly added)`.
pub async fn store_template(
    store: &Store,
    template: &Template,
    origin: &str,
) -> Result<(String, bool), AppError> {
    template
        .validate()
        .map_err(|e| AppError::Template(e.to_string()))?;
    let json = serde_json::to_string(template).map_err(|e| AppError::Template(e.to_string()))?;
    Ok(store
        .upsert_template(
            &template.key,
            &template.version,
            &template.title.en,
            origin,
            template.questions.len() as i64,
            &json,
        )
        .await?)
}

/// Imports a TOML template file (every depth). Returns the keys stored.
pub async fn import_template_toml(store: &Store, text: &str) -> Result<Vec<String>, AppError> {
    let file = TemplateFile::parse(text).map_err(|e| AppError::Template(e.to_string()))?;
    let mut keys = Vec::new();
    for t in file.templates() {
        store_template(store, &t, "import").await?;
        keys.push(format!("{} {}", t.key, t.version));
    }
    Ok(keys)
}

pub async fn load_template(store: &Store, template_id: &str) -> Result<Template, AppError> {
    let record = store.get_template(template_id).await?;
    serde_json::from_str(&record.content_json)
        .map_err(|e| AppError::Store(StoreError::corrupt("questionnaire template", e)))
}

/// Everything needed to act on an assessment.
pub struct AssessmentContext {
    pub record: AssessmentRecord,
    pub template: Template,
    pub answers: HashMap<String, Answer>,
    pub comments: HashMap<String, String>,
    pub evidence: Vec<EvidenceRecord>,
}

impl AssessmentContext {
    pub fn status(&self) -> AssessmentStatus {
        AssessmentStatus::parse(&self.record.status).unwrap_or(AssessmentStatus::Cancelled)
    }

    pub fn score(&self, as_of: NaiveDate) -> ScoreCard {
        score(&self.template, &self.answers_with_files(), as_of)
    }

    /// Answers, with each file question answered by its attached evidence.
    pub fn answers_with_files(&self) -> HashMap<String, Answer> {
        let mut answers = self.answers.clone();
        for q in &self.template.questions {
            if q.answer_type == AnswerType::File {
                let n = self
                    .evidence
                    .iter()
                    .filter(|e| e.question_id.as_deref() == Some(q.id.as_str()))
                    .count() as u32;
                if n > 0 {
                    answers.insert(q.id.clone(), Answer::Files(n));
                } else {
                    answers.remove(&q.id);
                }
            }
        }
        answers
    }
}

/// What a person (possibly a vendor on the portal) is told when the key
/// manager fails: the kind of failure, never addresses, KEK names or
/// module paths (those go to the server log).
pub fn key_manager_message(e: &mamori_keys::KeyError) -> String {
    use mamori_keys::KeyError;
    match e {
        KeyError::Unwrap(_) => {
            "the customer's key manager refused the key (revoked or destroyed)".into()
        }
        KeyError::Unavailable(_) => "the key manager cannot be reached; try again later".into(),
        KeyError::Authentication | KeyError::Header(_) => {
            "the protected data failed its integrity check".into()
        }
        KeyError::Config(_) => {
            "the key configuration is not usable; the details are in the server log".into()
        }
    }
}

/// The object an answer's envelope is bound to.
pub fn answer_object(assessment_id: &str, question_id: &str) -> String {
    format!("{assessment_id}/{question_id}")
}

/// Seals the answers to questions marked sensitive under the customer's
/// key (the vendor's KEK), when the installation seals fields. The key
/// manager may block, so it runs on a blocking thread; if it refuses or is
/// down, nothing is saved.
async fn seal_sensitive_answers(
    store: &Store,
    ctx: &AssessmentContext,
    changes: Vec<(String, Option<String>)>,
) -> Result<Vec<(String, Option<String>)>, AppError> {
    if store
        .vendor_shredded_at(&ctx.record.org_id, &ctx.record.vendor_id)
        .await?
        .is_some()
    {
        return Err(AppError::Gone(
            "this vendor's data was crypto-shredded: its answers cannot change".into(),
        ));
    }
    let Some(sealer) = store.field_sealer() else {
        return Ok(changes);
    };
    let sensitive: std::collections::HashSet<String> = ctx
        .template
        .questions
        .iter()
        .filter(|q| q.sensitive)
        .map(|q| q.id.clone())
        .collect();
    if !changes
        .iter()
        .any(|(q, v)| v.is_some() && sensitive.contains(q))
    {
        return Ok(changes);
    }
    let assessment = ctx.record.id.clone();
    let vendor = ctx.record.vendor_id.clone();
    tokio::task::spawn_blocking(move || {
        changes
            .into_iter()
            .map(|(q, value)| match value {
                Some(json) if sensitive.contains(&q) => {
                    match sealer.seal("answer", &answer_object(&assessment, &q), Some(&vendor), &json) {
                        Ok(sealed) => Ok((q, Some(sealed))),
                        Err(e) => {
                            tracing::warn!(question = %q, error = %e, "sealing an answer failed");
                            Err(AppError::KeyUnavailable(format!(
                                "the answer to '{q}' is sealed under the customer's key: {}; nothing was saved",
                                key_manager_message(&e)
                            )))
                        }
                    }
                }
                other => Ok((q, other)),
            })
            .collect()
    })
    .await
    .map_err(|e| AppError::Template(format!("sealing answers failed: {e}")))?
}

/// Opens sealed answers in place. Those that cannot be opened stay sealed
/// (the caller skips them); returns how many and why.
async fn open_sealed_answers(
    store: &Store,
    assessment_id: &str,
    stored: &mut [mamori_store::StoredAnswer],
) -> Option<(usize, String)> {
    if !stored
        .iter()
        .any(|a| mamori_store::sealed_fields::is_sealed(&a.answer_json))
    {
        return None;
    }
    let Some(sealer) = store.field_sealer() else {
        let n = stored
            .iter()
            .filter(|a| mamori_store::sealed_fields::is_sealed(&a.answer_json))
            .count();
        return Some((n, "no key manager is configured".into()));
    };
    let assessment = assessment_id.to_string();
    let work: Vec<(usize, String, String)> = stored
        .iter()
        .enumerate()
        .filter(|(_, a)| mamori_store::sealed_fields::is_sealed(&a.answer_json))
        .map(|(i, a)| (i, a.question_id.clone(), a.answer_json.clone()))
        .collect();
    let total = work.len();
    let opened = tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(work.len());
        for (i, q, value) in work {
            match sealer.open("answer", &answer_object(&assessment, &q), &value) {
                Ok(clear) => out.push((i, clear)),
                // One refusal or outage answers for all: the page is not
                // shown, so asking again for every answer only adds waiting.
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    })
    .await;
    match opened {
        Ok(Ok(clear)) => {
            for (i, value) in clear {
                if let Some(a) = stored.get_mut(i) {
                    a.answer_json = value;
                }
            }
            None
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "opening sealed answers failed");
            Some((total, key_manager_message(&e)))
        }
        Err(e) => Some((total, format!("the key task failed: {e}"))),
    }
}

pub async fn load_context(
    store: &Store,
    org_id: &str,
    id: &str,
) -> Result<AssessmentContext, AppError> {
    let record = store.get_assessment(org_id, id).await?;
    let template = load_template(store, &record.template_id).await?;
    let mut answers = HashMap::new();
    let mut comments = HashMap::new();
    let mut stored = store.answers(id).await?;
    // With the key manager refusing (the customer's kill switch) or down,
    // the assessment is not shown at all rather than shown in part.
    if let Some((n, reason)) = open_sealed_answers(store, id, &mut stored).await {
        return Err(AppError::KeyUnavailable(format!(
            "{n} answer(s) of this assessment are sealed under the customer's key and cannot be opened ({reason}); the assessment is shown again once the key manager releases the key"
        )));
    }
    for a in stored {
        if mamori_store::sealed_fields::is_sealed(&a.answer_json) {
            continue;
        }
        let answer: Answer = serde_json::from_str(&a.answer_json)
            .map_err(|e| AppError::Store(StoreError::corrupt("answer", e)))?;
        answers.insert(a.question_id.clone(), answer);
        if let Some(c) = a.comment {
            comments.insert(a.question_id, c);
        }
    }
    let evidence = store.evidence_for_assessment(id).await?;
    Ok(AssessmentContext {
        record,
        template,
        answers,
        comments,
        evidence,
    })
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Plans an assessment for a vendor with the questionnaire its tier calls
/// for under the assessment policy.
pub async fn create_for_vendor(
    store: &Store,
    org_id: &str,
    policy: &AssessmentPolicy,
    vendor_id: &str,
    actor: &Actor,
) -> Result<String, AppError> {
    let vendor = store
        .get_vendor(org_id, vendor_id, &mamori_store::VendorScope::All)
        .await?;
    let tier = vendor.rating.tier;
    let key = policy.template_key(tier);
    let template = store.template_by_key(&key).await.map_err(|e| match e {
        StoreError::NotFound(_) => AppError::Template(format!(
            "the assessment policy asks for questionnaire '{key}', which is not installed"
        )),
        other => other.into(),
    })?;
    let title = format!("{} {} assessment", today().format("%Y"), tier_label(tier));
    let respond_by = today() + Duration::days(i64::from(policy.requirement(tier).response_days));
    Ok(store
        .create_assessment(
            org_id,
            vendor_id,
            &template.id,
            tier.as_str(),
            &title,
            Some(&respond_by.to_string()),
            actor,
        )
        .await?)
}

fn tier_label(tier: Tier) -> &'static str {
    match tier {
        Tier::Critical => "Critical-tier",
        Tier::High => "High-tier",
        Tier::Moderate => "Moderate-tier",
        Tier::Low => "Low-tier",
    }
}

/// A freshly issued portal link. The token is shown once and only its hash
/// is stored.
pub struct IssuedLink {
    pub token: String,
    pub expires_at: String,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Sends (or re-sends) an assessment to a named vendor contact: a new
/// random link that opens this one assessment only; older links stop working.
pub async fn send(
    store: &Store,
    org_id: &str,
    policy: &AssessmentPolicy,
    id: &str,
    contact_name: &str,
    contact_email: &str,
    actor: &Actor,
) -> Result<IssuedLink, AppError> {
    let name = contact_name.trim();
    let email = contact_email.trim().to_lowercase();
    if name.is_empty() || name.len() > 200 {
        return Err(AppError::Template("the vendor contact needs a name".into()));
    }
    if !email.contains('@') || email.len() > 254 || email.contains(char::is_whitespace) {
        return Err(AppError::Template(format!(
            "'{email}' is not an e-mail address"
        )));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    let expires_at =
        mamori_store::timestamp(Utc::now() + Duration::days(i64::from(policy.portal_link_days)));
    store
        .issue_portal_link(
            org_id,
            id,
            &hash_token(&token),
            name,
            &email,
            &expires_at,
            actor,
        )
        .await?;
    Ok(IssuedLink { token, expires_at })
}

/// Why a portal link does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalDenied {
    Unknown,
    Expired,
    Revoked,
}

/// A portal session: the link's contact and the one assessment it opens.
pub struct PortalSession {
    pub org_id: String,
    pub assessment_id: String,
    pub contact_name: String,
    pub contact_email: String,
    pub expires_at: String,
}

impl PortalSession {
    pub fn actor(&self) -> Actor {
        Actor::system(&format!("vendor contact {}", self.contact_email))
    }
}

pub async fn open_portal(
    store: &Store,
    token: &str,
) -> Result<Result<PortalSession, PortalDenied>, AppError> {
    // Tokens are 43 URL-safe characters; anything else cannot match.
    if token.len() != 43
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Ok(Err(PortalDenied::Unknown));
    }
    let at = mamori_store::now();
    Ok(
        match store.resolve_portal_token(&hash_token(token), &at).await? {
            PortalAccess::Granted { link, org_id } => Ok(PortalSession {
                org_id,
                assessment_id: link.assessment_id,
                contact_name: link.contact_name,
                contact_email: link.contact_email,
                expires_at: link.expires_at,
            }),
            PortalAccess::Expired => Err(PortalDenied::Expired),
            PortalAccess::Revoked => Err(PortalDenied::Revoked),
            PortalAccess::Unknown => Err(PortalDenied::Unknown),
        },
    )
}

/// One answer problem, for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerProblem {
    pub question_id: String,
    pub message: String,
}

/// Saves answers given as form values (question id → values). Questions not
/// mentioned are left alone; an empty value clears an answer. Returns the
/// problems (nothing is saved when there are any) and the new progress.
pub async fn save_answers(
    store: &Store,
    ctx: &AssessmentContext,
    values: &HashMap<String, Vec<String>>,
    by: &str,
    actor: &Actor,
) -> Result<Result<(usize, usize), Vec<AnswerProblem>>, AppError> {
    let mut problems = Vec::new();
    let mut changes = Vec::new();
    let mut answers = ctx.answers.clone();
    for q in &ctx.template.questions {
        let Some(raw) = values.get(&q.id) else {
            continue;
        };
        if q.answer_type == AnswerType::File {
            continue;
        }
        let refs: Vec<&str> = raw.iter().map(String::as_str).collect();
        match parse_answer(q, &refs) {
            Ok(Some(a)) => {
                let json =
                    serde_json::to_string(&a).map_err(|e| AppError::Template(e.to_string()))?;
                answers.insert(q.id.clone(), a);
                changes.push((q.id.clone(), Some(json)));
            }
            Ok(None) => {
                if answers.remove(&q.id).is_some() {
                    changes.push((q.id.clone(), None));
                }
            }
            Err(message) => problems.push(AnswerProblem {
                question_id: q.id.clone(),
                message,
            }),
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let provisional = AssessmentContext {
        record: ctx.record.clone(),
        template: ctx.template.clone(),
        answers,
        comments: ctx.comments.clone(),
        evidence: ctx.evidence.clone(),
    };
    let card = provisional.score(today());
    let changes = seal_sensitive_answers(store, ctx, changes).await?;
    store
        .save_answers(
            &ctx.record.org_id,
            &ctx.record.id,
            &changes,
            (card.answered as i64, card.visible as i64),
            by,
            actor,
            None,
        )
        .await?;
    Ok(Ok((card.answered, card.visible)))
}

/// Imports answers from a filled answer sheet (CSV/XLSX): every row is
/// checked first and nothing is saved unless all rows are good.
pub async fn import_answer_sheet(
    store: &Store,
    org_id: &str,
    id: &str,
    file_name: &str,
    bytes: &[u8],
    actor: &Actor,
) -> Result<usize, AppError> {
    let ctx = load_context(store, org_id, id).await?;
    let status = ctx.status();
    if !matches!(
        status,
        AssessmentStatus::Planned | AssessmentStatus::Sent | AssessmentStatus::InProgress
    ) {
        return Err(AppError::Template(format!(
            "answers can be imported while an assessment is planned, sent or in progress; this one is {}",
            status.as_str().replace('_', " ")
        )));
    }
    let rows =
        parse_answer_sheet(file_name, bytes).map_err(|e| AppError::Template(e.to_string()))?;
    let index = ctx.template.question_index();
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    let mut answers = ctx.answers.clone();
    for row in &rows {
        let Some(q) = index.get(row.question_id.as_str()) else {
            errors.push(format!("{file_name}, line {}, column 'question_id': no question '{}' in this questionnaire", row.line, row.question_id));
            continue;
        };
        if q.answer_type == AnswerType::File {
            errors.push(format!("{file_name}, line {}, column 'answer': question '{}' takes files; upload them instead", row.line, q.id));
            continue;
        }
        match parse_answer(q, &[row.answer.as_str()]) {
            Ok(Some(a)) => {
                let json =
                    serde_json::to_string(&a).map_err(|e| AppError::Template(e.to_string()))?;
                answers.insert(q.id.clone(), a);
                changes.push((q.id.clone(), Some(json)));
            }
            Ok(None) => {}
            Err(m) => errors.push(format!(
                "{file_name}, line {}, column 'answer': question '{}': {m}",
                row.line, q.id
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::AnswersRejected(errors));
    }
    let provisional = AssessmentContext { answers, ..ctx };
    let card = provisional.score(today());
    let changes = seal_sensitive_answers(store, &provisional, changes).await?;
    store
        .save_answers(
            org_id,
            id,
            &changes,
            (card.answered as i64, card.visible as i64),
            &format!("sheet {file_name}"),
            actor,
            Some(format!(
                "imported {} answer(s) from {file_name} into assessment '{}' of {}",
                changes.len(),
                provisional.record.title,
                provisional.record.vendor_name
            )),
        )
        .await?;
    Ok(changes.len())
}

/// The vendor submits: the questionnaire goes to the risk manager.
pub async fn submit(store: &Store, session: &PortalSession) -> Result<(), AppError> {
    Ok(store
        .transition_assessment(
            &session.org_id,
            &session.assessment_id,
            AssessmentStatus::Submitted,
            &session.actor(),
            "submitted by the vendor",
        )
        .await?)
}

pub async fn cancel(
    store: &Store,
    org_id: &str,
    id: &str,
    reason: &str,
    actor: &Actor,
) -> Result<(), AppError> {
    Ok(store
        .transition_assessment(
            org_id,
            id,
            AssessmentStatus::Cancelled,
            actor,
            reason.trim(),
        )
        .await?)
}

fn summary_of(card: &ScoreCard) -> ScoreSummary {
    let functions: serde_json::Map<String, serde_json::Value> = card
        .functions
        .iter()
        .filter_map(|(f, p)| p.score().map(|s| (f.clone(), serde_json::json!(s))))
        .collect();
    ScoreSummary {
        score: card.overall.score().map(i64::from),
        earned: i64::from(card.overall.earned),
        possible: i64::from(card.overall.possible),
        function_scores: serde_json::Value::Object(functions).to_string(),
        answered: card.answered as i64,
        visible: card.visible as i64,
    }
}

/// Evidence requirements of the vendor's tier that no current (not stale,
/// not expired) evidence of the vendor meets; each is a list of the types
/// that would meet it.
pub async fn missing_evidence(
    store: &Store,
    org_id: &str,
    policy: &AssessmentPolicy,
    vendor_id: &str,
    tier: Tier,
) -> Result<Vec<Vec<EvidenceKind>>, AppError> {
    let files = store.evidence_for_vendor(org_id, vendor_id).await?;
    let current: Vec<EvidenceKind> = files
        .iter()
        .filter(|e| evidence_state(e, policy).is_current())
        .filter_map(|e| EvidenceKind::parse(&e.kind).ok())
        .collect();
    Ok(policy
        .missing_evidence(tier, &current)
        .into_iter()
        .map(<[EvidenceKind]>::to_vec)
        .collect())
}

/// Scores the answers and opens review, raising a finding for every failing
/// answer and for every evidence requirement of the tier that is not met.
pub async fn begin_review(
    store: &Store,
    org_id: &str,
    policy: &AssessmentPolicy,
    id: &str,
    actor: &Actor,
) -> Result<(), AppError> {
    let ctx = load_context(store, org_id, id).await?;
    let card = ctx.score(today());
    let tier = Tier::parse(&ctx.record.tier).unwrap_or(Tier::Critical);
    let missing = missing_evidence(store, org_id, policy, &ctx.record.vendor_id, tier).await?;
    let mut raised: Vec<NewFinding> = card
        .findings
        .iter()
        .filter_map(|f| {
            let q = ctx.template.question(&f.question_id)?;
            let given = ctx.answers_with_files().get(&q.id).map(Answer::display);
            Some(NewFinding {
                question_id: Some(q.id.clone()),
                csf: f.csf.clone(),
                title: q.text.en.clone(),
                detail: match given {
                    None => "Not answered.".to_string(),
                    Some(a) => format!("Answered \"{a}\"; {}.", expected(q)),
                },
                severity: f.severity.as_str().to_string(),
                origin: "answer",
            })
        })
        .collect();
    for any_of in missing {
        let names: Vec<&str> = any_of.iter().map(|k| k.label()).collect();
        raised.push(NewFinding {
            question_id: None,
            // Supply-chain risk management: suppliers' assurance is known.
            csf: vec!["GV.SC-07".into()],
            title: format!(
                "Required evidence missing or out of date: {}",
                names.join(" or ")
            ),
            detail: format!(
                "The assessment policy asks {} tier vendors for current evidence of one of: {}.",
                tier.as_str(),
                names.join(", ")
            ),
            severity: if matches!(tier, Tier::Critical | Tier::High) {
                "high"
            } else {
                "medium"
            }
            .into(),
            origin: "evidence",
        });
    }
    store
        .begin_review(org_id, id, &summary_of(&card), &raised, actor)
        .await?;
    Ok(())
}

fn expected(q: &mamori_domain::questionnaire::Question) -> String {
    match q.answer_type {
        AnswerType::Number => match (q.min, q.max) {
            (Some(a), Some(b)) => format!("expected between {a} and {b}"),
            (Some(a), None) => format!("expected at least {a}"),
            (None, Some(b)) => format!("expected at most {b}"),
            _ => "expected a number".into(),
        },
        AnswerType::Date => format!(
            "expected within the last {} days",
            q.max_age_days.unwrap_or(0)
        ),
        _ => format!("expected {}", q.pass.join(" or ")),
    }
}

pub async fn decide_finding(
    store: &Store,
    org_id: &str,
    finding_id: &str,
    action: &str,
    severity: Option<&str>,
    comment: &str,
    actor: &Actor,
) -> Result<FindingRecord, AppError> {
    let decision = match action {
        "accept" => FindingDecision::Accept,
        "override" | "dismiss" => {
            let comment = comment.trim();
            if comment.is_empty() {
                return Err(AppError::Template(
                    "an override needs a comment saying why".into(),
                ));
            }
            if comment.len() > 4000 {
                return Err(AppError::Template("the comment is too long".into()));
            }
            let severity = if action == "dismiss" {
                None
            } else {
                let s = severity.unwrap_or("");
                Some(
                    Severity::parse(s)
                        .map_err(|e| AppError::Template(e.to_string()))?
                        .as_str()
                        .to_string(),
                )
            };
            FindingDecision::Override {
                severity,
                comment: comment.to_string(),
            }
        }
        other => return Err(AppError::Template(format!("unknown decision '{other}'"))),
    };
    let decided = store
        .decide_finding(org_id, finding_id, &decision, actor)
        .await?;
    // A dismissed or re-rated finding changes the risks it evidences.
    crate::risks::reevaluate_risks_of_findings(
        store,
        org_id,
        std::slice::from_ref(&decided.id),
        actor,
    )
    .await?;
    Ok(decided)
}

#[allow(clippy::too_many_arguments)]
pub async fn add_finding(
    store: &Store,
    org_id: &str,
    assessment_id: &str,
    title: &str,
    detail: &str,
    severity: &str,
    csf: &str,
    cvss: &str,
    actor: &Actor,
) -> Result<String, AppError> {
    let title = title.trim();
    // A CVSS vector, when given, is the objective severity: it sets the
    // finding's severity and, through it, remediation deadlines.
    let cvss = cvss.trim();
    let rating = if cvss.is_empty() {
        None
    } else {
        Some(mamori_domain::risk::rate_cvss(cvss).map_err(|e| AppError::Template(e.to_string()))?)
    };
    if title.is_empty() || title.len() > 500 {
        return Err(AppError::Template(
            "a finding needs a title (up to 500 characters)".into(),
        ));
    }
    let severity = match rating.as_ref().and_then(|r| r.severity) {
        Some(from_cvss) => from_cvss,
        None => Severity::parse(severity).map_err(|e| AppError::Template(e.to_string()))?,
    };
    let mut ids = Vec::new();
    for c in csf
        .split([',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if !csf2().contains(c) {
            return Err(AppError::Template(format!(
                "'{c}' is not a NIST CSF 2.0 identifier"
            )));
        }
        ids.push(c.to_string());
    }
    let id = store
        .add_manual_finding(
            org_id,
            assessment_id,
            &NewFinding {
                question_id: None,
                csf: ids,
                title: title.to_string(),
                detail: detail.trim().to_string(),
                severity: severity.as_str().to_string(),
                origin: "manual",
            },
            "added by reviewer",
            actor,
        )
        .await?;
    if let Some(r) = rating {
        store
            .set_finding_cvss(org_id, &id, &r.vector, actor)
            .await?;
    }
    Ok(id)
}

/// Completes the review: re-scores, records the result on the vendor and
/// sets the next due date from the policy. Returns the next due date.
pub async fn complete(
    store: &Store,
    org_id: &str,
    policy: &AssessmentPolicy,
    id: &str,
    actor: &Actor,
) -> Result<NaiveDate, AppError> {
    let ctx = load_context(store, org_id, id).await?;
    let card = ctx.score(today());
    // The vendor's tier now, which may have changed since the assessment began.
    let vendor = store
        .get_vendor(
            org_id,
            &ctx.record.vendor_id,
            &mamori_store::VendorScope::All,
        )
        .await?;
    let completed = today();
    let next = policy.next_due(vendor.rating.tier, completed);
    store
        .complete_assessment(
            org_id,
            id,
            &summary_of(&card),
            &completed.to_string(),
            &next.to_string(),
            actor,
        )
        .await?;
    Ok(next)
}

/// What an evidence upload says about its file.
#[derive(Debug, Clone, Default)]
pub struct EvidenceForm {
    pub kind: String,
    pub issuer: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub issued_on: Option<String>,
    pub expires_on: Option<String>,
    pub question_id: Option<String>,
}

/// File types evidence may have, recognised from the bytes, never from the
/// name or the browser's claim.
pub fn sniff_content_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        return Some("image/jpeg");
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // Office documents are ZIP packages.
        return Some("application/zip");
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let head = text
        .trim_start()
        .get(..64.min(text.trim_start().len()))
        .unwrap_or("")
        .to_ascii_lowercase();
    // HTML and SVG could run script if ever rendered; plain text only.
    if head.starts_with('<') || text.contains('\0') {
        return None;
    }
    Some("text/plain")
}

fn parse_date(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::Template(format!("{field}: '{v}' is not a date (YYYY-MM-DD)"))),
    }
}

/// Stores an evidence file through the blob store, then its record. If the
/// record cannot be written, the file is removed again: a failed upload
/// leaves nothing behind.
#[allow(clippy::too_many_arguments)]
pub async fn upload_evidence(
    store: &Store,
    blobs: &Arc<dyn BlobStore>,
    org_id: &str,
    vendor_id: &str,
    assessment_id: Option<&str>,
    form: &EvidenceForm,
    file_name: &str,
    bytes: &[u8],
    uploaded_by: &str,
    actor: &Actor,
) -> Result<String, AppError> {
    if store.vendor_shredded_at(org_id, vendor_id).await?.is_some() {
        return Err(AppError::Gone(
            "this vendor's data was crypto-shredded: nothing more is stored for it".into(),
        ));
    }
    if bytes.is_empty() {
        return Err(AppError::Template("the file is empty".into()));
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(AppError::Template(format!(
            "the file is larger than {} MiB",
            MAX_EVIDENCE_BYTES / (1024 * 1024)
        )));
    }
    let kind = EvidenceKind::parse(&form.kind).map_err(|e| AppError::Template(e.to_string()))?;
    let content_type = sniff_content_type(bytes).ok_or_else(|| {
        AppError::Template(
            "only PDF, PNG, JPEG, Office documents and plain text are accepted".into(),
        )
    })?;
    let period_start = parse_date("period start", &form.period_start)?;
    let period_end = parse_date("period end", &form.period_end)?;
    let issued_on = parse_date("issue date", &form.issued_on)?;
    let expires_on = parse_date("expiry", &form.expires_on)?;
    if let (Some(a), Some(b)) = (period_start, period_end) {
        if a > b {
            return Err(AppError::Template(
                "the period ends before it starts".into(),
            ));
        }
    }
    let file_name: String = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("evidence")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let file_name = if file_name.trim().is_empty() {
        "evidence".to_string()
    } else {
        file_name
    };
    let storage_key = uuid::Uuid::new_v4().to_string();
    let sha256 = hex::encode(Sha256::digest(bytes));
    {
        let blobs = Arc::clone(blobs);
        let key = storage_key.clone();
        let data = bytes.to_vec();
        let vendor = vendor_id.to_string();
        tokio::task::spawn_blocking(move || blobs.put_for_vendor(&key, &vendor, &data))
            .await
            .map_err(|e| AppError::Template(format!("file storage failed: {e}")))?
            .map_err(|e| match e {
                mamori_store::blob::BlobError::Key { source, .. } => {
                    tracing::warn!(error = %source, "evidence upload: the key manager failed");
                    AppError::KeyUnavailable(key_manager_message(&source))
                }
                other => AppError::Template(other.to_string()),
            })?;
    }
    let record = NewEvidence {
        vendor_id: vendor_id.to_string(),
        assessment_id: assessment_id.map(str::to_string),
        question_id: form.question_id.clone().filter(|q| !q.is_empty()),
        kind: kind.as_str().to_string(),
        issuer: form.issuer.trim().chars().take(200).collect(),
        period_start: period_start.map(|d| d.to_string()),
        period_end: period_end.map(|d| d.to_string()),
        issued_on: issued_on.map(|d| d.to_string()),
        expires_on: expires_on.map(|d| d.to_string()),
        file_name,
        content_type: content_type.to_string(),
        size_bytes: bytes.len() as i64,
        sha256,
        storage_key: storage_key.clone(),
        uploaded_by: uploaded_by.to_string(),
    };
    match store.add_evidence(org_id, &record, actor).await {
        Ok(id) => Ok(id),
        Err(e) => {
            let _ = blobs.delete(&storage_key);
            Err(e.into())
        }
    }
}

/// Removes blobs that no evidence row refers to (left by a crash between
/// writing a file and its record). Returns how many were removed.
pub async fn sweep_orphan_blobs(
    store: &Store,
    blobs: &Arc<dyn BlobStore>,
) -> Result<usize, AppError> {
    let known: std::collections::HashSet<String> =
        store.evidence_storage_keys().await?.into_iter().collect();
    let mut removed = 0;
    for key in blobs
        .keys()
        .map_err(|e| AppError::Template(e.to_string()))?
    {
        if !known.contains(&key) {
            blobs
                .delete(&key)
                .map_err(|e| AppError::Template(e.to_string()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// An evidence file's state as of today under the policy.
pub fn evidence_state(e: &EvidenceRecord, policy: &AssessmentPolicy) -> EvidenceStatus {
    let kind = EvidenceKind::parse(&e.kind).unwrap_or(EvidenceKind::Other);
    let d = |v: &Option<String>| {
        v.as_deref()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    evidence_status(
        kind,
        EvidenceDates {
            period_start: d(&e.period_start),
            period_end: d(&e.period_end),
            issued_on: d(&e.issued_on),
            expires_on: d(&e.expires_on),
        },
        today(),
        policy.evidence_max_age_months,
    )
}

/// Stored timestamps (`…Z`, microseconds) are already RFC 3339.
fn rfc3339(stored: &str) -> String {
    stored.to_string()
}

/// The assessment as an OSCAL assessment-results JSON document.
pub async fn oscal_results(store: &Store, org_id: &str, id: &str) -> Result<String, AppError> {
    use mamori_domain::scoring::Outcome;
    use mamori_formats::oscal_results::{
        write_assessment_results_json, AssessmentResultsInput, FindingInput, ObservationInput,
        Outcome as OscalOutcome,
    };
    let ctx = load_context(store, org_id, id).await?;
    let findings = store.findings_for_assessment(id).await?;
    let card = ctx.score(today());
    let answers = ctx.answers_with_files();
    let observations = card
        .outcomes
        .iter()
        .filter_map(|(qid, outcome)| {
            let q = ctx.template.question(qid)?;
            let answer = answers.get(qid)?;
            let outcome = match outcome {
                Outcome::Pass => OscalOutcome::Pass,
                Outcome::Fail | Outcome::Unanswered => OscalOutcome::Fail,
                Outcome::NotApplicable => OscalOutcome::NotApplicable,
                Outcome::Informational => OscalOutcome::Informational,
                _ => return None,
            };
            Some(ObservationInput {
                question_id: qid.clone(),
                question: q.text.en.clone(),
                answer: answer.display(),
                outcome,
                csf_ids: q.csf.clone(),
            })
        })
        .collect();
    let input = AssessmentResultsInput {
        assessment_id: ctx.record.id.clone(),
        title: ctx.record.title.clone(),
        vendor_name: ctx.record.vendor_name.clone(),
        template_key: ctx.record.template_key.clone(),
        template_version: ctx.record.template_version.clone(),
        started: rfc3339(
            ctx.record
                .sent_at
                .as_deref()
                .unwrap_or(&ctx.record.created_at),
        ),
        completed: rfc3339(
            ctx.record
                .completed_at
                .as_deref()
                .unwrap_or(&ctx.record.updated_at),
        ),
        reviewer: ctx
            .record
            .completed_by
            .clone()
            .unwrap_or_else(|| ctx.record.created_by.clone()),
        overall_score: ctx
            .record
            .score
            .and_then(|s| u8::try_from(s).ok())
            .or(card.overall.score()),
        function_scores: card
            .functions
            .iter()
            .filter_map(|(f, p)| p.score().map(|s| (f.clone(), s)))
            .collect(),
        findings: findings
            .iter()
            .map(|f| FindingInput {
                id: f.id.clone(),
                title: f.title.clone(),
                description: if f.detail.is_empty() {
                    f.title.clone()
                } else {
                    f.detail.clone()
                },
                severity: f.severity.clone(),
                status: if f.status == "dismissed" {
                    "dismissed".into()
                } else {
                    f.decision.clone()
                },
                question_id: f.question_id.clone().unwrap_or_else(|| "manual".into()),
                csf_ids: f
                    .csf
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                reviewer_comment: f.reviewer_comment.clone(),
            })
            .collect(),
        observations,
    };
    write_assessment_results_json(&input).map_err(|e| AppError::Template(e.to_string()))
}
