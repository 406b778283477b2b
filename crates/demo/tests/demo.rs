use std::collections::{BTreeMap, BTreeSet};

use mamori_demo::{demo_organisation, synthetic_vendors};
use mamori_domain::{
    assess, DataClass, LifecycleStatus, Role, Tier, TieringPolicy, VendorDraft, VendorSource,
    VendorType,
};

fn tier_counts(vendors: &[VendorDraft]) -> BTreeMap<Tier, usize> {
    let policy = TieringPolicy::builtin();
    let mut counts = BTreeMap::new();
    for vendor in vendors {
        *counts
            .entry(assess(&policy, vendor.risk_profile()).tier)
            .or_insert(0) += 1;
    }
    counts
}

fn percent(part: usize, whole: usize) -> usize {
    part * 100 / whole
}

#[test]
fn demo_is_identical_on_every_call() {
    assert_eq!(demo_organisation(), demo_organisation());
}

#[test]
fn demo_has_about_150_valid_vendors_with_distinct_keys() {
    let org = demo_organisation();
    assert!(
        (140..=160).contains(&org.vendors.len()),
        "{} vendors",
        org.vendors.len()
    );
    let mut keys = BTreeSet::new();
    for vendor in &org.vendors {
        let errors = vendor.validate();
        assert!(errors.is_empty(), "{}: {errors:?}", vendor.legal_name);
        assert!(
            keys.insert(vendor.matching_key()),
            "duplicate key for {}",
            vendor.legal_name
        );
        assert_eq!(vendor.source, VendorSource::Demo);
        assert!(
            (1..=3).contains(&vendor.services.len()),
            "{}",
            vendor.legal_name
        );
        assert!(!vendor.data_flows.is_empty(), "{}", vendor.legal_name);
        for domain in &vendor.domains {
            assert!(domain.ends_with(".example"), "{domain}");
        }
    }
}

#[test]
fn demo_domains_are_unique() {
    let org = demo_organisation();
    let mut seen = BTreeSet::new();
    for domain in org.vendors.iter().flat_map(|v| &v.domains) {
        assert!(seen.insert(domain.as_str()), "{domain} used twice");
    }
}

#[test]
fn demo_covers_every_vendor_type() {
    let org = demo_organisation();
    for vendor_type in VendorType::ALL {
        assert!(
            org.vendors.iter().any(|v| v.vendor_type == *vendor_type),
            "no {vendor_type} vendor"
        );
    }
}

#[test]
fn demo_tiers_spread_under_the_shipped_policy() {
    let org = demo_organisation();
    let total = org.vendors.len();
    let counts = tier_counts(&org.vendors);
    let share = |tier| percent(counts.get(&tier).copied().unwrap_or(0), total);
    for tier in Tier::ALL {
        assert!(counts.contains_key(tier), "no {tier} vendor: {counts:?}");
    }
    assert!(
        (10..=20).contains(&share(Tier::Critical)),
        "critical share: {counts:?}"
    );
    assert!(
        (25..=35).contains(&share(Tier::High)),
        "high share: {counts:?}"
    );
    assert!(
        share(Tier::Moderate) >= 15 && share(Tier::Low) >= 15,
        "moderate and low shares: {counts:?}"
    );
}

#[test]
fn demo_people_cover_the_roles_without_an_administrator() {
    let org = demo_organisation();
    let count = |role| org.people.iter().filter(|p| p.role == role).count();
    assert_eq!(count(Role::Administrator), 0);
    assert_eq!(count(Role::RiskManager), 2);
    assert_eq!(count(Role::AcceptanceAuthority), 1);
    assert_eq!(count(Role::Auditor), 1);
    assert!(count(Role::RelationshipOwner) >= 6);

    let mut emails = BTreeSet::new();
    for person in &org.people {
        assert!(emails.insert(person.email.as_str()), "{}", person.email);
        assert!(person.email.ends_with("@kbmc.example"), "{}", person.email);
        assert!(mamori_domain::validate_email(&person.email).is_ok());
        assert!(person.title().is_some_and(|t| !t.is_empty()));
        assert!(!person.display_name.trim().is_empty());
    }
}

