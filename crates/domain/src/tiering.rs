//! Inherent-risk scoring and tiering: a pure function of (policy, vendor).
//!
//! Scale, per category: 0–100, the capped sum of the points of every policy
//! factor that holds. Tier: the band of the highest category score
//! (policy `bands`), raised to the highest floor that holds.

use serde::{Deserialize, Serialize};

use crate::policy::{Condition, TieringPolicy, MAX_CATEGORY_SCORE};
use crate::vendor::{DataFlow, RiskCategory, RiskProfile, Service, Tier};

/// One score per category, indexed by `RiskCategory::index`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryScores(pub [u32; 7]);

impl CategoryScores {
    pub fn get(&self, category: RiskCategory) -> u32 {
        self.0[category.index()]
    }

    pub fn highest(&self) -> (RiskCategory, u32) {
        let mut best = (RiskCategory::Cybersecurity, 0);
        for category in RiskCategory::ALL {
            let score = self.get(*category);
            if score > best.1 {
                best = (*category, score);
            }
        }
        best
    }

    pub fn iter(&self) -> impl Iterator<Item = (RiskCategory, u32)> + '_ {
        RiskCategory::ALL.iter().map(|c| (*c, self.get(*c)))
    }
}

/// A policy factor that held, and what it added. The words of the reason
/// stay in the policy (`TieringPolicy::factor`): results stay small enough to
/// store for every vendor, and the explanation is always the policy's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub factor_id: String,
    pub category: RiskCategory,
    pub points: u32,
}

/// Why the tier is what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TierReason {
    /// The highest category score fell in this tier's band.
    Score {
        tier: Tier,
        category: RiskCategory,
        score: u32,
        band_starts_at: u32,
    },
    /// A floor rule held and lifted the tier (reason: `TieringPolicy::floor`).
    Floor { tier: Tier, floor_id: String },
}

/// The result of tiering one vendor, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InherentRisk {
    pub tier: Tier,
    pub scores: CategoryScores,
    pub contributions: Vec<Contribution>,
    pub tier_reasons: Vec<TierReason>,
    pub policy_version: String,
}

/// What is stored of an assessment: the tier, the scores and the policy
/// version. The explanation is not stored: it is `assess` again under that
/// policy, which is cheap and always in the policy's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub tier: Tier,
    pub scores: CategoryScores,
    pub policy_version: String,
}

impl InherentRisk {
    pub fn rating(&self) -> Rating {
        Rating {
            tier: self.tier,
            scores: self.scores,
            policy_version: self.policy_version.clone(),
        }
    }

    /// Contributions to one category, largest first.
    pub fn contributions_to(&self, category: RiskCategory) -> Vec<&Contribution> {
        let mut list: Vec<_> = self
            .contributions
            .iter()
            .filter(|c| c.category == category)
            .collect();
        list.sort_by_key(|c| std::cmp::Reverse(c.points));
        list
    }

    /// One sentence in English: "Critical because …", with the reasons
    /// taken from the policy that produced this result.
    pub fn summary(&self, policy: &TieringPolicy) -> String {
        let mut parts = Vec::new();
        for reason in &self.tier_reasons {
            match reason {
                TierReason::Score {
                    category, score, ..
                } => parts.push(format!(
                    "{category} risk scores {score}/{MAX_CATEGORY_SCORE}"
                )),
                TierReason::Floor { floor_id, .. } => parts.push(
                    policy
                        .floor(floor_id)
                        .map_or_else(|| floor_id.clone(), |f| f.reason.clone()),
                ),
            }
        }
        let tier = match self.tier {
            Tier::Critical => "Critical",
            Tier::High => "High",
            Tier::Moderate => "Moderate",
            Tier::Low => "Low",
        };
        if parts.is_empty() {
            format!("{tier}: no risk factor applies")
        } else {
            format!("{tier} because {}", parts.join("; "))
        }
    }
}

