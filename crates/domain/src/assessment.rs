//! Assessments: the lifecycle, the policy that says how deep and how often
//! each tier is assessed, and the evidence rules (what is stale).

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::labels::label_enum;
use crate::Tier;

label_enum! {
    /// planned → sent → in_progress → submitted → under_review → completed,
    /// or cancelled from any open state.
    AssessmentStatus, "assessment status" {
        Planned = "planned",
        Sent = "sent",
        InProgress = "in_progress",
        Submitted = "submitted",
        UnderReview = "under_review",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

impl AssessmentStatus {
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            AssessmentStatus::Completed | AssessmentStatus::Cancelled
        )
    }

    /// Can the vendor contact still change answers?
    pub fn accepts_answers(self) -> bool {
        matches!(self, AssessmentStatus::Sent | AssessmentStatus::InProgress)
    }

    /// The allowed moves. Re-sending from `submitted` or `under_review`
    /// returns the questionnaire to the vendor for corrections.
    pub fn can_move_to(self, next: AssessmentStatus) -> bool {
        use AssessmentStatus::*;
        match (self, next) {
            (Planned, Sent) => true,
            (Sent, InProgress) | (Sent, Submitted) => true,
            (InProgress, Submitted) => true,
            // Answers imported from a spreadsheet skip the portal.
            (Planned | Sent | InProgress, UnderReview) => true,
            (Submitted, UnderReview) => true,
            (Submitted | UnderReview, Sent) => true,
            (UnderReview, Completed) => true,
            (from, Cancelled) => from.is_open(),
            _ => false,
        }
    }
}

label_enum! {
    EvidenceKind, "evidence type" {
        Soc2Type1 = "soc2_type1" | "soc_2_type_i" | "soc2_type_i",
        Soc2Type2 = "soc2_type2" | "soc_2_type_ii" | "soc2_type_ii",
        HitrustR2 = "hitrust_r2",
        HitrustI1 = "hitrust_i1",
        HitrustE1 = "hitrust_e1",
        Iso27001 = "iso27001" | "iso_27001",
        PentestSummary = "pentest_summary" | "penetration_test" | "pentest",
        NistCsfAssessment = "nist_csf_assessment" | "csf_assessment",
        Policy = "policy",
        Other = "other",
    }
}

impl EvidenceKind {
    pub fn label(self) -> &'static str {
        match self {
            EvidenceKind::Soc2Type1 => "SOC 2 Type I",
            EvidenceKind::Soc2Type2 => "SOC 2 Type II",
            EvidenceKind::HitrustR2 => "HITRUST r2",
            EvidenceKind::HitrustI1 => "HITRUST i1",
            EvidenceKind::HitrustE1 => "HITRUST e1",
            EvidenceKind::Iso27001 => "ISO/IEC 27001 certificate",
            EvidenceKind::PentestSummary => "Penetration-test summary",
            EvidenceKind::NistCsfAssessment => "NIST CSF assessment report",
            EvidenceKind::Policy => "Policy",
            EvidenceKind::Other => "Other",
        }
    }

    fn is_soc2(self) -> bool {
        matches!(self, EvidenceKind::Soc2Type1 | EvidenceKind::Soc2Type2)
    }
}

/// What is known about one evidence file's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvidenceDates {
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum EvidenceStatus {
    Current,
    Stale(String),
    Expired(String),
}

impl EvidenceStatus {
    pub fn is_current(&self) -> bool {
        matches!(self, EvidenceStatus::Current)
    }
}

/// How many months after its period ends a SOC 2 report stops being relied
/// on (a bridge letter covers the gap only until the next report).
pub const SOC2_FRESH_MONTHS: u32 = 12;

/// Judges evidence as of a date: an expiry date in the past expires it; a
/// SOC 2 report whose period ended more than 12 months ago is stale; other
/// evidence issued more than `max_age_months` ago is stale.
pub fn evidence_status(
    kind: EvidenceKind,
    dates: EvidenceDates,
    as_of: NaiveDate,
    max_age_months: u32,
) -> EvidenceStatus {
    if let Some(expiry) = dates.expires_on {
        if expiry < as_of {
            return EvidenceStatus::Expired(format!("expired on {expiry}"));
        }
    }
    if kind.is_soc2() {
        if let Some(end) = dates.period_end {
            if end
                .checked_add_months(Months::new(SOC2_FRESH_MONTHS))
                .is_some_and(|limit| limit < as_of)
            {
                return EvidenceStatus::Stale(format!(
                    "report period ended {end}, more than {SOC2_FRESH_MONTHS} months ago"
                ));
            }
            return EvidenceStatus::Current;
        }
    }
    let reference = dates.period_end.or(dates.issued_on);
    if let Some(date) = reference {
        if dates.expires_on.is_none()
            && date
                .checked_add_months(Months::new(max_age_months))
                .is_some_and(|limit| limit < as_of)
        {
            return EvidenceStatus::Stale(format!(
                "dated {date}, more than {max_age_months} months ago"
            ));
        }
    }
    EvidenceStatus::Current
}

/// What the policy asks of one tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRequirement {
    /// Template key of a file with depths, e.g. `healthcare-baseline`.
    pub questionnaire: String,
    /// The depth to send, e.g. `full`.
    pub depth: String,
    pub reassess_months: u32,
    /// Each entry is satisfied by current evidence of any listed type.
    #[serde(default)]
    pub evidence: Vec<Vec<EvidenceKind>>,
    /// Days the vendor is given to answer.
    #[serde(default = "default_response_days")]
    pub response_days: u32,
}

fn default_response_days() -> u32 {
    30
}

