//! Control frameworks (NIST CSF 2.0, CSF 1.1, SP 800-53, ...) as a flat list
//! of elements with parents. Importers in `mamori-formats` build these from
//! OSCAL catalogs and CSV; the CSF 2.0 index ships compiled in so a fresh
//! install can check questionnaire mappings without any import.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::labels::label_enum;

label_enum! {
    /// Where an element sits in its framework's hierarchy.
    ElementKind, "framework element kind" {
        Function = "function",
        Category = "category",
        Subcategory = "subcategory",
        /// An OSCAL group (e.g. an SP 800-53 family).
        Group = "group",
        Control = "control",
        /// A control enhancement (a control nested in a control).
        Enhancement = "enhancement",
    }
}

/// One function, category, subcategory, group or control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkElement {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub kind: ElementKind,
    #[serde(default)]
    pub title: String,
    /// The requirement text, flattened to plain text ("" when not carried).
    #[serde(default)]
    pub statement: String,
    /// Withdrawn elements are kept so old mappings still resolve, but
    /// questionnaires may not map to them.
    #[serde(default)]
    pub withdrawn: bool,
}

/// A whole framework in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    /// Stable key, e.g. `nist-csf-2.0`, `nist-sp800-53-rev5-moderate`.
    pub key: String,
    pub name: String,
    pub version: String,
    /// Where it came from (file name, OSCAL uuid).
    #[serde(default)]
    pub source: String,
    #[serde(rename = "element")]
    pub elements: Vec<FrameworkElement>,
}

impl Framework {
    pub fn element(&self, id: &str) -> Option<&FrameworkElement> {
        self.elements.iter().find(|e| e.id == id)
    }

    /// Count of elements of a kind that are not withdrawn.
    pub fn active_count(&self, kind: ElementKind) -> usize {
        self.elements
            .iter()
            .filter(|e| e.kind == kind && !e.withdrawn)
            .count()
    }
}

/// A relationship between an element of one framework and one of another
/// (e.g. CSF 1.1 `ID.AM-1` → CSF 2.0 `ID.AM-01`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkMapping {
    pub source_framework: String,
    pub source_id: String,
    pub target_framework: String,
    pub target_id: String,
    /// e.g. `intersect`, `equivalent`, `subset`.
    pub relationship: String,
}

/// The compiled-in CSF 2.0 index (ids and short names of active elements).
pub const CSF2_INDEX_TOML: &str = include_str!("../../../content/frameworks/nist-csf-2.0.toml");

/// Fast lookup over the active CSF 2.0 elements.
#[derive(Debug)]
pub struct Csf2Index {
    pub framework: Framework,
    by_id: HashMap<String, usize>,
}

impl Csf2Index {
    pub fn get(&self, id: &str) -> Option<&FrameworkElement> {
        self.by_id.get(id).map(|&i| &self.framework.elements[i])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// `PR.AA-01` → `PR`; `PR.AA` → `PR`; `PR` → `PR`.
    pub fn function_of(id: &str) -> &str {
        id.split('.').next().unwrap_or(id)
    }

    /// `PR.AA-01` → `Some("PR.AA")`; a function has no category.
    pub fn category_of(id: &str) -> Option<&str> {
        if !id.contains('.') {
            return None;
        }
        Some(id.split('-').next().unwrap_or(id))
    }

    /// The short name of a function or category ("Protect",
    /// "Identity Management, Authentication, and Access Control").
    pub fn title(&self, id: &str) -> &str {
        self.get(id).map(|e| e.title.as_str()).unwrap_or("")
    }

    pub fn functions(&self) -> impl Iterator<Item = &FrameworkElement> {
        self.framework
            .elements
            .iter()
            .filter(|e| e.kind == ElementKind::Function)
    }
}

/// The CSF 2.0 index, parsed once.
pub fn csf2() -> &'static Csf2Index {
    static INDEX: OnceLock<Csf2Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        // The file is part of the binary and covered by a test, so a parse
        // failure here is a build defect, not bad input.
        let framework: Framework =
            toml::from_str(CSF2_INDEX_TOML).expect("compiled-in CSF 2.0 index is valid TOML");
        let by_id = framework
            .elements
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        Csf2Index { framework, by_id }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_csf2_index_has_the_published_counts() {
        let index = csf2();
        assert_eq!(index.framework.active_count(ElementKind::Function), 6);
        assert_eq!(index.framework.active_count(ElementKind::Category), 22);
        assert_eq!(index.framework.active_count(ElementKind::Subcategory), 106);
        assert_eq!(index.title("PR"), "Protect");
        assert!(index.contains("GV.SC-07"));
        assert!(
            !index.contains("ID.AM-06"),
            "withdrawn subcategory is not active"
        );
    }

    #[test]
    fn function_and_category_of_an_id() {
        assert_eq!(Csf2Index::function_of("PR.AA-01"), "PR");
        assert_eq!(Csf2Index::category_of("PR.AA-01"), Some("PR.AA"));
        assert_eq!(Csf2Index::category_of("PR.AA"), Some("PR.AA"));
        assert_eq!(Csf2Index::category_of("PR"), None);
    }
}
