//! Contracts: the clause catalog, which clauses a vendor's contract must
//! carry, the gaps that become findings, and renewal windows.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::labels::label_enum;
use crate::questionnaire::Severity;
use crate::{DataClass, Tier};

/// The shipped catalog, compiled in.
pub const DEFAULT_CLAUSE_CATALOG_TOML: &str =
    include_str!("../../../content/contracts/clauses.toml");

label_enum! {
    /// What the contract review found for one clause.
    ClauseState, "clause state" {
        Present = "present" | "yes",
        Partial = "partial",
        Absent = "absent" | "no" | "missing",
        /// Not reviewed yet: a required clause counts as missing until
        /// someone has read the contract.
        Unknown = "unknown" | "not_reviewed",
    }
}

/// When a clause is required. Every condition given must hold; within a
/// list, any entry matches. No condition at all (or `always`) means always.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    #[serde(default)]
    pub always: bool,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub data_classes: Vec<DataClass>,
}

impl Requirement {
    pub fn applies(&self, tier: Option<Tier>, data: &[DataClass]) -> bool {
        if self.always || (self.tiers.is_empty() && self.data_classes.is_empty()) {
            return true;
        }
        let tier_ok = self.tiers.is_empty() || tier.is_some_and(|t| self.tiers.contains(&t));
        let data_ok =
            self.data_classes.is_empty() || data.iter().any(|d| self.data_classes.contains(d));
        tier_ok && data_ok
    }
}

/// A stricter severity for vendors handling particular data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityOverride {
    pub data_classes: Vec<DataClass>,
    #[serde(default)]
    pub absent_severity: Option<Severity>,
    #[serde(default)]
    pub partial_severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub title_ja: String,
    #[serde(default)]
    pub guidance: String,
    #[serde(default)]
    pub required: Requirement,
    pub absent_severity: Severity,
    pub partial_severity: Severity,
    #[serde(default)]
    pub csf: String,
    #[serde(default)]
    pub overrides: Vec<SeverityOverride>,
}

impl Clause {
    /// The severity of a gap in this clause for a vendor handling `data`.
    pub fn gap_severity(&self, state: ClauseState, data: &[DataClass]) -> Option<Severity> {
        let base = match state {
            ClauseState::Present => return None,
            ClauseState::Partial => self.partial_severity,
            ClauseState::Absent | ClauseState::Unknown => self.absent_severity,
        };
        let stricter = self
            .overrides
            .iter()
            .filter(|o| data.iter().any(|d| o.data_classes.contains(d)))
            .filter_map(|o| match state {
                ClauseState::Partial => o.partial_severity,
                _ => o.absent_severity,
            });
        Some(
            stricter
                .chain(std::iter::once(base))
                .min_by_key(|s| s.rank())
                .unwrap_or(base),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClauseCatalog {
    pub version: String,
    #[serde(rename = "clause")]
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("clause catalog is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("clause catalog is not valid: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

impl ClauseCatalog {
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let catalog: ClauseCatalog = toml::from_str(text)?;
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for clause in &catalog.clauses {
            if clause.key.trim().is_empty() || clause.title.trim().is_empty() {
                problems.push("every clause needs a key and a title".to_string());
            }
            if !seen.insert(clause.key.as_str()) {
                problems.push(format!("clause key '{}' appears twice", clause.key));
            }
        }
        if catalog.version.trim().is_empty() {
            problems.push("version must not be empty".into());
        }
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogError::Invalid(problems))
        }
    }

    /// The shipped catalog. A test parses it, so this cannot fail.
    pub fn builtin() -> Self {
        Self::parse(DEFAULT_CLAUSE_CATALOG_TOML)
            .unwrap_or_else(|e| panic!("shipped clause catalog: {e}"))
    }

    pub fn clause(&self, key: &str) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.key == key)
    }

