//! Risk register use cases: recording and scoring risks on the policy's
//! matrix, promoting findings, treatment, the threshold, accountable
//! acceptance, corrective action plans sent through the vendor portal, and
//! contracts whose missing clauses become findings.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use mamori_domain::contract::{ClauseCatalog, ClauseState};
use mamori_domain::questionnaire::Severity;
use mamori_domain::risk::{
    rate_cvss, AcceptanceRequest, Refusal, RiskPolicy, RiskStatus, ThresholdFacts, Treatment,
};
use mamori_domain::{RiskCategory, Role, Tier};
use mamori_store::{
    Actor, ClauseUpdate, ContractGap, FindingRecord, NewAcceptance, NewContract,
    NewRemediationItem, NewRisk, RemediationAccess, RemediationResponse, RiskRecord, RiskUpdate,
    Store, ThresholdChange, ThresholdGroup, ThresholdGroupChange, ThresholdInput, VendorScope,
};
use rand::RngCore;

use crate::assessments::hash_token;
use crate::AppError;

/// Days a corrective-action link stays valid.
pub const REMEDIATION_LINK_DAYS: i64 = 30;

/// The risk policy in force: the last one applied, or the shipped default.
pub async fn current_risk_policy(store: &Store, org_id: &str) -> Result<RiskPolicy, AppError> {
    match store.active_risk_policy(org_id).await? {
        Some((_, content)) => RiskPolicy::parse(&content)
            .map_err(|e| AppError::Risk(format!("stored risk policy: {e}"))),
        None => Ok(RiskPolicy::default_policy()),
    }
}

/// What a person enters for a risk (form or API).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct RiskInput {
    #[serde(default)]
    pub vendor_id: String,
    #[serde(default)]
    pub service_id: Option<String>,
    pub category: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner_id: Option<String>,
    pub inherent_likelihood: u32,
    pub inherent_impact: u32,
    #[serde(default)]
    pub existing_controls: String,
    pub residual_likelihood: u32,
    pub residual_impact: u32,
    #[serde(default)]
    pub treatment: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub compensating_control: Option<String>,
}

fn blank_to_none(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The checked, scored form of a `RiskInput`.
struct Scored {
    category: RiskCategory,
    inherent_score: u32,
    residual_score: u32,
    residual_level: Severity,
    treatment: Treatment,
    status: RiskStatus,
    due_on: Option<String>,
}

/// `accepted`: the risk holds an acceptance now, so its form may carry the
/// accepted status and treatment back unchanged.
fn check_input(policy: &RiskPolicy, input: &RiskInput, accepted: bool) -> Result<Scored, AppError> {
    let mut problems = Vec::new();
    let category = RiskCategory::parse(&input.category);
    if let Err(e) = &category {
        problems.push(e.to_string());
    }
    if input.title.trim().is_empty() {
        problems.push("a risk needs a title".into());
    }
    if input.title.chars().count() > 300 {
        problems.push("the title is longer than 300 characters".into());
    }
    let inherent = policy.rate(input.inherent_likelihood, input.inherent_impact);
    let residual = policy.rate(input.residual_likelihood, input.residual_impact);
    let dims = format!(
        "likelihood 1–{} and impact 1–{}",
        policy.matrix.likelihood_steps(),
        policy.matrix.impact_steps()
    );
    if inherent.is_none() {
        problems.push(format!("the inherent rating must be on the matrix: {dims}"));
    }
    if residual.is_none() {
        problems.push(format!("the residual rating must be on the matrix: {dims}"));
    }
    if let (Some(i), Some(r)) = (inherent, residual) {
        if r.score > i.score {
            problems.push(format!(
                "the residual score ({}) cannot exceed the inherent score ({}): controls do not add risk",
                r.score, i.score
            ));
        }
    }
    let treatment = match blank_to_none(&input.treatment) {
        None => Ok(Treatment::Undecided),
        Some(t) => Treatment::parse(&t),
    };
    if let Err(e) = &treatment {
        problems.push(e.to_string());
    }
    if treatment == Ok(Treatment::Accept) && !accepted {
        problems.push(
            "acceptance is its own decision: record it with a justification and an expiry".into(),
        );
    }
    let status = match blank_to_none(&input.status) {
        None => Ok(RiskStatus::Open),
        Some(s) => RiskStatus::parse(&s),
    };
    if let Err(e) = &status {
        problems.push(e.to_string());
    }
    if status == Ok(RiskStatus::Accepted) && !accepted {
        problems.push("a risk becomes accepted only through an acceptance".into());
    }
    let due_on = blank_to_none(&input.due_on);
    if let Some(d) = &due_on {
        if NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
            problems.push(format!("due date '{d}' is not a date (YYYY-MM-DD)"));
        }
    }
    if !problems.is_empty() {
        return Err(AppError::RiskRejected(problems));
    }
    let (Ok(category), Ok(treatment), Ok(status), Some(inherent), Some(residual)) =
        (category, treatment, status, inherent, residual)
    else {
        return Err(AppError::Risk("the risk could not be checked".into()));
    };
    Ok(Scored {
        category,
        inherent_score: inherent.score,
        residual_score: residual.score,
        residual_level: residual.level,
        treatment,
        status,
        due_on,
    })
}

