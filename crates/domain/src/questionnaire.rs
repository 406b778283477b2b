//! Questionnaire templates: the questions, how they map to a framework, how
//! each answer is judged and when a question is shown. The file format is
//! documented in `content/questionnaires/README.md`; this module parses and
//! checks it. Scoring lives in `scoring`.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::framework::csf2;
use crate::labels::label_enum;

label_enum! {
    /// How serious a failing answer (a finding) is.
    Severity, "severity" {
        Critical = "critical",
        High = "high",
        Medium = "medium",
        Low = "low",
    }
}

impl Severity {
    /// 0 = critical … 3 = low; sorts the worst first.
    pub fn rank(self) -> u8 {
        match self {
            Severity::Critical => 0,
            Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
        }
    }
}

label_enum! {
    AnswerType, "answer type" {
        YesNo = "yes_no" | "yesno",
        Single = "single" | "single_choice" | "radio",
        Multiple = "multiple" | "multiple_choice" | "checkbox",
        Number = "number",
        Date = "date",
        Text = "text" | "free_text",
        File = "file" | "file_evidence" | "evidence",
    }
}

/// Text in English with an optional Japanese translation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LocalText {
    pub en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja: Option<String>,
}

impl LocalText {
    pub fn en(text: impl Into<String>) -> Self {
        LocalText {
            en: text.into(),
            ja: None,
        }
    }

    /// The text in `lang` ("ja" or anything else for English), falling back
    /// to English when there is no translation.
    pub fn get(&self, lang: &str) -> &str {
        match (lang, &self.ja) {
            ("ja", Some(ja)) if !ja.is_empty() => ja,
            _ => &self.en,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: LocalText,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub text: LocalText,
}

/// "Show this question only when `question`'s answer is one of `any`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub question: String,
    pub any: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// The shallowest depth that includes this question (files with depths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<String>,
    #[serde(rename = "type")]
    pub answer_type: AnswerType,
    pub text: LocalText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub csf: Vec<String>,
    #[serde(default)]
    pub weight: u32,
    /// The answer is sealed under the customer's key in the database
    /// (incident details, unresolved findings).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pass: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub allow_na: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    /// Evidence types a `file` question expects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Question {
    pub fn is_scored(&self) -> bool {
        self.weight > 0
    }

    /// The values a choice-like answer may take (yes/no/na or option values).
    pub fn allowed_values(&self) -> Vec<&str> {
        match self.answer_type {
            AnswerType::YesNo => {
                let mut v = vec!["yes", "no"];
                if self.allow_na {
                    v.push("na");
                }
                v
            }
            AnswerType::Single | AnswerType::Multiple => {
                self.options.iter().map(|o| o.value.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Severity of the finding a failing answer raises.
    pub fn failing_severity(&self) -> Severity {
        self.severity.unwrap_or(Severity::Medium)
    }
}

/// One questionnaire at one depth — what an assessment is answered against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// `healthcare-baseline/standard`, or the file key when it has no depths.
    pub key: String,
    pub version: String,
    pub framework: String,
    pub title: LocalText,
    #[serde(default)]
    pub description: Option<LocalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<String>,
    pub sections: Vec<Section>,
    pub questions: Vec<Question>,
}

impl Template {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    pub fn question_index(&self) -> HashMap<&str, &Question> {
        self.questions.iter().map(|q| (q.id.as_str(), q)).collect()
    }

    /// Checks everything `TemplateFile` checks, for templates built in code
    /// (e.g. imported from VSAQ).
    pub fn validate(&self) -> Result<(), TemplateError> {
        check_questions(&self.framework, &self.sections, &self.questions, None)
    }
}

/// A template file as written: possibly several depths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFile {
    pub key: String,
    pub version: String,
    #[serde(default = "default_framework")]
    pub framework: String,
    pub title: LocalText,
    #[serde(default)]
    pub description: Option<LocalText>,
    #[serde(default)]
    pub depths: Vec<String>,
    #[serde(default, rename = "section")]
    pub sections: Vec<Section>,
    #[serde(rename = "question")]
    pub questions: Vec<Question>,
}

fn default_framework() -> String {
    CSF2_KEY.to_string()
}

pub const CSF2_KEY: &str = "nist-csf-2.0";

/// The baseline questionnaire shipped with Mamori.
pub const BASELINE_TOML: &str =
    include_str!("../../../content/questionnaires/healthcare-baseline.toml");

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("not a valid template file: {0}")]
    Syntax(String),
    #[error("field '{field}': {message}")]
    File {
        field: &'static str,
        message: String,
    },
    #[error("question '{question}', field '{field}': {message}")]
    Question {
        question: String,
        field: &'static str,
        message: String,
    },
    #[error("conditions form a cycle: {}", .0.join(" → "))]
    CircularCondition(Vec<String>),
}

fn question_error(q: &str, field: &'static str, message: impl Into<String>) -> TemplateError {
    TemplateError::Question {
        question: q.to_string(),
        field,
        message: message.into(),
    }
}

/// Limits that keep a hostile template from exhausting memory or time.
pub const MAX_QUESTIONS: usize = 2_000;
const MAX_TEXT: usize = 8_000;

impl TemplateFile {
    /// Parses and checks a TOML template file.
    pub fn parse(text: &str) -> Result<TemplateFile, TemplateError> {
        let file: TemplateFile =
            toml::from_str(text).map_err(|e| TemplateError::Syntax(e.to_string()))?;
        file.check()?;
        Ok(file)
    }

