//! The risk register's rules: the risk matrix, the threshold above which a
//! risk needs a decision, remediation deadlines from an objective severity
//! scale, and who may accept which risk for how long.

use std::collections::BTreeMap;

use chrono::{DateTime, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::labels::label_enum;
use crate::questionnaire::Severity;
use crate::{Role, Tier};

/// The shipped policy, compiled in so a fresh install has it.
pub const DEFAULT_RISK_POLICY_TOML: &str = include_str!("../../../policy/risk.toml");

label_enum! {
    /// How the organisation treats a risk. `Undecided` is where every new
    /// risk starts; above the threshold it may not stay there silently.
    Treatment, "treatment" {
        Undecided = "undecided" | "none",
        Mitigate = "mitigate" | "remediate" | "reduce",
        Transfer = "transfer" | "share",
        Avoid = "avoid" | "terminate",
        Accept = "accept",
    }
}

label_enum! {
    /// open → in_treatment → closed; `accepted` only through an acceptance,
    /// and back to open when the acceptance expires.
    RiskStatus, "risk status" {
        Open = "open",
        InTreatment = "in_treatment" | "in_progress",
        Accepted = "accepted",
        Closed = "closed",
    }
}

impl RiskStatus {
    pub fn is_active(self) -> bool {
        !matches!(self, RiskStatus::Closed)
    }

    /// Moves a person may make by editing the risk. Acceptance is its own
    /// decision (`check_acceptance`), and a closed risk can be reopened.
    pub fn can_move_to(self, next: RiskStatus) -> bool {
        use RiskStatus::*;
        match (self, next) {
            (a, b) if a == b => true,
            (_, Accepted) => false,
            (Open, InTreatment | Closed) => true,
            (InTreatment, Open | Closed) => true,
            (Accepted, Open | InTreatment | Closed) => true,
            (Closed, Open) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Error)]
pub enum RiskPolicyError {
    #[error("risk policy is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("risk policy is not valid: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelBand {
    pub name: Severity,
    pub min_score: u32,
}

/// Likelihood × impact, with named steps and level bands over the product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskMatrix {
    pub likelihood: Vec<String>,
    pub impact: Vec<String>,
    /// Japanese step names (optional; the English ones when absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub likelihood_ja: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub impact_ja: Vec<String>,
    pub levels: Vec<LevelBand>,
}

impl RiskMatrix {
    pub fn likelihood_steps(&self) -> u32 {
        self.likelihood.len() as u32
    }

    pub fn impact_steps(&self) -> u32 {
        self.impact.len() as u32
    }

    pub fn max_score(&self) -> u32 {
        self.likelihood_steps() * self.impact_steps()
    }

    /// Likelihood × impact, both counted from 1; `None` outside the matrix.
    pub fn score(&self, likelihood: u32, impact: u32) -> Option<u32> {
        let inside = (1..=self.likelihood_steps()).contains(&likelihood)
            && (1..=self.impact_steps()).contains(&impact);
        inside.then_some(likelihood * impact)
    }

    /// The level of a score: the highest band it reaches.
    pub fn level(&self, score: u32) -> Severity {
        self.levels
            .iter()
            .rev()
            .find(|band| score >= band.min_score)
            .or(self.levels.first())
            .map(|band| band.name)
            .unwrap_or(Severity::Low)
    }

    pub fn likelihood_label(&self, step: u32) -> &str {
        label_at(&self.likelihood, step)
    }

    pub fn impact_label(&self, step: u32) -> &str {
        label_at(&self.impact, step)
    }

    /// A likelihood step's name in Japanese (`ja`) or English.
    pub fn likelihood_label_in(&self, step: u32, ja: bool) -> &str {
        if ja && !self.likelihood_ja.is_empty() {
            label_at(&self.likelihood_ja, step)
        } else {
            self.likelihood_label(step)
        }
    }

    /// An impact step's name in Japanese (`ja`) or English.
    pub fn impact_label_in(&self, step: u32, ja: bool) -> &str {
        if ja && !self.impact_ja.is_empty() {
            label_at(&self.impact_ja, step)
        } else {
            self.impact_label(step)
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (axis, labels) in [("likelihood", &self.likelihood), ("impact", &self.impact)] {
            if !(2..=10).contains(&labels.len()) {
                out.push(format!(
                    "matrix.{axis} needs 2 to 10 steps, has {}",
                    labels.len()
                ));
            }
            if labels.iter().any(|l| l.trim().is_empty()) {
                out.push(format!("matrix.{axis} has an empty step name"));
            }
        }
        for (axis, ja, en) in [
            ("likelihood_ja", &self.likelihood_ja, &self.likelihood),
            ("impact_ja", &self.impact_ja, &self.impact),
        ] {
            if !ja.is_empty() && ja.len() != en.len() {
                out.push(format!(
                    "matrix.{axis} has {} names for {} steps",
                    ja.len(),
                    en.len()
                ));
            }
        }
        if self.levels.first().map(|b| b.min_score) != Some(1) {
            out.push("matrix.levels must start with a band at min_score = 1".into());
        }
        for pair in self.levels.windows(2) {
            if pair[1].min_score <= pair[0].min_score {
                out.push(format!(
                    "matrix.levels must rise: '{}' at {} follows '{}' at {}",
                    pair[1].name, pair[1].min_score, pair[0].name, pair[0].min_score
                ));
            }
            if pair[1].name.rank() >= pair[0].name.rank() {
                out.push(format!(
                    "matrix.levels must go from low to critical: '{}' follows '{}'",
                    pair[1].name, pair[0].name
                ));
            }
        }
        if let Some(top) = self.levels.last() {
            if top.min_score > self.max_score() {
                out.push(format!(
                    "level '{}' starts at {}, above the largest score {}",
                    top.name,
                    top.min_score,
                    self.max_score()
                ));
            }
        }
        out
    }
}

fn label_at(labels: &[String], step: u32) -> &str {
    step.checked_sub(1)
        .and_then(|i| labels.get(i as usize))
        .map(String::as_str)
        .unwrap_or("?")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdPolicy {
    pub residual_score_at_least: u32,
    #[serde(default)]
    pub open_finding_at_least: Option<Severity>,
    #[serde(default)]
    pub tier_residual_score_at_least: BTreeMap<Tier, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptancePolicy {
    pub max_months: u32,
    pub may_accept: BTreeMap<Severity, Vec<Role>>,
}

/// The whole risk policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskPolicy {
    pub version: String,
    #[serde(default)]
    pub description: String,
    pub time_zone: String,
    pub matrix: RiskMatrix,
    pub threshold: ThresholdPolicy,
    pub remediation_days: BTreeMap<Severity, u32>,
    pub acceptance: AcceptancePolicy,
    #[serde(skip)]
    tz: Option<Tz>,
}

impl RiskPolicy {
    pub fn parse(text: &str) -> Result<Self, RiskPolicyError> {
        let mut policy: RiskPolicy = toml::from_str(text)?;
        policy.tz = policy.time_zone.parse::<Tz>().ok();
        let problems = policy.problems();
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(RiskPolicyError::Invalid(problems))
        }
    }

    /// The shipped policy. It is checked by a test, so this cannot fail.
    pub fn default_policy() -> Self {
        Self::parse(DEFAULT_RISK_POLICY_TOML).unwrap_or_else(|e| panic!("shipped risk policy: {e}"))
    }

    /// Everything wrong with the policy, in words a policy author can act on.
    pub fn problems(&self) -> Vec<String> {
        let mut out = self.matrix.problems();
        if self.version.trim().is_empty() {
            out.push("version must not be empty".into());
        }
        if self.tz.is_none() {
            out.push(format!(
                "time_zone '{}' is not an IANA time zone name (for example Asia/Tokyo or America/New_York)",
                self.time_zone
            ));
        }
        let max = self.matrix.max_score();
        let t = &self.threshold;
        if !(1..=max).contains(&t.residual_score_at_least) {
            out.push(format!(
                "threshold.residual_score_at_least must be between 1 and {max}"
            ));
        }
        for (tier, score) in &t.tier_residual_score_at_least {
            if !(1..=max).contains(score) {
                out.push(format!(
                    "threshold.tier_residual_score_at_least.{tier} must be between 1 and {max}"
                ));
            }
        }
        for severity in Severity::ALL {
            match self.remediation_days.get(severity) {
                None => out.push(format!("remediation_days.{severity} is missing")),
                Some(0) => out.push(format!("remediation_days.{severity} must be at least 1")),
                Some(d) if *d > 3650 => {
                    out.push(format!("remediation_days.{severity} must be at most 3650"))
                }
                Some(_) => {}
            }
        }
        let a = &self.acceptance;
        if !(1..=36).contains(&a.max_months) {
            out.push("acceptance.max_months must be between 1 and 36".into());
        }
        for severity in Severity::ALL {
            match a.may_accept.get(severity) {
                None => out.push(format!("acceptance.may_accept.{severity} is missing")),
                Some(roles) => {
                    if !roles.contains(&Role::AcceptanceAuthority) {
                        out.push(format!(
                            "acceptance.may_accept.{severity} must include acceptance_authority"
                        ));
                    }
                    if roles.contains(&Role::VendorContact) {
                        out.push(format!(
                            "acceptance.may_accept.{severity}: vendor contacts cannot accept risks"
                        ));
                    }
                }
            }
        }
        out
    }

    pub fn tz(&self) -> Tz {
        self.tz.unwrap_or(Tz::UTC)
    }

    /// The calendar date of an instant in the organisation's time zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz()).date_naive()
    }

    /// Scores a likelihood/impact pair; `None` outside the matrix.
    pub fn rate(&self, likelihood: u32, impact: u32) -> Option<Rated> {
        let score = self.matrix.score(likelihood, impact)?;
        Some(Rated {
            score,
            level: self.matrix.level(score),
        })
    }

    /// Whether a risk needs a decision, and why. Pure: re-run over every
    /// risk when the policy changes.
    pub fn threshold(&self, facts: &ThresholdFacts) -> Option<String> {
        let t = &self.threshold;
        if facts.residual_score >= t.residual_score_at_least {
            return Some(format!(
                "residual score {} is at or above {}",
                facts.residual_score, t.residual_score_at_least
            ));
        }
        if let Some(limit) = facts
            .tier
            .and_then(|tier| t.tier_residual_score_at_least.get(&tier))
        {
            if facts.residual_score >= *limit {
                return Some(format!(
                    "residual score {} is at or above {} for {} tier vendors",
                    facts.residual_score,
                    limit,
                    facts.tier.map(|t| t.as_str()).unwrap_or("")
                ));
            }
        }
        if let (Some(worst), Some(limit)) = (facts.worst_open_finding, t.open_finding_at_least) {
            if worst.rank() <= limit.rank() {
                return Some(format!("an open {worst} finding is linked"));
            }
        }
        None
    }

    /// Days allowed to remediate a finding of this severity.
    pub fn remediation_days(&self, severity: Severity) -> u32 {
        self.remediation_days.get(&severity).copied().unwrap_or(180)
    }

    /// The last day to remediate: the local date on which the finding was
    /// identified plus the severity's days. The deadline is the end of that
    /// local day.
    pub fn remediation_due(&self, severity: Severity, identified_at: DateTime<Utc>) -> NaiveDate {
        let start = self.local_date(identified_at);
        start
            .checked_add_days(chrono::Days::new(u64::from(
                self.remediation_days(severity),
            )))
            .unwrap_or(NaiveDate::MAX)
    }

    /// A deadline has passed once its local day is over.
    pub fn is_overdue(&self, due: NaiveDate, now: DateTime<Utc>) -> bool {
        self.local_date(now) > due
    }

    /// The latest expiry an acceptance made on `accepted_on` may carry:
    /// `max_months` later, clamped to the end of a shorter month
    /// (31 January + 1 month = 28 or 29 February).
    pub fn latest_expiry(&self, accepted_on: NaiveDate) -> NaiveDate {
        accepted_on
            .checked_add_months(Months::new(self.acceptance.max_months))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Checks an acceptance decision against the policy: who, what level,
    /// how long, and that it is explained.
    pub fn check_acceptance(&self, request: &AcceptanceRequest<'_>) -> Result<(), Refusal> {
        let allowed = if request.above_threshold {
            request.role == Role::AcceptanceAuthority
        } else {
            self.acceptance
                .may_accept
                .get(&request.level)
                .is_some_and(|roles| roles.contains(&request.role))
        };
        if !allowed {
            return Err(if request.above_threshold {
                Refusal::AboveThreshold { role: request.role }
            } else {
                Refusal::RoleNotAllowed {
                    role: request.role,
                    level: request.level,
                }
            });
        }
        if request.justification.trim().chars().count() < 20 {
            return Err(Refusal::Justification);
        }
        if request.compensating_controls.trim().is_empty() {
            return Err(Refusal::CompensatingControls);
        }
        if request.expires_on <= request.today {
            return Err(Refusal::ExpiryInPast);
        }
        let latest = self.latest_expiry(request.today);
        if request.expires_on > latest {
            return Err(Refusal::ExpiryTooLate {
                latest,
                max_months: self.acceptance.max_months,
            });
        }
        Ok(())
    }
}

/// An acceptance is valid through its expiry date and lapses the day after.
pub fn acceptance_lapsed(expires_on: NaiveDate, today: NaiveDate) -> bool {
    today > expires_on
}

/// A score on the matrix and its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rated {
    pub score: u32,
    pub level: Severity,
}

/// What the threshold looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThresholdFacts {
    pub residual_score: u32,
    pub tier: Option<Tier>,
    pub worst_open_finding: Option<Severity>,
}