/// The worst severity among the open findings in `findings`.
pub fn worst_open(findings: &[FindingRecord]) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.status == "open")
        .filter_map(|f| Severity::parse(&f.severity).ok())
        .min_by_key(|s| s.rank())
}

/// The severity a remediation deadline counts from: a finding's CVSS rating
/// when it carries a vector, else its stated severity.
pub fn finding_severity(f: &FindingRecord) -> Option<Severity> {
    if let Some(v) = f.cvss_vector.as_deref().filter(|v| !v.trim().is_empty()) {
        if let Ok(r) = rate_cvss(v) {
            return r.severity;
        }
    }
    Severity::parse(&f.severity).ok()
}

/// The remediation deadline of a risk above the threshold: the earliest of
/// its open findings' deadlines, each counted from the day the finding was
/// identified at its severity (CVSS where it has a vector); a risk without
/// open findings counts from now at its residual level.
pub fn remediation_deadline(
    policy: &RiskPolicy,
    findings: &[FindingRecord],
    residual_level: Severity,
    now: DateTime<Utc>,
) -> NaiveDate {
    findings
        .iter()
        .filter(|f| f.status == "open")
        .filter_map(|f| {
            let severity = finding_severity(f)?;
            let identified = DateTime::parse_from_rfc3339(&f.created_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now);
            Some(policy.remediation_due(severity, identified))
        })
        .min()
        .unwrap_or_else(|| policy.remediation_due(residual_level, now))
}

fn tier_of(label: &str) -> Option<Tier> {
    Tier::parse(label).ok()
}

/// The threshold reason and residual level a policy gives a risk with these
/// facts. A closed risk keeps no flag; an accepted one keeps it, because it
/// was accepted above (or below) the threshold.
fn judge(
    policy: &RiskPolicy,
    vendor_tier: &str,
    residual_score: i64,
    worst_finding: Option<&str>,
    status: &str,
) -> (Option<String>, &'static str) {
    let score = u32::try_from(residual_score).unwrap_or(0);
    let level = policy.matrix.level(score).as_str();
    let reason = match RiskStatus::parse(status) {
        Ok(RiskStatus::Closed) => None,
        _ => policy.threshold(&ThresholdFacts {
            residual_score: score,
            tier: tier_of(vendor_tier),
            worst_open_finding: worst_finding.and_then(|s| Severity::parse(s).ok()),
        }),
    };
    (reason, level)
}

/// Re-evaluates the threshold of every risk under a policy: the changes
/// only (flag, reason or level). Pure, so it is measured on its own.
pub fn evaluate_thresholds(policy: &RiskPolicy, inputs: &[ThresholdInput]) -> Vec<ThresholdChange> {
    inputs
        .iter()
        .filter_map(|i| {
            let (reason, level) = judge(
                policy,
                &i.vendor_tier,
                i.residual_score,
                i.worst_finding.as_deref(),
                &i.status,
            );
            let above = reason.is_some();
            (above != i.above_threshold
                || reason != i.threshold_reason
                || level != i.residual_level)
                .then(|| ThresholdChange {
                    risk_id: i.id.clone(),
                    above_threshold: above,
                    reason,
                    level: level.to_string(),
                })
        })
        .collect()
}

/// `evaluate_thresholds` over groups of risks with the same facts: what a
/// policy change does to a whole register, judged once per group.
pub fn evaluate_threshold_groups(
    policy: &RiskPolicy,
    groups: &[ThresholdGroup],
) -> Vec<ThresholdGroupChange> {
    groups
        .iter()
        .filter_map(|g| {
            let (reason, level) = judge(
                policy,
                &g.vendor_tier,
                g.residual_score,
                g.worst_finding.as_deref(),
                &g.status,
            );
            let above = reason.is_some();
            (above != g.above_threshold
                || reason != g.threshold_reason
                || level != g.residual_level)
                .then(|| ThresholdGroupChange {
                    group: g.clone(),
                    above_threshold: above,
                    reason,
                    level: level.to_string(),
                })
        })
        .collect()
}

/// What applying a risk policy did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RiskPolicyOutcome {
    pub version: String,
    pub evaluated: usize,
    pub changed: usize,
    pub now_above: usize,
}

