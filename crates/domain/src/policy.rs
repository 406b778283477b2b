//! The tiering policy: a versioned TOML document that says which facts about a
//! vendor add how many points to which risk category, where the tier bands
//! start, and which facts put a floor under the tier.
//!
//! Every condition is *monotone*: more records, more data classes, shorter
//! tolerable downtime or patient-care impact can only make more conditions
//! true. Points are never negative. Together these guarantee that adding risk
//! to a vendor never lowers its tier; `validate` rejects policies that would
//! break that promise.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::vendor::{
    Connectivity, DataAction, DataClass, Deployment, RevenueDependency, RiskCategory, Tenancy,
    Tier, VendorType,
};

/// The policy shipped with Mamori (`policy/tiering.toml` in the repository).
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../../policy/tiering.toml");

/// Highest score a category can reach; scores are capped here.
pub const MAX_CATEGORY_SCORE: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TieringPolicy {
    /// Shown on every tier change; bump it whenever the rules change.
    pub version: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub bands: TierBands,
    /// Countries/regions where data may sit without raising privacy and
    /// compliance risk (ISO 3166 alpha-2 codes or region names).
    #[serde(default)]
    pub home_regions: Vec<String>,
    #[serde(default, rename = "factor")]
    pub factors: Vec<Factor>,
    #[serde(default, rename = "floor")]
    pub floors: Vec<Floor>,
}

/// Lowest category score of each tier band; a vendor's tier is the band of its
/// highest category score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierBands {
    pub moderate: u32,
    pub high: u32,
    pub critical: u32,
}

impl TierBands {
    pub fn tier_for(&self, score: u32) -> Tier {
        if score >= self.critical {
            Tier::Critical
        } else if score >= self.high {
            Tier::High
        } else if score >= self.moderate {
            Tier::Moderate
        } else {
            Tier::Low
        }
    }
}

/// Adds `points` to `category` when `when` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Factor {
    pub id: String,
    pub category: RiskCategory,
    pub points: u32,
    /// Why this fact matters, shown in the explanation.
    pub reason: String,
    #[serde(default)]
    pub reason_ja: Option<String>,
    #[serde(default)]
    pub when: Condition,
}

/// Raises the tier to at least `tier` when `when` holds, whatever the scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    pub id: String,
    pub tier: Tier,
    pub reason: String,
    #[serde(default)]
    pub reason_ja: Option<String>,
    #[serde(default)]
    pub when: Condition,
}

/// All present fields must hold (AND). Fields about data flows must hold for
/// one and the same flow; fields about services for one and the same service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub vendor_type_in: Option<Vec<VendorType>>,
    pub deployment_in: Option<Vec<Deployment>>,
    pub tenancy_in: Option<Vec<Tenancy>>,

    /// A flow of one of these classes …
    pub data_class_in: Option<Vec<DataClass>>,
    /// … with at least one of these actions …
    pub action_in: Option<Vec<DataAction>>,
    /// … covering at least this many records …
    pub records_at_least: Option<u64>,
    /// … connecting in one of these ways …
    pub connectivity_in: Option<Vec<Connectivity>>,
    /// … stored or processed outside the home regions (only `true` allowed) …
    pub outside_home_regions: Option<bool>,
    /// … through at least this many named sub-processors.
    pub subprocessors_at_least: Option<u32>,

    /// A service whose maximum tolerable downtime is at most this many hours …
    pub downtime_hours_at_most: Option<u32>,
    /// … that affects patient care (only `true` allowed) …
    pub patient_care_impact: Option<bool>,
    /// … affecting at least this many patients …
    pub patients_affected_at_least: Option<u64>,
    /// … with at least this revenue dependency …
    pub revenue_dependency_at_least: Option<RevenueDependency>,
    /// … supporting at least this many business processes.
    pub business_processes_at_least: Option<u32>,
}

impl Condition {
    pub(crate) fn has_flow_terms(&self) -> bool {
        self.data_class_in.is_some()
            || self.action_in.is_some()
            || self.records_at_least.is_some()
            || self.connectivity_in.is_some()
            || self.outside_home_regions.is_some()
            || self.subprocessors_at_least.is_some()
    }

    pub(crate) fn has_service_terms(&self) -> bool {
        self.downtime_hours_at_most.is_some()
            || self.patient_care_impact.is_some()
            || self.patients_affected_at_least.is_some()
            || self.revenue_dependency_at_least.is_some()
            || self.business_processes_at_least.is_some()
    }
}

#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("policy is not valid TOML: {0}")]
    Syntax(String),
    #[error("policy is invalid:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
}

