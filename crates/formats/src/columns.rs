//! The inventory's column set, shared by the importer, the exporter and the
//! template so the three can never disagree about names or order.

/// One column of the vendor inventory, as documented in the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDoc {
    /// Header name, lower-case snake_case.
    pub name: &'static str,
    /// A row without a value here is rejected.
    pub required: bool,
    /// What goes in the column, in plain English.
    pub description: &'static str,
    /// The value of the template's first example row.
    pub example: &'static str,
}

/// Cells longer than this are refused: no legitimate inventory field comes
/// close, and refusing early keeps a hostile file from ballooning memory in
/// the per-row work that follows.
pub const MAX_CELL_BYTES: usize = 64 * 1024;

/// Separates the items of list columns (aliases, domains, data classes, ...).
/// Exports write `"; "`; imports split on `;` and trim.
pub const LIST_SEPARATOR: char = ';';

/// Columns an export adds around the template columns. They are read-only:
/// the importer accepts and ignores them so an export can be re-imported.
pub const ASSESSMENT_COLUMN_NAMES: &[&str] = &[
    "mamori_id",
    "tier",
    "policy_version",
    "score_cybersecurity",
    "score_reputational",
    "score_compliance",
    "score_privacy",
    "score_operational",
    "score_strategic",
    "score_financial",
];

/// The editable inventory columns, in template order. Index `i` documents
/// `Field::ALL[i]`.
pub const TEMPLATE_COLUMNS: &[ColumnDoc] = &[
    ColumnDoc {
        name: "external_id",
        required: false,
        description: "Your own identifier for the vendor (e.g. the procurement or ERP supplier number). \
                      When present it is the key that makes re-imports update the same vendor; \
                      otherwise the legal name is the key.",
        example: "VND-0001",
    },
    ColumnDoc {
        name: "legal_name",
        required: true,
        description: "The vendor's registered company name, at most 300 characters.",
        example: "Cedar Imaging Cloud, Inc.",
    },
    ColumnDoc {
        name: "aliases",
        required: false,
        description: "Other names the vendor is known by (brands, former names), separated by ';'.",
        example: "Cedar PACS; CedarView",
    },
    ColumnDoc {
        name: "domains",
        required: false,
        description: "Internet domains the vendor uses, separated by ';' (e.g. example.com; app.example.com). \
                      Used to recognise the vendor in network and SaaS-discovery logs.",
        example: "cedarimaging.example; pacs.cedarimaging.example",
    },
    ColumnDoc {
        name: "vendor_type",
        required: true,
        description: "What kind of business the vendor is: saas, iaas, paas, managed_service, \
                      medical_device, clinical_lab, billing_rcm, consulting or other.",
        example: "saas",
    },
    ColumnDoc {
        name: "deployment",
        required: false,
        description: "Where the vendor runs what it runs for you: public_cloud, private_cloud, hybrid, \
                      on_premises or not_applicable (the default when empty).",
        example: "public_cloud",
    },
    ColumnDoc {
        name: "tenancy",
        required: false,
        description: "Whether your data shares infrastructure with other customers: single_tenant, \
                      multi_tenant or not_applicable (the default when empty).",
        example: "multi_tenant",
    },
    ColumnDoc {
        name: "status",
        required: false,
        description: "Where the relationship stands: candidate, onboarding, active (the default when empty), \
                      offboarding or terminated.",
        example: "active",
    },
    ColumnDoc {
        name: "owner_email",
        required: true,
        description: "E-mail address of the person in your organisation who owns the relationship.",
        example: "r.tanaka@hospital.example",
    },
    ColumnDoc {
        name: "owner_name",
        required: false,
        description: "Name of the relationship owner.",
        example: "Rei Tanaka",
    },
    ColumnDoc {
        name: "notes",
        required: false,
        description: "Free text, at most 20,000 bytes.",
        example: "Cloud PACS for radiology. BAA signed in 2023.",
    },
    ColumnDoc {
        name: "service_name",
        required: false,
        description: "The main service the vendor provides. Filling any service column creates the service; \
                      its name defaults to 'Primary service'.",
        example: "Radiology image archive",
    },
    ColumnDoc {
        name: "max_downtime_hours",
        required: false,
        description: "Maximum tolerable downtime of the service in whole hours (empty = not assessed yet).",
        example: "4",
    },
    ColumnDoc {
        name: "business_processes",
        required: false,
        description: "Business processes that depend on the service, separated by ';'.",
        example: "Radiology reading; Emergency imaging",
    },
    ColumnDoc {
        name: "patient_care_impact",
        required: false,
        description: "Whether an outage of the service affects patient care: yes or no \
                      (also true/false, y/n, 1/0; empty = no).",
        example: "yes",
    },
    ColumnDoc {
        name: "patients_affected",
        required: false,
        description: "How many patients an outage or breach of the service would affect (whole number).",
        example: "120000",
    },
    ColumnDoc {
        name: "records_affected",
        required: false,
        description: "How many records an outage or breach of the service would affect (whole number).",
        example: "2500000",
    },
    ColumnDoc {
        name: "revenue_dependency",
        required: false,
        description: "How much of your revenue depends on the service: none (the default when empty), \
                      low, medium or high.",
        example: "medium",
    },
    ColumnDoc {
        name: "data_classes",
        required: false,
        description: "Classes of data the vendor touches, separated by ';': phi, personal_data, payment, \
                      credentials, deidentified or none. Each class becomes one data flow sharing the \
                      columns that follow.",
        example: "phi; personal_data",
    },
    ColumnDoc {
        name: "data_actions",
        required: false,
        description: "What the vendor does with the data, separated by ';': store, process, transmit. \
                      Required when a data class other than none is listed.",
        example: "store; process; transmit",
    },
    ColumnDoc {
        name: "record_count",
        required: false,
        description: "How many records the vendor holds or handles (whole number; 12,000 and 12000 both work).",
        example: "2500000",
    },
    ColumnDoc {
        name: "data_locations",
        required: false,
        description: "Countries or regions where the data is stored or processed, separated by ';' \
                      (ISO 3166 codes such as US or JP, or region names).",
        example: "US; JP",
    },
    ColumnDoc {
        name: "connectivity",
        required: false,
        description: "How the vendor reaches into your estate, separated by ';': network_access, \
                      remote_admin, api_integration or none.",
        example: "api_integration; network_access",
    },
    ColumnDoc {
        name: "subprocessors",
        required: false,
        description: "The vendor's own vendors that touch the data (your fourth parties), separated by ';'.",
        example: "Amazon Web Services; Twilio",
    },
];