/// Validates a risk policy and re-evaluates every risk under it in one
/// transaction. The matrix's dimensions cannot change under existing risks:
/// a likelihood or impact step would change meaning, which needs people to
/// re-score, not a policy file.
pub async fn apply_risk_policy(
    store: &Store,
    org_id: &str,
    text: &str,
    actor: &Actor,
) -> Result<RiskPolicyOutcome, AppError> {
    let policy =
        RiskPolicy::parse(text).map_err(|e| AppError::RiskRejected(vec![e.to_string()]))?;
    let current = current_risk_policy(store, org_id).await?;
    if (
        policy.matrix.likelihood_steps(),
        policy.matrix.impact_steps(),
    ) != (
        current.matrix.likelihood_steps(),
        current.matrix.impact_steps(),
    ) {
        let has_risks = !store.threshold_inputs(org_id).await?.is_empty();
        if has_risks {
            return Err(AppError::RiskRejected(vec![format!(
                "the matrix is {}×{} and risks are scored on it; a policy cannot change it to {}×{}",
                current.matrix.likelihood_steps(),
                current.matrix.impact_steps(),
                policy.matrix.likelihood_steps(),
                policy.matrix.impact_steps()
            )]));
        }
    }
    // A risk edited while we evaluate makes the store refuse the whole
    // change; evaluate again (edits are rare, so this converges).
    for _ in 0..5 {
        let groups = store.threshold_groups(org_id).await?;
        let evaluated: i64 = groups.iter().map(|g| g.risks).sum();
        let changes = evaluate_threshold_groups(&policy, &groups);
        match store
            .apply_threshold_group_changes(
                org_id,
                &policy.version,
                text,
                evaluated,
                &changes,
                actor,
            )
            .await
        {
            Err(mamori_store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
            Ok(changed) => {
                return Ok(RiskPolicyOutcome {
                    version: policy.version,
                    evaluated: evaluated as usize,
                    changed: changed as usize,
                    now_above: changes
                        .iter()
                        .filter(|c| c.above_threshold)
                        .map(|c| c.group.risks as usize)
                        .sum(),
                })
            }
        }
    }
    Err(AppError::Risk(
        "risks kept changing while the policy was applied; apply it again".into(),
    ))
}

/// Records a risk, optionally evidenced by findings of its vendor (which is
/// how findings are promoted). Scored on the matrix, held against the
/// threshold; a risk above it without a due date gets the policy's
/// remediation deadline for its worst finding or level.
pub async fn create_risk(
    store: &Store,
    org_id: &str,
    policy: &RiskPolicy,
    input: &RiskInput,
    finding_ids: &[String],
    actor: &Actor,
) -> Result<String, AppError> {
    let scored = check_input(policy, input, false)?;
    let mut vendor_id = input.vendor_id.trim().to_string();
    let findings = store.findings_by_ids(org_id, finding_ids).await?;
    if findings.len() != finding_ids.iter().collect::<HashSet<_>>().len() {
        return Err(AppError::Risk("some of the findings do not exist".into()));
    }
    if vendor_id.is_empty() {
        match findings.first() {
            Some(f) => vendor_id = f.vendor_id.clone(),
            None => return Err(AppError::Risk("a risk belongs to a vendor".into())),
        }
    }
    if findings.iter().any(|f| f.vendor_id != vendor_id) {
        return Err(AppError::Risk(
            "every finding of a risk must be about the risk's vendor".into(),
        ));
    }
    let vendor = store
        .get_vendor(org_id, &vendor_id, &VendorScope::All)
        .await?;
    let worst = worst_open(&findings);
    let reason = match scored.status {
        RiskStatus::Open | RiskStatus::InTreatment | RiskStatus::Accepted => {
            policy.threshold(&ThresholdFacts {
                residual_score: scored.residual_score,
                tier: Some(vendor.rating.tier),
                worst_open_finding: worst,
            })
        }
        _ => None,
    };
    let due_on = scored.due_on.clone().or_else(|| {
        reason.as_ref().map(|_| {
            remediation_deadline(policy, &findings, scored.residual_level, Utc::now())
                .format("%Y-%m-%d")
                .to_string()
        })
    });
    let risk = NewRisk {
        vendor_id,
        service_id: blank_to_none(&input.service_id),
        category: scored.category.as_str().to_string(),
        title: input.title.trim().to_string(),
        description: input.description.trim().to_string(),
        owner_id: blank_to_none(&input.owner_id),
        inherent_likelihood: i64::from(input.inherent_likelihood),
        inherent_impact: i64::from(input.inherent_impact),
        existing_controls: input.existing_controls.trim().to_string(),
        residual_likelihood: i64::from(input.residual_likelihood),
        residual_impact: i64::from(input.residual_impact),
        residual_score: i64::from(scored.residual_score),
        residual_level: scored.residual_level.as_str().to_string(),
        treatment: scored.treatment.as_str().to_string(),
        status: scored.status.as_str().to_string(),
        due_on,
        compensating_control: blank_to_none(&input.compensating_control),
        worst_finding: worst.map(|s| s.as_str().to_string()),
        above_threshold: reason.is_some(),
        threshold_reason: reason,
        finding_ids: finding_ids.to_vec(),
    };
    debug_assert!(scored.inherent_score >= scored.residual_score);
    Ok(store.create_risk(org_id, &risk, actor).await?)
}

/// Changes a risk's fields. Status moves follow the lifecycle; acceptance is
/// its own decision; the threshold is re-evaluated with the new scores.
pub async fn update_risk(
    store: &Store,
    org_id: &str,
    policy: &RiskPolicy,
    id: &str,
    input: &RiskInput,
    actor: &Actor,
) -> Result<RiskRecord, AppError> {
    let current = store.get_risk(org_id, id).await?;
    let from = RiskStatus::parse(&current.status)
        .map_err(|e| AppError::Risk(format!("stored risk: {e}")))?;
    let scored = check_input(policy, input, from == RiskStatus::Accepted)?;
    if !from.can_move_to(scored.status) {
        return Err(AppError::Risk(format!(
            "a risk cannot move from {} to {}",
            from.as_str().replace('_', " "),
            scored.status.as_str().replace('_', " ")
        )));
    }
    // Editing an accepted risk keeps it accepted unless the status is moved;
    // moving it away from accepted cannot keep "accept" as its treatment.
    let (status, treatment) = if from == RiskStatus::Accepted && scored.status == from {
        (RiskStatus::Accepted, Treatment::Accept)
    } else if scored.treatment == Treatment::Accept {
        (scored.status, Treatment::Undecided)
    } else {
        (scored.status, scored.treatment)
    };
    let findings = store.findings_for_risk(id).await?;
    let worst = worst_open(&findings);
    let reason = match status {
        RiskStatus::Open | RiskStatus::InTreatment | RiskStatus::Accepted => {
            policy.threshold(&ThresholdFacts {
                residual_score: scored.residual_score,
                tier: tier_of(&current.vendor_tier),
                worst_open_finding: worst,
            })
        }
        _ => None,
    };
    let update = RiskUpdate {
        service_id: blank_to_none(&input.service_id),
        category: scored.category.as_str().to_string(),
        title: input.title.trim().to_string(),
        description: input.description.trim().to_string(),
        owner_id: blank_to_none(&input.owner_id),
        inherent_likelihood: i64::from(input.inherent_likelihood),
        inherent_impact: i64::from(input.inherent_impact),
        existing_controls: input.existing_controls.trim().to_string(),
        residual_likelihood: i64::from(input.residual_likelihood),
        residual_impact: i64::from(input.residual_impact),
        residual_score: i64::from(scored.residual_score),
        residual_level: scored.residual_level.as_str().to_string(),
        treatment: treatment.as_str().to_string(),
        status: status.as_str().to_string(),
        // A risk that crosses the threshold without a due date gets the
        // policy's deadline, as a new one does.
        due_on: scored.due_on.clone().or_else(|| {
            reason.as_ref().map(|_| {
                remediation_deadline(policy, &findings, scored.residual_level, Utc::now())
                    .format("%Y-%m-%d")
                    .to_string()
            })
        }),
        compensating_control: blank_to_none(&input.compensating_control),
        worst_finding: worst.map(|s| s.as_str().to_string()),
        above_threshold: reason.is_some(),
        threshold_reason: reason,
    };
    Ok(store.update_risk(org_id, id, &update, actor).await?)
}

/// The input that reproduces a risk as it is (to edit a field or two).
pub fn input_of(r: &RiskRecord) -> RiskInput {
    let n = |v: i64| u32::try_from(v).unwrap_or(0);
    RiskInput {
        vendor_id: r.vendor_id.clone(),
        service_id: r.service_id.clone(),
        category: r.category.clone(),
        title: r.title.clone(),
        description: r.description.clone(),
        owner_id: r.owner_id.clone(),
        inherent_likelihood: n(r.inherent_likelihood),
        inherent_impact: n(r.inherent_impact),
        existing_controls: r.existing_controls.clone(),
        residual_likelihood: n(r.residual_likelihood),
        residual_impact: n(r.residual_impact),
        treatment: Some(r.treatment.clone()),
        status: Some(r.status.clone()),
        due_on: r.due_on.clone(),
        compensating_control: r.compensating_control.clone(),
    }
}

/// Links more findings of the risk's vendor to a risk and re-evaluates its
/// threshold with them.
pub async fn link_findings(
    store: &Store,
    org_id: &str,
    policy: &RiskPolicy,
    risk_id: &str,
    finding_ids: &[String],
    actor: &Actor,
) -> Result<RiskRecord, AppError> {
    let risk = store.get_risk(org_id, risk_id).await?;
    let mut all = store.findings_for_risk(risk_id).await?;
    let known: HashSet<String> = all.iter().map(|f| f.id.clone()).collect();
    let new = store.findings_by_ids(org_id, finding_ids).await?;
    all.extend(new.into_iter().filter(|f| !known.contains(&f.id)));
    let worst = worst_open(&all);
    store
        .link_findings(
            org_id,
            risk_id,
            finding_ids,
            worst.map(|s| s.as_str().to_string()),
            actor,
        )
        .await?;
    // The new worst finding may put the risk above the threshold.
    let refreshed = store.get_risk(org_id, risk_id).await?;
    if refreshed.status == "open" || refreshed.status == "in_treatment" {
        let input = input_of(&refreshed);
        return update_risk(store, org_id, policy, &risk.id, &input, actor).await;
    }
    Ok(refreshed)
}

/// Re-evaluates risks after something they depend on changed elsewhere (a
/// linked finding decided or resolved, the vendor's tier): worst open
/// finding, threshold and deadline, through the ordinary update.
pub async fn reevaluate_risks(
    store: &Store,
    org_id: &str,
    policy: &RiskPolicy,
    risk_ids: &[String],
    actor: &Actor,
) -> Result<(), AppError> {
    for id in risk_ids {
        let risk = store.get_risk(org_id, id).await?;
        if risk.status == "closed" {
            continue;
        }
        update_risk(store, org_id, policy, id, &input_of(&risk), actor).await?;
    }
    Ok(())
}

/// `reevaluate_risks` for the risks linked to these findings.
pub async fn reevaluate_risks_of_findings(
    store: &Store,
    org_id: &str,
    finding_ids: &[String],
    actor: &Actor,
) -> Result<(), AppError> {
    let linked = store.risks_for_findings(finding_ids).await?;
    if linked.is_empty() {
        return Ok(());
    }
    let policy = current_risk_policy(store, org_id).await?;
    let mut ids: Vec<String> = linked.into_iter().map(|(_, risk, _)| risk).collect();
    ids.sort();
    ids.dedup();
    reevaluate_risks(store, org_id, &policy, &ids, actor).await
}

/// An acceptance someone asks to record.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct AcceptanceInput {
    pub justification: String,
    pub compensating_controls: String,
    /// `YYYY-MM-DD`: the last day the acceptance holds.
    pub expires_on: String,
}

