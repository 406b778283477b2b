//! The flattened CSF cores and the CSF 1.1 → 2.0 mapping as CSV.

use std::collections::HashSet;

use mamori_domain::framework::{csf2, ElementKind};
use mamori_formats::{
    parse_csf11_core_csv, parse_csf_core_csv, parse_framework_mapping_csv, FrameworkCsvError,
};

use super::common::shared_data;

#[test]
fn csf11_core_csv_has_the_published_counts() {
    let Some(bytes) = shared_data("frameworks/csf-1.1-core.csv") else {
        return;
    };
    let framework = parse_csf11_core_csv("csf-1.1-core.csv", &bytes).expect("parses");
    assert_eq!(framework.key, "nist-csf-1.1");
    assert_eq!(framework.version, "1.1");
    assert_eq!(framework.source, "csf-1.1-core.csv");
    assert_eq!(framework.active_count(ElementKind::Function), 5);
    assert_eq!(framework.active_count(ElementKind::Category), 23);
    assert_eq!(framework.active_count(ElementKind::Subcategory), 108);
    let am1 = framework.element("ID.AM-1").expect("present");
    assert_eq!(am1.parent.as_deref(), Some("ID.AM"));
    assert_eq!(
        am1.statement,
        "Physical devices and systems within the organization are inventoried."
    );
    assert_eq!(
        framework.element("ID.AM").map(|e| e.title.as_str()),
        Some("Asset Management")
    );
}

#[test]
fn csf20_core_csv_reads_as_csf2_with_its_status_column() {
    let Some(bytes) = shared_data("frameworks/csf-2.0-core.csv") else {
        return;
    };
    let framework = parse_csf_core_csv("csf-2.0-core.csv", &bytes).expect("parses");
    assert_eq!(framework.key, "nist-csf-2.0");
    assert_eq!(framework.active_count(ElementKind::Function), 6);
    assert_eq!(framework.active_count(ElementKind::Category), 22);
    assert_eq!(framework.active_count(ElementKind::Subcategory), 106);
    // It is not CSF 1.1, and the 1.1 reader says so.
    let error = parse_csf11_core_csv("csf-2.0-core.csv", &bytes).expect_err("not 1.1");
    assert!(
        error.to_string().contains("DE, GV, ID, PR, RC, RS"),
        "{error}"
    );
}

#[test]
fn csf11_to_csf20_mapping_has_185_pairs_between_known_ids() {
    let (Some(mapping), Some(core)) = (
        shared_data("frameworks/csf-1.1_to_csf-2.0.csv"),
        shared_data("frameworks/csf-1.1-core.csv"),
    ) else {
        return;
    };
    let mappings = parse_framework_mapping_csv(
        "csf-1.1_to_csf-2.0.csv",
        &mapping,
        "nist-csf-1.1",
        "nist-csf-2.0",
    )
    .expect("parses");
    assert_eq!(mappings.len(), 185);
    let first = &mappings[0];
    assert_eq!(
        (
            first.source_framework.as_str(),
            first.source_id.as_str(),
            first.target_framework.as_str(),
            first.target_id.as_str(),
            first.relationship.as_str()
        ),
        ("nist-csf-1.1", "ID.GV", "nist-csf-2.0", "GV", "intersect")
    );
    let csf11 = parse_csf11_core_csv("csf-1.1-core.csv", &core).expect("parses");
    let csf11_ids: HashSet<&str> = csf11.elements.iter().map(|e| e.id.as_str()).collect();
    for m in &mappings {
        assert!(
            csf11_ids.contains(m.source_id.as_str()),
            "unknown 1.1 id {}",
            m.source_id
        );
        assert!(
            csf2().contains(&m.target_id),
            "unknown or withdrawn 2.0 id {}",
            m.target_id
        );
        assert_eq!(m.relationship, "intersect");
    }
}

const TINY_CORE: &str = "element_type,id,parent_id,title,text\n\
    function,ID,,Identify,\n\
    category,ID.AM,ID,Asset Management,\n\
    subcategory,ID.AM-1,ID.AM,,Devices are inventoried.\n\
    function,PR,,Protect,\n\
    function,DE,,Detect,\n\
    function,RS,,Respond,\n\
    function,RC,,Recover,\n";

fn core_err(csv: &str) -> FrameworkCsvError {
    match parse_csf11_core_csv("core.csv", csv.as_bytes()) {
        Ok(framework) => panic!("accepted {framework:?}"),
        Err(err) => err,
    }
}