#[test]
fn every_relationship_owner_owns_vendors_and_only_owners_do() {
    let org = demo_organisation();
    let owners: BTreeMap<&str, &str> = org
        .people
        .iter()
        .filter(|p| p.role == Role::RelationshipOwner)
        .map(|p| (p.email.as_str(), p.display_name.as_str()))
        .collect();
    for vendor in &org.vendors {
        let name = owners.get(vendor.owner_email.as_str());
        assert!(
            name.is_some(),
            "{} owned by {}",
            vendor.legal_name,
            vendor.owner_email
        );
        assert_eq!(vendor.owner_name.as_deref(), name.copied());
    }
    for email in owners.keys() {
        assert!(
            org.vendors
                .iter()
                .filter(|v| v.owner_email == *email)
                .count()
                >= 5,
            "{email} owns fewer than five vendors"
        );
    }
}

#[test]
fn demo_lifecycle_is_mostly_active_with_every_stage_present() {
    let org = demo_organisation();
    let active = org
        .vendors
        .iter()
        .filter(|v| v.status == LifecycleStatus::Active)
        .count();
    assert!(percent(active, org.vendors.len()) >= 65, "{active} active");
    for status in LifecycleStatus::ALL {
        assert!(
            org.vendors.iter().any(|v| v.status == *status),
            "no {status} vendor"
        );
    }
}

#[test]
fn demo_data_is_varied() {
    let org = demo_organisation();
    let flows: Vec<_> = org.vendors.iter().flat_map(|v| &v.data_flows).collect();
    for class in DataClass::ALL {
        assert!(
            flows.iter().any(|f| f.data_class == *class),
            "no {class} flow"
        );
    }
    let locations: BTreeSet<&str> = flows
        .iter()
        .flat_map(|f| f.locations.iter().map(String::as_str))
        .collect();
    for region in ["US", "CA", "IE", "IN", "JP", "DE"] {
        assert!(locations.contains(region), "no data in {region}");
    }
    let phi: Vec<u64> = flows
        .iter()
        .filter(|f| f.data_class == DataClass::Phi)
        .map(|f| f.record_count)
        .collect();
    assert!(
        phi.iter().any(|&n| n < 1_000),
        "PHI counts start in the hundreds"
    );
    assert!(
        phi.iter().any(|&n| n >= 1_000_000),
        "PHI counts reach millions"
    );
    assert!(flows.iter().any(|f| !f.subprocessors.is_empty()));
    assert!(org.vendors.iter().any(|v| !v.aliases.is_empty()));
    assert!(org.vendors.iter().any(|v| v.notes.is_some()));
}

#[test]
fn synthetic_vendors_are_distinct_valid_and_deterministic() {
    let vendors = synthetic_vendors(5_000, 42);
    assert_eq!(vendors.len(), 5_000);
    let mut keys = BTreeSet::new();
    for vendor in &vendors {
        let errors = vendor.validate();
        assert!(errors.is_empty(), "{}: {errors:?}", vendor.legal_name);
        assert!(keys.insert(vendor.matching_key()), "{}", vendor.legal_name);
    }
    assert_eq!(vendors, synthetic_vendors(5_000, 42));
    assert_ne!(vendors, synthetic_vendors(5_000, 43));
    // A shorter run is a prefix of a longer one with the same seed.
    assert_eq!(synthetic_vendors(10, 42)[..], vendors[..10]);
    assert!(synthetic_vendors(0, 42).is_empty());
}

#[test]
fn synthetic_vendors_mix_types_and_tiers() {
    let vendors = synthetic_vendors(2_000, 1);
    for vendor_type in VendorType::ALL {
        assert!(
            vendors.iter().any(|v| v.vendor_type == *vendor_type),
            "no {vendor_type} vendor"
        );
    }
    let counts = tier_counts(&vendors);
    for tier in Tier::ALL {
        assert!(counts.contains_key(tier), "no {tier} vendor: {counts:?}");
    }
}

#[test]
fn synthetic_names_never_clash_with_the_demo() {
    let demo: BTreeSet<String> = demo_organisation()
        .vendors
        .iter()
        .map(VendorDraft::matching_key)
        .collect();
    for vendor in synthetic_vendors(2_000, 7) {
        assert!(
            !demo.contains(&vendor.matching_key()),
            "{}",
            vendor.legal_name
        );
    }
}