/// Records an accountable acceptance: the policy decides whether this role
/// may accept this risk (above the threshold, only the acceptance
/// authority), with a justification, the controls relied on and an expiry
/// within the policy's maximum. Refusals are `AppError::Refused`.
pub async fn accept_risk(
    store: &Store,
    org_id: &str,
    policy: &RiskPolicy,
    risk_id: &str,
    role: Role,
    input: &AcceptanceInput,
    actor: &Actor,
) -> Result<String, AppError> {
    let risk = store.get_risk(org_id, risk_id).await?;
    let level = Severity::parse(&risk.residual_level)
        .map_err(|e| AppError::Risk(format!("stored risk: {e}")))?;
    let expires_on =
        NaiveDate::parse_from_str(input.expires_on.trim(), "%Y-%m-%d").map_err(|_| {
            AppError::Risk(format!(
                "expiry date '{}' is not a date (YYYY-MM-DD)",
                input.expires_on
            ))
        })?;
    let today = policy.local_date(Utc::now());
    policy
        .check_acceptance(&AcceptanceRequest {
            role,
            level,
            above_threshold: risk.above_threshold,
            justification: &input.justification,
            compensating_controls: &input.compensating_controls,
            expires_on,
            today,
        })
        .map_err(|r| match r {
            // Who may decide is a refusal (403); what the decision lacks is a
            // problem with the form (422).
            Refusal::AboveThreshold { .. } | Refusal::RoleNotAllowed { .. } => {
                AppError::Refused(r.to_string())
            }
            other => AppError::RiskRejected(vec![other.to_string()]),
        })?;
    Ok(store
        .record_acceptance(
            org_id,
            risk_id,
            &NewAcceptance {
                accepted_by_id: actor.user_id.clone(),
                accepted_by: actor.label.clone(),
                accepted_as: role.as_str().to_string(),
                residual_level: risk.residual_level.clone(),
                residual_score: risk.residual_score,
                above_threshold: risk.above_threshold,
                justification: input.justification.trim().to_string(),
                compensating_controls: input.compensating_controls.trim().to_string(),
                expires_on: expires_on.format("%Y-%m-%d").to_string(),
            },
            actor,
        )
        .await?)
}

