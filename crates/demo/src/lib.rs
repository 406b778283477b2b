//! Mamori's demo data: a fictional US hospital, Kanagawa Bay Medical Center,
//! with its risk team, relationship owners and about 150 vendors; and a
//! generator of many synthetic vendors for benchmarks.
//!
//! Invariant: pure and deterministic — same output everywhere, no I/O. Every
//! choice comes from a fixed-seed SplitMix64 generator using integer
//! arithmetic only, and nothing iterates a hash map, so each call returns the
//! same data on every run and platform.
//!
//! All names are fictional. People and company web domains use the reserved
//! `.example` top-level domain.

mod catalogue;
mod rng;

use mamori_domain::{
    DataClass, DataFlow, LifecycleStatus, Role, Service, VendorDraft, VendorSource,
};

use catalogue::{
    FlowSpec, PersonSpec, VendorKind, KINDS, NAME_DENYLIST, NAME_FIRST, NAME_SECOND,
    ORGANISATION_NAME, PEOPLE,
};
use rng::SplitMix64;

/// A person to create as a user of the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPerson {
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

impl DemoPerson {
    /// The person's job title, e.g. "Director of Laboratory Services"; `None`
    /// for someone who is not part of the demo organisation.
    #[must_use]
    pub fn title(&self) -> Option<&'static str> {
        PEOPLE
            .iter()
            .find(|p| p.email == self.email)
            .map(|p| p.title)
    }
}

/// The demo hospital: its people (without the administrator, whom the server
/// creates) and its vendors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOrganisation {
    pub name: String,
    pub people: Vec<DemoPerson>,
    pub vendors: Vec<VendorDraft>,
}

/// Seed of the demo organisation. Changing it changes every name.
const DEMO_SEED: u64 = 0x4B42_4D43_2026;

/// The demo hospital: about 150 vendors.
#[must_use]
pub fn demo_organisation() -> DemoOrganisation {
    let mut rng = SplitMix64::new(DEMO_SEED);
    let mut roots = RootPool::default();
    let mut vendors = Vec::new();
    for kind in KINDS {
        // Consecutive variants give a kind's vendors different descriptors
        // and service names.
        let first_variant = rng.index(VARIANTS);
        for instance in 0..kind.count as usize {
            let variant = first_variant + instance;
            let root = roots.fresh(&mut rng);
            let descriptor = alternative(kind.descriptors, variant);
            let legal_form = kind.legal_forms[rng.index(kind.legal_forms.len())];
            let slug = root.to_ascii_lowercase();
            let identity = Identity {
                legal_name: format!("{root} {descriptor}{legal_form}"),
                aliases: demo_aliases(&root, descriptor, &mut roots, &mut rng),
                domains: demo_domains(&slug, descriptor, &mut rng),
            };
            vendors.push(build_vendor(kind, identity, variant, &mut rng, true));
        }
    }
    DemoOrganisation {
        name: ORGANISATION_NAME.to_string(),
        people: PEOPLE.iter().copied().map(demo_person).collect(),
        vendors,
    }
}

/// `count` distinct, valid vendors for benchmarks (100_000 must take well
/// under a second), deterministic from `seed`.
///
/// Vendors follow the demo hospital's mix of kinds, owners and tiers. Legal
/// names carry a sequence number, so they are distinct within a call and never
/// equal a name of `demo_organisation` (whose names have no digits).
#[must_use]
pub fn synthetic_vendors(count: usize, seed: u64) -> Vec<VendorDraft> {
    // One entry per demo vendor, so kinds appear in the demo's proportions.
    let weighted: Vec<&VendorKind> = KINDS
        .iter()
        .flat_map(|kind| std::iter::repeat_n(kind, kind.count as usize))
        .collect();
    let mut rng = SplitMix64::new(seed);
    let mut vendors = Vec::with_capacity(count);
    for number in 1..=count {
        let kind = weighted[rng.index(weighted.len())];
        let first = NAME_FIRST[rng.index(NAME_FIRST.len())];
        let second = NAME_SECOND[rng.index(NAME_SECOND.len())];
        let variant = rng.index(VARIANTS);
        let descriptor = alternative(kind.descriptors, variant);
        let legal_form = kind.legal_forms[rng.index(kind.legal_forms.len())];
        let slug = format!("{}{second}{number}", first.to_ascii_lowercase());
        let identity = Identity {
            legal_name: format!("{first}{second} {descriptor} {number}{legal_form}"),
            aliases: Vec::new(),
            domains: vec![format!("{slug}.example")],
        };
        vendors.push(build_vendor(kind, identity, variant, &mut rng, false));
    }
    vendors
}

