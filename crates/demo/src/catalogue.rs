//! The demo hospital's fixed data: its people, the parts fictional company
//! names are built from, and the kinds of vendor it buys from.
//!
//! Each `VendorKind` is one line of business (a reference lab, a PACS
//! provider, a linen service …) with the services and data flows such a
//! vendor has. Record-count ranges stay inside one band of the shipped policy
//! (under 10,000 / 10,000–99,999 / 100,000+ PHI records), so every instance
//! of a kind lands in the same tier and the demo's tier mix is set here, by
//! the `times` counts. The comment on each kind names the tier it aims for.

use mamori_domain::{
    Connectivity, DataAction, DataClass, Deployment, RevenueDependency, Role, Tenancy, VendorType,
};

pub(crate) const ORGANISATION_NAME: &str = "Kanagawa Bay Medical Center";

// ---------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------

/// The departments that own vendor relationships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dept {
    Laboratory,
    Radiology,
    RevenueCycle,
    NursingInformatics,
    Facilities,
    HumanResources,
    Research,
    ItInfrastructure,
}

impl Dept {
    #[cfg(test)]
    pub(crate) const ALL: [Dept; 8] = [
        Dept::Laboratory,
        Dept::Radiology,
        Dept::RevenueCycle,
        Dept::NursingInformatics,
        Dept::Facilities,
        Dept::HumanResources,
        Dept::Research,
        Dept::ItInfrastructure,
    ];

    /// The relationship owner who speaks for this department's vendors.
    pub(crate) fn owner(self) -> &'static PersonSpec {
        match self {
            Dept::Laboratory => &LAB_DIRECTOR,
            Dept::Radiology => &RADIOLOGY_IT,
            Dept::RevenueCycle => &REVENUE_CYCLE,
            Dept::NursingInformatics => &NURSING_INFORMATICS,
            Dept::Facilities => &FACILITIES,
            Dept::HumanResources => &HUMAN_RESOURCES,
            Dept::Research => &RESEARCH_OFFICE,
            Dept::ItInfrastructure => &IT_INFRASTRUCTURE,
        }
    }
}

pub(crate) struct PersonSpec {
    pub name: &'static str,
    pub email: &'static str,
    pub title: &'static str,
    pub role: Role,
}

const fn person(
    name: &'static str,
    email: &'static str,
    title: &'static str,
    role: Role,
) -> PersonSpec {
    PersonSpec {
        name,
        email,
        title,
        role,
    }
}

static RISK_MANAGER: PersonSpec = person(
    "Naomi Castellanos",
    "naomi.castellanos@kbmc.example",
    "Third-Party Risk Manager",
    Role::RiskManager,
);
static RISK_ANALYST: PersonSpec = person(
    "Devin Okafor",
    "devin.okafor@kbmc.example",
    "Third-Party Risk Analyst",
    Role::RiskManager,
);
static CISO: PersonSpec = person(
    "Hiroshi Tanabe",
    "hiroshi.tanabe@kbmc.example",
    "Chief Information Security Officer",
    Role::AcceptanceAuthority,
);
static AUDITOR: PersonSpec = person(
    "Margaret Lindqvist",
    "margaret.lindqvist@kbmc.example",
    "Internal Audit Manager",
    Role::Auditor,
);
static LAB_DIRECTOR: PersonSpec = person(
    "Rosa Delgado",
    "rosa.delgado@kbmc.example",
    "Director of Laboratory Services",
    Role::RelationshipOwner,
);
static RADIOLOGY_IT: PersonSpec = person(
    "Samuel Adeyemi",
    "samuel.adeyemi@kbmc.example",
    "Radiology IT Manager",
    Role::RelationshipOwner,
);
static REVENUE_CYCLE: PersonSpec = person(
    "Karen Whitfield",
    "karen.whitfield@kbmc.example",
    "Revenue Cycle Director",
    Role::RelationshipOwner,
);
static NURSING_INFORMATICS: PersonSpec = person(
    "Emily Nakamura",
    "emily.nakamura@kbmc.example",
    "Nursing Informatics Manager",
    Role::RelationshipOwner,
);
static FACILITIES: PersonSpec = person(
    "Thomas Brennan",
    "thomas.brennan@kbmc.example",
    "Director of Facilities",
    Role::RelationshipOwner,
);
static HUMAN_RESOURCES: PersonSpec = person(
    "Aisha Rahman",
    "aisha.rahman@kbmc.example",
    "Human Resources Director",
    Role::RelationshipOwner,
);
static RESEARCH_OFFICE: PersonSpec = person(
    "Daniel Ferreira",
    "daniel.ferreira@kbmc.example",
    "Director, Research Office",
    Role::RelationshipOwner,
);
static IT_INFRASTRUCTURE: PersonSpec = person(
    "Grace Liu",
    "grace.liu@kbmc.example",
    "IT Infrastructure Manager",
    Role::RelationshipOwner,
);

/// Everyone in the demo except the administrator, whom the server creates.
pub(crate) static PEOPLE: [&PersonSpec; 12] = [
    &RISK_MANAGER,
    &RISK_ANALYST,
    &CISO,
    &AUDITOR,
    &LAB_DIRECTOR,
    &RADIOLOGY_IT,
    &REVENUE_CYCLE,
    &NURSING_INFORMATICS,
    &FACILITIES,
    &HUMAN_RESOURCES,
    &RESEARCH_OFFICE,
    &IT_INFRASTRUCTURE,
];

// ---------------------------------------------------------------------------
// Company names
// ---------------------------------------------------------------------------

/// Company names are a first part and a second part run together
/// ("Kestrel" + "brook"), then a line-of-business descriptor and a legal form.
pub(crate) const NAME_FIRST: [&str; 30] = [
    "Blue", "Thistle", "Cedar", "Harbor", "Granite", "Maple", "Willow", "Copper", "Heron",
    "Kestrel", "Larch", "Tamarack", "Sable", "Marlow", "Ember", "Alder", "Birch", "Cobalt",
    "Indigo", "Linden", "Osprey", "Quill", "Rowan", "Saffron", "Tern", "Wren", "Yarrow", "Amber",
    "Fallow", "Lark",
];

pub(crate) const NAME_SECOND: [&str; 16] = [
    "crest", "wind", "brook", "field", "gate", "ridge", "haven", "point", "stone", "vale",
    "bridge", "well", "mark", "ford", "moor", "shore",
];

/// Combinations that are (or closely resemble) real healthcare companies.
pub(crate) const NAME_DENYLIST: [&str; 5] = [
    "Bluestone",
    "Blueridge",
    "Cedarpoint",
    "Copperpoint",
    "Mapleridge",
];

// Legal forms, matched to where the company is based.
pub(crate) const US_COMPANY: &[&str] = &[", Inc.", " LLC", " Corp."];
const US_FIRM: &[&str] = &[" LLP", " LLC", " Group LLC"];
const CANADA: &[&str] = &[" Inc.", " Ltd."];
const IRELAND: &[&str] = &[" Ltd.", " DAC"];
const INDIA: &[&str] = &[" Pvt. Ltd.", " Private Limited"];
const JAPAN: &[&str] = &[" K.K.", " Co., Ltd."];
const GERMANY: &[&str] = &[" GmbH", " AG"];

// Fictional fourth parties, named in vendors' data flows.
const HOSTING: &str = "Stratocumulus Hosting, Inc.";
const DATA_CENTER: &str = "Quarrystone Data Centers LLC";
const SUPPORT_INDIA: &str = "Tallis Support Services Pvt. Ltd.";
const PRINT_MAIL: &str = "Inkhaven Print & Mail, Inc.";
const MESSAGING: &str = "Relaypost Messaging LLC";
const COURIER: &str = "Parcelwise Courier LLC";
const PAYMENTS: &str = "Meridel Payment Services Corp.";
const TELEPHONY: &str = "Lanternline Voice Networks, Inc.";
const ANALYTICS: &str = "Hollow Oak Analytics LLC";
const SCREENING: &str = "Bramblegate Screening Services, Inc.";
const HOSTING_EU: &str = "Cirrolux Cloud Services GmbH";
const HOSTING_JAPAN: &str = "Kagami Data Systems K.K.";
const CONTACT_CENTRE_IRELAND: &str = "Oriel Contact Services Ltd.";
const SHREDDING: &str = "Fernhill Secure Destruction LLC";
const BANK: &str = "Greyfriars Commercial Bank, N.A.";

// ---------------------------------------------------------------------------
// Vendor kinds
// ---------------------------------------------------------------------------