/// Returns risks whose acceptance has lapsed to open (they need a new
/// decision) and re-evaluates their threshold. Run at start-up and whenever
/// the register, acceptances or dashboard are read (pages and API).
pub async fn expire_acceptances(
    store: &Store,
    org_id: &str,
    policy: &RiskPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    let today = policy.local_date(now).format("%Y-%m-%d").to_string();
    let actor = Actor::system("acceptance expiry");
    let reopened = store.expire_acceptances(org_id, &today, &actor).await?;
    for id in &reopened {
        let risk = store.get_risk(org_id, id).await?;
        let input = input_of(&risk);
        update_risk(store, org_id, policy, id, &input, &actor).await?;
    }
    Ok(reopened)
}

// ----- corrective action plans ------------------------------------------

/// One requested action: the risk it treats and what the vendor must do.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ActionInput {
    pub risk_id: String,
    /// What the vendor must do; the risk's title when empty.
    #[serde(default)]
    pub action: String,
}

/// Sends a corrective action plan: one action per risk, worst first, each
/// with the deadline the policy gives its severity (the worst open finding,
/// scored by CVSS where it has a vector; else the residual level).
pub async fn create_remediation_request(
    store: &Store,
    org_id: &str,
    policy: &RiskPolicy,
    vendor_id: &str,
    title: &str,
    actions: &[ActionInput],
    actor: &Actor,
) -> Result<String, AppError> {
    if title.trim().is_empty() {
        return Err(AppError::Risk("a remediation request needs a title".into()));
    }
    if actions.is_empty() {
        return Err(AppError::Risk(
            "choose at least one risk for the vendor to remediate".into(),
        ));
    }
    let now = Utc::now();
    let mut items = Vec::new();
    for a in actions {
        let risk = store.get_risk(org_id, &a.risk_id).await?;
        if risk.vendor_id != vendor_id {
            return Err(AppError::Risk(format!(
                "risk '{}' is not about this vendor",
                risk.title
            )));
        }
        if risk.status == "accepted" || risk.status == "closed" {
            return Err(AppError::Risk(format!(
                "risk '{}' is {}: there is nothing to ask the vendor to remediate",
                risk.title, risk.status
            )));
        }
        let findings = store.findings_for_risk(&risk.id).await?;
        let level = Severity::parse(&risk.residual_level).unwrap_or(Severity::Low);
        let severity = findings
            .iter()
            .filter(|f| f.status == "open")
            .filter_map(finding_severity)
            .min_by_key(|s| s.rank())
            .unwrap_or(level);
        let due = remediation_deadline(policy, &findings, level, now);
        let action = if a.action.trim().is_empty() {
            risk.title.clone()
        } else {
            a.action.trim().to_string()
        };
        items.push((
            risk.residual_score,
            NewRemediationItem {
                risk_id: Some(risk.id.clone()),
                action,
                severity: severity.as_str().to_string(),
                due_on: due.format("%Y-%m-%d").to_string(),
            },
        ));
    }
    // Risk-ordered: the highest residual score first, then the earliest due.
    items.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.due_on.cmp(&b.1.due_on)));
    let items: Vec<NewRemediationItem> = items.into_iter().map(|(_, i)| i).collect();
    let id = store
        .create_remediation_request(org_id, vendor_id, title.trim(), &items, actor)
        .await?;
    // Asking the vendor to remediate is the decision on an undecided risk:
    // it is now being mitigated.
    for a in actions {
        let risk = store.get_risk(org_id, &a.risk_id).await?;
        if risk.treatment == Treatment::Undecided.as_str() && risk.status == "open" {
            let mut input = input_of(&risk);
            input.treatment = Some(Treatment::Mitigate.as_str().into());
            input.status = Some(RiskStatus::InTreatment.as_str().into());
            update_risk(store, org_id, policy, &risk.id, &input, actor).await?;
        }
    }
    Ok(id)
}

