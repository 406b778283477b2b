//! Scoring an assessment: judge each answer by its question's rule, decide
//! which questions are shown, roll points up per CSF function and category and
//! overall, and list the findings that failing answers raise.
//!
//! Rule that makes "a passing answer never lowers a score" hold (property
//! tested): every scored question always counts its weight in the possible
//! points of its buckets, except when it is not applicable; a hidden question
//! is credited when its gate passes and forfeited when its gate fails.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::framework::Csf2Index;
use crate::questionnaire::{AnswerType, Question, Severity, Template};

/// What a respondent gave for one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Answer {
    /// yes/no/na or one option value.
    Choice(String),
    Choices(Vec<String>),
    Number(f64),
    Date(NaiveDate),
    Text(String),
    /// Number of evidence files attached.
    Files(u32),
    NotApplicable,
}

impl Answer {
    /// Whether the answer carries anything (an empty text or no file is no
    /// answer at all).
    pub fn is_given(&self) -> bool {
        match self {
            Answer::Choice(v) => !v.is_empty(),
            Answer::Choices(_) => true,
            Answer::Number(n) => n.is_finite(),
            Answer::Date(_) => true,
            Answer::Text(t) => !t.trim().is_empty(),
            Answer::Files(n) => *n > 0,
            Answer::NotApplicable => true,
        }
    }

    fn is_na(&self) -> bool {
        matches!(self, Answer::NotApplicable) || matches!(self, Answer::Choice(v) if v == "na")
    }

    /// Human-readable form for reports.
    pub fn display(&self) -> String {
        match self {
            Answer::Choice(v) => v.clone(),
            Answer::Choices(v) => v.join(", "),
            Answer::Number(n) => format!("{n}"),
            Answer::Date(d) => d.to_string(),
            Answer::Text(t) => t.clone(),
            Answer::Files(n) => format!("{n} file(s)"),
            Answer::NotApplicable => "not applicable".into(),
        }
    }
}

/// How one question came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Shown and scored but not answered: counts as failing.
    Unanswered,
    NotApplicable,
    /// Weight 0: recorded, never scored.
    Informational,
    /// Hidden because its gate's passing answer makes it moot.
    HiddenCredited,
    /// Hidden because its gate failed or is unanswered.
    HiddenForfeited,
    /// Hidden behind an informational or not-applicable gate.
    HiddenExcluded,
}

impl Outcome {
    pub fn is_visible(self) -> bool {
        !matches!(
            self,
            Outcome::HiddenCredited | Outcome::HiddenForfeited | Outcome::HiddenExcluded
        )
    }

    /// (earned, counts toward possible) for a question of weight `w`.
    fn points(self, w: u32) -> (u32, u32) {
        match self {
            Outcome::Pass | Outcome::HiddenCredited => (w, w),
            Outcome::Fail | Outcome::Unanswered | Outcome::HiddenForfeited => (0, w),
            Outcome::NotApplicable | Outcome::Informational | Outcome::HiddenExcluded => (0, 0),
        }
    }

    /// Does it raise a finding?
    pub fn is_failing(self) -> bool {
        matches!(self, Outcome::Fail | Outcome::Unanswered)
    }
}

/// Points in one bucket (a function, a category, or overall).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Points {
    pub earned: u32,
    pub possible: u32,
}

impl Points {
    /// 0–100, or `None` when nothing in the bucket was scored.
    pub fn score(self) -> Option<u8> {
        if self.possible == 0 {
            return None;
        }
        // Integer rounding keeps the score monotone in `earned`.
        let pct = (u64::from(self.earned) * 100 + u64::from(self.possible) / 2)
            / u64::from(self.possible);
        Some(pct.min(100) as u8)
    }

    fn add(&mut self, (earned, possible): (u32, u32)) {
        self.earned += earned;
        self.possible += possible;
    }
}

/// A finding raised by a failing answer, before any reviewer decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaisedFinding {
    pub question_id: String,
    pub severity: Severity,
    pub csf: Vec<String>,
    /// True when the question was simply not answered.
    pub unanswered: bool,
}

/// The result of scoring an assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreCard {
    pub overall: Points,
    /// Per CSF function (GV, ID, PR, DE, RS, RC), in id order.
    pub functions: BTreeMap<String, Points>,
    /// Per CSF category (e.g. PR.AA), in id order.
    pub categories: BTreeMap<String, Points>,
    /// Outcome of every question, in template order.
    pub outcomes: Vec<(String, Outcome)>,
    pub findings: Vec<RaisedFinding>,
    /// Questions currently shown to the respondent.
    pub visible: usize,
    /// Shown questions with an answer ("37 of 92 answered").
    pub answered: usize,
}

