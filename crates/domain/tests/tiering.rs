//! Tiering rules: worked examples and properties that must hold for any vendor.

use mamori_domain::*;
use proptest::prelude::*;

fn vendor(flows: Vec<DataFlow>, services: Vec<Service>) -> VendorDraft {
    VendorDraft {
        external_id: None,
        legal_name: "Example Health Software, Inc.".into(),
        aliases: vec![],
        domains: vec![],
        vendor_type: VendorType::Saas,
        deployment: Deployment::PublicCloud,
        tenancy: Tenancy::MultiTenant,
        status: LifecycleStatus::Active,
        source: VendorSource::Manual,
        owner_email: "owner@hospital.example".into(),
        owner_name: None,
        notes: None,
        services,
        data_flows: flows,
    }
}

fn phi(records: u64, actions: Vec<DataAction>) -> DataFlow {
    DataFlow {
        data_class: DataClass::Phi,
        actions,
        record_count: records,
        locations: vec!["US".into()],
        connectivity: vec![],
        subprocessors: vec![],
    }
}

fn service(downtime: Option<u32>, patient_care: bool) -> Service {
    Service {
        name: "Scheduling".into(),
        max_tolerable_downtime_hours: downtime,
        business_processes: vec![],
        patient_care_impact: patient_care,
        patients_affected: None,
        records_affected: None,
        revenue_dependency: RevenueDependency::NoDependency,
    }
}

#[test]
fn vendor_with_nothing_is_low_and_says_so() {
    let policy = TieringPolicy::builtin();
    let mut v = vendor(vec![], vec![]);
    v.tenancy = Tenancy::SingleTenant;
    let risk = assess(&policy, v.risk_profile());
    assert_eq!(risk.tier, Tier::Low);
    assert_eq!(risk.scores, CategoryScores::default());
    assert!(risk.summary(&policy).contains("no risk factor applies"));
}

#[test]
fn phi_for_more_than_ten_thousand_patients_is_at_least_high() {
    let policy = TieringPolicy::builtin();
    let at_limit = vendor(vec![phi(10_000, vec![DataAction::Store])], vec![]);
    let over = vendor(vec![phi(10_001, vec![DataAction::Store])], vec![]);
    let over_risk = assess(&policy, over.risk_profile());
    assert!(over_risk.tier >= Tier::High, "{over_risk:?}");
    assert!(over_risk.tier_reasons.iter().any(
        |r| matches!(r, TierReason::Floor { floor_id, .. } if floor_id == "phi-over-10k-records")
    ));
    let at_limit_risk = assess(&policy, at_limit.risk_profile());
    assert!(!at_limit_risk.tier_reasons.iter().any(
        |r| matches!(r, TierReason::Floor { floor_id, .. } if floor_id == "phi-over-10k-records")
    ));
}

#[test]
fn losing_patient_care_within_hours_is_critical_and_explained() {
    let policy = TieringPolicy::builtin();
    let v = vendor(vec![], vec![service(Some(2), true)]);
    let risk = assess(&policy, v.risk_profile());
    assert_eq!(risk.tier, Tier::Critical);
    assert!(
        risk.summary(&policy).starts_with("Critical because"),
        "{}",
        risk.summary(&policy)
    );
    assert!(
        risk.summary(&policy).contains("4 hours"),
        "{}",
        risk.summary(&policy)
    );
    let ops = risk.contributions_to(RiskCategory::Operational);
    let ids: Vec<_> = ops.iter().map(|c| c.factor_id.as_str()).collect();
    assert!(ids.contains(&"ops-patient-care"));
    assert!(ids.contains(&"ops-downtime-4h"));
    // The score equals the (capped) sum of what the explanation lists.
    let sum: u32 = ops.iter().map(|c| c.points).sum();
    assert_eq!(risk.scores.get(RiskCategory::Operational), sum.min(100));
}

#[test]
fn every_contribution_names_a_policy_factor_and_scores_add_up() {
    let policy = TieringPolicy::builtin();
    let v = vendor(
        vec![phi(250_000, vec![DataAction::Store, DataAction::Process])],
        vec![service(Some(12), true)],
    );
    let risk = assess(&policy, v.risk_profile());
    for category in RiskCategory::ALL {
        let sum: u32 = risk
            .contributions_to(*category)
            .iter()
            .map(|c| c.points)
            .sum();
        assert_eq!(risk.scores.get(*category), sum.min(100), "{category}");
    }
    for c in &risk.contributions {
        assert!(policy.factors.iter().any(|f| f.id == c.factor_id));
    }
    assert_eq!(risk.policy_version, policy.version);
}

