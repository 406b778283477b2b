//! A deterministic, realistic-looking inventory for benchmarks and load tests.

use mamori_domain::{
    Connectivity, DataAction, DataClass, DataFlow, Deployment, LifecycleStatus, RevenueDependency,
    Service, Tenancy, VendorDraft, VendorSource, VendorType,
};

use crate::export::write_inventory_csv;

const NAME_STEMS: &[&str] = &[
    "Cedar",
    "Harbor",
    "Northwind",
    "Bluestone",
    "Summit",
    "Riverbend",
    "Lakeside",
    "Ironwood",
    "Meridian",
    "Granite",
    "Willow",
    "Beacon",
    "Pioneer",
    "Silverline",
    "Crescent",
    "Redwood",
];
const NAME_TRADES: &[(&str, VendorType, &str)] = &[
    ("Imaging Cloud", VendorType::Saas, "Radiology image archive"),
    (
        "Health Records",
        VendorType::Saas,
        "Electronic health record",
    ),
    (
        "Billing Partners",
        VendorType::BillingRcm,
        "Claims submission",
    ),
    (
        "Reference Laboratories",
        VendorType::ClinicalLab,
        "Outsourced lab testing",
    ),
    (
        "Medical Devices",
        VendorType::MedicalDevice,
        "Infusion pump fleet",
    ),
    (
        "Managed IT",
        VendorType::ManagedService,
        "Service desk and patching",
    ),
    ("Hosting", VendorType::Iaas, "Virtual machine hosting"),
    ("Telehealth", VendorType::Saas, "Video visits"),
    (
        "Advisory Group",
        VendorType::Consulting,
        "Security assessment",
    ),
    ("Data Platform", VendorType::Paas, "Analytics warehouse"),
];
const NAME_SUFFIXES: &[&str] = &["Inc.", "LLC", "Corp.", "Ltd.", "GmbH", "K.K."];
const OWNERS: &[(&str, &str)] = &[
    ("r.tanaka", "Rei Tanaka"),
    ("m.sato", "Mika Sato"),
    ("j.alvarez", "Jordan Alvarez"),
    ("p.okafor", "Precious Okafor"),
    ("l.chen", "Lin Chen"),
    ("s.novak", "Sara Novak"),
];
const PROCESSES: &[&str] = &[
    "Emergency care",
    "Outpatient scheduling",
    "Radiology reading",
    "Pharmacy dispensing",
    "Claims",
    "Payroll",
    "Research",
];
const LOCATIONS: &[&str] = &["US", "JP", "DE", "IE", "SG", "CA"];
const SUBPROCESSORS: &[&str] = &["Amazon Web Services", "Microsoft Azure", "Twilio", "Okta"];

/// `rows` vendors as an import CSV: deterministic, every row valid, every
/// vendor distinct by external id and by legal name.
pub fn synthetic_inventory_csv(rows: usize) -> Vec<u8> {
    let vendors: Vec<VendorDraft> = (0..rows).map(synthetic_vendor).collect();
    let mut out = Vec::with_capacity(rows * 400);
    match write_inventory_csv(&vendors, &mut out) {
        Ok(()) => out,
        // Writing to memory does not fail; an empty result is a safe answer.
        Err(_) => Vec::new(),
    }
}

pub(crate) fn synthetic_vendor(index: usize) -> VendorDraft {
    // A fixed mixing step gives variety without a random-number dependency.
    let mix = (index as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17);
    let pick = |shift: u32, len: usize| ((mix >> shift) as usize) % len;

    let stem = NAME_STEMS[pick(0, NAME_STEMS.len())];
    let (trade, vendor_type, service_name) = NAME_TRADES[pick(8, NAME_TRADES.len())];
    let suffix = NAME_SUFFIXES[pick(16, NAME_SUFFIXES.len())];
    let (owner_user, owner_name) = OWNERS[pick(24, OWNERS.len())];
    let number = index + 1;
    let slug = format!(
        "{}-{}-{number}",
        stem.to_ascii_lowercase(),
        trade_slug(trade)
    );

    let records = 1_000 * (1 + (mix >> 32) % 5_000);
    let handles_phi = !matches!(vendor_type, VendorType::Consulting);
    let data_flows = if handles_phi {
        let classes: &[DataClass] = if vendor_type == VendorType::BillingRcm {
            &[DataClass::Phi, DataClass::Payment]
        } else {
            &[DataClass::Phi]
        };
        classes
            .iter()
            .map(|class| DataFlow {
                data_class: *class,
                actions: vec![DataAction::Store, DataAction::Process],
                record_count: records,
                locations: vec![LOCATIONS[pick(40, LOCATIONS.len())].to_string()],
                connectivity: vec![Connectivity::ApiIntegration],
                subprocessors: vec![SUBPROCESSORS[pick(44, SUBPROCESSORS.len())].to_string()],
            })
            .collect()
    } else {
        vec![DataFlow {
            data_class: DataClass::NoData,
            actions: vec![],
            record_count: 0,
            locations: vec![],
            connectivity: vec![Connectivity::RemoteAdmin],
            subprocessors: vec![],
        }]
    };

    VendorDraft {
        external_id: Some(format!("SYN-{number:07}")),
        legal_name: format!("{stem} {trade} {number} {suffix}"),
        aliases: vec![format!("{stem} {number}")],
        domains: vec![format!("{slug}.example")],
        vendor_type,
        deployment: [
            Deployment::PublicCloud,
            Deployment::PrivateCloud,
            Deployment::Hybrid,
            Deployment::OnPremises,
        ][pick(28, 4)],
        tenancy: [Tenancy::MultiTenant, Tenancy::SingleTenant][pick(30, 2)],
        status: [
            LifecycleStatus::Active,
            LifecycleStatus::Active,
            LifecycleStatus::Onboarding,
            LifecycleStatus::Candidate,
        ][pick(32, 4)],
        source: VendorSource::Import,
        owner_email: format!("{owner_user}@hospital.example"),
        owner_name: Some(owner_name.to_string()),
        notes: (pick(56, 7) == 0).then(|| "Contract renewal due next fiscal year.".to_string()),
        services: vec![Service {
            name: service_name.to_string(),
            max_tolerable_downtime_hours: Some([4, 8, 24, 72, 168][pick(34, 5)]),
            business_processes: vec![PROCESSES[pick(37, PROCESSES.len())].to_string()],
            patient_care_impact: pick(50, 3) == 0,
            patients_affected: Some(records / 10),
            records_affected: Some(records),
            revenue_dependency: [
                RevenueDependency::NoDependency,
                RevenueDependency::Low,
                RevenueDependency::Medium,
                RevenueDependency::High,
            ][pick(52, 4)],
        }],
        data_flows,
    }
}

fn trade_slug(trade: &str) -> String {
    trade.to_ascii_lowercase().replace(' ', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_rows_are_valid_and_distinct() {
        let mut keys = std::collections::HashSet::new();
        for i in 0..2_000 {
            let vendor = synthetic_vendor(i);
            assert_eq!(vendor.validate(), vec![], "vendor {i}");
            assert!(keys.insert(mamori_domain::fold_name(&vendor.legal_name)));
        }
    }
}