/// Judges one answer against its question's rule. `None` for a question
/// with no answer.
pub fn judge(question: &Question, answer: Option<&Answer>, as_of: NaiveDate) -> Outcome {
    let answer = match answer {
        Some(a) if a.is_given() => a,
        _ if !question.is_scored() => return Outcome::Informational,
        _ => return Outcome::Unanswered,
    };
    if answer.is_na() {
        return if question.allow_na {
            Outcome::NotApplicable
        } else if question.is_scored() {
            Outcome::Fail
        } else {
            Outcome::Informational
        };
    }
    if !question.is_scored() {
        return Outcome::Informational;
    }
    let pass = match (question.answer_type, answer) {
        (AnswerType::YesNo | AnswerType::Single, Answer::Choice(v)) => question.pass.contains(v),
        (AnswerType::Multiple, Answer::Choices(chosen)) => {
            question.pass.iter().all(|p| chosen.contains(p))
        }
        (AnswerType::Multiple, Answer::Choice(v)) => question.pass.iter().all(|p| p == v),
        (AnswerType::Number, Answer::Number(n)) => {
            question.min.is_none_or(|min| *n >= min) && question.max.is_none_or(|max| *n <= max)
        }
        (AnswerType::Date, Answer::Date(d)) => match question.max_age_days {
            Some(days) => (as_of - *d).num_days() <= i64::from(days),
            None => true,
        },
        (AnswerType::Text, Answer::Text(_)) => true,
        (AnswerType::File, Answer::Files(n)) => *n > 0,
        // An answer of the wrong shape (template changed since) fails.
        _ => false,
    };
    if pass {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

/// Does `answer` satisfy a condition listing `any`?
fn condition_met(any: &[String], answer: Option<&Answer>) -> bool {
    match answer {
        Some(Answer::Choice(v)) => any.contains(v),
        Some(Answer::Choices(vs)) => vs.iter().any(|v| any.contains(v)),
        Some(Answer::NotApplicable) => any.iter().any(|v| v == "na"),
        _ => false,
    }
}

/// Which questions are shown for these answers (template order).
pub fn visibility(template: &Template, answers: &HashMap<String, Answer>) -> Vec<bool> {
    let outcomes = outcomes(template, answers, NaiveDate::MIN);
    outcomes.iter().map(|o| o.is_visible()).collect()
}

fn outcomes(
    template: &Template,
    answers: &HashMap<String, Answer>,
    as_of: NaiveDate,
) -> Vec<Outcome> {
    let index: HashMap<&str, usize> = template
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id.as_str(), i))
        .collect();
    let mut memo: Vec<Option<Outcome>> = vec![None; template.questions.len()];
    (0..template.questions.len())
        .map(|i| outcome_of(i, template, &index, answers, as_of, &mut memo, 0))
        .collect()
}

fn outcome_of(
    i: usize,
    template: &Template,
    index: &HashMap<&str, usize>,
    answers: &HashMap<String, Answer>,
    as_of: NaiveDate,
    memo: &mut Vec<Option<Outcome>>,
    depth: usize,
) -> Outcome {
    if let Some(o) = memo[i] {
        return o;
    }
    let q = &template.questions[i];
    let answer = answers.get(&q.id);
    let outcome = match &q.show_if {
        // Templates are validated acyclic; the depth bound is a backstop.
        Some(cond) if depth < template.questions.len() => match index.get(cond.question.as_str()) {
            None => judge(q, answer, as_of),
            Some(&g) => {
                let gate = outcome_of(g, template, index, answers, as_of, memo, depth + 1);
                let gate_answer = answers.get(&cond.question);
                if gate.is_visible() && condition_met(&cond.any, gate_answer) {
                    judge(q, answer, as_of)
                } else {
                    hidden(gate)
                }
            }
        },
        _ => judge(q, answer, as_of),
    };
    memo[i] = Some(outcome);
    outcome
}

/// A hidden question inherits its gate's verdict. Informational questions
/// get one too (worth no points) so that their own dependents inherit it.
fn hidden(gate: Outcome) -> Outcome {
    match gate {
        Outcome::Pass | Outcome::HiddenCredited => Outcome::HiddenCredited,
        Outcome::Fail | Outcome::Unanswered | Outcome::HiddenForfeited => Outcome::HiddenForfeited,
        Outcome::NotApplicable | Outcome::Informational | Outcome::HiddenExcluded => {
            Outcome::HiddenExcluded
        }
    }
}