fn demo_person(spec: &PersonSpec) -> DemoPerson {
    DemoPerson {
        email: spec.email.to_string(),
        display_name: spec.name.to_string(),
        role: spec.role,
    }
}

/// Hands out company-name roots ("Kestrelbrook") no other vendor uses, so
/// legal names, aliases and domains never collide.
#[derive(Default)]
struct RootPool {
    used: Vec<(usize, usize)>,
}

impl RootPool {
    fn fresh(&mut self, rng: &mut SplitMix64) -> String {
        loop {
            let pair = (rng.index(NAME_FIRST.len()), rng.index(NAME_SECOND.len()));
            let root = format!("{}{}", NAME_FIRST[pair.0], NAME_SECOND[pair.1]);
            // 480 combinations for ~170 draws: the loop ends after a few tries.
            if !self.used.contains(&pair) && !NAME_DENYLIST.contains(&root.as_str()) {
                self.used.push(pair);
                return root;
            }
        }
    }
}

/// Variants a vendor is drawn from; a multiple of 2, 3 and 4 so that every
/// alternative of a list is equally likely.
const VARIANTS: usize = 12;

/// The `variant`-th of the '|'-separated alternatives, wrapping around. One
/// variant per vendor picks both its descriptor and its service names, so
/// lists written in the same order stay paired ("Ultrasound" with
/// "Ultrasound system service").
fn alternative(alternatives: &str, variant: usize) -> &str {
    let count = alternatives.matches('|').count() + 1;
    alternatives
        .split('|')
        .nth(variant % count)
        .unwrap_or(alternatives)
        .trim()
}

/// A short trading name for some vendors, and a former name (before an
/// acquisition or rebrand) for a few.
fn demo_aliases(
    root: &str,
    descriptor: &str,
    roots: &mut RootPool,
    rng: &mut SplitMix64,
) -> Vec<String> {
    let mut aliases = Vec::new();
    if rng.chance(35) {
        // How people usually say it: "Kestrelbrook".
        aliases.push(root.to_string());
    }
    if rng.chance(10) {
        aliases.push(format!("{} {descriptor}", roots.fresh(rng)));
    }
    aliases
}

fn demo_domains(slug: &str, descriptor: &str, rng: &mut SplitMix64) -> Vec<String> {
    let word: String = descriptor
        .split(' ')
        .next()
        .unwrap_or(descriptor)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut domains = vec![if word.is_empty() {
        format!("{slug}.example")
    } else {
        format!("{slug}-{word}.example")
    }];
    if rng.chance(20) {
        let purpose = ["portal", "support", "connect"][rng.index(3)];
        domains.push(format!("{slug}-{purpose}.example"));
    }
    domains
}

struct Identity {
    legal_name: String,
    aliases: Vec<String>,
    domains: Vec<String>,
}

/// Fills in a vendor of `kind`: status, owner, services and data flows with
/// record counts drawn inside the kind's ranges; `variant` picks the service
/// names. `with_notes` adds the kind's
/// note and a status note (the demo shows them; benchmarks skip the bytes).
fn build_vendor(
    kind: &VendorKind,
    identity: Identity,
    variant: usize,
    rng: &mut SplitMix64,
    with_notes: bool,
) -> VendorDraft {
    let status = draw_status(rng);
    let owner = kind.dept.owner();
    let data_flows: Vec<DataFlow> = kind.flows.iter().map(|f| build_flow(f, rng)).collect();
    // The service affects the records its vendor holds.
    let records_affected = data_flows
        .iter()
        .filter(|f| f.data_class != DataClass::NoData)
        .map(|f| f.record_count)
        .max();
    let services = kind
        .services
        .iter()
        .map(|spec| Service {
            name: alternative(spec.names, variant).to_string(),
            max_tolerable_downtime_hours: spec.downtime_hours,
            business_processes: spec.processes.iter().map(ToString::to_string).collect(),
            patient_care_impact: spec.patient_care,
            patients_affected: spec.patients,
            records_affected,
            revenue_dependency: spec.revenue,
        })
        .collect();
    let notes = if with_notes {
        join_notes(kind.note, status_note(status))
    } else {
        None
    };
    VendorDraft {
        external_id: None,
        legal_name: identity.legal_name,
        aliases: identity.aliases,
        domains: identity.domains,
        vendor_type: kind.vendor_type,
        deployment: kind.deployment,
        tenancy: kind.tenancy,
        status,
        source: VendorSource::Demo,
        owner_email: owner.email.to_string(),
        owner_name: Some(owner.name.to_string()),
        notes,
        services,
        data_flows,
    }
}

