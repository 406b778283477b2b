//! The vendor registry's vocabulary: what a vendor is, what it does for us
//! (services) and what it touches (data flows).

use serde::{Deserialize, Serialize};

use crate::labels::label_enum;

label_enum! {
    /// What kind of business the vendor is.
    VendorType, "vendor type" {
        Saas = "saas" | "software_as_a_service",
        Iaas = "iaas" | "infrastructure_as_a_service",
        Paas = "paas" | "platform_as_a_service",
        ManagedService = "managed_service" | "msp" | "managed_services",
        MedicalDevice = "medical_device" | "medical_device_maker" | "device",
        ClinicalLab = "clinical_lab" | "lab" | "laboratory",
        BillingRcm = "billing_rcm" | "billing" | "rcm",
        Consulting = "consulting" | "consultant",
        Other = "other",
    }
}

label_enum! {
    /// Where the vendor runs what it runs for us.
    Deployment, "deployment" {
        PublicCloud = "public_cloud" | "public",
        PrivateCloud = "private_cloud" | "private",
        Hybrid = "hybrid" | "hybrid_cloud",
        OnPremises = "on_premises" | "on_prem" | "on_premise",
        NotApplicable = "not_applicable" | "n_a" | "na" | "none",
    }
}

label_enum! {
    Tenancy, "tenancy" {
        SingleTenant = "single_tenant" | "single",
        MultiTenant = "multi_tenant" | "multi",
        NotApplicable = "not_applicable" | "n_a" | "na" | "none",
    }
}

label_enum! {
    /// candidate → onboarding → active → offboarding → terminated
    LifecycleStatus, "lifecycle status" {
        Candidate = "candidate",
        Onboarding = "onboarding",
        Active = "active",
        Offboarding = "offboarding",
        Terminated = "terminated",
    }
}

label_enum! {
    /// How the vendor entered the registry.
    VendorSource, "source" {
        Manual = "manual",
        Import = "import",
        Discovery = "discovery" | "shadow_it_discovery",
        Demo = "demo",
    }
}

label_enum! {
    DataClass, "data class" {
        Phi = "phi" | "protected_health_information",
        PersonalData = "personal_data" | "pii" | "other_personal_data",
        Payment = "payment" | "payment_card" | "pci",
        Credentials = "credentials" | "secrets",
        Deidentified = "deidentified" | "de_identified" | "research" | "de_identified_research",
        NoData = "none" | "no_data",
    }
}

label_enum! {
    DataAction, "data action" {
        Store = "store" | "stores",
        Process = "process" | "processes",
        Transmit = "transmit" | "transmits",
    }
}

label_enum! {
    /// How the vendor reaches into our estate or other clouds.
    Connectivity, "connectivity" {
        NetworkAccess = "network_access" | "network",
        RemoteAdmin = "remote_admin" | "remote_administration",
        ApiIntegration = "api_integration" | "api",
        NoConnectivity = "none" | "no_connectivity",
    }
}

label_enum! {
    /// How much of our revenue depends on the service. Ordered.
    RevenueDependency, "revenue dependency" {
        NoDependency = "none" | "no",
        Low = "low",
        Medium = "medium" | "moderate",
        High = "high",
    }
}

label_enum! {
    /// The seven inherent-risk categories, in display order.
    RiskCategory, "risk category" {
        Cybersecurity = "cybersecurity" | "cyber" | "security",
        Reputational = "reputational",
        Compliance = "compliance",
        Privacy = "privacy",
        Operational = "operational",
        Strategic = "strategic",
        Financial = "financial",
    }
}

label_enum! {
    /// Vendor tier, ordered from least to most scrutiny.
    Tier, "tier" {
        Low = "low",
        Moderate = "moderate" | "medium",
        High = "high",
        Critical = "critical",
    }
}

impl RiskCategory {
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A service or engagement the vendor provides, with the relationship owner's
/// criticality assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// Maximum tolerable downtime in hours; `None` when not assessed yet.
    pub max_tolerable_downtime_hours: Option<u32>,
    #[serde(default)]
    pub business_processes: Vec<String>,
    #[serde(default)]
    pub patient_care_impact: bool,
    pub patients_affected: Option<u64>,
    pub records_affected: Option<u64>,
    pub revenue_dependency: RevenueDependency,
}

/// One class of data the vendor touches, how, how much and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFlow {
    pub data_class: DataClass,
    pub actions: Vec<DataAction>,
    pub record_count: u64,
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default)]
    pub connectivity: Vec<Connectivity>,
    /// Named sub-processors: the vendor's own vendors (our fourth parties).
    #[serde(default)]
    pub subprocessors: Vec<String>,
}

/// Everything that describes a vendor and that a user enters or imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorDraft {
    /// Stable key from the source inventory; matching key for re-imports.
    pub external_id: Option<String>,
    pub legal_name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    pub vendor_type: VendorType,
    pub deployment: Deployment,
    pub tenancy: Tenancy,
    pub status: LifecycleStatus,
    pub source: VendorSource,
    pub owner_email: String,
    pub owner_name: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub data_flows: Vec<DataFlow>,
}

/// The facts tiering reads. Borrowed from a draft so re-tiering allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct RiskProfile<'a> {
    pub vendor_type: VendorType,
    pub deployment: Deployment,
    pub tenancy: Tenancy,
    pub services: &'a [Service],
    pub data_flows: &'a [DataFlow],
}

