//! Google VSAQ questionnaires (the JSON files of github.com/google/vsaq,
//! Apache-2.0) as Mamori questionnaire templates.
//!
//! VSAQ files are JavaScript-flavoured JSON: they open with `//` licence
//! lines and some texts are written as `"..." + "..."`; both are undone
//! before parsing, keeping line numbers so errors point into the original.
//!
//! Mapping:
//! - the root block is the template (its text the title); each block under it
//!   is a section; deeper blocks only carry conditions;
//! - `radiogroup` → `single`, `checkgroup` → `multiple` (options from its
//!   `choices`, or from child `radio`/`check` items), `line`/`box` → `text`,
//!   `yesno` and a lone `check` → `yes_no`, `upload` → `file`;
//!   `info`, `tip` and `spacer` are not questions;
//! - `cond` → `show_if` where the template model can say it: one choice
//!   (`a_yes`), several choices of one question (`a_x || a_y`), a negated
//!   single choice (`!a_yes` = any other choice, so the question stays hidden
//!   until the gate is answered). A question inside conditional blocks uses
//!   the innermost condition that can be expressed; the outer ones still
//!   hold when the gate question sits inside the same blocks (conditions
//!   chain). Anything else (`&&`, mixed questions, `^warn_` references) is
//!   dropped with a warning, which leaves the question visible more often,
//!   never less;
//! - a `tip` with `warn: "yes"` marks its condition's answers as failing: the
//!   question passes on the other answers and raises a finding of the tip's
//!   severity (medium when it names none). For a checkgroup, a tip on a
//!   missing choice (`!a_x`, or `!a_x || !a_y`) makes those choices required.
//!
//! The result is checked with [`Template::validate`].

use std::collections::{BTreeSet, HashMap, HashSet};

use mamori_domain::questionnaire::{
    AnswerType, Choice, Condition, LocalText, Question, Section, Severity, Template, TemplateError,
    CSF2_KEY,
};
use serde_json::Value;
use thiserror::Error;

use crate::plain_text::html_to_text;

/// Blocks nested deeper than this are refused; VSAQ's own go four deep.
const MAX_BLOCK_DEPTH: usize = 32;
/// Terms in one condition; VSAQ's longest has nine.
const MAX_CONDITION_TERMS: usize = 64;
/// Longest question or option text kept (the template check allows 8,000
/// bytes; longer VSAQ prose is cut with an ellipsis).
const MAX_TEXT_BYTES: usize = 7_900;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VsaqError {
    #[error("{file}: not UTF-8 text")]
    NotUtf8 { file: String },
    #[error("{file}, line {line}, column {column}: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: not a VSAQ questionnaire: {reason}")]
    NotVsaq { file: String, reason: String },
    #[error("{file}: blocks nest deeper than {limit} levels")]
    TooDeep { file: String, limit: usize },
    #[error("{file}: the questionnaire has no questions")]
    NoQuestions { file: String },
    #[error("{file}: the converted template is not valid: {source}")]
    Template {
        file: String,
        #[source]
        source: TemplateError,
    },
}