/// A service template. `names` holds alternatives separated by '|'.
pub(crate) struct ServiceSpec {
    pub names: &'static str,
    pub downtime_hours: Option<u32>,
    pub processes: &'static [&'static str],
    pub patient_care: bool,
    pub patients: Option<u64>,
    pub revenue: RevenueDependency,
}

const fn service(names: &'static str) -> ServiceSpec {
    ServiceSpec {
        names,
        downtime_hours: None,
        processes: &[],
        patient_care: false,
        patients: None,
        revenue: RevenueDependency::NoDependency,
    }
}

impl ServiceSpec {
    const fn downtime(mut self, hours: u32) -> Self {
        self.downtime_hours = Some(hours);
        self
    }

    const fn processes(mut self, processes: &'static [&'static str]) -> Self {
        self.processes = processes;
        self
    }

    /// Patient care stops without it; `patients` would be affected.
    const fn care(mut self, patients: u64) -> Self {
        self.patient_care = true;
        self.patients = Some(patients);
        self
    }

    const fn patients(mut self, patients: u64) -> Self {
        self.patients = Some(patients);
        self
    }

    const fn revenue(mut self, revenue: RevenueDependency) -> Self {
        self.revenue = revenue;
        self
    }
}

/// A data-flow template; the record count is drawn from `records`.
pub(crate) struct FlowSpec {
    pub class: DataClass,
    pub actions: &'static [DataAction],
    pub records: (u64, u64),
    pub locations: &'static [&'static str],
    pub connectivity: &'static [Connectivity],
    pub subprocessors: &'static [&'static str],
}

const fn flow(class: DataClass, actions: &'static [DataAction], lo: u64, hi: u64) -> FlowSpec {
    FlowSpec {
        class,
        actions,
        records: (lo, hi),
        locations: US,
        connectivity: &[],
        subprocessors: &[],
    }
}

const fn phi(lo: u64, hi: u64, actions: &'static [DataAction]) -> FlowSpec {
    flow(DataClass::Phi, actions, lo, hi)
}

const fn personal(lo: u64, hi: u64, actions: &'static [DataAction]) -> FlowSpec {
    flow(DataClass::PersonalData, actions, lo, hi)
}

const fn payment(lo: u64, hi: u64, actions: &'static [DataAction]) -> FlowSpec {
    flow(DataClass::Payment, actions, lo, hi)
}

const fn credentials(lo: u64, hi: u64, actions: &'static [DataAction]) -> FlowSpec {
    flow(DataClass::Credentials, actions, lo, hi)
}

const fn deidentified(lo: u64, hi: u64, actions: &'static [DataAction]) -> FlowSpec {
    flow(DataClass::Deidentified, actions, lo, hi)
}

/// No data, but possibly a connection (a device on our network, a portal).
const fn no_data() -> FlowSpec {
    flow(DataClass::NoData, &[], 0, 0)
}

impl FlowSpec {
    const fn at(mut self, locations: &'static [&'static str]) -> Self {
        self.locations = locations;
        self
    }

    const fn via(mut self, connectivity: &'static [Connectivity]) -> Self {
        self.connectivity = connectivity;
        self
    }

    const fn subs(mut self, subprocessors: &'static [&'static str]) -> Self {
        self.subprocessors = subprocessors;
        self
    }
}

/// One line of business and how many demo vendors are in it.
pub(crate) struct VendorKind {
    pub count: u32,
    pub dept: Dept,
    pub vendor_type: VendorType,
    pub deployment: Deployment,
    pub tenancy: Tenancy,
    /// Line-of-business descriptors, alternatives separated by '|'.
    pub descriptors: &'static str,
    pub legal_forms: &'static [&'static str],
    pub services: &'static [ServiceSpec],
    pub flows: &'static [FlowSpec],
    pub note: Option<&'static str>,
}

const fn kind(vendor_type: VendorType, dept: Dept, descriptors: &'static str) -> VendorKind {
    // Where such a vendor usually runs what it runs for us.
    let (deployment, tenancy) = match vendor_type {
        VendorType::Saas | VendorType::Iaas | VendorType::Paas => {
            (Deployment::PublicCloud, Tenancy::MultiTenant)
        }
        VendorType::ManagedService => (Deployment::Hybrid, Tenancy::SingleTenant),
        VendorType::MedicalDevice => (Deployment::OnPremises, Tenancy::SingleTenant),
        VendorType::BillingRcm => (Deployment::PrivateCloud, Tenancy::SingleTenant),
        VendorType::ClinicalLab | VendorType::Consulting | VendorType::Other => {
            (Deployment::NotApplicable, Tenancy::NotApplicable)
        }
    };
    let legal_forms = match vendor_type {
        VendorType::Consulting => US_FIRM,
        _ => US_COMPANY,
    };
    VendorKind {
        count: 1,
        dept,
        vendor_type,
        deployment,
        tenancy,
        descriptors,
        legal_forms,
        services: &[],
        flows: &[],
        note: None,
    }
}

impl VendorKind {
    const fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    const fn hosted(mut self, deployment: Deployment, tenancy: Tenancy) -> Self {
        self.deployment = deployment;
        self.tenancy = tenancy;
        self
    }

    const fn based_in(mut self, legal_forms: &'static [&'static str]) -> Self {
        self.legal_forms = legal_forms;
        self
    }

    const fn services(mut self, services: &'static [ServiceSpec]) -> Self {
        self.services = services;
        self
    }

    const fn flows(mut self, flows: &'static [FlowSpec]) -> Self {
        self.flows = flows;
        self
    }

    const fn note(mut self, note: &'static str) -> Self {
        self.note = Some(note);
        self
    }
}

// Shorthands that keep the table below readable.
use Connectivity::{ApiIntegration, NetworkAccess, RemoteAdmin};
use DataAction::{Process, Store, Transmit};
use Deployment::{Hybrid, OnPremises, PrivateCloud, PublicCloud};
use RevenueDependency::{High, Low, Medium};
use Tenancy::{MultiTenant, SingleTenant};
use VendorType::{
    BillingRcm, ClinicalLab, Consulting, Iaas, ManagedService, MedicalDevice, Other, Paas, Saas,
};

const ALL_ACTIONS: &[DataAction] = &[Store, Process, Transmit];
const STORE_PROCESS: &[DataAction] = &[Store, Process];
const PROCESS_TRANSMIT: &[DataAction] = &[Process, Transmit];
const PROCESS_ONLY: &[DataAction] = &[Process];
const STORE_ONLY: &[DataAction] = &[Store];
const TRANSMIT_ONLY: &[DataAction] = &[Transmit];

const API: &[Connectivity] = &[ApiIntegration];
const NETWORK: &[Connectivity] = &[NetworkAccess];
const REMOTE: &[Connectivity] = &[RemoteAdmin];
const NETWORK_REMOTE: &[Connectivity] = &[NetworkAccess, RemoteAdmin];
const API_REMOTE: &[Connectivity] = &[ApiIntegration, RemoteAdmin];
const NETWORK_API: &[Connectivity] = &[NetworkAccess, ApiIntegration];

const US: &[&str] = &["US"];