impl VendorDraft {
    pub fn risk_profile(&self) -> RiskProfile<'_> {
        RiskProfile {
            vendor_type: self.vendor_type,
            deployment: self.deployment,
            tenancy: self.tenancy,
            services: &self.services,
            data_flows: &self.data_flows,
        }
    }

    /// The key that makes re-imports idempotent: the inventory's own id when
    /// it has one, otherwise the legal name folded to lower case with
    /// punctuation and repeated spaces removed.
    pub fn matching_key(&self) -> String {
        match self.external_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => format!("id:{id}"),
            _ => format!("name:{}", fold_name(&self.legal_name)),
        }
    }

    /// Checks every field a person can get wrong; returns all problems at once.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = self.legal_name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("legal_name", "is required"));
        } else if name.chars().count() > MAX_NAME_CHARS {
            errors.push(FieldError::new(
                "legal_name",
                format!("is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        if let Err(reason) = validate_email(&self.owner_email) {
            errors.push(FieldError::new("owner_email", reason));
        }
        for domain in &self.domains {
            if let Err(reason) = validate_domain(domain) {
                errors.push(FieldError::new("domains", format!("'{domain}' {reason}")));
            }
        }
        for alias in &self.aliases {
            if alias.chars().count() > MAX_NAME_CHARS {
                errors.push(FieldError::new("aliases", "an alias is too long"));
            }
        }
        if let Some(notes) = &self.notes {
            if notes.len() > MAX_NOTES_BYTES {
                errors.push(FieldError::new(
                    "notes",
                    format!("is longer than {MAX_NOTES_BYTES} bytes"),
                ));
            }
        }
        for (field, len) in [
            ("services", self.services.len()),
            ("data_flows", self.data_flows.len()),
            ("aliases", self.aliases.len()),
            ("domains", self.domains.len()),
        ] {
            if len > MAX_LIST_ITEMS {
                errors.push(FieldError::new(
                    field,
                    format!("at most {MAX_LIST_ITEMS} entries, got {len}"),
                ));
            }
        }
        for (i, service) in self.services.iter().enumerate() {
            if service.name.trim().is_empty() {
                errors.push(FieldError::new(
                    "services",
                    format!("service {} has no name", i + 1),
                ));
            }
        }
        for (i, flow) in self.data_flows.iter().enumerate() {
            if flow.data_class != DataClass::NoData && flow.actions.is_empty() {
                errors.push(FieldError::new(
                    "data_flows",
                    format!(
                        "data flow {} ({}) needs at least one action: store, process or transmit",
                        i + 1,
                        flow.data_class
                    ),
                ));
            }
        }
        errors
    }
}

pub const MAX_NAME_CHARS: usize = 300;
/// Most services, data flows, aliases or domains one vendor may have; the
/// web form offers as many rows.
pub const MAX_LIST_ITEMS: usize = 200;
pub const MAX_NOTES_BYTES: usize = 20_000;

/// A problem with one field of a vendor, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Folds a company name for duplicate detection: "Acme, Inc." == "ACME Inc".
pub fn fold_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

pub fn validate_email(raw: &str) -> Result<(), &'static str> {
    let email = raw.trim();
    if email.is_empty() {
        return Err("is required");
    }
    if email.len() > 254 {
        return Err("is too long");
    }
    let Some((local, host)) = email.split_once('@') else {
        return Err("is not an e-mail address (no '@')");
    };
    if local.is_empty() || host.is_empty() || host.contains('@') {
        return Err("is not an e-mail address");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains spaces or control characters");
    }
    if !host.contains('.') && host != "localhost" {
        return Err("has no domain after '@'");
    }
    Ok(())
}

pub fn validate_domain(raw: &str) -> Result<(), &'static str> {
    let domain = raw.trim().trim_end_matches('.');
    if domain.is_empty() || domain.len() > 253 {
        return Err("is not a domain name");
    }
    for label in domain.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("is not a domain name");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err("is not a domain name (letters, digits and hyphens only)");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("is not a domain name");
        }
    }
    if !domain.contains('.') {
        return Err("needs a dot (e.g. example.com)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_forgiving_spellings() {
        assert_eq!(
            VendorType::parse("Medical Device").unwrap(),
            VendorType::MedicalDevice
        );
        assert_eq!(
            VendorType::parse("billing/RCM").unwrap(),
            VendorType::BillingRcm
        );
        assert_eq!(DataClass::parse("PHI").unwrap(), DataClass::Phi);
        assert_eq!(
            DataClass::parse("de-identified").unwrap(),
            DataClass::Deidentified
        );
        let err = DataClass::parse("genome").unwrap_err();
        assert!(err.to_string().contains("unknown data class 'genome'"));
        assert!(err.to_string().contains("phi"));
    }

    #[test]
    fn every_label_round_trips_through_its_canonical_name() {
        for t in VendorType::ALL {
            assert_eq!(VendorType::parse(t.as_str()).unwrap(), *t);
        }
        for c in RiskCategory::ALL {
            assert_eq!(RiskCategory::parse(c.as_str()).unwrap(), *c);
        }
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.as_str()).unwrap(), *t);
        }
    }

    #[test]
    fn tiers_are_ordered_by_scrutiny() {
        assert!(Tier::Critical > Tier::High);
        assert!(Tier::High > Tier::Moderate);
        assert!(Tier::Moderate > Tier::Low);
    }

    #[test]
    fn folded_names_ignore_case_and_punctuation() {
        assert_eq!(fold_name("Acme, Inc."), fold_name("ACME   Inc"));
        assert_ne!(fold_name("Acme Labs"), fold_name("Acme Lab"));
    }

    #[test]
    fn emails_and_domains_are_checked() {
        assert!(validate_email("a.owner@hospital.example").is_ok());
        assert!(validate_email("nobody").is_err());
        assert!(validate_email("a@b").is_err());
        assert!(validate_domain("epic.com").is_ok());
        assert!(validate_domain("bad_domain.com").is_err());
        assert!(validate_domain("localhost").is_err());
    }
}