/// The template and what could not be carried over.
#[derive(Debug, Clone, PartialEq)]
pub struct VsaqImport {
    pub template: Template,
    /// One line per condition or warning that the template cannot express,
    /// naming the question or tip.
    pub warnings: Vec<String>,
    pub stats: VsaqStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VsaqStats {
    pub sections: usize,
    pub questions: usize,
    /// Questions with a pass rule (from warning tips).
    pub scored: usize,
    /// Questions whose visibility in VSAQ depends on a condition (their own
    /// or an enclosing block's).
    pub conditional: usize,
    /// ... of which `show_if` expresses the whole condition,
    pub conditions_exact: usize,
    /// ... only part of it (an enclosing condition was dropped),
    pub conditions_partial: usize,
    /// ... and none of it (the question is always shown).
    pub conditions_dropped: usize,
    /// `tip` items that warn, and how many became pass rules.
    pub warning_tips: usize,
    pub warning_tips_mapped: usize,
}

/// Reads a VSAQ questionnaire JSON file into a template keyed
/// `vsaq-<file stem>`.
pub fn parse_vsaq_questionnaire(file_name: &str, bytes: &[u8]) -> Result<VsaqImport, VsaqError> {
    let file = file_name.to_string();
    let text = std::str::from_utf8(bytes).map_err(|_| VsaqError::NotUtf8 { file: file.clone() })?;
    let json = strip_javascript(text);
    let root: Value = serde_json::from_str(&json).map_err(|err| VsaqError::Json {
        file: file.clone(),
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    })?;
    let items = root
        .get("questionnaire")
        .and_then(Value::as_array)
        .ok_or_else(|| VsaqError::NotVsaq {
            file: file.clone(),
            reason: "no \"questionnaire\" array at the top".to_string(),
        })?;

    let mut reader = Reader::new(&file);
    // VSAQ wraps everything in one titled block; its children are sections.
    let title = match items.as_slice() {
        [only] if item_type(only) == "block" => {
            let title = text_of(only);
            let cond = reader.block_condition(only);
            reader.walk_items(children(only), &cond, None, 1)?;
            title
        }
        _ => {
            reader.walk_items(items, &[], None, 1)?;
            String::new()
        }
    };
    reader.finish(file_name, bytes, title)
}

// ---------------------------------------------------------------------------
// JavaScript-isms
// ---------------------------------------------------------------------------

/// Removes `//` and `/* */` comments and joins `"a" + "b"` into `"ab"`,
/// outside strings only. Line breaks are kept (those inside a joined string
/// move to just after it) so serde_json's line numbers match the file.
fn strip_javascript(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    let mut deferred_newlines = 0usize;
    while let Some((i, ch)) = chars.next() {
        if in_string {
            out.push(ch);
            match ch {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                '"' => {
                    in_string = false;
                    for _ in 0..deferred_newlines {
                        out.push('\n');
                    }
                    deferred_newlines = 0;
                }
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => {
                in_string = true;
                out.push(ch);
            }
            '/' if text[i..].starts_with("//") => {
                while let Some(&(_, c)) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '/' if text[i..].starts_with("/*") => {
                chars.next();
                let mut previous = ' ';
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if previous == '*' && c == '/' {
                        break;
                    }
                    previous = c;
                }
            }
            '+' => {
                // Join only "string" + "string"; any other '+' is left for
                // serde_json to report where it stands.
                let rest = &text[i + 1..];
                let gap = rest.len() - rest.trim_start().len();
                let joins = out.trim_end().ends_with('"') && rest[gap..].starts_with('"');
                if joins {
                    let kept = out.trim_end().len();
                    deferred_newlines += out[kept..].matches('\n').count();
                    deferred_newlines += rest[..gap].matches('\n').count();
                    out.truncate(kept);
                    out.pop(); // the closing quote of the left string
                    while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
                    chars.next(); // the right string's opening quote
                    in_string = true;
                } else {
                    out.push(ch);
                }
            }
            _ => out.push(ch),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Id(String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// Parses VSAQ's condition language: ids, `!`, `&&`, `||`, parentheses.
/// `None` when it does not parse or is too large.
fn parse_condition(text: &str) -> Option<Expr> {
    let tokens = tokenize(text)?;
    if tokens.len() > 4 * MAX_CONDITION_TERMS {
        return None;
    }
    let mut pos = 0;
    let expr = parse_or(&tokens, &mut pos, 0)?;
    (pos == tokens.len()).then_some(expr)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Id(String),
    Not,
    And,
    Or,
    Open,
    Close,
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            c if c.is_whitespace() => {}
            '!' => tokens.push(Token::Not),
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '&' if chars.next_if_eq(&'&').is_some() => tokens.push(Token::And),
            '|' if chars.next_if_eq(&'|').is_some() => tokens.push(Token::Or),
            c if c.is_alphanumeric() || c == '_' || c == '^' || c == '-' || c == '.' => {
                let mut id = String::from(c);
                while let Some(next) =
                    chars.next_if(|n| n.is_alphanumeric() || matches!(n, '_' | '-' | '.'))
                {
                    id.push(next);
                }
                tokens.push(Token::Id(id));
            }
            _ => return None,
        }
    }
    Some(tokens)
}

fn parse_or(tokens: &[Token], pos: &mut usize, depth: usize) -> Option<Expr> {
    let mut terms = vec![parse_and(tokens, pos, depth)?];
    while tokens.get(*pos) == Some(&Token::Or) {
        *pos += 1;
        terms.push(parse_and(tokens, pos, depth)?);
    }
    Some(if terms.len() == 1 {
        terms.pop()?
    } else {
        Expr::Or(terms)
    })
}

fn parse_and(tokens: &[Token], pos: &mut usize, depth: usize) -> Option<Expr> {
    let mut terms = vec![parse_unary(tokens, pos, depth)?];
    while tokens.get(*pos) == Some(&Token::And) {
        *pos += 1;
        terms.push(parse_unary(tokens, pos, depth)?);
    }
    Some(if terms.len() == 1 {
        terms.pop()?
    } else {
        Expr::And(terms)
    })
}

fn parse_unary(tokens: &[Token], pos: &mut usize, depth: usize) -> Option<Expr> {
    if depth > MAX_CONDITION_TERMS {
        return None;
    }
    match tokens.get(*pos)? {
        Token::Not => {
            *pos += 1;
            Some(Expr::Not(Box::new(parse_unary(tokens, pos, depth + 1)?)))
        }
        Token::Open => {
            *pos += 1;
            let inner = parse_or(tokens, pos, depth + 1)?;
            if tokens.get(*pos) != Some(&Token::Close) {
                return None;
            }
            *pos += 1;
            Some(inner)
        }
        Token::Id(id) => {
            *pos += 1;
            Some(Expr::Id(id.clone()))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Reading items
// ---------------------------------------------------------------------------

/// A condition met on the way down, with where it came from.
#[derive(Debug, Clone)]
struct CondSource {
    /// Unique per block or item, so "the same enclosing block" can be told.
    origin: usize,
    text: String,
}

#[derive(Debug)]
struct PendingQuestion {
    question: Question,
    /// VSAQ choice ids of the options, in order.
    choice_ids: Vec<String>,
    /// Enclosing block conditions (outermost first), then the item's own.
    conds: Vec<CondSource>,
}

/// Where a VSAQ id points: a choice of a question, or a question itself.
#[derive(Debug, Clone)]
struct Target {
    question: usize,
    /// `Some(option index)` for a choice id.
    option: Option<usize>,
}

#[derive(Debug)]
struct Tip {
    id: String,
    name: String,
    cond: String,
    severity: Option<Severity>,
}

struct Reader<'a> {
    file: &'a str,
    sections: Vec<Section>,
    questions: Vec<PendingQuestion>,
    tips: Vec<Tip>,
    warnings: Vec<String>,
    next_origin: usize,
    unnamed: usize,
    used_ids: HashSet<String>,
}

fn item_type(item: &Value) -> &str {
    item.get("type").and_then(Value::as_str).unwrap_or("")
}

fn text_of(item: &Value) -> String {
    item.get("text")
        .and_then(Value::as_str)
        .map(html_to_text)
        .unwrap_or_default()
}

fn children(item: &Value) -> &[Value] {
    item.get("items")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Cuts text the template would refuse as too long, on a char boundary.
fn bounded(mut text: String) -> String {
    if text.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A VSAQ id as a template id: lower-case, `[a-z0-9_.-]`, at most 96 chars.
fn clean_id(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(90)
        .collect()
}

impl<'a> Reader<'a> {
    fn new(file: &'a str) -> Self {
        Reader {
            file,
            sections: Vec::new(),
            questions: Vec::new(),
            tips: Vec::new(),
            warnings: Vec::new(),
            next_origin: 0,
            unnamed: 0,
            used_ids: HashSet::new(),
        }
    }

    fn origin(&mut self) -> usize {
        self.next_origin += 1;
        self.next_origin
    }

    fn block_condition(&mut self, block: &Value) -> Vec<CondSource> {
        match block.get("cond").and_then(Value::as_str) {
            Some(text) if !text.trim().is_empty() => vec![CondSource {
                origin: self.origin(),
                text: text.trim().to_string(),
            }],
            _ => Vec::new(),
        }
    }

    /// A unique question id from the VSAQ id, or made up when there is none.
    fn question_id(&mut self, raw: Option<&str>, choice_ids: &[String]) -> String {
        let base = match raw.map(clean_id).filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => {
                // An unnamed group is named after what its choices share
                // (`servers_patching_infosource_osupdate`, `..._other` →
                // `servers_patching_infosource`).
                let prefix = common_prefix(choice_ids);
                let prefix = clean_id(prefix.trim_end_matches('_'));
                if prefix.len() >= 3 {
                    prefix
                } else {
                    self.unnamed += 1;
                    format!("item_{}", self.unnamed)
                }
            }
        };
        let mut id = base.clone();
        let mut n = 1;
        while !self.used_ids.insert(id.clone()) {
            n += 1;
            id = format!("{base}_{n}");
        }
        id
    }

    fn walk_items(
        &mut self,
        items: &[Value],
        conds: &[CondSource],
        section: Option<&str>,
        depth: usize,
    ) -> Result<(), VsaqError> {
        if depth > MAX_BLOCK_DEPTH {
            return Err(VsaqError::TooDeep {
                file: self.file.to_string(),
                limit: MAX_BLOCK_DEPTH,
            });
        }
        for item in items {
            let kind = item_type(item);
            match kind {
                "block" => {
                    let mut inner = conds.to_vec();
                    inner.extend(self.block_condition(item));
                    match section {
                        Some(section) => {
                            let section = section.to_string();
                            self.walk_items(children(item), &inner, Some(&section), depth + 1)?;
                        }
                        None => {
                            let id = self.section_id(item);
                            let title = text_of(item);
                            self.sections.push(Section {
                                id: id.clone(),
                                title: LocalText::en(if title.is_empty() {
                                    id.clone()
                                } else {
                                    bounded(title)
                                }),
                            });
                            self.walk_items(children(item), &inner, Some(&id), depth + 1)?;
                        }
                    }
                }
                "tip" => {
                    if item.get("warn").and_then(Value::as_str) == Some("yes") {
                        let id = item
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        let severity = item
                            .get("severity")
                            .and_then(Value::as_str)
                            .and_then(|s| Severity::parse(s).ok());
                        self.tips.push(Tip {
                            name: item
                                .get("name")
                                .and_then(Value::as_str)
                                .map(html_to_text)
                                .unwrap_or_else(|| id.clone()),
                            id,
                            cond: item
                                .get("cond")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .trim()
                                .to_string(),
                            severity,
                        });
                    }
                }
                "info" | "spacer" => {}
                "radiogroup" | "checkgroup" | "line" | "box" | "textarea" | "yesno" | "check"
                | "upload" => self.question(item, kind, conds, section),
                other => self.warnings.push(format!(
                    "item '{}' of unknown type '{other}' was skipped",
                    item.get("id").and_then(Value::as_str).unwrap_or("(no id)")
                )),
            }
        }
        Ok(())
    }

    fn section_id(&mut self, block: &Value) -> String {
        let raw = block.get("id").and_then(Value::as_str).map(clean_id);
        let base = match raw.filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => format!("section_{}", self.sections.len() + 1),
        };
        let mut id = base.clone();
        let mut n = 1;
        while self.sections.iter().any(|s| s.id == id) {
            n += 1;
            id = format!("{base}_{n}");
        }
        id
    }

    fn question(&mut self, item: &Value, kind: &str, conds: &[CondSource], section: Option<&str>) {
        // Choices come as [{"id": "text"}, ...] or as child radio/check items.
        let mut choices: Vec<(String, String)> = Vec::new();
        if let Some(list) = item.get("choices").and_then(Value::as_array) {
            for choice in list {
                if let Some(map) = choice.as_object() {
                    for (id, text) in map {
                        choices.push((
                            id.clone(),
                            text.as_str().map(html_to_text).unwrap_or_default(),
                        ));
                    }
                }
            }
        }
        for child in children(item) {
            if matches!(item_type(child), "radio" | "check") {
                if let Some(id) = child.get("id").and_then(Value::as_str) {
                    choices.push((id.to_string(), text_of(child)));
                }
            }
        }
        let choice_ids: Vec<String> = choices.iter().map(|(id, _)| id.clone()).collect();
        let id = self.question_id(item.get("id").and_then(Value::as_str), &choice_ids);
        let answer_type = match kind {
            "radiogroup" => AnswerType::Single,
            "checkgroup" => AnswerType::Multiple,
            "yesno" | "check" => AnswerType::YesNo,
            "upload" => AnswerType::File,
            _ => AnswerType::Text,
        };
        let choice_question = matches!(answer_type, AnswerType::Single | AnswerType::Multiple);
        let options = if choice_question {
            option_values(&id, &choice_ids)
                .into_iter()
                .zip(&choices)
                .map(|(value, (_, text))| Choice {
                    value,
                    text: LocalText::en(bounded(if text.is_empty() {
                        "(no text)".to_string()
                    } else {
                        text.clone()
                    })),
                })
                .collect()
        } else {
            Vec::new()
        };
        if choice_question && options.is_empty() {
            self.warnings.push(format!(
                "question '{id}' is a {kind} without choices; kept as a text question"
            ));
        }
        let mut text = text_of(item);
        if text.is_empty() {
            text = match answer_type {
                AnswerType::Multiple => "Select all that apply.".to_string(),
                _ => "Please answer.".to_string(),
            };
        }
        let mut all_conds = conds.to_vec();
        if let Some(own) = item.get("cond").and_then(Value::as_str) {
            if !own.trim().is_empty() {
                let origin = self.origin();
                all_conds.push(CondSource {
                    origin,
                    text: own.trim().to_string(),
                });
            }
        }
        let answer_type = if choice_question && options.is_empty() {
            AnswerType::Text
        } else {
            answer_type
        };
        self.questions.push(PendingQuestion {
            question: Question {
                id,
                section: section.map(str::to_string),
                depth: None,
                answer_type,
                text: LocalText::en(bounded(text)),
                help: None,
                options,
                csf: Vec::new(),
                weight: 0,
                sensitive: false,
                pass: Vec::new(),
                min: None,
                max: None,
                unit: None,
                max_age_days: None,
                severity: None,
                allow_na: false,
                show_if: None,
                evidence: Vec::new(),
            },
            choice_ids,
            conds: all_conds,
        });
    }

    /// Every VSAQ id a condition may name: choices and questions.
    fn targets(&self) -> HashMap<String, Target> {
        let mut targets = HashMap::new();
        for (qi, pending) in self.questions.iter().enumerate() {
            for (oi, choice) in pending.choice_ids.iter().enumerate() {
                targets.insert(
                    choice.clone(),
                    Target {
                        question: qi,
                        option: Some(oi),
                    },
                );
            }
        }
        for (qi, pending) in self.questions.iter().enumerate() {
            targets
                .entry(pending.question.id.clone())
                .or_insert(Target {
                    question: qi,
                    option: None,
                });
        }
        targets
    }

    fn finish(
        mut self,
        file_name: &str,
        bytes: &[u8],
        title: String,
    ) -> Result<VsaqImport, VsaqError> {
        if self.questions.is_empty() {
            return Err(VsaqError::NoQuestions {
                file: self.file.to_string(),
            });
        }
        let targets = self.targets();
        let mut stats = VsaqStats {
            sections: self.sections.len(),
            questions: self.questions.len(),
            ..VsaqStats::default()
        };
        let mut warnings = std::mem::take(&mut self.warnings);

        // Conditions → show_if.
        let origins: Vec<HashSet<usize>> = self
            .questions
            .iter()
            .map(|q| q.conds.iter().map(|c| c.origin).collect())
            .collect();
        let mut show_ifs = Vec::with_capacity(self.questions.len());
        for (qi, pending) in self.questions.iter().enumerate() {
            if pending.conds.is_empty() {
                show_ifs.push(None);
                continue;
            }
            stats.conditional += 1;
            let chosen = pending
                .conds
                .iter()
                .enumerate()
                .rev()
                .find_map(|(ci, cond)| {
                    let condition = parse_condition(&cond.text)
                        .and_then(|expr| self.show_if(&expr, &targets))?;
                    (condition.0 != qi).then_some((ci, condition))
                });
            let id = &pending.question.id;
            match chosen {
                None => {
                    stats.conditions_dropped += 1;
                    let all: Vec<&str> = pending.conds.iter().map(|c| c.text.as_str()).collect();
                    warnings.push(format!(
                        "question '{id}': condition '{}' cannot be expressed; the question \
                         is always shown",
                        all.join("' and '")
                    ));
                    show_ifs.push(None);
                }
                Some((ci, (gate, values))) => {
                    // Conditions other than the chosen one hold anyway when
                    // the gate question is under them too.
                    let lost: Vec<&str> = pending
                        .conds
                        .iter()
                        .enumerate()
                        .filter(|(i, c)| *i != ci && !origins[gate].contains(&c.origin))
                        .map(|(_, c)| c.text.as_str())
                        .collect();
                    if lost.is_empty() {
                        stats.conditions_exact += 1;
                    } else {
                        stats.conditions_partial += 1;
                        warnings.push(format!(
                            "question '{id}': shown on '{}'; condition '{}' also applies in \
                             VSAQ but is dropped (one simple condition per question)",
                            pending.conds[ci].text,
                            lost.join("' and '")
                        ));
                    }
                    show_ifs.push(Some(Condition {
                        question: self.questions[gate].question.id.clone(),
                        any: values,
                    }));
                }
            }
        }
        for (pending, show_if) in self.questions.iter_mut().zip(show_ifs) {
            pending.question.show_if = show_if;
        }

        // Warning tips → failing answers.
        let mut failing: HashMap<usize, BTreeSet<usize>> = HashMap::new();
        let mut required: HashMap<usize, BTreeSet<usize>> = HashMap::new();
        let mut failing_yes_no: HashMap<usize, BTreeSet<&'static str>> = HashMap::new();
        let mut severity: HashMap<usize, Severity> = HashMap::new();
        for tip in &self.tips {
            stats.warning_tips += 1;
            let rule = parse_condition(&tip.cond).and_then(|e| self.tip_rule(&e, &targets));
            let Some((question, rule)) = rule else {
                warnings.push(format!(
                    "warning '{}' ({}): condition '{}' cannot become a pass rule",
                    tip.id, tip.name, tip.cond
                ));
                continue;
            };
            stats.warning_tips_mapped += 1;
            match rule {
                TipRule::Fails(options) => failing.entry(question).or_default().extend(options),
                TipRule::Requires(options) => required.entry(question).or_default().extend(options),
                TipRule::FailsYesNo(answer) => {
                    failing_yes_no.entry(question).or_default().insert(answer);
                }
            }
            let tip_severity = tip.severity.unwrap_or(Severity::Medium);
            let worst = severity.entry(question).or_insert(tip_severity);
            if tip_severity.rank() < worst.rank() {
                *worst = tip_severity;
            }
        }
        for (qi, pending) in self.questions.iter_mut().enumerate() {
            let q = &mut pending.question;
            let pass: Vec<String> = if let Some(bad) = failing.get(&qi) {
                q.options
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !bad.contains(i))
                    .map(|(_, o)| o.value.clone())
                    .collect()
            } else if let Some(needed) = required.get(&qi) {
                needed
                    .iter()
                    .filter_map(|&i| q.options.get(i))
                    .map(|o| o.value.clone())
                    .collect()
            } else if let Some(bad) = failing_yes_no.get(&qi) {
                ["yes", "no"]
                    .iter()
                    .filter(|a| !bad.contains(*a))
                    .map(|a| a.to_string())
                    .collect()
            } else {
                Vec::new()
            };
            if pass.is_empty() {
                if failing.contains_key(&qi) || failing_yes_no.contains_key(&qi) {
                    warnings.push(format!(
                        "question '{}': every answer raises a warning; left unscored",
                        q.id
                    ));
                }
                continue;
            }
            q.pass = pass;
            q.weight = 1;
            q.severity = severity.get(&qi).copied();
            stats.scored += 1;
        }

        let template = Template {
            key: template_key(file_name),
            version: format!("vsaq-{:08x}", fnv1a32(bytes)),
            framework: CSF2_KEY.to_string(),
            title: LocalText::en(if title.is_empty() {
                template_key(file_name)
            } else {
                bounded(title)
            }),
            description: Some(LocalText::en(
                "Imported from a Google VSAQ questionnaire (Apache-2.0).",
            )),
            depth: None,
            sections: self.sections,
            questions: self.questions.into_iter().map(|p| p.question).collect(),
        };
        template.validate().map_err(|source| VsaqError::Template {
            file: self.file.to_string(),
            source,
        })?;
        Ok(VsaqImport {
            template,
            warnings,
            stats,
        })
    }

    /// The gate question and the values that show a question, when the
    /// expression is one the template can state.
    fn show_if(
        &self,
        expr: &Expr,
        targets: &HashMap<String, Target>,
    ) -> Option<(usize, Vec<String>)> {
        let options = |qi: usize| -> &[Choice] { &self.questions[qi].question.options };
        match expr {
            Expr::Id(id) => {
                let target = targets.get(id)?;
                match target.option {
                    Some(oi) => Some((
                        target.question,
                        vec![options(target.question).get(oi)?.value.clone()],
                    )),
                    None if self.is_yes_no(target.question) => {
                        Some((target.question, vec!["yes".to_string()]))
                    }
                    None => None,
                }
            }
            Expr::Not(inner) => {
                let Expr::Id(id) = inner.as_ref() else {
                    return None;
                };
                let target = targets.get(id)?;
                let q = &self.questions[target.question].question;
                match (target.option, q.answer_type) {
                    // Not that choice = any other choice, once answered.
                    (Some(oi), AnswerType::Single) => {
                        let others: Vec<String> = q
                            .options
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != oi)
                            .map(|(_, o)| o.value.clone())
                            .collect();
                        (!others.is_empty()).then_some((target.question, others))
                    }
                    (None, AnswerType::YesNo) => Some((target.question, vec!["no".to_string()])),
                    _ => None,
                }
            }
            Expr::Or(terms) => {
                let mut gate = None;
                let mut values = Vec::new();
                for term in terms {
                    let Expr::Id(id) = term else {
                        return None;
                    };
                    let target = targets.get(id)?;
                    let oi = target.option?;
                    if *gate.get_or_insert(target.question) != target.question {
                        return None;
                    }
                    let value = options(target.question).get(oi)?.value.clone();
                    if !values.contains(&value) {
                        values.push(value);
                    }
                }
                Some((gate?, values))
            }
            Expr::And(_) => None,
        }
    }

    fn is_yes_no(&self, question: usize) -> bool {
        self.questions[question].question.answer_type == AnswerType::YesNo
    }

    /// What a warning tip's condition says about one question's answers.
    fn tip_rule(&self, expr: &Expr, targets: &HashMap<String, Target>) -> Option<(usize, TipRule)> {
        let answer_type = |qi: usize| self.questions[qi].question.answer_type;
        match expr {
            Expr::Id(id) => {
                let target = targets.get(id)?;
                match (target.option, answer_type(target.question)) {
                    (Some(oi), AnswerType::Single) => {
                        Some((target.question, TipRule::Fails(vec![oi])))
                    }
                    (None, AnswerType::YesNo) => {
                        Some((target.question, TipRule::FailsYesNo("yes")))
                    }
                    _ => None,
                }
            }
            Expr::Not(inner) => {
                let Expr::Id(id) = inner.as_ref() else {
                    return None;
                };
                let target = targets.get(id)?;
                match (target.option, answer_type(target.question)) {
                    (Some(oi), AnswerType::Multiple) => {
                        Some((target.question, TipRule::Requires(vec![oi])))
                    }
                    (None, AnswerType::YesNo) => Some((target.question, TipRule::FailsYesNo("no"))),
                    _ => None,
                }
            }
            Expr::Or(terms) => {
                let mut question = None;
                let mut rules = Vec::new();
                for term in terms {
                    let (qi, rule) = self.tip_rule(term, targets)?;
                    if *question.get_or_insert(qi) != qi {
                        return None;
                    }
                    rules.push(rule);
                }
                // Either all "fails on this choice" or all "requires".
                let mut fails = Vec::new();
                let mut requires = Vec::new();
                for rule in rules {
                    match rule {
                        TipRule::Fails(o) => fails.extend(o),
                        TipRule::Requires(o) => requires.extend(o),
                        TipRule::FailsYesNo(_) => return None,
                    }
                }
                match (fails.is_empty(), requires.is_empty()) {
                    (false, true) => Some((question?, TipRule::Fails(fails))),
                    (true, false) => Some((question?, TipRule::Requires(requires))),
                    _ => None,
                }
            }
            Expr::And(_) => None,
        }
    }
}

#[derive(Debug)]
enum TipRule {
    /// These options of a single-choice question fail.
    Fails(Vec<usize>),
    /// These options of a multiple-choice question must be selected.
    Requires(Vec<usize>),
    /// This yes/no answer fails.
    FailsYesNo(&'static str),
}

/// Option values: choice ids without the question's prefix
/// (`network_firewalls_yes` → `yes`), unless that would make them clash.
fn option_values(question_id: &str, choice_ids: &[String]) -> Vec<String> {
    let prefix = format!("{question_id}_");
    let short: Vec<String> = choice_ids
        .iter()
        .map(|c| {
            let c = clean_id(c);
            match c.strip_prefix(&prefix) {
                Some(rest) if !rest.is_empty() => rest.to_string(),
                _ => c,
            }
        })
        .collect();
    let distinct: HashSet<&String> = short.iter().collect();
    if distinct.len() == short.len() {
        return short;
    }
    let mut seen = HashSet::new();
    choice_ids
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let value = clean_id(c);
            if seen.insert(value.clone()) {
                value
            } else {
                format!("{value}_{}", i + 1)
            }
        })
        .collect()
}

fn common_prefix(ids: &[String]) -> &str {
    let Some(first) = ids.first() else {
        return "";
    };
    let mut len = first.len();
    for id in &ids[1..] {
        len = first
            .bytes()
            .zip(id.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    &first[..len]
}

/// `vsaq_webapp.json` → `vsaq-webapp`; `infrastructure.json` → `vsaq-infrastructure`.
fn template_key(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    let mut key = String::new();
    for c in stem.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            key.push(c);
        } else if !key.ends_with('-') {
            key.push('-');
        }
    }
    let key = key.trim_matches('-');
    let key = if key.starts_with("vsaq") {
        key.to_string()
    } else {
        format!("vsaq-{key}")
    };
    key.chars()
        .take(64)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// A short fingerprint of the file, so a changed file imports as a new
/// template version.
fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_comments_and_concatenation_are_undone() {
        let js =
            "// licence\n{\n  \"a\": \"x\" +\n        \"y\", /* note\n */ \"b\": \"u // v\"\n}";
        let json = strip_javascript(js);
        let value: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(value["a"], "xy");
        assert_eq!(value["b"], "u // v");
        assert_eq!(json.matches('\n').count(), js.matches('\n').count());
    }

    #[test]
    fn conditions_parse() {
        assert_eq!(parse_condition("a_b"), Some(Expr::Id("a_b".into())));
        assert_eq!(
            parse_condition("!a && (b || ^warn_c)"),
            Some(Expr::And(vec![
                Expr::Not(Box::new(Expr::Id("a".into()))),
                Expr::Or(vec![Expr::Id("b".into()), Expr::Id("^warn_c".into())]),
            ]))
        );
        assert_eq!(parse_condition("a &&"), None);
        assert_eq!(parse_condition("(a"), None);
        assert_eq!(parse_condition("a & b"), None);
        assert_eq!(parse_condition(&"!".repeat(10_000)), None);
    }

    #[test]
    fn keys_and_option_values() {
        assert_eq!(template_key("vsaq_webapp.json"), "vsaq-webapp");
        assert_eq!(template_key("/x/Physical & DC.json"), "vsaq-physical-dc");
        assert_eq!(
            option_values("net", &["net_yes".into(), "net_no".into()]),
            ["yes", "no"]
        );
        assert_eq!(
            option_values("net", &["net_yes".into(), "yes".into()]),
            ["net_yes", "yes"]
        );
        assert_eq!(common_prefix(&["ab_c".into(), "ab_d".into()]), "ab_");
    }
}