    fn check(&self) -> Result<(), TemplateError> {
        check_key(&self.key)?;
        if self.version.trim().is_empty() {
            return Err(TemplateError::File {
                field: "version",
                message: "is empty".into(),
            });
        }
        let mut seen = HashSet::new();
        for depth in &self.depths {
            check_key(depth).map_err(|_| TemplateError::File {
                field: "depths",
                message: format!("'{depth}' is not a valid depth name"),
            })?;
            if !seen.insert(depth) {
                return Err(TemplateError::File {
                    field: "depths",
                    message: format!("'{depth}' is listed twice"),
                });
            }
        }
        let rank = |q: &Question| -> Result<usize, TemplateError> {
            match (&q.depth, self.depths.is_empty()) {
                (None, true) => Ok(0),
                (Some(_), true) => Err(question_error(&q.id, "depth", "the file lists no depths")),
                (None, false) => Err(question_error(&q.id, "depth", "is required")),
                (Some(d), false) => self.depths.iter().position(|x| x == d).ok_or_else(|| {
                    question_error(
                        &q.id,
                        "depth",
                        format!("'{d}' is not one of {}", self.depths.join(", ")),
                    )
                }),
            }
        };
        let ranks: HashMap<&str, usize> = self
            .questions
            .iter()
            .map(|q| rank(q).map(|r| (q.id.as_str(), r)))
            .collect::<Result<_, _>>()?;
        check_questions(
            &self.framework,
            &self.sections,
            &self.questions,
            Some(&ranks),
        )
    }

    /// The template at one depth (`None` for a file without depths).
    pub fn template(&self, depth: Option<&str>) -> Option<Template> {
        let (key, rank) = match depth {
            None if self.depths.is_empty() => (self.key.clone(), 0),
            None => return None,
            Some(d) => (
                format!("{}/{}", self.key, d),
                self.depths.iter().position(|x| x == d)?,
            ),
        };
        let questions = self
            .questions
            .iter()
            .filter(|q| match &q.depth {
                None => true,
                Some(d) => self.depths.iter().position(|x| x == d).unwrap_or(0) <= rank,
            })
            .cloned()
            .collect();
        Some(Template {
            key,
            version: self.version.clone(),
            framework: self.framework.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            depth: depth.map(str::to_string),
            sections: self.sections.clone(),
            questions,
        })
    }

    /// Every template in the file: one per depth, or the single one.
    pub fn templates(&self) -> Vec<Template> {
        if self.depths.is_empty() {
            self.template(None).into_iter().collect()
        } else {
            self.depths
                .iter()
                .filter_map(|d| self.template(Some(d)))
                .collect()
        }
    }
}

fn check_key(key: &str) -> Result<(), TemplateError> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(TemplateError::File {
            field: "key",
            message: format!("'{key}' must be 1–64 characters of a-z, 0-9, '-' and '_'"),
        })
    }
}

fn check_text(q: &str, field: &'static str, text: &LocalText) -> Result<(), TemplateError> {
    if text.en.trim().is_empty() {
        return Err(question_error(q, field, "English text is empty"));
    }
    if text.en.len() > MAX_TEXT || text.ja.as_ref().is_some_and(|j| j.len() > MAX_TEXT) {
        return Err(question_error(q, field, "text is too long"));
    }
    Ok(())
}