fn build_flow(spec: &FlowSpec, rng: &mut SplitMix64) -> DataFlow {
    DataFlow {
        data_class: spec.class,
        actions: spec.actions.to_vec(),
        record_count: rng.between(spec.records.0, spec.records.1),
        locations: spec.locations.iter().map(ToString::to_string).collect(),
        connectivity: spec.connectivity.to_vec(),
        subprocessors: spec.subprocessors.iter().map(ToString::to_string).collect(),
    }
}

/// Mostly active, with some vendors at every other stage of the lifecycle.
fn draw_status(rng: &mut SplitMix64) -> LifecycleStatus {
    match rng.below(100) {
        0..=77 => LifecycleStatus::Active,
        78..=83 => LifecycleStatus::Onboarding,
        84..=88 => LifecycleStatus::Candidate,
        89..=93 => LifecycleStatus::Offboarding,
        _ => LifecycleStatus::Terminated,
    }
}

fn status_note(status: LifecycleStatus) -> Option<&'static str> {
    match status {
        LifecycleStatus::Candidate => {
            Some("Under evaluation; security questionnaire sent to the vendor.")
        }
        LifecycleStatus::Onboarding => Some("Contract signed; onboarding risk review in progress."),
        LifecycleStatus::Active => None,
        LifecycleStatus::Offboarding => {
            Some("Contract ending; data return and destruction certificate requested.")
        }
        LifecycleStatus::Terminated => {
            Some("Relationship ended; certificate of data destruction on file.")
        }
    }
}

fn join_notes(first: Option<&str>, second: Option<&str>) -> Option<String> {
    match (first, second) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (Some(a), None) | (None, Some(a)) => Some(a.to_string()),
        (None, None) => None,
    }
}

/// Answers a vendor of the demo might give to a questionnaire: each scored
/// question passes `pass_percent` times in a hundred, so demo scores vary.
/// Deterministic for a seed. File questions are left for evidence uploads.
pub fn demo_answers(
    template: &mamori_domain::questionnaire::Template,
    seed: u64,
    pass_percent: u64,
    as_of: chrono::NaiveDate,
) -> Vec<(String, mamori_domain::scoring::Answer)> {
    use mamori_domain::questionnaire::AnswerType;
    use mamori_domain::scoring::Answer;
    let mut rng = rng::SplitMix64::new(seed);
    let mut out = Vec::new();
    for q in &template.questions {
        let pass = rng.chance(pass_percent);
        let allowed = q.allowed_values();
        let failing_choice = allowed
            .iter()
            .find(|v| !q.pass.iter().any(|p| p == *v) && **v != "na")
            .map(|v| v.to_string());
        let answer = match q.answer_type {
            AnswerType::YesNo | AnswerType::Single => {
                let value = if pass || q.pass.is_empty() {
                    q.pass
                        .first()
                        .cloned()
                        .or_else(|| allowed.first().map(|v| v.to_string()))
                } else {
                    failing_choice
                };
                value.map(Answer::Choice)
            }
            AnswerType::Multiple => {
                let mut chosen: Vec<String> = q.pass.clone();
                if !pass && !chosen.is_empty() {
                    chosen.pop();
                }
                if chosen.is_empty() {
                    chosen.extend(allowed.first().map(|v| v.to_string()));
                }
                Some(Answer::Choices(chosen))
            }
            AnswerType::Number => {
                let good = match (q.min, q.max) {
                    (Some(min), Some(max)) => (min + max) / 2.0,
                    (Some(min), None) => min,
                    (None, Some(max)) => (max / 2.0).floor(),
                    (None, None) => 1.0,
                };
                let bad = q
                    .max
                    .map(|m| m * 2.0 + 1.0)
                    .or(q.min.map(|m| m - 1.0))
                    .unwrap_or(good);
                Some(Answer::Number(if pass { good } else { bad }))
            }
            AnswerType::Date => {
                let age = q.max_age_days.map(i64::from).unwrap_or(365);
                let days = if pass { age / 3 } else { age + 90 };
                Some(Answer::Date(as_of - chrono::Duration::days(days)))
            }
            AnswerType::Text => Some(Answer::Text(
                "Described in our security programme documentation; available on request.".into(),
            )),
            AnswerType::File => None,
        };
        if let Some(a) = answer {
            out.push((q.id.clone(), a));
        }
    }
    out
}