fn field_err(error: &FrameworkCsvError) -> (u64, &str) {
    match error {
        FrameworkCsvError::Field { line, column, .. } => (*line, column.as_str()),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn tiny_core_with_reordered_columns_and_a_bom_parses() {
    let reordered = "\u{feff}id,element_type,parent_id,text,title,notes\n\
        ID,function,,,Identify,x\nPR,function,,,Protect,\nDE,function,,,Detect,\n\
        RS,function,,,Respond,\nRC,function,,,Recover,\n\nID.AM,category,ID,,Asset Management,\n";
    let framework = parse_csf11_core_csv("core.csv", reordered.as_bytes()).expect("parses");
    assert_eq!(framework.elements.len(), 6);
    assert_eq!(
        framework.element("ID.AM").map(|e| e.title.as_str()),
        Some("Asset Management")
    );
    parse_csf11_core_csv("core.csv", TINY_CORE.as_bytes()).expect("parses");
}

#[test]
fn core_csv_errors_name_file_line_and_column() {
    let error = core_err("element_type,id,title\nfunction,ID,Identify\n");
    assert_eq!(
        error.to_string(),
        "core.csv: missing column(s) parent_id, text; the header has: element_type,id,title"
    );

    let error = core_err(&TINY_CORE.replace("category,ID.AM,", "categroy,ID.AM,"));
    assert_eq!(field_err(&error), (3, "element_type"));
    assert!(error
        .to_string()
        .starts_with("core.csv, line 3, column element_type: unknown"));

    let error = core_err(&TINY_CORE.replace("ID.AM-1,ID.AM,", "ID.AM,ID.AM,"));
    assert_eq!(field_err(&error), (4, "id"));
    assert!(
        error.to_string().contains("already used on line 3"),
        "{error}"
    );

    let error = core_err(&TINY_CORE.replace("ID.AM-1,ID.AM,", "ID.AM-1,ID.XX,"));
    assert_eq!(field_err(&error), (4, "parent_id"));

    let error = core_err(&TINY_CORE.replace("ID.AM-1,ID.AM,", "ID.AM-1,,"));
    assert_eq!(field_err(&error), (4, "parent_id"));

    let error = core_err(&TINY_CORE.replace("category,ID.AM,ID,", "category,ID.AM,ID.AM-1,"));
    assert_eq!(field_err(&error), (3, "parent_id"));

    let error = core_err(&TINY_CORE.replace("ID.AM-1,ID.AM,,", "ID AM 1,ID.AM,,"));
    assert_eq!(field_err(&error), (4, "id"));

    let error = core_err(&TINY_CORE.replace("Devices are inventoried.", "Devices,extra"));
    assert_eq!(
        error.to_string(),
        "core.csv, line 4: has 6 cells where the header has 5"
    );

    let mut not_utf8 = TINY_CORE.as_bytes().to_vec();
    not_utf8.extend_from_slice(b"function,\xFF\xFE,,x,\n");
    let error = parse_csf11_core_csv("core.csv", &not_utf8).expect_err("refused");
    assert_eq!(error.to_string(), "core.csv, line 9: is not valid UTF-8");

    assert!(matches!(core_err(""), FrameworkCsvError::Empty { .. }));
    assert!(matches!(
        core_err("element_type,id,parent_id,title,text\n"),
        FrameworkCsvError::NoRows { .. }
    ));
    assert!(matches!(
        core_err("element_type,id,parent_id,title,text\nfunction,XX,,X,\n"),
        FrameworkCsvError::UnknownFramework { .. }
    ));
}

#[test]
fn mapping_csv_errors_name_file_line_and_column() {
    let parse = |csv: &str| parse_framework_mapping_csv("map.csv", csv.as_bytes(), "a", "b");
    let ok = parse("csf11,csf20,relationship\nID.GV,GV,Intersect\n").expect("parses");
    assert_eq!(ok[0].relationship, "intersect");

    let error = parse("csf11,csf20\nID.GV,GV\n").expect_err("no relationship");
    assert!(
        error.to_string().contains("missing column(s) relationship"),
        "{error}"
    );

    let error = parse("csf11,csf20,relationship\nID.GV,,intersect\n").expect_err("empty");
    assert_eq!(error.to_string(), "map.csv, line 2, column csf20: is empty");

    let error = parse("csf11,csf20,relationship\nID.GV,GV,intersect\nID.GV,GV,subset\n")
        .expect_err("duplicate");
    assert_eq!(field_err(&error), (3, "csf11"));
    assert!(
        error.to_string().contains("already mapped on line 2"),
        "{error}"
    );

    let error = parse("relationship,csf11\nintersect,ID.GV\n").expect_err("one id column");
    assert!(
        matches!(error, FrameworkCsvError::MissingColumns { .. }),
        "{error:?}"
    );
}