/// The assessment policy file (`policy/assessment.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentPolicy {
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// Evidence without an expiry older than this is stale.
    #[serde(default = "default_evidence_age")]
    pub evidence_max_age_months: u32,
    /// Days a portal link stays valid.
    #[serde(default = "default_link_days")]
    pub portal_link_days: u32,
    pub tier: BTreeMap<Tier, TierRequirement>,
}

fn default_evidence_age() -> u32 {
    12
}

fn default_link_days() -> u32 {
    30
}

pub const DEFAULT_ASSESSMENT_POLICY_TOML: &str = include_str!("../../../policy/assessment.toml");

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssessmentPolicyError {
    #[error("not a valid assessment policy: {0}")]
    Syntax(String),
    #[error("tier '{0}' has no requirement")]
    MissingTier(Tier),
    #[error("tier '{tier}': {message}")]
    Invalid { tier: Tier, message: String },
}

impl AssessmentPolicy {
    pub fn parse(text: &str) -> Result<Self, AssessmentPolicyError> {
        let policy: AssessmentPolicy =
            toml::from_str(text).map_err(|e| AssessmentPolicyError::Syntax(e.to_string()))?;
        for tier in Tier::ALL {
            let Some(req) = policy.tier.get(tier) else {
                return Err(AssessmentPolicyError::MissingTier(*tier));
            };
            if req.reassess_months == 0 || req.reassess_months > 120 {
                return Err(AssessmentPolicyError::Invalid {
                    tier: *tier,
                    message: "reassess_months must be 1–120".into(),
                });
            }
            if req.response_days == 0 || req.response_days > 365 {
                return Err(AssessmentPolicyError::Invalid {
                    tier: *tier,
                    message: "response_days must be 1–365".into(),
                });
            }
            if req.evidence.iter().any(Vec::is_empty) {
                return Err(AssessmentPolicyError::Invalid {
                    tier: *tier,
                    message: "an evidence requirement lists no types".into(),
                });
            }
        }
        if policy.portal_link_days == 0 || policy.portal_link_days > 365 {
            return Err(AssessmentPolicyError::Syntax(
                "portal_link_days must be 1–365".into(),
            ));
        }
        Ok(policy)
    }

    pub fn default_policy() -> Self {
        // Covered by a test; the shipped file is part of the build.
        Self::parse(DEFAULT_ASSESSMENT_POLICY_TOML).expect("shipped assessment policy is valid")
    }

    pub fn requirement(&self, tier: Tier) -> &TierRequirement {
        // `parse` guarantees every tier is present.
        &self.tier[&tier]
    }

    /// The template key to send to a vendor of this tier.
    pub fn template_key(&self, tier: Tier) -> String {
        let req = self.requirement(tier);
        format!("{}/{}", req.questionnaire, req.depth)
    }

    /// When a vendor last assessed on `completed` is next due.
    pub fn next_due(&self, tier: Tier, completed: NaiveDate) -> NaiveDate {
        let months = self.requirement(tier).reassess_months;
        completed
            .checked_add_months(Months::new(months))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Evidence requirements of this tier that no current evidence meets.
    pub fn missing_evidence<'a>(
        &'a self,
        tier: Tier,
        current: &[EvidenceKind],
    ) -> Vec<&'a [EvidenceKind]> {
        self.requirement(tier)
            .evidence
            .iter()
            .filter(|any| !any.iter().any(|k| current.contains(k)))
            .map(Vec::as_slice)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn shipped_policy_has_the_default_frequencies() {
        let p = AssessmentPolicy::default_policy();
        assert_eq!(p.requirement(Tier::Critical).reassess_months, 12);
        assert_eq!(p.requirement(Tier::High).reassess_months, 12);
        assert_eq!(p.requirement(Tier::Moderate).reassess_months, 24);
        assert_eq!(p.requirement(Tier::Low).reassess_months, 36);
        assert_eq!(p.template_key(Tier::Critical), "healthcare-baseline/full");
        assert_eq!(p.next_due(Tier::Moderate, d("2026-02-28")), d("2028-02-28"));
    }

    #[test]
    fn soc2_older_than_twelve_months_is_stale() {
        let dates = EvidenceDates {
            period_end: Some(d("2025-06-30")),
            ..Default::default()
        };
        assert!(evidence_status(EvidenceKind::Soc2Type2, dates, d("2026-06-30"), 12).is_current());
        assert!(matches!(
            evidence_status(EvidenceKind::Soc2Type2, dates, d("2026-07-01"), 12),
            EvidenceStatus::Stale(_)
        ));
    }

    #[test]
    fn expired_certificate_is_expired() {
        let dates = EvidenceDates {
            issued_on: Some(d("2024-01-01")),
            expires_on: Some(d("2026-12-01")),
            ..Default::default()
        };
        assert!(matches!(
            evidence_status(EvidenceKind::Iso27001, dates, d("2026-12-02"), 12),
            EvidenceStatus::Expired(_)
        ));
        assert!(evidence_status(EvidenceKind::Iso27001, dates, d("2026-11-30"), 12).is_current());
    }

    #[test]
    fn lifecycle_allows_only_forward_moves_and_cancel() {
        use AssessmentStatus::*;
        assert!(Planned.can_move_to(Sent));
        assert!(UnderReview.can_move_to(Completed));
        assert!(!Planned.can_move_to(Completed));
        assert!(!Completed.can_move_to(Cancelled));
        assert!(!Cancelled.can_move_to(Sent));
        assert!(Submitted.can_move_to(Cancelled));
    }

    #[test]
    fn missing_evidence_lists_unmet_groups() {
        let p = AssessmentPolicy::default_policy();
        let missing = p.missing_evidence(Tier::Critical, &[EvidenceKind::Soc2Type2]);
        assert!(!missing.is_empty());
        assert!(missing
            .iter()
            .all(|g| !g.contains(&EvidenceKind::Soc2Type2)));
    }
}