/// An acceptance someone wants to record.
#[derive(Debug, Clone)]
pub struct AcceptanceRequest<'a> {
    pub role: Role,
    pub level: Severity,
    pub above_threshold: bool,
    pub justification: &'a str,
    pub compensating_controls: &'a str,
    pub expires_on: NaiveDate,
    pub today: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("this risk is above the threshold: only the risk acceptance authority may accept it (you are {})", .role.as_str().replace('_', " "))]
    AboveThreshold { role: Role },
    #[error("the policy does not let the {} role accept {level} risks", .role.as_str().replace('_', " "))]
    RoleNotAllowed { role: Role, level: Severity },
    #[error("write a justification of at least 20 characters")]
    Justification,
    #[error("name the compensating controls the acceptance relies on")]
    CompensatingControls,
    #[error("the expiry date must be after today")]
    ExpiryInPast,
    #[error("an acceptance may run at most {max_months} months, until {latest}")]
    ExpiryTooLate { latest: NaiveDate, max_months: u32 },
}

/// The qualitative severity of a CVSS vector (v3.0, v3.1 or v4.0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvssRating {
    /// The vector as written back by the parser (canonical form).
    pub vector: String,
    pub version: &'static str,
    pub base_score: f64,
    /// `None` for a base score of 0.0 (no impact).
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a CVSS v3.0, v3.1 or v4.0 vector: {0}")]
pub struct CvssError(String);