    /// Gaps in a contract of a vendor with this tier and data: every required
    /// clause that is not present, with its severity (worst first).
    pub fn gaps(
        &self,
        tier: Option<Tier>,
        data: &[DataClass],
        states: &HashMap<String, ClauseState>,
    ) -> Vec<ClauseGap> {
        let mut out: Vec<ClauseGap> = self
            .clauses
            .iter()
            .filter(|c| c.required.applies(tier, data))
            .filter_map(|c| {
                let state = states.get(&c.key).copied().unwrap_or(ClauseState::Unknown);
                c.gap_severity(state, data).map(|severity| ClauseGap {
                    clause_key: c.key.clone(),
                    state,
                    severity,
                })
            })
            .collect();
        out.sort_by_key(|g| g.severity.rank());
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClauseGap {
    pub clause_key: String,
    pub state: ClauseState,
    pub severity: Severity,
}

/// Where a contract stands on its renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Renewal {
    NoEndDate,
    Running {
        days_left: i64,
    },
    /// Inside the renewal notice window: decide now whether to renew.
    NoticeWindow {
        days_left: i64,
    },
    Ended {
        days_ago: i64,
    },
}

/// A contract ends at the end of `ends_on`; its notice window opens
/// `notice_days` before that.
pub fn renewal(ends_on: Option<NaiveDate>, notice_days: i64, today: NaiveDate) -> Renewal {
    let Some(end) = ends_on else {
        return Renewal::NoEndDate;
    };
    let days_left = (end - today).num_days();
    if days_left < 0 {
        Renewal::Ended {
            days_ago: -days_left,
        }
    } else if days_left <= notice_days.max(0) {
        Renewal::NoticeWindow { days_left }
    } else {
        Renewal::Running { days_left }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn shipped_catalog_parses_and_covers_the_brief() {
        let c = ClauseCatalog::builtin();
        for key in [
            "sla_cia",
            "audit_rights",
            "vuln_remediation_sla",
            "vuln_notification",
            "incident_cooperation",
            "datacenter_notice",
            "baa",
            "breach_notification_window",
            "data_return_destruction",
            "subprocessor_flowdown",
            "cyber_insurance",
            "customer_held_keys",
            "terminate_for_security",
        ] {
            assert!(c.clause(key).is_some(), "{key} missing");
        }
    }

    #[test]
    fn phi_vendor_without_baa_is_a_critical_gap() {
        let c = ClauseCatalog::builtin();
        let gaps = c.gaps(Some(Tier::Moderate), &[DataClass::Phi], &HashMap::new());
        let baa = gaps
            .iter()
            .find(|g| g.clause_key == "baa")
            .expect("baa gap");
        assert_eq!(baa.severity, Severity::Critical);
        assert_eq!(gaps[0].severity, Severity::Critical, "worst first");
        let breach = gaps
            .iter()
            .find(|g| g.clause_key == "breach_notification_window")
            .expect("breach window gap");
        assert_eq!(breach.severity, Severity::Critical, "PHI override");
    }

    #[test]
    fn present_clauses_and_unrequired_ones_raise_nothing() {
        let c = ClauseCatalog::builtin();
        let mut states = HashMap::new();
        states.insert("baa".to_string(), ClauseState::Present);
        let gaps = c.gaps(Some(Tier::Low), &[DataClass::Phi], &states);
        assert!(gaps.iter().all(|g| g.clause_key != "baa"));
        // A low-tier vendor with no data needs none of the clauses.
        assert!(c
            .gaps(Some(Tier::Low), &[DataClass::NoData], &HashMap::new())
            .is_empty());
        // Customer-held keys: PHI *and* critical tier.
        assert!(c
            .gaps(Some(Tier::High), &[DataClass::Phi], &HashMap::new())
            .iter()
            .all(|g| g.clause_key != "customer_held_keys"));
        assert!(c
            .gaps(Some(Tier::Critical), &[DataClass::Phi], &HashMap::new())
            .iter()
            .any(|g| g.clause_key == "customer_held_keys"));
    }

    #[test]
    fn partial_is_milder_than_absent() {
        let c = ClauseCatalog::builtin();
        let mut states = HashMap::new();
        states.insert("baa".to_string(), ClauseState::Partial);
        let gaps = c.gaps(None, &[DataClass::Phi], &states);
        let baa = gaps.iter().find(|g| g.clause_key == "baa").expect("gap");
        assert_eq!(baa.severity, Severity::High);
    }

    #[test]
    fn renewal_windows() {
        let today = d("2026-12-03");
        assert_eq!(renewal(None, 90, today), Renewal::NoEndDate);
        assert_eq!(
            renewal(Some(d("2027-12-03")), 90, today),
            Renewal::Running { days_left: 365 }
        );
        assert_eq!(
            renewal(Some(d("2027-03-03")), 90, today),
            Renewal::NoticeWindow { days_left: 90 }
        );
        assert_eq!(
            renewal(Some(d("2026-12-03")), 90, today),
            Renewal::NoticeWindow { days_left: 0 }
        );
        assert_eq!(
            renewal(Some(d("2026-12-01")), 90, today),
            Renewal::Ended { days_ago: 2 }
        );
    }
}
