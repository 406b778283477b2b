//! OSCAL 1.1 assessment-results (JSON) for a completed vendor assessment.
//!
//! One document holds one result: the questionnaire's answered questions as
//! observations, the findings with their CSF target and state, and the scores
//! as properties in Mamori's namespace. Every uuid is a version-5 uuid derived
//! from the assessment's own ids, so exporting the same assessment twice gives
//! the same document. The questionnaire template stands in for the
//! assessment plan: `import-ap` points at a back-matter resource naming it.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::Serialize;
use thiserror::Error;
use uuid::Uuid;

/// The namespace of the properties Mamori adds (`ns` on each `prop`).
pub const MAMORI_OSCAL_NS: &str = "https://mamori.dev/ns/oscal";

/// The OSCAL version the documents are written against.
pub const OSCAL_VERSION: &str = "1.1.2";

/// What an export needs to know about one assessment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssessmentResultsInput {
    /// Mamori's id of the assessment (any unique string; a uuid in practice).
    pub assessment_id: String,
    pub title: String,
    pub vendor_name: String,
    pub template_key: String,
    pub template_version: String,
    /// RFC 3339 with an offset, e.g. `2026-03-02T09:15:00Z`.
    pub started: String,
    pub completed: String,
    pub reviewer: String,
    /// 0–100.
    pub overall_score: Option<u8>,
    /// CSF function id (`GV`, `PR`, ...) and its 0–100 score.
    pub function_scores: Vec<(String, u8)>,
    pub findings: Vec<FindingInput>,
    /// One per answered question.
    pub observations: Vec<ObservationInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FindingInput {
    /// Mamori's id of the finding.
    pub id: String,
    pub title: String,
    pub description: String,
    /// critical, high, medium or low.
    pub severity: String,
    /// open, accepted, overridden, resolved, ...
    pub status: String,
    pub question_id: String,
    /// CSF elements the failing question maps to; the first is the target.
    pub csf_ids: Vec<String>,
    pub reviewer_comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservationInput {
    pub question_id: String,
    pub question: String,
    pub answer: String,
    pub outcome: Outcome,
    /// CSF elements the question maps to (they become the reviewed controls).
    pub csf_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    #[default]
    Pass,
    Fail,
    NotApplicable,
    /// Answered, but not scored.
    Informational,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not-applicable",
            Outcome::Informational => "informational",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OscalResultsError {
    #[error("assessment results: {field} is empty")]
    Empty { field: String },
    #[error("assessment results: {field} '{value}' is not an RFC 3339 date-time with an offset (e.g. 2026-03-02T09:15:00Z): {reason}")]
    Timestamp {
        field: String,
        value: String,
        reason: String,
    },
    #[error("assessment results: {field} '{value}' is not an OSCAL token (a letter or '_', then letters, digits, '_', '-' or '.')")]
    Token { field: String, value: String },
    #[error("assessment results: {field} is {value}, above 100")]
    Score { field: String, value: u8 },
    #[error("assessment results: the assessment ends ({completed}) before it starts ({started})")]
    EndsBeforeStart { started: String, completed: String },
    #[error("assessment results: could not write JSON: {message}")]
    Json { message: String },
}

/// Writes the assessment as an OSCAL assessment-results JSON document
/// (pretty-printed). Checks first what OSCAL would refuse: empty required
/// text, timestamps without an offset, ids that are not tokens.
pub fn write_assessment_results_json(
    input: &AssessmentResultsInput,
) -> Result<String, OscalResultsError> {
    let document = build(input)?;
    serde_json::to_string_pretty(&document).map_err(|err| OscalResultsError::Json {
        message: err.to_string(),
    })
}

fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, MAMORI_OSCAL_NS.as_bytes())
}

/// A reproducible uuid for one part of one assessment.
fn derived_uuid(assessment_id: &str, kind: &str, id: &str) -> String {
    let name = format!("{assessment_id}\u{1f}{kind}\u{1f}{id}");
    Uuid::new_v5(&namespace(), name.as_bytes()).to_string()
}

fn required(field: &str, value: &str) -> Result<String, OscalResultsError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(OscalResultsError::Empty {
            field: field.to_string(),
        });
    }
    Ok(value.to_string())
}

fn timestamp(field: &str, value: &str) -> Result<DateTime<FixedOffset>, OscalResultsError> {
    DateTime::parse_from_rfc3339(value.trim()).map_err(|err| OscalResultsError::Timestamp {
        field: field.to_string(),
        value: value.to_string(),
        reason: err.to_string(),
    })
}