impl TieringPolicy {
    /// Parses and validates a policy document.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let policy: TieringPolicy =
            toml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        let problems = policy.problems();
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(PolicyError::Invalid(problems))
        }
    }

    /// The policy Mamori ships with.
    pub fn builtin() -> Self {
        match Self::from_toml(DEFAULT_POLICY_TOML) {
            Ok(policy) => policy,
            // The shipped file is checked by a unit test; reaching this is a
            // build defect, not bad input.
            Err(e) => panic!("the built-in tiering policy is invalid: {e}"),
        }
    }

    pub fn factor(&self, id: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.id == id)
    }

    pub fn floor(&self, id: &str) -> Option<&Floor> {
        self.floors.iter().find(|f| f.id == id)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Every reason this policy cannot be used, in document order.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.version.trim().is_empty() {
            out.push("version must not be empty".to_string());
        }
        if self.version.len() > 64 {
            out.push("version must be at most 64 characters".to_string());
        }
        if self.name.trim().is_empty() {
            out.push("name must not be empty".to_string());
        }
        let b = self.bands;
        if !(0 < b.moderate && b.moderate < b.high && b.high < b.critical) {
            out.push(format!(
                "bands must rise: 0 < moderate ({}) < high ({}) < critical ({})",
                b.moderate, b.high, b.critical
            ));
        }
        if b.critical > MAX_CATEGORY_SCORE {
            out.push(format!(
                "bands.critical ({}) is above the highest score {MAX_CATEGORY_SCORE}",
                b.critical
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for factor in &self.factors {
            if !seen.insert(factor.id.as_str()) {
                out.push(format!("factor id '{}' is used twice", factor.id));
            }
            if factor.id.trim().is_empty() {
                out.push("a factor has an empty id".to_string());
            }
            if factor.points == 0 || factor.points > MAX_CATEGORY_SCORE {
                out.push(format!(
                    "factor '{}': points must be between 1 and {MAX_CATEGORY_SCORE}",
                    factor.id
                ));
            }
            if factor.reason.trim().is_empty() {
                out.push(format!("factor '{}': reason must not be empty", factor.id));
            }
            condition_problems(&format!("factor '{}'", factor.id), &factor.when, &mut out);
        }
        for floor in &self.floors {
            if !seen.insert(floor.id.as_str()) {
                out.push(format!("floor id '{}' is used twice", floor.id));
            }
            if floor.reason.trim().is_empty() {
                out.push(format!("floor '{}': reason must not be empty", floor.id));
            }
            if floor.when == Condition::default() {
                out.push(format!(
                    "floor '{}': needs a condition (an unconditional floor would lift every vendor)",
                    floor.id
                ));
            }
            condition_problems(&format!("floor '{}'", floor.id), &floor.when, &mut out);
        }
        out
    }
}

fn condition_problems(owner: &str, when: &Condition, out: &mut Vec<String>) {
    // `false` would make a condition hold for *less* risk, breaking the
    // guarantee that more risk never lowers a tier.
    if when.patient_care_impact == Some(false) {
        out.push(format!(
            "{owner}: patient_care_impact can only be true (a condition must not reward less risk)"
        ));
    }
    if when.outside_home_regions == Some(false) {
        out.push(format!(
            "{owner}: outside_home_regions can only be true (a condition must not reward less risk)"
        ));
    }
    for (name, list_empty) in [
        (
            "vendor_type_in",
            when.vendor_type_in.as_ref().map(Vec::is_empty),
        ),
        (
            "deployment_in",
            when.deployment_in.as_ref().map(Vec::is_empty),
        ),
        ("tenancy_in", when.tenancy_in.as_ref().map(Vec::is_empty)),
        (
            "data_class_in",
            when.data_class_in.as_ref().map(Vec::is_empty),
        ),
        ("action_in", when.action_in.as_ref().map(Vec::is_empty)),
        (
            "connectivity_in",
            when.connectivity_in.as_ref().map(Vec::is_empty),
        ),
    ] {
        if list_empty == Some(true) {
            out.push(format!(
                "{owner}: {name} is an empty list and can never hold"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_is_valid() {
        let policy = TieringPolicy::from_toml(DEFAULT_POLICY_TOML).expect("valid");
        assert!(!policy.factors.is_empty());
        assert!(!policy.floors.is_empty());
        // Every category can be scored by at least one factor.
        for category in RiskCategory::ALL {
            assert!(
                policy.factors.iter().any(|f| f.category == *category),
                "no factor scores {category}"
            );
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let policy = TieringPolicy::builtin();
        let again = TieringPolicy::from_toml(&policy.to_toml()).expect("re-parses");
        assert_eq!(policy, again);
    }

    #[test]
    fn rejects_typos_and_non_monotone_rules() {
        let typo =
            DEFAULT_POLICY_TOML.replacen("records_at_least = 10001", "record_at_least = 10001", 1);
        assert!(matches!(
            TieringPolicy::from_toml(&typo),
            Err(PolicyError::Syntax(_))
        ));
        let text = r#"
version = "t1"
name = "test"
bands = { moderate = 50, high = 40, critical = 75 }
[[factor]]
id = "a"
category = "privacy"
points = 0
reason = "r"
when = { patient_care_impact = false }
[[floor]]
id = "a"
tier = "high"
reason = "x"
"#;
        let Err(PolicyError::Invalid(problems)) = TieringPolicy::from_toml(text) else {
            panic!("expected invalid policy");
        };
        let all = problems.join("\n");
        assert!(all.contains("bands must rise"), "{all}");
        assert!(all.contains("points must be between"), "{all}");
        assert!(
            all.contains("patient_care_impact can only be true"),
            "{all}"
        );
        assert!(all.contains("used twice"), "{all}");
        assert!(all.contains("needs a condition"), "{all}");
    }
}