/// A corrective-action link, shown once.
pub struct IssuedRemediationLink {
    pub token: String,
    pub expires_at: String,
}

/// Sends the plan to a vendor contact: a new random link opening this
/// request only; earlier links stop working.
pub async fn send_remediation_request(
    store: &Store,
    org_id: &str,
    request_id: &str,
    contact_name: &str,
    contact_email: &str,
    actor: &Actor,
) -> Result<IssuedRemediationLink, AppError> {
    let name = contact_name.trim();
    let email = contact_email.trim().to_lowercase();
    if name.is_empty() || name.len() > 200 {
        return Err(AppError::Risk("the vendor contact needs a name".into()));
    }
    if !email.contains('@') || email.len() > 254 || email.contains(char::is_whitespace) {
        return Err(AppError::Risk(format!(
            "'{email}' is not an e-mail address"
        )));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    // The link stays open at least until a week after the last deadline,
    // so the vendor can still report on every action.
    let latest_due = store
        .remediation_items(request_id)
        .await?
        .iter()
        .filter_map(|i| NaiveDate::parse_from_str(&i.due_on, "%Y-%m-%d").ok())
        .max();
    let mut until = Utc::now() + Duration::days(REMEDIATION_LINK_DAYS);
    if let Some(due) = latest_due.and_then(|d| d.checked_add_days(chrono::Days::new(7))) {
        if let Some(t) = due.and_hms_opt(23, 59, 59) {
            until = until.max(t.and_utc());
        }
    }
    let expires_at = mamori_store::timestamp(until);
    store
        .revoke_remediation_links(org_id, request_id, actor)
        .await?;
    store
        .issue_remediation_link(
            org_id,
            request_id,
            &hash_token(&token),
            name,
            &email,
            &expires_at,
            actor,
        )
        .await?;
    Ok(IssuedRemediationLink { token, expires_at })
}

/// Opens a corrective-action link; `None` when it does not open (unknown,
/// expired, revoked or the request is closed — the vendor is not told which).
pub async fn open_remediation(
    store: &Store,
    token: &str,
) -> Result<Option<RemediationAccess>, AppError> {
    if token.len() != 43
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Ok(None);
    }
    Ok(store
        .resolve_remediation_token(&hash_token(token), &mamori_store::now())
        .await?)
}

