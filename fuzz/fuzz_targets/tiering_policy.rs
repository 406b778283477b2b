//! `TieringPolicy::from_toml` on arbitrary UTF-8; when a policy is accepted,
//! assessing a fixed vendor must not panic and must stay within the scale.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_domain::policy::MAX_CATEGORY_SCORE;
use mamori_domain::{
    assess, Connectivity, DataAction, DataClass, DataFlow, Deployment, LifecycleStatus,
    RevenueDependency, Service, Tenancy, TieringPolicy, VendorDraft, VendorSource, VendorType,
};

fn fixed_vendor() -> VendorDraft {
    VendorDraft {
        external_id: Some("FUZZ-1".into()),
        legal_name: "Cedar Imaging Cloud, Inc.".into(),
        aliases: vec![],
        domains: vec!["cedarimaging.example".into()],
        vendor_type: VendorType::Saas,
        deployment: Deployment::PublicCloud,
        tenancy: Tenancy::MultiTenant,
        status: LifecycleStatus::Active,
        source: VendorSource::Manual,
        owner_email: "owner@hospital.example".into(),
        owner_name: None,
        notes: None,
        services: vec![Service {
            name: "Radiology image archive".into(),
            max_tolerable_downtime_hours: Some(4),
            business_processes: vec!["Radiology reading".into()],
            patient_care_impact: true,
            patients_affected: Some(120_000),
            records_affected: Some(2_500_000),
            revenue_dependency: RevenueDependency::Medium,
        }],
        data_flows: vec![DataFlow {
            data_class: DataClass::Phi,
            actions: vec![DataAction::Store, DataAction::Transmit],
            record_count: 2_500_000,
            locations: vec!["US".into(), "SG".into()],
            connectivity: vec![Connectivity::ApiIntegration],
            subprocessors: vec!["Amazon Web Services".into()],
        }],
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = TieringPolicy::from_toml(text) {
        let vendor = fixed_vendor();
        let risk = assess(&policy, vendor.risk_profile());
        assert!(risk
            .scores
            .iter()
            .all(|(_, score)| score <= MAX_CATEGORY_SCORE));
        assert_eq!(risk.policy_version, policy.version);
    }
});