/// Scores and tiers one vendor under a policy.
pub fn assess(policy: &TieringPolicy, vendor: RiskProfile<'_>) -> InherentRisk {
    let mut scores = CategoryScores::default();
    let mut contributions = Vec::new();
    for factor in &policy.factors {
        if holds(&factor.when, policy, vendor) {
            let slot = &mut scores.0[factor.category.index()];
            *slot = (*slot + factor.points).min(MAX_CATEGORY_SCORE);
            contributions.push(Contribution {
                factor_id: factor.id.clone(),
                category: factor.category,
                points: factor.points,
            });
        }
    }

    let (category, score) = scores.highest();
    let score_tier = policy.bands.tier_for(score);
    let mut tier = score_tier;
    let mut tier_reasons = Vec::new();
    if score_tier > Tier::Low {
        tier_reasons.push(TierReason::Score {
            tier: score_tier,
            category,
            score,
            band_starts_at: band_start(policy, score_tier),
        });
    }
    for floor in &policy.floors {
        if floor.tier >= score_tier && holds(&floor.when, policy, vendor) {
            tier = tier.max(floor.tier);
            tier_reasons.push(TierReason::Floor {
                tier: floor.tier,
                floor_id: floor.id.clone(),
            });
        }
    }
    // Lead with what decided the tier.
    tier_reasons.sort_by_key(|r| {
        std::cmp::Reverse(match r {
            TierReason::Score { tier, .. } | TierReason::Floor { tier, .. } => *tier,
        })
    });

    InherentRisk {
        tier,
        scores,
        contributions,
        tier_reasons,
        policy_version: policy.version.clone(),
    }
}

fn band_start(policy: &TieringPolicy, tier: Tier) -> u32 {
    match tier {
        Tier::Low => 0,
        Tier::Moderate => policy.bands.moderate,
        Tier::High => policy.bands.high,
        Tier::Critical => policy.bands.critical,
    }
}

fn holds(when: &Condition, policy: &TieringPolicy, vendor: RiskProfile<'_>) -> bool {
    if let Some(types) = &when.vendor_type_in {
        if !types.contains(&vendor.vendor_type) {
            return false;
        }
    }
    if let Some(deployments) = &when.deployment_in {
        if !deployments.contains(&vendor.deployment) {
            return false;
        }
    }
    if let Some(tenancies) = &when.tenancy_in {
        if !tenancies.contains(&vendor.tenancy) {
            return false;
        }
    }
    if when.has_flow_terms()
        && !vendor
            .data_flows
            .iter()
            .any(|flow| flow_holds(when, policy, flow))
    {
        return false;
    }
    if when.has_service_terms() && !vendor.services.iter().any(|s| service_holds(when, s)) {
        return false;
    }
    true
}

fn flow_holds(when: &Condition, policy: &TieringPolicy, flow: &DataFlow) -> bool {
    if let Some(classes) = &when.data_class_in {
        if !classes.contains(&flow.data_class) {
            return false;
        }
    }
    if let Some(actions) = &when.action_in {
        if !flow.actions.iter().any(|a| actions.contains(a)) {
            return false;
        }
    }
    if let Some(min) = when.records_at_least {
        if flow.record_count < min {
            return false;
        }
    }
    if let Some(ways) = &when.connectivity_in {
        if !flow.connectivity.iter().any(|c| ways.contains(c)) {
            return false;
        }
    }
    if when.outside_home_regions == Some(true)
        && !flow
            .locations
            .iter()
            .any(|loc| !is_home_region(&policy.home_regions, loc))
    {
        return false;
    }
    if let Some(min) = when.subprocessors_at_least {
        if (flow.subprocessors.len() as u64) < u64::from(min) {
            return false;
        }
    }
    true
}

fn is_home_region(home: &[String], location: &str) -> bool {
    let location = location.trim();
    home.iter().any(|h| h.eq_ignore_ascii_case(location))
}

fn service_holds(when: &Condition, service: &Service) -> bool {
    if let Some(max) = when.downtime_hours_at_most {
        match service.max_tolerable_downtime_hours {
            Some(hours) if hours <= max => {}
            _ => return false,
        }
    }
    if when.patient_care_impact == Some(true) && !service.patient_care_impact {
        return false;
    }
    if let Some(min) = when.patients_affected_at_least {
        if service.patients_affected.unwrap_or(0) < min {
            return false;
        }
    }
    if let Some(min) = when.revenue_dependency_at_least {
        if service.revenue_dependency < min {
            return false;
        }
    }
    if let Some(min) = when.business_processes_at_least {
        if (service.business_processes.len() as u64) < u64::from(min) {
            return false;
        }
    }
    true
}