/// The vendor's answer to one action, from the portal form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct VendorAnswer {
    /// `plan`, `done` or `dispute`.
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub planned_on: String,
}

pub async fn respond_to_action(
    store: &Store,
    access: &RemediationAccess,
    item_id: &str,
    answer: &VendorAnswer,
    evidence_id: Option<String>,
) -> Result<(), AppError> {
    let text = answer.text.trim().to_string();
    let response = match answer.kind.as_str() {
        "plan" => {
            if text.is_empty() {
                return Err(AppError::Risk("describe the plan".into()));
            }
            let planned_on = Some(answer.planned_on.trim().to_string()).filter(|s| !s.is_empty());
            if let Some(d) = &planned_on {
                if NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                    return Err(AppError::Risk(format!("'{d}' is not a date (YYYY-MM-DD)")));
                }
            }
            RemediationResponse::Plan { text, planned_on }
        }
        "done" => {
            if text.is_empty() && evidence_id.is_none() {
                return Err(AppError::Risk(
                    "say what was done or attach evidence".into(),
                ));
            }
            RemediationResponse::Done { text, evidence_id }
        }
        "dispute" => {
            if text.chars().count() < 10 {
                return Err(AppError::Risk(
                    "give the reason for the dispute (at least 10 characters)".into(),
                ));
            }
            RemediationResponse::Dispute { reason: text }
        }
        other => return Err(AppError::Risk(format!("unknown answer '{other}'"))),
    };
    store
        .respond_remediation_item(
            &access.request.id,
            item_id,
            &response,
            &format!("vendor contact {}", access.link.contact_email),
        )
        .await?;
    Ok(())
}

// ----- contracts --------------------------------------------------------

/// A contract as entered.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ContractInput {
    pub title: String,
    #[serde(default)]
    pub starts_on: Option<String>,
    #[serde(default)]
    pub ends_on: Option<String>,
    #[serde(default)]
    pub renewal_notice_days: Option<i64>,
    /// Major units as written ("120000.50").
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub service_ids: Vec<String>,
}