fn any_flow() -> impl Strategy<Value = DataFlow> {
    (
        prop::sample::select(DataClass::ALL.to_vec()),
        prop::collection::vec(prop::sample::select(DataAction::ALL.to_vec()), 0..3),
        0u64..2_000_000,
        prop::collection::vec(prop::sample::select(vec!["US", "JP", "DE", "IN"]), 0..3),
        prop::collection::vec(prop::sample::select(Connectivity::ALL.to_vec()), 0..3),
        prop::collection::vec("[a-z]{3,8}", 0..5),
    )
        .prop_map(
            |(class, actions, records, locations, connectivity, subs)| DataFlow {
                data_class: class,
                actions,
                record_count: records,
                locations: locations.into_iter().map(String::from).collect(),
                connectivity,
                subprocessors: subs,
            },
        )
}

fn any_service() -> impl Strategy<Value = Service> {
    (
        prop::option::of(0u32..500),
        prop::collection::vec("[a-z]{3,8}", 0..7),
        any::<bool>(),
        prop::option::of(0u64..1_000_000),
        prop::sample::select(RevenueDependency::ALL.to_vec()),
    )
        .prop_map(|(downtime, processes, care, patients, revenue)| Service {
            name: "svc".into(),
            max_tolerable_downtime_hours: downtime,
            business_processes: processes,
            patient_care_impact: care,
            patients_affected: patients,
            records_affected: None,
            revenue_dependency: revenue,
        })
}

fn any_vendor() -> impl Strategy<Value = VendorDraft> {
    (
        prop::sample::select(VendorType::ALL.to_vec()),
        prop::sample::select(Deployment::ALL.to_vec()),
        prop::sample::select(Tenancy::ALL.to_vec()),
        prop::collection::vec(any_flow(), 0..4),
        prop::collection::vec(any_service(), 0..3),
    )
        .prop_map(|(t, d, ten, flows, services)| {
            let mut v = vendor(flows, services);
            v.vendor_type = t;
            v.deployment = d;
            v.tenancy = ten;
            v
        })
}

proptest! {
    #[test]
    fn adding_phi_records_never_lowers_the_tier(v in any_vendor(), extra in 0u64..5_000_000, pick in any::<prop::sample::Index>()) {
        let policy = TieringPolicy::builtin();
        let before = assess(&policy, v.risk_profile());
        let mut more = v.clone();
        if more.data_flows.is_empty() {
            more.data_flows.push(phi(extra, vec![DataAction::Store]));
        } else {
            let i = pick.index(more.data_flows.len());
            more.data_flows[i].record_count = more.data_flows[i].record_count.saturating_add(extra);
        }
        let after = assess(&policy, more.risk_profile());
        prop_assert!(after.tier >= before.tier);
        for c in RiskCategory::ALL {
            prop_assert!(after.scores.get(*c) >= before.scores.get(*c));
        }
    }

    #[test]
    fn adding_a_data_flow_never_lowers_the_tier(v in any_vendor(), flow in any_flow()) {
        let policy = TieringPolicy::builtin();
        let before = assess(&policy, v.risk_profile());
        let mut more = v.clone();
        more.data_flows.push(flow);
        prop_assert!(assess(&policy, more.risk_profile()).tier >= before.tier);
    }

    #[test]
    fn raising_criticality_never_lowers_the_tier(v in any_vendor(), cut in 0u32..500, pick in any::<prop::sample::Index>()) {
        let policy = TieringPolicy::builtin();
        let before = assess(&policy, v.risk_profile());
        let mut more = v.clone();
        if more.services.is_empty() {
            more.services.push(service(Some(cut), true));
        } else {
            let i = pick.index(more.services.len());
            let s = &mut more.services[i];
            s.patient_care_impact = true;
            s.max_tolerable_downtime_hours = Some(s.max_tolerable_downtime_hours.map_or(cut, |h| h.saturating_sub(cut)));
            s.revenue_dependency = RevenueDependency::High;
            s.patients_affected = Some(s.patients_affected.unwrap_or(0).saturating_add(u64::from(cut)));
        }
        prop_assert!(assess(&policy, more.risk_profile()).tier >= before.tier);
    }

    #[test]
    fn scores_stay_on_the_scale_and_tier_matches_bands(v in any_vendor()) {
        let policy = TieringPolicy::builtin();
        let risk = assess(&policy, v.risk_profile());
        for (_, score) in risk.scores.iter() {
            prop_assert!(score <= 100);
        }
        let (_, top) = risk.scores.highest();
        prop_assert!(risk.tier >= policy.bands.tier_for(top));
    }

    #[test]
    fn tiering_is_deterministic(v in any_vendor()) {
        let policy = TieringPolicy::builtin();
        prop_assert_eq!(assess(&policy, v.risk_profile()), assess(&policy, v.risk_profile()));
    }
}