/// Scores an assessment as of a review date (dates are judged against it).
pub fn score(
    template: &Template,
    answers: &HashMap<String, Answer>,
    as_of: NaiveDate,
) -> ScoreCard {
    let outcomes = outcomes(template, answers, as_of);
    let mut card = ScoreCard {
        overall: Points::default(),
        functions: BTreeMap::new(),
        categories: BTreeMap::new(),
        outcomes: Vec::with_capacity(outcomes.len()),
        findings: Vec::new(),
        visible: 0,
        answered: 0,
    };
    for (q, &outcome) in template.questions.iter().zip(&outcomes) {
        if outcome.is_visible() {
            card.visible += 1;
            if answers.get(&q.id).is_some_and(Answer::is_given) {
                card.answered += 1;
            }
        }
        let points = outcome.points(q.weight);
        card.overall.add(points);
        // A question counts once per function and once per category it
        // touches, however many subcategories there it maps to.
        let mut functions: Vec<&str> = q.csf.iter().map(|c| Csf2Index::function_of(c)).collect();
        functions.sort_unstable();
        functions.dedup();
        for f in functions {
            card.functions.entry(f.to_string()).or_default().add(points);
        }
        let mut categories: Vec<&str> = q
            .csf
            .iter()
            .filter_map(|c| Csf2Index::category_of(c))
            .collect();
        categories.sort_unstable();
        categories.dedup();
        for c in categories {
            card.categories
                .entry(c.to_string())
                .or_default()
                .add(points);
        }
        if outcome.is_failing() && q.is_scored() {
            card.findings.push(RaisedFinding {
                question_id: q.id.clone(),
                severity: q.failing_severity(),
                csf: q.csf.clone(),
                unanswered: outcome == Outcome::Unanswered,
            });
        }
        card.outcomes.push((q.id.clone(), outcome));
    }
    card
}

/// Longest free-text answer accepted.
pub const MAX_TEXT_ANSWER: usize = 10_000;

/// Turns what a form or spreadsheet gave for a question into an answer.
/// Empty input is `Ok(None)` (no answer); anything the question cannot take
/// is an error message naming what was expected.
pub fn parse_answer(question: &Question, values: &[&str]) -> Result<Option<Answer>, String> {
    let values: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Ok(None);
    }
    let allowed = question.allowed_values();
    let first = values[0];
    let lower = first.to_ascii_lowercase();
    let one_value = |what: &str| -> Result<(), String> {
        if values.len() > 1 {
            Err(format!("expected one {what}, got {}", values.len()))
        } else {
            Ok(())
        }
    };
    match question.answer_type {
        AnswerType::YesNo => {
            one_value("answer")?;
            let v = match lower.as_str() {
                "yes" | "y" | "true" | "はい" => "yes",
                "no" | "n" | "false" | "いいえ" => "no",
                "na" | "n/a" | "not applicable" | "該当なし" => "na",
                _ => {
                    return Err(format!(
                        "'{first}' is not yes, no{}",
                        if question.allow_na { " or n/a" } else { "" }
                    ))
                }
            };
            if v == "na" && !question.allow_na {
                return Err("this question cannot be answered 'not applicable'".into());
            }
            Ok(Some(Answer::Choice(v.to_string())))
        }
        AnswerType::Single => {
            one_value("choice")?;
            if first == "na" && question.allow_na {
                return Ok(Some(Answer::NotApplicable));
            }
            match allowed.iter().find(|a| a.eq_ignore_ascii_case(first)) {
                Some(v) => Ok(Some(Answer::Choice(v.to_string()))),
                None => Err(format!("'{first}' is not one of: {}", allowed.join(", "))),
            }
        }
        AnswerType::Multiple => {
            let mut chosen = Vec::new();
            for raw in values
                .iter()
                .flat_map(|v| v.split(';'))
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                match allowed.iter().find(|a| a.eq_ignore_ascii_case(raw)) {
                    Some(v) if !chosen.iter().any(|c: &String| c == v) => {
                        chosen.push(v.to_string())
                    }
                    Some(_) => {}
                    None => return Err(format!("'{raw}' is not one of: {}", allowed.join(", "))),
                }
            }
            Ok(Some(Answer::Choices(chosen)))
        }
        AnswerType::Number => {
            one_value("number")?;
            if lower == "na" && question.allow_na {
                return Ok(Some(Answer::NotApplicable));
            }
            match first.replace(',', "").parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Some(Answer::Number(n))),
                _ => Err(format!("'{first}' is not a number")),
            }
        }
        AnswerType::Date => {
            one_value("date")?;
            if lower == "na" && question.allow_na {
                return Ok(Some(Answer::NotApplicable));
            }
            NaiveDate::parse_from_str(first, "%Y-%m-%d")
                .map(|d| Some(Answer::Date(d)))
                .map_err(|_| format!("'{first}' is not a date (YYYY-MM-DD)"))
        }
        AnswerType::Text => {
            let text = values.join("\n");
            if text.len() > MAX_TEXT_ANSWER {
                return Err(format!("longer than {MAX_TEXT_ANSWER} characters"));
            }
            Ok(Some(Answer::Text(text)))
        }
        AnswerType::File => Err("attach evidence files by upload, not as text".into()),
    }
}

/// The form value(s) of an answer, for showing it back in a form.
pub fn answer_values(answer: &Answer) -> Vec<String> {
    match answer {
        Answer::Choice(v) => vec![v.clone()],
        Answer::Choices(v) => v.clone(),
        Answer::Number(n) => vec![format!("{n}")],
        Answer::Date(d) => vec![d.to_string()],
        Answer::Text(t) => vec![t.clone()],
        Answer::Files(_) => Vec::new(),
        Answer::NotApplicable => vec!["na".into()],
    }
}