fn to_new_contract(
    vendor_id: &str,
    input: &ContractInput,
    catalog: &ClauseCatalog,
) -> Result<NewContract, AppError> {
    let mut problems = Vec::new();
    if input.title.trim().is_empty() {
        problems.push("a contract needs a title".to_string());
    }
    let date = |label: &str, v: &Option<String>, problems: &mut Vec<String>| {
        let v = blank_to_none(v)?;
        match NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
            Ok(_) => Some(v),
            Err(_) => {
                problems.push(format!("{label} '{v}' is not a date (YYYY-MM-DD)"));
                None
            }
        }
    };
    let starts_on = date("start date", &input.starts_on, &mut problems);
    let ends_on = date("end date", &input.ends_on, &mut problems);
    if let (Some(s), Some(e)) = (&starts_on, &ends_on) {
        if e < s {
            problems.push("the contract ends before it starts".into());
        }
    }
    let notice = input.renewal_notice_days.unwrap_or(90);
    if !(0..=3650).contains(&notice) {
        problems.push("the renewal notice must be 0 to 3650 days".into());
    }
    let value_minor = match blank_to_none(&input.value) {
        None => None,
        Some(v) => match v.replace(',', "").parse::<f64>() {
            Ok(x) if (0.0..1e15).contains(&x) => Some((x * 100.0).round() as i64),
            _ => {
                problems.push(format!("value '{v}' is not an amount"));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(AppError::RiskRejected(problems));
    }
    Ok(NewContract {
        vendor_id: vendor_id.to_string(),
        title: input.title.trim().to_string(),
        starts_on,
        ends_on,
        renewal_notice_days: notice,
        value_minor,
        currency: blank_to_none(&input.currency).map(|c| c.to_uppercase()),
        owner_id: blank_to_none(&input.owner_id),
        service_ids: input.service_ids.clone(),
        clause_catalog_version: catalog.version.clone(),
    })
}

/// Registers a contract and raises findings for the clauses it lacks (all
/// of them, until the checklist is filled in).
pub async fn create_contract(
    store: &Store,
    org_id: &str,
    catalog: &ClauseCatalog,
    vendor_id: &str,
    input: &ContractInput,
    actor: &Actor,
) -> Result<String, AppError> {
    let contract = to_new_contract(vendor_id, input, catalog)?;
    let id = store.create_contract(org_id, &contract, actor).await?;
    sync_clause_findings(store, org_id, catalog, &id, actor).await?;
    Ok(id)
}

pub async fn update_contract(
    store: &Store,
    org_id: &str,
    catalog: &ClauseCatalog,
    id: &str,
    input: &ContractInput,
    actor: &Actor,
) -> Result<(), AppError> {
    let current = store.get_contract(org_id, id).await?;
    let contract = to_new_contract(&current.vendor_id, input, catalog)?;
    store.update_contract(org_id, id, &contract, actor).await?;
    Ok(())
}

/// One clause as assessed in the checklist.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ClauseInput {
    pub clause_key: String,
    pub state: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub reference: String,
}

/// Saves the clause checklist and turns the required clauses that are
/// absent or partial into findings (resolving those now present).
pub async fn save_clauses(
    store: &Store,
    org_id: &str,
    catalog: &ClauseCatalog,
    contract_id: &str,
    clauses: &[ClauseInput],
    actor: &Actor,
) -> Result<(usize, usize, usize), AppError> {
    let mut problems = Vec::new();
    let mut updates = Vec::new();
    for c in clauses {
        if catalog.clause(&c.clause_key).is_none() {
            problems.push(format!("unknown clause '{}'", c.clause_key));
            continue;
        }
        match ClauseState::parse(&c.state) {
            Ok(state) => updates.push(ClauseUpdate {
                clause_key: c.clause_key.clone(),
                state: state.as_str().to_string(),
                note: c.note.trim().to_string(),
                reference: c.reference.trim().to_string(),
            }),
            Err(e) => problems.push(format!("{}: {e}", c.clause_key)),
        }
    }
    if !problems.is_empty() {
        return Err(AppError::RiskRejected(problems));
    }
    store
        .set_clauses(org_id, contract_id, &updates, actor)
        .await?;
    sync_clause_findings(store, org_id, catalog, contract_id, actor).await
}

/// Compares a contract's checklist with what the vendor's tier and data
/// require and keeps one open finding per gap.
pub async fn sync_clause_findings(
    store: &Store,
    org_id: &str,
    catalog: &ClauseCatalog,
    contract_id: &str,
    actor: &Actor,
) -> Result<(usize, usize, usize), AppError> {
    let contract = store.get_contract(org_id, contract_id).await?;
    let vendor = store
        .get_vendor(org_id, &contract.vendor_id, &VendorScope::All)
        .await?;
    let data: Vec<_> = vendor
        .draft
        .data_flows
        .iter()
        .map(|f| f.data_class)
        .collect();
    let states: HashMap<String, ClauseState> = store
        .contract_clauses(contract_id)
        .await?
        .into_iter()
        .filter_map(|c| Some((c.clause_key, ClauseState::parse(&c.state).ok()?)))
        .collect();
    let gaps: Vec<ContractGap> = catalog
        .gaps(Some(vendor.rating.tier), &data, &states)
        .into_iter()
        .filter_map(|g| {
            let clause = catalog.clause(&g.clause_key)?;
            let what = match g.state {
                ClauseState::Partial => "only partly covers",
                _ => "lacks",
            };
            Some(ContractGap {
                clause_key: g.clause_key.clone(),
                severity: g.severity.as_str().to_string(),
                title: format!("Contract '{}' {what}: {}", contract.title, clause.title),
                detail: clause.guidance.clone(),
                csf: clause.csf.clone(),
            })
        })
        .collect();
    let counts = store
        .sync_contract_findings(org_id, contract_id, &gaps, actor)
        .await?;
    let ids: Vec<String> = store
        .contract_findings(org_id, contract_id)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    reevaluate_risks_of_findings(store, org_id, &ids, actor).await?;
    Ok(counts)
}