/// Parses and scores a CVSS vector with the RustSec `cvss` crate.
pub fn rate_cvss(vector: &str) -> Result<CvssRating, CvssError> {
    let vector = vector.trim();
    require_base_metrics(vector)?;
    let parsed: cvss::Cvss = vector
        .parse()
        .map_err(|e: cvss::Error| CvssError(e.to_string()))?;
    let version = match &parsed {
        cvss::Cvss::CvssV30(_) => "3.0",
        cvss::Cvss::CvssV31(_) => "3.1",
        cvss::Cvss::CvssV40(_) => "4.0",
        _ => "?",
    };
    let severity = match parsed.severity() {
        cvss::Severity::None => None,
        cvss::Severity::Low => Some(Severity::Low),
        cvss::Severity::Medium => Some(Severity::Medium),
        cvss::Severity::High => Some(Severity::High),
        cvss::Severity::Critical => Some(Severity::Critical),
    };
    Ok(CvssRating {
        vector: parsed.to_string(),
        version,
        base_score: parsed.score(),
        severity,
    })
}

/// The parser scores a partial vector as if the missing metrics were at their
/// lowest; a deadline computed from such a score would be wrong, so every base
/// metric of the vector's version must be present.
fn require_base_metrics(vector: &str) -> Result<(), CvssError> {
    const V3: &[&str] = &["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
    const V4: &[&str] = &[
        "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
    ];
    let mut parts = vector.split('/');
    let required = match parts.next() {
        Some("CVSS:3.0") | Some("CVSS:3.1") => V3,
        Some("CVSS:4.0") => V4,
        _ => return Ok(()), // the parser reports the unknown prefix
    };
    let present: Vec<&str> = parts.filter_map(|m| m.split(':').next()).collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| !present.contains(k))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CvssError(format!(
            "vector lacks base metric(s) {}",
            missing.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_is_valid() {
        let p = RiskPolicy::parse(DEFAULT_RISK_POLICY_TOML).expect("valid");
        assert_eq!(p.matrix.max_score(), 25);
        assert_eq!(p.tz(), chrono_tz::Asia::Tokyo);
    }
}