/// The editable columns as a closed set, so rows can be held in fixed arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    ExternalId,
    LegalName,
    Aliases,
    Domains,
    VendorType,
    Deployment,
    Tenancy,
    Status,
    OwnerEmail,
    OwnerName,
    Notes,
    ServiceName,
    MaxDowntimeHours,
    BusinessProcesses,
    PatientCareImpact,
    PatientsAffected,
    RecordsAffected,
    RevenueDependency,
    DataClasses,
    DataActions,
    RecordCount,
    DataLocations,
    Connectivity,
    Subprocessors,
}

pub(crate) const FIELD_COUNT: usize = 24;

impl Field {
    pub(crate) const ALL: [Field; FIELD_COUNT] = [
        Field::ExternalId,
        Field::LegalName,
        Field::Aliases,
        Field::Domains,
        Field::VendorType,
        Field::Deployment,
        Field::Tenancy,
        Field::Status,
        Field::OwnerEmail,
        Field::OwnerName,
        Field::Notes,
        Field::ServiceName,
        Field::MaxDowntimeHours,
        Field::BusinessProcesses,
        Field::PatientCareImpact,
        Field::PatientsAffected,
        Field::RecordsAffected,
        Field::RevenueDependency,
        Field::DataClasses,
        Field::DataActions,
        Field::RecordCount,
        Field::DataLocations,
        Field::Connectivity,
        Field::Subprocessors,
    ];

    /// Columns describing the primary service.
    pub(crate) const SERVICE: [Field; 7] = [
        Field::ServiceName,
        Field::MaxDowntimeHours,
        Field::BusinessProcesses,
        Field::PatientCareImpact,
        Field::PatientsAffected,
        Field::RecordsAffected,
        Field::RevenueDependency,
    ];

    /// Columns shared by every data flow of the row (all but the classes).
    pub(crate) const FLOW_DETAILS: [Field; 5] = [
        Field::DataActions,
        Field::RecordCount,
        Field::DataLocations,
        Field::Connectivity,
        Field::Subprocessors,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn name(self) -> &'static str {
        TEMPLATE_COLUMNS[self.index()].name
    }

    pub(crate) fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::RiskCategory;

    #[test]
    fn fields_and_docs_line_up() {
        assert_eq!(TEMPLATE_COLUMNS.len(), FIELD_COUNT);
        for (i, field) in Field::ALL.iter().enumerate() {
            assert_eq!(field.index(), i);
            assert_eq!(Field::from_name(field.name()), Some(*field));
        }
        let required: Vec<_> = TEMPLATE_COLUMNS
            .iter()
            .filter(|c| c.required)
            .map(|c| c.name)
            .collect();
        assert_eq!(required, ["legal_name", "vendor_type", "owner_email"]);
    }

    #[test]
    fn assessment_columns_cover_every_risk_category() {
        let scores: Vec<String> = RiskCategory::ALL
            .iter()
            .map(|c| format!("score_{}", c.as_str()))
            .collect();
        assert_eq!(&ASSESSMENT_COLUMN_NAMES[3..], scores.as_slice());
    }
}