fn check_questions(
    framework: &str,
    sections: &[Section],
    questions: &[Question],
    ranks: Option<&HashMap<&str, usize>>,
) -> Result<(), TemplateError> {
    if questions.is_empty() {
        return Err(TemplateError::File {
            field: "question",
            message: "a template needs at least one question".into(),
        });
    }
    if questions.len() > MAX_QUESTIONS {
        return Err(TemplateError::File {
            field: "question",
            message: format!("more than {MAX_QUESTIONS} questions"),
        });
    }
    let section_ids: HashSet<&str> = sections.iter().map(|s| s.id.as_str()).collect();
    if section_ids.len() != sections.len() {
        return Err(TemplateError::File {
            field: "section",
            message: "a section id is used twice".into(),
        });
    }
    let mut by_id: HashMap<&str, &Question> = HashMap::with_capacity(questions.len());
    for q in questions {
        let valid_id = !q.id.is_empty()
            && q.id.len() <= 96
            && q.id.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')
            });
        if !valid_id {
            return Err(question_error(
                &q.id,
                "id",
                "must be 1–96 characters of a-z, 0-9, '_', '.' and '-'",
            ));
        }
        if by_id.insert(q.id.as_str(), q).is_some() {
            return Err(question_error(&q.id, "id", "duplicate question id"));
        }
    }
    let check_csf = framework == CSF2_KEY;
    for q in questions {
        let id = q.id.as_str();
        check_text(id, "text", &q.text)?;
        if let Some(help) = &q.help {
            check_text(id, "help", help)?;
        }
        if let Some(s) = &q.section {
            if !section_ids.contains(s.as_str()) {
                return Err(question_error(
                    id,
                    "section",
                    format!("unknown section '{s}'"),
                ));
            }
        }
        if check_csf {
            for c in &q.csf {
                match csf2().get(c) {
                    Some(_) => {}
                    None => {
                        return Err(question_error(
                            id,
                            "csf",
                            format!("'{c}' is not an active NIST CSF 2.0 identifier"),
                        ))
                    }
                }
            }
        }
        let choice = matches!(q.answer_type, AnswerType::Single | AnswerType::Multiple);
        if choice && q.options.is_empty() {
            return Err(question_error(
                id,
                "options",
                "a choice question needs options",
            ));
        }
        if !choice && !q.options.is_empty() {
            return Err(question_error(
                id,
                "options",
                "only choice questions take options",
            ));
        }
        let mut values = HashSet::new();
        for o in &q.options {
            if o.value.is_empty() || !values.insert(o.value.as_str()) {
                return Err(question_error(
                    id,
                    "options",
                    format!("option value '{}' is empty or repeated", o.value),
                ));
            }
        }
        let allowed = q.allowed_values();
        for p in &q.pass {
            if !allowed.contains(&p.as_str()) {
                return Err(question_error(
                    id,
                    "pass",
                    format!("'{p}' is not an answer this question can take"),
                ));
            }
        }
        if q.weight > 100 {
            return Err(question_error(id, "weight", "must be 0–100"));
        }
        if q.is_scored() {
            let has_rule = match q.answer_type {
                AnswerType::YesNo | AnswerType::Single | AnswerType::Multiple => !q.pass.is_empty(),
                AnswerType::Number => q.min.is_some() || q.max.is_some(),
                AnswerType::Date => q.max_age_days.is_some(),
                AnswerType::Text | AnswerType::File => true,
            };
            if !has_rule {
                return Err(question_error(
                    id,
                    "pass",
                    "a scored question needs a pass rule (pass, min/max or max_age_days)",
                ));
            }
        }
        for (field, bound) in [("min", q.min), ("max", q.max)] {
            if bound.is_some_and(|b| !b.is_finite()) {
                return Err(question_error(id, field, "must be a finite number"));
            }
        }
        if let (Some(min), Some(max)) = (q.min, q.max) {
            if min > max {
                return Err(question_error(id, "min", "min is greater than max"));
            }
        }
        if let Some(cond) = &q.show_if {
            let Some(gate) = by_id.get(cond.question.as_str()) else {
                return Err(question_error(
                    id,
                    "show_if",
                    format!("refers to unknown question '{}'", cond.question),
                ));
            };
            if gate.id == q.id {
                return Err(TemplateError::CircularCondition(vec![
                    q.id.clone(),
                    q.id.clone(),
                ]));
            }
            let gate_values = gate.allowed_values();
            if gate_values.is_empty() {
                return Err(question_error(
                    id,
                    "show_if",
                    format!("'{}' is not a yes/no or choice question", gate.id),
                ));
            }
            if cond.any.is_empty() {
                return Err(question_error(id, "show_if", "'any' lists no values"));
            }
            for v in &cond.any {
                if !gate_values.contains(&v.as_str()) {
                    return Err(question_error(
                        id,
                        "show_if",
                        format!("'{}' cannot answer '{v}'", gate.id),
                    ));
                }
            }
            if let Some(ranks) = ranks {
                if ranks.get(gate.id.as_str()) > ranks.get(id) {
                    return Err(question_error(
                        id,
                        "show_if",
                        format!("depends on '{}', which is only in a deeper depth", gate.id),
                    ));
                }
            }
        }
    }
    // Each question has at most one gate, so a cycle is found by walking up.
    for q in questions {
        let mut path = vec![q.id.clone()];
        let mut current = q;
        while let Some(cond) = &current.show_if {
            if cond.question == q.id {
                path.push(q.id.clone());
                return Err(TemplateError::CircularCondition(path));
            }
            match by_id.get(cond.question.as_str()) {
                Some(next) if path.len() <= questions.len() => {
                    path.push(next.id.clone());
                    current = next;
                }
                _ => break,
            }
        }
    }
    Ok(())
}

/// The baseline questionnaire, parsed (it is covered by tests).
pub fn baseline() -> Result<TemplateFile, TemplateError> {
    TemplateFile::parse(BASELINE_TOML)
}