fn format_time(time: &DateTime<FixedOffset>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// OSCAL's `token`: an XML NCName, ASCII subset here.
fn token(field: &str, value: &str) -> Result<String, OscalResultsError> {
    let value = value.trim();
    let mut chars = value.chars();
    let valid = match chars.next() {
        Some(first) => {
            (first.is_ascii_alphabetic() || first == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        }
        None => false,
    };
    if !valid {
        return Err(OscalResultsError::Token {
            field: field.to_string(),
            value: value.to_string(),
        });
    }
    Ok(value.to_string())
}

fn score(field: &str, value: u8) -> Result<String, OscalResultsError> {
    if value > 100 {
        return Err(OscalResultsError::Score {
            field: field.to_string(),
            value,
        });
    }
    Ok(value.to_string())
}

/// A Mamori property; `None` when the value is blank (OSCAL forbids empty
/// property values).
fn prop(name: &str, value: &str) -> Option<Prop> {
    let value = value.trim();
    (!value.is_empty()).then(|| Prop {
        name: name.to_string(),
        ns: MAMORI_OSCAL_NS,
        value: value.to_string(),
        class: None,
    })
}

/// Finding states whose control counts as met: the reviewer overrode the
/// finding, or it was fixed. An accepted risk is still an unmet control.
fn is_satisfied(status: &str) -> bool {
    matches!(
        status.trim().to_ascii_lowercase().as_str(),
        "overridden" | "resolved" | "closed" | "remediated" | "false_positive" | "false-positive"
    )
}

fn build(input: &AssessmentResultsInput) -> Result<Document, OscalResultsError> {
    let assessment_id = required("assessment_id", &input.assessment_id)?;
    let title = required("title", &input.title)?;
    let vendor = required("vendor_name", &input.vendor_name)?;
    let template_key = required("template_key", &input.template_key)?;
    let template_version = required("template_version", &input.template_version)?;
    let started = timestamp("started", &input.started)?;
    let completed = timestamp("completed", &input.completed)?;
    if completed < started {
        return Err(OscalResultsError::EndsBeforeStart {
            started: input.started.clone(),
            completed: input.completed.clone(),
        });
    }
    let uuid = |kind: &str, id: &str| derived_uuid(&assessment_id, kind, id);

    let mut result_props = Vec::new();
    result_props.extend(prop("vendor-name", &vendor));
    result_props.extend(prop(
        "questionnaire-template",
        &format!("{template_key}@{template_version}"),
    ));
    result_props.extend(prop("reviewer", &input.reviewer));
    if let Some(overall) = input.overall_score {
        result_props.extend(prop("overall-score", &score("overall_score", overall)?));
    }
    for (function, value) in &input.function_scores {
        let field = format!("function_scores[{function}]");
        let class = token(&field, function)?;
        result_props.extend(
            prop("function-score", &score(&field, *value)?).map(|mut p| {
                p.class = Some(class);
                p
            }),
        );
    }

    let mut reviewed: BTreeSet<String> = BTreeSet::new();
    let mut observations = Vec::with_capacity(input.observations.len());
    let mut observation_uuids = HashMap::new();
    for (i, o) in input.observations.iter().enumerate() {
        let field = |name: &str| format!("observations[{i}].{name}");
        let question_id = token(&field("question_id"), &o.question_id)?;
        let question = required(&field("question"), &o.question)?;
        let answer = o.answer.trim();
        for csf in &o.csf_ids {
            reviewed.insert(token(&field("csf_ids"), csf)?);
        }
        let id = uuid("observation", &question_id);
        observation_uuids.insert(question_id.clone(), id.clone());
        let mut props = Vec::new();
        props.extend(prop("question-id", &question_id));
        props.extend(prop("outcome", o.outcome.as_str()));
        observations.push(Observation {
            uuid: id,
            title: one_line(&question),
            description: format!(
                "Question: {question}\n\nAnswer: {}",
                if answer.is_empty() {
                    "(no answer)"
                } else {
                    answer
                }
            ),
            props,
            methods: vec!["EXAMINE"],
            collected: format_time(&completed),
        });
    }

    let mut findings = Vec::with_capacity(input.findings.len());
    for (i, f) in input.findings.iter().enumerate() {
        let field = |name: &str| format!("findings[{i}].{name}");
        let finding_id = required(&field("id"), &f.id)?;
        let finding_title = required(&field("title"), &f.title)?;
        let question_id = token(&field("question_id"), &f.question_id)?;
        let mut csf_ids = Vec::with_capacity(f.csf_ids.len());
        for csf in &f.csf_ids {
            let csf = token(&field("csf_ids"), csf)?;
            reviewed.insert(csf.clone());
            csf_ids.push(csf);
        }
        // Without a CSF mapping the question itself is the objective.
        let target_id = csf_ids
            .first()
            .cloned()
            .unwrap_or_else(|| question_id.clone());
        let state = if is_satisfied(&f.status) {
            "satisfied"
        } else {
            "not-satisfied"
        };
        let mut props = Vec::new();
        props.extend(prop("severity", &f.severity));
        props.extend(prop("finding-status", &f.status));
        props.extend(prop("question-id", &question_id));
        for csf in &csf_ids {
            props.extend(prop("csf-id", csf));
        }
        let description = f.description.trim();
        findings.push(Finding {
            uuid: uuid("finding", &finding_id),
            title: one_line(&finding_title),
            description: if description.is_empty() {
                finding_title.clone()
            } else {
                description.to_string()
            },
            props,
            target: FindingTarget {
                kind: "objective-id",
                target_id,
                status: ObjectiveStatus { state },
            },
            related_observations: observation_uuids
                .get(&question_id)
                .map(|id| {
                    vec![RelatedObservation {
                        observation_uuid: id.clone(),
                    }]
                })
                .unwrap_or_default(),
            remarks: f
                .reviewer_comment
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        });
    }

    let control_selections = if reviewed.is_empty() {
        vec![ControlSelection::All {
            include_all: IncludeAll {},
        }]
    } else {
        vec![ControlSelection::Some {
            include_controls: reviewed
                .into_iter()
                .map(|control_id| SelectControl { control_id })
                .collect(),
        }]
    };

    let plan_uuid = uuid(
        "assessment-plan",
        &format!("{template_key}@{template_version}"),
    );
    let reviewer = input.reviewer.trim();
    let (roles, parties, responsible_parties) = if reviewer.is_empty() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        let party_uuid = uuid("party", reviewer);
        (
            vec![Role {
                id: "assessor",
                title: "Assessor",
            }],
            vec![Party {
                uuid: party_uuid.clone(),
                kind: "person",
                name: reviewer.to_string(),
            }],
            vec![ResponsibleParty {
                role_id: "assessor",
                party_uuids: vec![party_uuid],
            }],
        )
    };

    Ok(Document {
        assessment_results: AssessmentResults {
            // A re-export after a later review is another document.
            uuid: uuid("assessment-results", &format_time(&completed)),
            metadata: Metadata {
                title: one_line(&title),
                last_modified: format_time(&completed),
                // One export per completed review; the template's version
                // is a result property.
                version: "1.0".to_string(),
                oscal_version: OSCAL_VERSION,
                roles,
                parties,
                responsible_parties,
            },
            import_ap: ImportAp {
                href: format!("#{plan_uuid}"),
            },
            results: vec![AssessmentResult {
                uuid: uuid("result", "questionnaire"),
                title: one_line(&title),
                description: format!(
                    "Third-party risk assessment of {vendor} with the questionnaire \
                     {template_key} version {template_version}."
                ),
                start: format_time(&started),
                end: format_time(&completed),
                props: result_props,
                reviewed_controls: ReviewedControls { control_selections },
                observations,
                findings,
            }],
            back_matter: BackMatter {
                resources: vec![Resource {
                    uuid: plan_uuid,
                    title: format!(
                        "Assessment plan: questionnaire {template_key} version {template_version}"
                    ),
                    description: "Mamori assessed the vendor with this questionnaire template; it \
                                  stands in for an OSCAL assessment plan."
                        .to_string(),
                }],
            },
        },
    })
}

/// OSCAL titles are single-line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// The document, in OSCAL's JSON field names and order.

#[derive(Serialize)]
struct Document {
    #[serde(rename = "assessment-results")]
    assessment_results: AssessmentResults,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentResults {
    uuid: String,
    metadata: Metadata,
    import_ap: ImportAp,
    results: Vec<AssessmentResult>,
    back_matter: BackMatter,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Metadata {
    title: String,
    last_modified: String,
    version: String,
    oscal_version: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<Role>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parties: Vec<Party>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    responsible_parties: Vec<ResponsibleParty>,
}

#[derive(Serialize)]
struct Role {
    id: &'static str,
    title: &'static str,
}

#[derive(Serialize)]
struct Party {
    uuid: String,
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ResponsibleParty {
    role_id: &'static str,
    party_uuids: Vec<String>,
}

#[derive(Serialize)]
struct ImportAp {
    href: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentResult {
    uuid: String,
    title: String,
    description: String,
    start: String,
    end: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    reviewed_controls: ReviewedControls,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observations: Vec<Observation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<Finding>,
}

#[derive(Serialize)]
struct Prop {
    name: String,
    ns: &'static str,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ReviewedControls {
    control_selections: Vec<ControlSelection>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ControlSelection {
    All {
        #[serde(rename = "include-all")]
        include_all: IncludeAll,
    },
    Some {
        #[serde(rename = "include-controls")]
        include_controls: Vec<SelectControl>,
    },
}

#[derive(Serialize)]
struct IncludeAll {}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct SelectControl {
    control_id: String,
}

#[derive(Serialize)]
struct Observation {
    uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    methods: Vec<&'static str>,
    collected: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Finding {
    uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    target: FindingTarget,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_observations: Vec<RelatedObservation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct FindingTarget {
    #[serde(rename = "type")]
    kind: &'static str,
    target_id: String,
    status: ObjectiveStatus,
}

#[derive(Serialize)]
struct ObjectiveStatus {
    state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelatedObservation {
    observation_uuid: String,
}

#[derive(Serialize)]
struct BackMatter {
    resources: Vec<Resource>,
}

#[derive(Serialize)]
struct Resource {
    uuid: String,
    title: String,
    description: String,
}