pub(crate) static KINDS: &[VendorKind] = &[
    // --- Laboratory ---------------------------------------------------------
    // High: lab results for 10k+ patients.
    kind(ClinicalLab, Dept::Laboratory, "Reference Laboratories|Clinical Labs|Diagnostic Laboratories|Pathology Associates")
        .times(2)
        .services(&[
            service("Esoteric send-out testing|Specialty reference testing")
                .downtime(72)
                .care(6_000)
                .processes(&["Specimen send-out", "Laboratory result reporting", "Outpatient diagnostics"])
                .revenue(Low),
            service("Courier specimen pickup").downtime(48),
        ])
        .flows(&[phi(15_000, 90_000, ALL_ACTIONS).via(API).subs(&[COURIER, HOSTING])])
        .note("Results interface (HL7) into the laboratory information system."),
    // High: clinical lab handling PHI.
    kind(ClinicalLab, Dept::Laboratory, "Genetics Laboratory|Molecular Diagnostics|Genomic Testing")
        .times(2)
        .services(&[service("Hereditary cancer panel testing|Pharmacogenomic testing|Prenatal genetic screening")
            .downtime(336)
            .processes(&["Specimen send-out", "Genetic counseling"])])
        .flows(&[phi(800, 6_000, STORE_PROCESS).via(API)]),
    // High: clinical lab handling PHI.
    kind(ClinicalLab, Dept::Laboratory, "Toxicology Laboratories|Toxicology Services")
        .services(&[service("Toxicology confirmation testing")
            .downtime(120)
            .processes(&["Emergency department triage", "Pain management"])])
        .flows(&[phi(2_000, 9_000, STORE_PROCESS).via(API)]),
    // High: device on the lab network; patient care stops within a day.
    kind(MedicalDevice, Dept::Laboratory, "Diagnostics Systems|Laboratory Instruments|Analyzer Technologies")
        .times(2)
        .services(&[service("Chemistry analyzer fleet service|Hematology analyzer service|Coagulation analyzer service")
            .downtime(12)
            .care(2_500)
            .processes(&["Core laboratory testing", "Emergency department triage"])])
        .flows(&[phi(2_000, 9_000, STORE_PROCESS).via(NETWORK)]),
    // High: device on the network, patient care within a day.
    kind(MedicalDevice, Dept::Laboratory, "Point-of-Care Systems|Glucose Monitoring")
        .services(&[service("Point-of-care glucose meter fleet")
            .downtime(24)
            .care(8_000)
            .processes(&["Inpatient glucose monitoring", "Point-of-care testing"])])
        .flows(&[phi(5_000, 9_500, STORE_PROCESS).via(NETWORK)]),
    // Moderate: small PHI volume, patient care tolerates two days.
    kind(Other, Dept::Laboratory, "Medical Courier|Specimen Logistics")
        .services(&[service("Courier specimen pickup|STAT specimen transport")
            .downtime(48)
            .care(1_500)
            .processes(&["Specimen collection", "Outreach laboratory services"])])
        .flows(&[phi(1_000, 8_000, TRANSMIT_ONLY)]),
    // Low: supplies only.
    kind(Other, Dept::Laboratory, "Laboratory Supply|Scientific Distribution")
        .times(2)
        .services(&[service("Reagent and consumables supply|Laboratory consumables distribution")
            .downtime(120)
            .processes(&["Laboratory inventory management"])])
        .flows(&[no_data().via(API)]),
    // Critical: PHI of 100k+ patients; patient care stops within 4 hours.
    kind(Saas, Dept::Laboratory, "Lab Informatics|Laboratory Software")
        .hosted(PrivateCloud, SingleTenant)
        .services(&[
            service("Laboratory information system hosting")
                .downtime(2)
                .care(40_000)
                .processes(&[
                    "Laboratory order entry",
                    "Specimen tracking",
                    "Laboratory result reporting",
                    "Blood bank",
                    "Microbiology",
                    "Outreach laboratory services",
                ])
                .revenue(Medium),
            service("Outreach client portal").downtime(24).revenue(Low),
        ])
        .flows(&[phi(350_000, 600_000, ALL_ACTIONS)
            .via(API_REMOTE)
            .subs(&[HOSTING, DATA_CENTER, SUPPORT_INDIA])])
        .note("Replacing the on-premises LIS; cut-over planned for next fiscal year."),
    // High: patient care stops within a day.
    kind(Other, Dept::Laboratory, "Blood Services|Blood Center")
        .services(&[service("Blood product supply")
            .downtime(6)
            .care(3_000)
            .processes(&["Transfusion services", "Trauma care"])])
        .flows(&[no_data().via(API)]),
    // --- Radiology ----------------------------------------------------------
    // Critical: network and remote access to imaging devices holding PHI.
    kind(MedicalDevice, Dept::Radiology, "Imaging Systems|Medical Imaging|Diagnostic Imaging")
        .times(2)
        .services(&[service("CT scanner service and remote diagnostics|MRI system service and remote diagnostics")
            .downtime(8)
            .care(12_000)
            .processes(&["Diagnostic imaging", "Emergency department triage", "Stroke response"])
            .revenue(Medium)])
        .flows(&[phi(20_000, 80_000, STORE_PROCESS).via(NETWORK_REMOTE)])
        .note("Remote service connection through the vendor's gateway; MDS2 form on file."),
    // High: on the clinical network; patient care within a day.
    kind(MedicalDevice, Dept::Radiology, "Ultrasound|X-Ray Systems")
        .services(&[service("Ultrasound system service|Portable X-ray fleet")
            .downtime(24)
            .care(5_000)
            .processes(&["Diagnostic imaging", "Bedside imaging"])])
        .flows(&[phi(2_000, 9_000, STORE_PROCESS).via(NETWORK)]),
    // Critical: millions of images; patient care within 4 hours.
    kind(Saas, Dept::Radiology, "Imaging Informatics|Image Management")
        .hosted(Hybrid, SingleTenant)
        .services(&[
            service("PACS image archive")
                .downtime(4)
                .care(60_000)
                .processes(&[
                    "Diagnostic imaging",
                    "Emergency department triage",
                    "Oncology",
                    "Surgical planning",
                    "Radiology reporting",
                ])
                .revenue(High),
            service("Vendor-neutral archive").downtime(24),
        ])
        .flows(&[phi(1_200_000, 2_400_000, ALL_ACTIONS)
            .via(API_REMOTE)
            .subs(&[HOSTING, DATA_CENTER, SUPPORT_INDIA])]),
    // Critical: overnight reads; patient care within 4 hours.
    kind(Other, Dept::Radiology, "Teleradiology|Radiology Partners")
        .services(&[service("Overnight teleradiology reads")
            .downtime(2)
            .care(15_000)
            .processes(&["Emergency department triage", "Radiology reporting"])
            .revenue(Low)])
        .flows(&[phi(30_000, 70_000, PROCESS_TRANSMIT).via(API)]),
    // High: PHI of 10k+ patients.
    kind(Saas, Dept::Radiology, "Speech Technologies|Dictation Systems")
        .services(&[service("Radiology dictation and speech recognition")
            .downtime(12)
            .processes(&["Radiology reporting"])
            .revenue(Low)])
        .flows(&[phi(40_000, 90_000, ALL_ACTIONS).via(API).subs(&[HOSTING])]),
    // Moderate: a device, but not networked and care can wait three days.
    kind(MedicalDevice, Dept::Radiology, "Injector Systems|Contrast Delivery")
        .services(&[service("Contrast injector maintenance")
            .downtime(72)
            .care(4_000)
            .processes(&["Diagnostic imaging"])])
        .flows(&[no_data()]),
    // Low: staff badges only.
    kind(Other, Dept::Radiology, "Dosimetry Services|Radiation Monitoring")
        .services(&[service("Radiation dosimetry badge service")
            .downtime(720)
            .processes(&["Radiation safety"])])
        .flows(&[personal(300, 600, STORE_PROCESS)]),
    // High: PHI of 10k+ patients in transit.
    kind(Saas, Dept::Radiology, "Image Exchange|Imaging Network")
        .services(&[service("Image exchange with referring facilities|Patient image sharing")
            .downtime(48)
            .processes(&["Transfer center", "Referral management"])])
        .flows(&[phi(15_000, 60_000, TRANSMIT_ONLY).via(API)]),
    // High: PHI processed in Ireland.
    kind(Saas, Dept::Radiology, "Imaging AI|Radiology Analytics")
        .based_in(IRELAND)
        .services(&[service("AI-assisted mammography triage")
            .downtime(72)
            .processes(&["Breast imaging"])])
        .flows(&[phi(12_000, 30_000, PROCESS_ONLY)
            .at(&["US", "IE"])
            .via(API)
            .subs(&[HOSTING_EU])])
        .note("Model inference runs in the vendor's EU region; data transfer addendum signed."),
    // Low: advice only.
    kind(Consulting, Dept::Radiology, "Imaging Advisors|Radiology Consulting")
        .services(&[service("Radiology workflow assessment").processes(&["Radiology operations"])])
        .flows(&[no_data()]),
    // Low: depot repair.
    kind(Other, Dept::Radiology, "Coil Repair|Imaging Parts")
        .services(&[service("MRI coil repair depot")
            .downtime(168)
            .processes(&["Diagnostic imaging"])])
        .flows(&[no_data()]),
    // --- Revenue cycle ------------------------------------------------------
    // Critical: nearly every claim; high revenue dependency.
    kind(BillingRcm, Dept::RevenueCycle, "Claims Exchange|Healthcare Clearinghouse")
        .services(&[
            service("Claims scrubbing|Electronic claims submission")
                .downtime(24)
                .processes(&["Claims submission", "Denials management", "Payment posting"])
                .revenue(High),
            service("Remittance processing").downtime(72).revenue(Medium),
        ])
        .flows(&[phi(700_000, 1_100_000, ALL_ACTIONS)
            .via(API)
            .subs(&[HOSTING, DATA_CENTER, PRINT_MAIL])]),
    // High: offshore coders see PHI of 10k+ patients through a virtual desktop.
    kind(BillingRcm, Dept::RevenueCycle, "Coding Solutions|Health Information Services")
        .times(2)
        .based_in(INDIA)
        .hosted(Deployment::NotApplicable, Tenancy::NotApplicable)
        .services(&[service("Inpatient coding|Outpatient coding audit|Professional fee coding")
            .downtime(72)
            .processes(&["Health information management", "Claims submission"])
            .revenue(Medium)])
        .flows(&[phi(15_000, 70_000, PROCESS_ONLY).at(&["US", "IN"]).via(NETWORK)])
        .note("Coders work in our EHR through a virtual desktop; no local copies."),
    // High: statements for 10k+ patients.
    kind(BillingRcm, Dept::RevenueCycle, "Patient Statements|Billing Communications")
        .hosted(PublicCloud, MultiTenant)
        .services(&[service("Patient statement printing and mailing")
            .downtime(120)
            .processes(&["Patient billing"])
            .revenue(Low)])
        .flows(&[phi(40_000, 95_000, ALL_ACTIONS).subs(&[PRINT_MAIL, HOSTING])]),
    // High: billing vendor handling PHI.
    kind(BillingRcm, Dept::RevenueCycle, "Recovery Services|Receivables Management")
        .times(2)
        .hosted(Deployment::NotApplicable, Tenancy::NotApplicable)
        .services(&[service("Early-out self-pay follow-up|Bad-debt collections")
            .downtime(336)
            .processes(&["Patient billing"])
            .revenue(Low)])
        .flows(&[
            phi(3_000, 9_000, STORE_PROCESS),
            personal(3_000, 9_000, STORE_PROCESS),
        ]),
    // Critical: card payments, high revenue dependency.
    kind(BillingRcm, Dept::RevenueCycle, "Patient Payments|Payment Technologies")
        .hosted(PublicCloud, MultiTenant)
        .services(&[service("Online patient payments and payment plans")
            .downtime(24)
            .processes(&["Patient billing", "Point-of-service collections"])
            .revenue(High)])
        .flows(&[
            payment(150_000, 300_000, ALL_ACTIONS).via(API).subs(&[PAYMENTS, HOSTING]),
            personal(150_000, 300_000, STORE_PROCESS),
        ]),
    // High: PHI of 10k+ patients.
    kind(BillingRcm, Dept::RevenueCycle, "Eligibility Services|Coverage Solutions")
        .hosted(PublicCloud, MultiTenant)
        .services(&[service("Insurance eligibility verification")
            .downtime(12)
            .processes(&["Patient registration", "Prior authorization", "Scheduling"])
            .revenue(Medium)])
        .flows(&[phi(30_000, 90_000, TRANSMIT_ONLY).via(API)]),
    // Moderate: a small PHI sample for review.
    kind(Consulting, Dept::RevenueCycle, "Revenue Integrity|Healthcare Advisory")
        .times(2)
        .services(&[service("Revenue integrity assessment|Denials root-cause review")
            .processes(&["Denials management"])
            .revenue(Low)])
        .flows(&[phi(1_000, 8_000, PROCESS_ONLY)]),
    // Low: no patient data.
    kind(Consulting, Dept::RevenueCycle, "Pricing Advisors|Chargemaster Consulting")
        .services(&[service("Price transparency file preparation|Chargemaster review")
            .processes(&["Pricing"])
            .revenue(Low)])
        .flows(&[no_data()]),
    // Moderate: payment data, low revenue dependency.
    kind(Other, Dept::RevenueCycle, "Treasury Services|Lockbox Services")
        .services(&[service("Lockbox payment processing")
            .downtime(72)
            .processes(&["Payment posting"])
            .revenue(Low)])
        .flows(&[payment(10_000, 40_000, STORE_PROCESS).subs(&[BANK])]),
    // High: PHI of 10k+ patients.
    kind(Saas, Dept::RevenueCycle, "Authorization Automation|Utilization Technologies")
        .services(&[service("Prior authorization automation")
            .downtime(24)
            .processes(&["Prior authorization", "Scheduling"])
            .revenue(Medium)])
        .flows(&[phi(20_000, 60_000, ALL_ACTIONS).via(API)]),
    // High: PHI of 10k+ patients.
    kind(Saas, Dept::RevenueCycle, "Patient Engagement|Reminder Services")
        .services(&[service("Appointment reminders by text and voice")
            .downtime(48)
            .processes(&["Scheduling", "Patient communication"])])
        .flows(&[phi(40_000, 95_000, TRANSMIT_ONLY)
            .via(API)
            .subs(&[MESSAGING, TELEPHONY, HOSTING])]),
    // High: PHI of 10k+ patients.
    kind(Saas, Dept::RevenueCycle, "Access Solutions|Scheduling Software")
        .services(&[service("Online patient self-scheduling")
            .downtime(24)
            .processes(&["Scheduling", "Patient registration"])
            .revenue(Medium)])
        .flows(&[phi(20_000, 80_000, STORE_PROCESS).via(API)]),
    // Low: public reviews only.
    kind(Saas, Dept::RevenueCycle, "Reputation Management|Review Analytics")
        .services(&[service("Online review monitoring").downtime(336).processes(&["Marketing"])])
        .flows(&[personal(20_000, 60_000, STORE_PROCESS)]),
    // High: professional billing of 10k+ patients.
    kind(BillingRcm, Dept::RevenueCycle, "Physician Billing|Professional Billing")
        .services(&[service("Professional fee billing")
            .downtime(72)
            .processes(&["Claims submission", "Payment posting"])
            .revenue(Medium)])
        .flows(&[phi(30_000, 90_000, ALL_ACTIONS).via(API)]),
    // High: billing vendor handling PHI.
    kind(BillingRcm, Dept::RevenueCycle, "EMS Billing|Ambulance Billing")
        .services(&[service("EMS transport billing")
            .downtime(168)
            .processes(&["Claims submission"])
            .revenue(Low)])
        .flows(&[phi(4_000, 9_000, STORE_PROCESS)]),
    // High: PHI of 10k+ patients.
    kind(Other, Dept::RevenueCycle, "Release of Information|Health Record Services")
        .services(&[service("Release of information processing")
            .downtime(120)
            .processes(&["Health information management"])])
        .flows(&[phi(20_000, 60_000, PROCESS_TRANSMIT).via(REMOTE)]),
    // Low: financial audit, staff names only.
    kind(Consulting, Dept::RevenueCycle, "Assurance Partners|Audit Advisors")
        .services(&[service("Financial statement audit").processes(&["Financial reporting"])])
        .flows(&[personal(500, 3_000, PROCESS_ONLY)]),
    // --- Nursing informatics ------------------------------------------------
    // Critical: patient care within 4 hours.
    kind(MedicalDevice, Dept::NursingInformatics, "Infusion Technologies|Infusion Systems")
        .services(&[service("Smart infusion pump fleet and drug library")
            .downtime(2)
            .care(20_000)
            .processes(&["Inpatient medication administration", "Intensive care", "Oncology infusion"])])
        .flows(&[phi(60_000, 95_000, STORE_PROCESS).via(NETWORK)]),
    // Critical: patient care within 4 hours.
    kind(MedicalDevice, Dept::NursingInformatics, "Communications|Clinical Alerting")
        .services(&[service("Nurse call and staff assignment")
            .downtime(4)
            .care(9_000)
            .processes(&["Inpatient nursing", "Fall prevention"])])
        .flows(&[phi(3_000, 9_000, STORE_PROCESS).via(NETWORK)]),
    // Critical: patient care within 4 hours; remote access.
    kind(MedicalDevice, Dept::NursingInformatics, "Patient Monitoring|Monitoring Systems")
        .services(&[service("Bedside and central patient monitoring|Telemetry monitoring")
            .downtime(1)
            .care(25_000)
            .processes(&["Intensive care", "Inpatient nursing", "Emergency department triage"])])
        .flows(&[phi(50_000, 95_000, STORE_PROCESS).via(NETWORK_REMOTE)]),
    // Critical: patient care within 4 hours.
    kind(MedicalDevice, Dept::NursingInformatics, "Medication Systems|Dispensing Technologies")
        .services(&[service("Automated dispensing cabinets")
            .downtime(4)
            .care(30_000)
            .processes(&["Inpatient medication administration", "Pharmacy inventory management"])])
        .flows(&[phi(30_000, 90_000, STORE_PROCESS).via(NETWORK_REMOTE)]),
    // Critical: patient care within 4 hours.
    kind(MedicalDevice, Dept::NursingInformatics, "Perinatal Systems|Maternal Monitoring")
        .services(&[service("Fetal monitoring surveillance")
            .downtime(2)
            .care(3_500)
            .processes(&["Labor and delivery"])])
        .flows(&[phi(3_000, 9_000, STORE_PROCESS).via(NETWORK)]),
    // High: on the clinical network.
    kind(MedicalDevice, Dept::NursingInformatics, "Bed Systems|Patient Handling")
        .services(&[service("Connected smart beds")
            .downtime(72)
            .care(2_000)
            .processes(&["Fall prevention"])])
        .flows(&[no_data().via(NETWORK)]),
    // High: remote diagnostics on a surgical robot.
    kind(MedicalDevice, Dept::NursingInformatics, "Surgical Robotics|Surgical Systems")
        .services(&[service("Robotic surgery system service")
            .downtime(72)
            .care(900)
            .processes(&["Surgical services"])
            .revenue(Medium)])
        .flows(&[no_data().via(REMOTE)]),
    // High: patient care within a day.
    kind(MedicalDevice, Dept::NursingInformatics, "Renal Technologies|Dialysis Systems")
        .services(&[service("Dialysis machine fleet")
            .downtime(12)
            .care(600)
            .processes(&["Dialysis"])])
        .flows(&[phi(500, 2_000, STORE_PROCESS).via(NETWORK)]),
    // Moderate: not networked; care can wait three days.
    kind(MedicalDevice, Dept::NursingInformatics, "Resuscitation Systems|Cardiac Devices")
        .services(&[service("AED and defibrillator service")
            .downtime(72)
            .care(500)
            .processes(&["Resuscitation"])])
        .flows(&[no_data()]),
    // Moderate: not networked; care can wait two days.
    kind(MedicalDevice, Dept::NursingInformatics, "Endoscopy Systems|Reprocessing Technologies")
        .services(&[service("Endoscope reprocessing equipment")
            .downtime(48)
            .care(1_200)
            .processes(&["Endoscopy"])])
        .flows(&[no_data()]),
    // High: patient care within a day.
    kind(Saas, Dept::NursingInformatics, "Clinical Reference|Drug Information")
        .services(&[service("Drug interaction reference|Clinical decision support content")
            .downtime(24)
            .care(30_000)
            .processes(&["Medication ordering", "Pharmacy verification"])])
        .flows(&[no_data().via(API)]),
    // Moderate: clinician files; care can wait three days.
    kind(Other, Dept::NursingInformatics, "Nurse Staffing|Clinical Staffing")
        .times(2)
        .services(&[service("Travel nurse staffing|Per-diem nurse staffing")
            .downtime(72)
            .care(500)
            .processes(&["Inpatient nursing", "Emergency department staffing"])])
        .flows(&[personal(200, 900, STORE_PROCESS)]),
    // Moderate: a little PHI.
    kind(Saas, Dept::NursingInformatics, "Patient Education|Health Media")
        .services(&[service("Patient education video library")
            .downtime(168)
            .processes(&["Patient education"])])
        .flows(&[phi(2_000, 8_000, STORE_PROCESS).via(API)]),
    // High: PHI of 10k+ patients, three sub-processors.
    kind(Saas, Dept::NursingInformatics, "Experience Research|Survey Partners")
        .services(&[service("Patient experience surveys")
            .downtime(336)
            .processes(&["Patient experience"])])
        .flows(&[phi(30_000, 80_000, ALL_ACTIONS).subs(&[MESSAGING, PRINT_MAIL, HOSTING])]),
    // High: patient care within a day.
    kind(Other, Dept::NursingInformatics, "Language Services|Interpreting")
        .services(&[service("Video remote interpreting|Over-the-phone interpreting")
            .downtime(8)
            .care(6_000)
            .processes(&["Patient communication", "Informed consent"])])
        .flows(&[phi(10_000, 40_000, TRANSMIT_ONLY).subs(&[TELEPHONY])]),
    // High: PHI of 10k+ patients.
    kind(Saas, Dept::NursingInformatics, "Virtual Care|Telehealth")
        .services(&[service("Virtual visits")
            .downtime(8)
            .care(20_000)
            .processes(&["Virtual visits", "Behavioral health"])
            .revenue(Medium)])
        .flows(&[phi(40_000, 90_000, ALL_ACTIONS).via(API).subs(&[HOSTING])]),
    // Moderate: care can wait two days.
    kind(Other, Dept::NursingInformatics, "Pharmaceutical Distribution|Drug Wholesale")
        .services(&[service("Pharmaceutical wholesale distribution")
            .downtime(48)
            .care(50_000)
            .processes(&["Pharmacy inventory management", "Inpatient medication administration"])])
        .flows(&[no_data().via(API)]),
    // High: PHI of 10k+ patients.
    kind(Saas, Dept::NursingInformatics, "Clinical Messaging|Care Communications")
        .services(&[service("Secure clinical messaging")
            .downtime(8)
            .care(15_000)
            .processes(&["Inpatient nursing", "Care coordination"])])
        .flows(&[phi(20_000, 60_000, ALL_ACTIONS).via(API)]),
    // High: patient care within a day.
    kind(Other, Dept::NursingInformatics, "Medical Transport|Ambulance Services")
        .services(&[service("Interfacility patient transport")
            .downtime(12)
            .care(2_500)
            .processes(&["Transfer center"])
            .revenue(Low)])
        .flows(&[phi(3_000, 9_000, TRANSMIT_ONLY)]),
    // Moderate: patient documents, small volume.
    kind(Other, Dept::NursingInformatics, "Translation Services|Language Partners")
        .services(&[service("Translation of patient documents")
            .downtime(168)
            .processes(&["Patient communication"])])
        .flows(&[phi(500, 3_000, PROCESS_TRANSMIT)]),
    // Low: policy documents only.
    kind(Saas, Dept::NursingInformatics, "Policy Software|Document Control")
        .services(&[service("Policy and procedure library")
            .downtime(168)
            .processes(&["Accreditation readiness"])])
        .flows(&[no_data()]),
    // Moderate: a little PHI.
    kind(Saas, Dept::NursingInformatics, "Safety Software|Quality Systems")
        .services(&[service("Patient safety event reporting")
            .downtime(168)
            .processes(&["Patient safety", "Risk management"])])
        .flows(&[phi(2_000, 9_000, STORE_PROCESS)]),
    // Moderate: staff schedules, a day's tolerance.
    kind(Saas, Dept::NursingInformatics, "Workforce Software|Staffing Technologies")
        .services(&[service("Nurse scheduling and staffing")
            .downtime(24)
            .processes(&["Inpatient nursing", "Staffing"])])
        .flows(&[personal(2_000, 4_000, STORE_PROCESS).via(API)]),
    // Moderate: scribes see PHI, small volume.
    kind(Other, Dept::NursingInformatics, "Scribe Services|Clinical Documentation Partners")
        .services(&[service("Emergency department scribes|Clinic documentation scribes")
            .downtime(72)
            .processes(&["Clinical documentation"])])
        .flows(&[phi(3_000, 9_000, PROCESS_ONLY).via(REMOTE)]),
    // Moderate: interpreters hear PHI, small volume.
    kind(Other, Dept::NursingInformatics, "Sign Language Services|Deaf Access Services")
        .services(&[service("On-site sign language interpreting")
            .downtime(72)
            .processes(&["Patient communication"])])
        .flows(&[phi(300, 1_500, TRANSMIT_ONLY)]),
    // --- Facilities ---------------------------------------------------------
    // Moderate: remote administration of building controls.
    kind(ManagedService, Dept::Facilities, "Building Technologies|Controls")
        .services(&[service("Building automation and HVAC controls monitoring")
            .downtime(24)
            .processes(&["Building operations", "Operating room air handling"])])
        .flows(&[no_data().via(REMOTE)])
        .note("Remote access through the vendor-access gateway only; sessions recorded."),
    // Low: no data.
    kind(Other, Dept::Facilities, "Elevator Company|Vertical Transportation")
        .services(&[service("Elevator maintenance")
            .downtime(72)
            .processes(&["Patient transport"])])
        .flows(&[no_data()]),
    // Moderate: diet orders with allergies; care can wait two days.
    kind(Other, Dept::Facilities, "Dining Services|Food Service")
        .services(&[service("Patient meal service|Diet order fulfilment")
            .downtime(48)
            .care(900)
            .processes(&["Inpatient nutrition"])])
        .flows(&[phi(3_000, 9_000, STORE_PROCESS)]),
    // Low: no data.
    kind(Other, Dept::Facilities, "Linen Services|Environmental Services")
        .times(2)
        .services(&[service("Linen and laundry service|Environmental services staffing")
            .downtime(48)
            .processes(&["Infection prevention"])])
        .flows(&[no_data()]),
    // Low: no data.
    kind(Other, Dept::Facilities, "Environmental Solutions|Waste Services")
        .services(&[service("Regulated medical waste disposal|Sharps container service")
            .downtime(168)
            .processes(&["Infection prevention"])])
        .flows(&[no_data()]),
    // Moderate: a day's tolerance.
    kind(Other, Dept::Facilities, "Security Services|Protective Services")
        .services(&[service("Security officer staffing")
            .downtime(24)
            .processes(&["Campus security", "Visitor management"])])
        .flows(&[personal(20_000, 80_000, STORE_PROCESS)]),
    // Moderate: card payments.
    kind(Other, Dept::Facilities, "Parking|Mobility Services")
        .services(&[service("Parking operations and valet")
            .downtime(72)
            .processes(&["Visitor services"])
            .revenue(Low)])
        .flows(&[payment(20_000, 60_000, ALL_ACTIONS).subs(&[PAYMENTS])]),
    // Low: staff contact details.
    kind(Saas, Dept::Facilities, "Facility Software|Maintenance Systems")
        .services(&[service("Facilities work order management")
            .downtime(72)
            .processes(&["Building operations"])])
        .flows(&[personal(1_500, 4_000, STORE_PROCESS).via(API)]),
    // Low: no data.
    kind(Other, Dept::Facilities, "Power Systems|Generator Services")
        .services(&[service("Emergency generator maintenance")
            .downtime(168)
            .processes(&["Building operations"])])
        .flows(&[no_data()]),
    // Moderate: remote administration of door controllers.
    kind(ManagedService, Dept::Facilities, "Access Control|Security Integration")
        .hosted(OnPremises, SingleTenant)
        .services(&[service("Badge access control system")
            .downtime(24)
            .processes(&["Campus security"])])
        .flows(&[personal(8_000, 9_900, STORE_PROCESS).via(REMOTE)]),
    // Low: design work.
    kind(Consulting, Dept::Facilities, "Architects|Design Partners")
        .services(&[service("Emergency department renovation design")
            .processes(&["Capital projects"])])
        .flows(&[no_data()]),
    // Low: no data.
    kind(Other, Dept::Facilities, "Grounds Services|Pest Management")
        .times(2)
        .services(&[service("Grounds and snow removal|Integrated pest management")
            .downtime(168)
            .processes(&["Building operations"])])
        .flows(&[no_data()]),
    // High: managed service on the clinical network.
    kind(ManagedService, Dept::Facilities, "Clinical Engineering|Biomedical Services")
        .hosted(OnPremises, SingleTenant)
        .services(&[service("Biomedical equipment maintenance")
            .downtime(72)
            .care(3_000)
            .processes(&["Medical equipment management", "Infection prevention", "Surgical services"])])
        .flows(&[no_data().via(NETWORK)]),
    // Moderate: care can wait two days.
    kind(MedicalDevice, Dept::Facilities, "Sterilization Systems|Sterile Processing")
        .services(&[service("Steam sterilizer maintenance")
            .downtime(48)
            .care(2_000)
            .processes(&["Sterile processing"])])
        .flows(&[no_data()]),
    // High: patient care within a day.
    kind(Other, Dept::Facilities, "Medical Gases|Oxygen Supply")
        .services(&[service("Bulk oxygen and medical gas supply")
            .downtime(12)
            .care(800)
            .processes(&["Respiratory therapy", "Surgical services"])])
        .flows(&[no_data()]),
    // Low: supplies only.
    kind(Other, Dept::Facilities, "Office Supply|Business Products")
        .services(&[service("Office supplies").downtime(336).processes(&["Procurement"])])
        .flows(&[no_data().via(API)]),
    // Low: no data.
    kind(Other, Dept::Facilities, "Uniform Services|Apparel Services")
        .services(&[service("Scrub dispensing and laundering")
            .downtime(168)
            .processes(&["Infection prevention"])])
        .flows(&[no_data()]),
    // Low: no data.
    kind(Other, Dept::Facilities, "Print Graphics|Signage")
        .services(&[service("Signage and wayfinding printing").processes(&["Capital projects"])])
        .flows(&[no_data()]),
    // Moderate: card payments.
    kind(Other, Dept::Facilities, "Vending|Refreshment Services")
        .services(&[service("Cafeteria vending")
            .downtime(336)
            .processes(&["Retail food service"])
            .revenue(Low)])
        .flows(&[payment(5_000, 20_000, TRANSMIT_ONLY).subs(&[PAYMENTS])]),
    // Low: no data.
    kind(Other, Dept::Facilities, "Catering|Hospitality Services")
        .services(&[service("Staff cafeteria and event catering")
            .downtime(72)
            .processes(&["Retail food service"])])
        .flows(&[no_data()]),
    // --- Human resources ----------------------------------------------------
    // Moderate: personal data through three sub-processors.
    kind(Saas, Dept::HumanResources, "Payroll Services|Workforce Pay")
        .services(&[
            service("Payroll processing")
                .downtime(72)
                .processes(&["Payroll", "Tax withholding", "Time and attendance"]),
            service("Payroll tax filing").downtime(168).processes(&["Tax withholding"]),
        ])
        .flows(&[personal(9_000, 12_000, ALL_ACTIONS)
            .via(API)
            .subs(&[BANK, PRINT_MAIL, HOSTING])]),
    // High: employee health-plan PHI of 10k+ people.
    kind(Saas, Dept::HumanResources, "Benefits Administration|Benefit Services")
        .services(&[service("Benefits enrollment|COBRA administration")
            .downtime(168)
            .processes(&["Benefits administration"])])
        .flows(&[phi(14_000, 30_000, STORE_PROCESS).via(API)]),
    // Moderate: personal data through three sub-processors.
    kind(Other, Dept::HumanResources, "Screening Services|Background Services")
        .services(&[service("Pre-employment background screening")
            .downtime(168)
            .processes(&["Hiring"])])
        .flows(&[personal(2_000, 6_000, STORE_PROCESS).subs(&[SCREENING, COURIER, HOSTING])]),
    // Low: staff training records.
    kind(Saas, Dept::HumanResources, "Learning Systems|Training Software")
        .services(&[service("Learning management|Mandatory compliance training")
            .downtime(168)
            .processes(&["Staff education"])])
        .flows(&[personal(9_000, 12_000, STORE_PROCESS).via(API)]),
    // Moderate: personal data of 100k+ applicants.
    kind(Saas, Dept::HumanResources, "Talent Software|Recruiting Systems")
        .services(&[service("Applicant tracking").downtime(168).processes(&["Hiring"])])
        .flows(&[personal(100_000, 250_000, STORE_PROCESS)]),
    // Moderate: counselling notes are PHI, small volume.
    kind(Other, Dept::HumanResources, "Employee Assistance|Counseling Services")
        .services(&[service("Employee assistance counselling")
            .downtime(168)
            .processes(&["Employee wellbeing"])])
        .flows(&[phi(300, 900, STORE_PROCESS)]),
    // Moderate: employee health records, under 10k.
    kind(Saas, Dept::HumanResources, "Occupational Health|Workforce Health")
        .services(&[service("Employee health and immunization tracking")
            .downtime(168)
            .processes(&["Occupational health"])])
        .flows(&[phi(8_000, 9_800, STORE_PROCESS)]),
    // Low: clinician credential files.
    kind(Other, Dept::HumanResources, "Credentials Verification|Provider Credentialing")
        .services(&[service("Clinician credentialing verification")
            .downtime(336)
            .processes(&["Medical staff credentialing"])])
        .flows(&[personal(1_500, 3_000, STORE_PROCESS)]),
    // Low: a few temps.
    kind(Other, Dept::HumanResources, "Staffing Partners|Temporary Staffing")
        .services(&[service("Temporary administrative staffing").processes(&["Hiring"])])
        .flows(&[personal(100, 400, STORE_PROCESS)]),
    // Low: a few candidates.
    kind(Consulting, Dept::HumanResources, "Executive Search|Leadership Partners")
        .services(&[service("Executive search|Interim nurse leader placement").processes(&["Hiring"])])
        .flows(&[personal(50, 200, STORE_PROCESS)]),
    // Moderate: personal data held in Canada.
    kind(Saas, Dept::HumanResources, "Engagement Analytics|People Insights")
        .based_in(CANADA)
        .services(&[service("Employee engagement surveys")
            .downtime(336)
            .processes(&["Employee wellbeing"])])
        .flows(&[personal(8_000, 12_000, STORE_PROCESS).at(&["CA"])]),
    // Low: employee data only.
    kind(Other, Dept::HumanResources, "Retirement Services|Plan Administration")
        .services(&[service("Retirement plan recordkeeping")
            .downtime(336)
            .processes(&["Benefits administration"])])
        .flows(&[personal(9_000, 14_000, STORE_PROCESS)]),
    // Low: employee matters only.
    kind(Consulting, Dept::HumanResources, "Employment Law|Legal Advisors")
        .services(&[service("Employment law counsel").processes(&["Employee relations"])])
        .flows(&[personal(50, 300, PROCESS_ONLY)]),
    // Moderate: on our network.
    kind(Other, Dept::HumanResources, "Timekeeping|Workforce Devices")
        .services(&[service("Badge time clocks")
            .downtime(72)
            .processes(&["Time and attendance"])])
        .flows(&[personal(9_000, 12_000, STORE_PROCESS).via(NETWORK)]),
    // Low: employee census for quotes.
    kind(Consulting, Dept::HumanResources, "Benefits Consulting|Insurance Brokerage")
        .services(&[service("Employee benefits brokerage")
            .processes(&["Benefits administration"])])
        .flows(&[personal(9_000, 12_000, PROCESS_ONLY)]),
    // --- Research -----------------------------------------------------------
    // High: PHI held in Ireland.
    kind(Saas, Dept::Research, "Clinical Research Systems|Trial Software")
        .based_in(IRELAND)
        .services(&[service("Clinical trial management")
            .downtime(168)
            .processes(&["Clinical research", "Trial billing compliance"])])
        .flows(&[
            phi(2_000, 6_000, STORE_PROCESS)
                .at(&["IE", "US"])
                .subs(&[HOSTING_EU, CONTACT_CENTRE_IRELAND]),
            deidentified(50_000, 200_000, STORE_PROCESS).at(&["IE"]),
        ]),
    // Low: de-identified data only.
    kind(Paas, Dept::Research, "Data Platforms|Research Computing")
        .services(&[service("De-identified research data platform")
            .downtime(168)
            .processes(&["Clinical research", "Quality improvement"])])
        .flows(&[deidentified(1_500_000, 3_000_000, STORE_PROCESS).via(API)]),
    // High: PHI held in Japan.
    kind(Saas, Dept::Research, "Digital Trials|eClinical")
        .based_in(JAPAN)
        .services(&[service("Electronic consent and patient-reported outcomes")
            .downtime(168)
            .processes(&["Clinical research"])])
        .flows(&[phi(1_000, 3_000, STORE_PROCESS).at(&["JP"]).subs(&[HOSTING_JAPAN])])
        .note("Sponsor-mandated platform for a multi-site oncology study."),
    // Low: de-identified data only.
    kind(Consulting, Dept::Research, "Biostatistics|Research Analytics")
        .times(2)
        .services(&[service("Biostatistics support|Study design consultation")
            .processes(&["Clinical research"])])
        .flows(&[deidentified(10_000, 80_000, PROCESS_ONLY)]),
    // Low: reviewer contact details only.
    kind(Consulting, Dept::Research, "Review Board|Research Ethics")
        .services(&[service("Independent IRB review").processes(&["Human subjects protection"])])
        .flows(&[personal(100, 400, STORE_PROCESS)]),
    // High: clinical lab holding PHI of 10k+ patients.
    kind(ClinicalLab, Dept::Research, "Biorepository|Biobank")
        .services(&[service("Biospecimen storage")
            .downtime(168)
            .processes(&["Clinical research"])])
        .flows(&[phi(12_000, 40_000, STORE_PROCESS)]),
    // Low: de-identified data in Germany.
    kind(Paas, Dept::Research, "Genomics|Bioinformatics")
        .based_in(GERMANY)
        .services(&[service("Genomic sequence analysis pipeline")
            .downtime(336)
            .processes(&["Clinical research"])])
        .flows(&[deidentified(20_000, 60_000, STORE_PROCESS)
            .at(&["DE"])
            .via(API)
            .subs(&[HOSTING_EU])]),
    // Moderate: stipend card payments.
    kind(Other, Dept::Research, "Participant Payments|Study Payments")
        .services(&[service("Research participant stipend cards")
            .downtime(336)
            .processes(&["Clinical research"])])
        .flows(&[
            payment(1_000, 4_000, ALL_ACTIONS).subs(&[PAYMENTS]),
            personal(1_000, 4_000, STORE_PROCESS),
        ]),
    // Low: coded specimens only.
    kind(ClinicalLab, Dept::Research, "Central Laboratory|Trial Laboratory")
        .based_in(GERMANY)
        .services(&[service("Central laboratory for sponsored trials")
            .downtime(336)
            .processes(&["Clinical research"])])
        .flows(&[deidentified(1_000, 5_000, STORE_PROCESS).at(&["DE"])]),
    // Low: survey responses from staff.
    kind(Saas, Dept::Research, "Survey Platforms|Research Surveys")
        .services(&[service("Research survey platform")
            .downtime(336)
            .processes(&["Clinical research"])])
        .flows(&[personal(5_000, 20_000, STORE_PROCESS).via(API)]),
    // Low: advice only.
    kind(Consulting, Dept::Research, "Research Advisory|Grant Consulting")
        .services(&[service("Clinical research strategy advisory|Grant application support")
            .processes(&["Research administration"])])
        .flows(&[no_data()]),
    // --- IT infrastructure --------------------------------------------------
    // Critical: hosts the EHR; PHI of millions.
    kind(Saas, Dept::ItInfrastructure, "Health Records|Clinical Systems")
        .hosted(PrivateCloud, SingleTenant)
        .services(&[
            service("Electronic health record hosting")
                .downtime(1)
                .care(120_000)
                .processes(&[
                    "Emergency department triage",
                    "Inpatient medication administration",
                    "Medication ordering",
                    "Clinical documentation",
                    "Patient registration",
                    "Claims submission",
                ])
                .revenue(High),
            service("Patient portal").downtime(24).patients(80_000).revenue(Low),
        ])
        .flows(&[phi(1_800_000, 2_600_000, ALL_ACTIONS)
            .via(API_REMOTE)
            .subs(&[HOSTING, DATA_CENTER, SUPPORT_INDIA, MESSAGING])])
        .note("System of record for clinical care; annual disaster-recovery test witnessed."),
    // Critical: cloud hosting PHI of millions.
    kind(Iaas, Dept::ItInfrastructure, "Cloud Infrastructure|Cloud Services")
        .services(&[
            service("Cloud hosting for clinical applications")
                .downtime(4)
                .care(80_000)
                .processes(&["Clinical documentation", "Diagnostic imaging", "Laboratory result reporting"])
                .revenue(High),
            service("Disaster recovery site").downtime(24),
        ])
        .flows(&[phi(1_500_000, 3_000_000, STORE_PROCESS).via(NETWORK_API)]),
    // Moderate: development secrets only.
    kind(Iaas, Dept::ItInfrastructure, "Compute|Hosting")
        .services(&[service("Development and test hosting")
            .downtime(168)
            .processes(&["Software development"])])
        .flows(&[credentials(200, 800, STORE_ONLY).via(API)]),
    // Critical: privileged network and remote access.
    kind(ManagedService, Dept::ItInfrastructure, "Cyber Defense|Security Operations")
        .services(&[service("24x7 security monitoring and response")
            .downtime(4)
            .processes(&["Security operations", "Incident response"])])
        .flows(&[
            credentials(10_000, 14_000, STORE_PROCESS).via(NETWORK_REMOTE),
            personal(9_000, 12_000, PROCESS_ONLY),
        ]),
    // High: remote admin with credentials, from India.
    kind(ManagedService, Dept::ItInfrastructure, "IT Services|Technology Services")
        .based_in(INDIA)
        .services(&[service("Service desk (tier 1)")
            .downtime(24)
            .processes(&["IT support", "Password resets", "Device provisioning"])])
        .flows(&[
            credentials(8_000, 12_000, PROCESS_ONLY).at(&["US", "IN"]).via(REMOTE),
            personal(8_000, 12_000, PROCESS_ONLY).at(&["US", "IN"]),
        ]),
    // Critical: mailboxes hold PHI of 100k+ patients.
    kind(Saas, Dept::ItInfrastructure, "Collaboration|Workplace Cloud")
        .services(&[service("Email and collaboration suite")
            .downtime(8)
            .processes(&[
                "Clinical communication",
                "Patient communication",
                "Care coordination",
                "Payroll",
                "Scheduling",
            ])
            .revenue(Low)])
        .flows(&[phi(300_000, 700_000, ALL_ACTIONS).via(API)]),
    // Critical: backups of PHI of millions.
    kind(ManagedService, Dept::ItInfrastructure, "Data Protection|Backup Services")
        .services(&[service("Immutable backup vault").downtime(72).processes(&["Disaster recovery"])])
        .flows(&[phi(2_000_000, 4_000_000, STORE_ONLY).via(REMOTE).subs(&[DATA_CENTER])]),
    // Critical: sign-in for clinicians; patient care within 4 hours.
    kind(Saas, Dept::ItInfrastructure, "Identity|Access Security")
        .services(&[service("Single sign-on and multi-factor authentication")
            .downtime(2)
            .care(100_000)
            .processes(&["Clinical documentation", "Medication ordering", "Remote access"])])
        .flows(&[credentials(10_000, 14_000, STORE_PROCESS).via(API)]),
    // High: network access; four-hour tolerance.
    kind(Other, Dept::ItInfrastructure, "Communications|Network Services")
        .services(&[service("Primary WAN and internet circuits")
            .downtime(2)
            .processes(&["Clinical network connectivity"])])
        .flows(&[no_data().via(NETWORK)]),
    // Moderate: network access; backup only.
    kind(Other, Dept::ItInfrastructure, "Fiber|Broadband")
        .services(&[service("Backup internet circuit")
            .downtime(48)
            .processes(&["Clinical network connectivity"])])
        .flows(&[no_data().via(NETWORK)]),
    // High: printers on the network print PHI.
    kind(ManagedService, Dept::ItInfrastructure, "Document Solutions|Print Services")
        .hosted(OnPremises, SingleTenant)
        .services(&[service("Managed print fleet")
            .downtime(24)
            .processes(&["Patient registration", "Discharge paperwork", "Pharmacy labels"])])
        .flows(&[phi(50_000, 90_000, TRANSMIT_ONLY).via(NETWORK)]),
    // Moderate: contractors administer systems remotely.
    kind(Consulting, Dept::ItInfrastructure, "Technology Consulting|IT Partners|Health IT Advisors")
        .times(3)
        .services(&[service("EHR upgrade project staffing|Infrastructure project staffing|Interface analyst contractors")
            .processes(&["IT projects"])])
        .flows(&[no_data().via(REMOTE)]),
    // Critical: interface engine carrying PHI; patient care within 4 hours.
    kind(Paas, Dept::ItInfrastructure, "Integration|Interoperability")
        .hosted(PrivateCloud, SingleTenant)
        .services(&[service("Clinical interface engine hosting")
            .downtime(2)
            .care(60_000)
            .processes(&["Laboratory result reporting", "Diagnostic imaging", "Claims submission"])])
        .flows(&[phi(400_000, 800_000, PROCESS_TRANSMIT).via(API)]),
    // Low: departmental apps with staff data.
    kind(Paas, Dept::ItInfrastructure, "App Platforms|Low-Code")
        .services(&[service("Departmental app platform")
            .downtime(168)
            .processes(&["Departmental workflows"])])
        .flows(&[personal(1_000, 4_000, STORE_PROCESS).via(API)]),
    // Low: procurement only.
    kind(Other, Dept::ItInfrastructure, "Software Licensing|Technology Supply|Hardware Supply")
        .times(4)
        .services(&[service("Software license procurement|Endpoint hardware procurement|Network hardware procurement")
            .processes(&["Procurement"])])
        .flows(&[no_data()]),
    // High: four-hour tolerance for name resolution.
    kind(Saas, Dept::ItInfrastructure, "DNS|Certificate Services")
        .services(&[service("Managed DNS and TLS certificates")
            .downtime(4)
            .processes(&["Clinical network connectivity", "Remote access"])])
        .flows(&[credentials(50, 200, STORE_PROCESS).via(API)]),
    // High: network access and credentials during testing.
    kind(Consulting, Dept::ItInfrastructure, "Security Consulting|Offensive Security")
        .services(&[service("Annual penetration test").processes(&["Security assurance"])])
        .flows(&[credentials(20, 100, STORE_PROCESS).via(NETWORK)]),
    // High: remote admin of devices with credentials.
    kind(Saas, Dept::ItInfrastructure, "Endpoint Management|Mobility Software")
        .services(&[service("Mobile device management")
            .downtime(24)
            .processes(&["Device provisioning"])])
        .flows(&[credentials(3_000, 6_000, STORE_PROCESS).via(REMOTE)]),
    // High: four-hour tolerance.
    kind(Iaas, Dept::ItInfrastructure, "Data Centers|Colocation")
        .hosted(PrivateCloud, SingleTenant)
        .services(&[service("Data center space and power")
            .downtime(2)
            .processes(&["Disaster recovery"])])
        .flows(&[no_data()]),
    // High: PHI of 10k+ patients in transit.
    kind(Saas, Dept::ItInfrastructure, "Cloud Fax|Document Exchange")
        .services(&[service("Cloud fax")
            .downtime(8)
            .processes(&["Referral management", "Care coordination"])])
        .flows(&[phi(60_000, 95_000, TRANSMIT_ONLY).via(API)]),
    // Low: meeting participants only.
    kind(Saas, Dept::ItInfrastructure, "Video Meetings|Conferencing")
        .services(&[service("Video meetings")
            .downtime(72)
            .processes(&["Staff communication"])])
        .flows(&[personal(8_000, 12_000, PROCESS_TRANSMIT).via(API)]),
    // Moderate: an agent that administers every endpoint.
    kind(Saas, Dept::ItInfrastructure, "Endpoint Security|Threat Protection")
        .services(&[service("Endpoint detection agent")
            .downtime(72)
            .processes(&["Security operations"])])
        .flows(&[no_data().via(REMOTE)]),
    // Moderate: paper PHI, small volume.
    kind(Other, Dept::ItInfrastructure, "Shredding|Information Destruction")
        .services(&[service("Secure document shredding")
            .downtime(336)
            .processes(&["Records management"])])
        .flows(&[phi(5_000, 9_000, PROCESS_ONLY).subs(&[SHREDDING])]),
    // High: paper records of 10k+ patients.
    kind(Other, Dept::ItInfrastructure, "Records Storage|Archive Services")
        .services(&[service("Off-site paper records storage")
            .downtime(168)
            .processes(&["Records management", "Health information management"])])
        .flows(&[phi(60_000, 95_000, STORE_ONLY)]),
    // Moderate: a small PHI sample.
    kind(Consulting, Dept::ItInfrastructure, "Compliance Partners|Privacy Advisors")
        .services(&[service("HIPAA security risk analysis").processes(&["Compliance"])])
        .flows(&[phi(100, 500, PROCESS_ONLY)]),
    // Low: contract records only.
    kind(Saas, Dept::ItInfrastructure, "Contract Software|Procurement Cloud")
        .services(&[service("Contract lifecycle management")
            .downtime(336)
            .processes(&["Procurement"])])
        .flows(&[personal(200, 800, STORE_PROCESS)]),
    // Low: analytics on staff usage.
    kind(Paas, Dept::ItInfrastructure, "Analytics|Data Services")
        .services(&[service("Operational reporting warehouse")
            .downtime(168)
            .processes(&["Operational reporting"])])
        .flows(&[deidentified(100_000, 400_000, STORE_PROCESS).via(API).subs(&[ANALYTICS])]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_department_has_a_relationship_owner() {
        for dept in Dept::ALL {
            let owner = dept.owner();
            assert_eq!(owner.role, Role::RelationshipOwner, "{dept:?}");
            assert!(PEOPLE.iter().any(|p| p.email == owner.email), "{dept:?}");
        }
    }

    #[test]
    fn every_kind_is_complete() {
        for kind in KINDS {
            assert!(kind.count > 0, "{}", kind.descriptors);
            assert!(!kind.descriptors.is_empty());
            assert!(!kind.legal_forms.is_empty(), "{}", kind.descriptors);
            assert!(
                (1..=3).contains(&kind.services.len()),
                "{}: 1–3 services",
                kind.descriptors
            );
            assert!(!kind.flows.is_empty(), "{}", kind.descriptors);
            for flow in kind.flows {
                assert!(flow.records.0 <= flow.records.1, "{}", kind.descriptors);
                assert!(!flow.locations.is_empty(), "{}", kind.descriptors);
                if flow.class == DataClass::NoData {
                    assert!(flow.actions.is_empty() && flow.records == (0, 0));
                } else {
                    assert!(!flow.actions.is_empty() && flow.records.0 > 0);
                }
            }
        }
    }
}
