//! OSCAL catalog import: NIST's CSF 2.0 (XML) and SP 800-53 MODERATE (JSON)
//! catalogs, hand-made fixtures in both syntaxes, and malformed input.

use mamori_domain::framework::{csf2, ElementKind, Framework};
use mamori_formats::{parse_oscal_catalog, OscalError};

use super::common::shared_data;

const CSF2_XML: &str = "frameworks/NIST_CSF_v2.0_catalog.xml";
const SP800_53_JSON: &str =
    "frameworks/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json";

fn count(framework: &Framework, kind: ElementKind) -> usize {
    framework.elements.iter().filter(|e| e.kind == kind).count()
}

#[test]
fn csf2_xml_catalog_has_the_published_active_counts() {
    let Some(bytes) = shared_data(CSF2_XML) else {
        return;
    };
    let framework = parse_oscal_catalog("NIST_CSF_v2.0_catalog.xml", &bytes).expect("parses");
    assert_eq!(framework.key, "nist-csf-2.0");
    assert_eq!(framework.name, "NIST Cybersecurity Framework 2.0");
    assert_eq!(framework.version, "1.0.0");
    assert!(framework
        .source
        .contains("720a010b-253c-4a94-bb65-cb58400966f5"));
    assert_eq!(framework.active_count(ElementKind::Function), 6);
    assert_eq!(framework.active_count(ElementKind::Category), 22);
    assert_eq!(framework.active_count(ElementKind::Subcategory), 106);
    // Withdrawn CSF 1.1 elements are kept, flagged.
    assert_eq!(count(&framework, ElementKind::Category), 34);
    assert_eq!(count(&framework, ElementKind::Subcategory), 185);
    let withdrawn = framework.element("ID.AM-06").expect("kept");
    assert!(withdrawn.withdrawn);
    let supply_chain = framework.element("GV.SC-07").expect("present");
    assert!(!supply_chain.withdrawn);
    assert_eq!(supply_chain.parent.as_deref(), Some("GV.SC"));
    assert!(supply_chain
        .statement
        .starts_with("The risks posed by a supplier"));
    // Functions carry their overview as the statement.
    let govern = framework.element("GV").expect("present");
    assert_eq!(govern.title, "GOVERN");
    assert!(govern
        .statement
        .starts_with("The organization's cybersecurity risk"));
}

#[test]
fn csf2_xml_catalog_matches_the_flattened_reference_csv() {
    let (Some(xml), Some(reference)) = (
        shared_data(CSF2_XML),
        shared_data("frameworks/csf-2.0-core.csv"),
    ) else {
        return;
    };
    let framework = parse_oscal_catalog("NIST_CSF_v2.0_catalog.xml", &xml).expect("parses");
    let mut reader = csv::Reader::from_reader(reference.as_slice());
    let mut rows = 0;
    for record in reader.records() {
        let record = record.expect("reference CSV is valid");
        let field = |i: usize| record.get(i).unwrap_or_default();
        let (kind, id, parent, title, text, status) =
            (field(0), field(1), field(2), field(3), field(4), field(5));
        let element = framework
            .element(id)
            .unwrap_or_else(|| panic!("{id} from the reference is missing"));
        assert_eq!(element.kind.as_str(), kind, "{id}: kind");
        assert_eq!(
            element.parent.as_deref().unwrap_or(""),
            parent,
            "{id}: parent"
        );
        assert_eq!(element.title, title, "{id}: title");
        let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            collapse(&element.statement),
            collapse(text),
            "{id}: statement"
        );
        assert_eq!(element.withdrawn, status == "withdrawn", "{id}: status");
        rows += 1;
    }
    assert_eq!(rows, framework.elements.len(), "same number of elements");
}

#[test]
fn csf2_xml_catalog_agrees_with_the_compiled_in_index() {
    let Some(bytes) = shared_data(CSF2_XML) else {
        return;
    };
    let framework = parse_oscal_catalog("NIST_CSF_v2.0_catalog.xml", &bytes).expect("parses");
    let imported: Vec<&str> = framework
        .elements
        .iter()
        .filter(|e| !e.withdrawn)
        .map(|e| e.id.as_str())
        .collect();
    let compiled: Vec<&str> = csf2()
        .framework
        .elements
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(imported, compiled);
}

#[test]
fn sp800_53_moderate_json_catalog_has_families_controls_and_enhancements() {
    let Some(bytes) = shared_data(SP800_53_JSON) else {
        return;
    };
    let framework = parse_oscal_catalog("moderate.json", &bytes).expect("parses");
    assert_eq!(framework.key, "nist-sp800-53-rev5-moderate");
    assert_eq!(
        framework.name,
        "NIST Special Publication 800-53 Revision 5.1.1 MODERATE IMPACT BASELINE"
    );
    assert_eq!(framework.version, "5.1.1+u4");
    assert!(framework
        .source
        .starts_with("moderate.json (OSCAL catalog "));
    // SP 800-53B: the moderate baseline selects 287 controls and
    // enhancements across 18 families.
    assert_eq!(count(&framework, ElementKind::Group), 18);
    assert_eq!(count(&framework, ElementKind::Control), 177);
    assert_eq!(count(&framework, ElementKind::Enhancement), 110);
    assert!(framework.elements.iter().all(|e| !e.withdrawn));

    let ac = framework.element("ac").expect("family");
    assert_eq!(ac.title, "Access Control");
    let ac2 = framework.element("ac-2").expect("control");
    assert_eq!(ac2.title, "Account Management");
    assert_eq!(ac2.parent.as_deref(), Some("ac"));
    assert!(ac2
        .statement
        .starts_with("a. Define and document the types of accounts"));
    assert!(ac2.statement.contains("\nb. Assign account managers;"));
    assert!(ac2
        .statement
        .contains("c. Require {ac-02_odp.01} for group"));
    // Guidance and assessment objectives are not statement text.
    assert!(!ac2.statement.contains("Examples of system account types"));
    let ac2_1 = framework.element("ac-2.1").expect("enhancement");
    assert_eq!(ac2_1.kind, ElementKind::Enhancement);
    assert_eq!(ac2_1.parent.as_deref(), Some("ac-2"));
    assert_eq!(ac2_1.title, "Automated System Account Management");
    // Every control and enhancement has its requirement text.
    for element in &framework.elements {
        if element.kind != ElementKind::Group {
            assert!(
                !element.statement.is_empty(),
                "{} has no statement",
                element.id
            );
        }
    }
}

const TINY_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="3f0b5b8e-1c1a-4c55-9d57-0d4f7a3c9e11">
  <metadata>
    <title>Mamori Test Controls</title>
    <last-modified>2026-01-01T00:00:00Z</last-modified>
    <version>0.3</version>
    <oscal-version>1.1.2</oscal-version>
  </metadata>
  <group id="tc" class="family">
    <title>Test <em>Controls</em></title>
    <control id="tc-1" class="test">
      <title>Backups</title>
      <param id="tc-1_prm_1"><label>frequency</label></param>
      <prop name="label" value="TC-1"/>
      <part id="tc-1_smt" name="statement">
        <part id="tc-1_smt.a" name="item">
          <prop name="label" value="a."/>
          <p>Back up data <insert type="param" id-ref="tc-1_prm_1"/>; and</p>
        </part>
        <part id="tc-1_smt.b" name="item">
          <prop name="label" value="b."/>
          <p>Test   restores
             &amp; keep <strong>records</strong>.</p>
        </part>
      </part>
      <part id="tc-1_gdn" name="guidance"><p>Not part of the statement.</p></part>
      <control id="tc-1.1" class="test">
        <title>Offsite copies</title>
        <part id="tc-1.1_smt" name="statement"><p>Keep one copy offsite.</p></part>
      </control>
    </control>
    <control id="tc-2">
      <title>Old control</title>
      <prop name="status" value="withdrawn"/>
    </control>
  </group>
  <back-matter>
    <resource uuid="0c8a3c4e-9d0b-4f4e-8f59-4b1f0e5e2b61"><title>Ignored</title></resource>
  </back-matter>
</catalog>
"#;

const TINY_JSON: &str = r#"{
  "catalog": {
    "uuid": "3f0b5b8e-1c1a-4c55-9d57-0d4f7a3c9e11",
    "metadata": {
      "title": "Mamori Test Controls",
      "last-modified": "2026-01-01T00:00:00Z",
      "version": "0.3",
      "oscal-version": "1.1.2"
    },
    "groups": [
      {
        "id": "tc",
        "class": "family",
        "title": "Test Controls",
        "controls": [
          {
            "id": "tc-1",
            "class": "test",
            "title": "Backups",
            "params": [{ "id": "tc-1_prm_1", "label": "frequency" }],
            "props": [{ "name": "label", "value": "TC-1" }],
            "parts": [
              {
                "id": "tc-1_smt",
                "name": "statement",
                "parts": [
                  {
                    "id": "tc-1_smt.a",
                    "name": "item",
                    "props": [{ "name": "label", "value": "a." }],
                    "prose": "Back up data {{ insert: param, tc-1_prm_1 }}; and"
                  },
                  {
                    "id": "tc-1_smt.b",
                    "name": "item",
                    "props": [{ "name": "label", "value": "b." }],
                    "prose": "Test   restores\n & keep records."
                  }
                ]
              },
              { "id": "tc-1_gdn", "name": "guidance", "prose": "Not part of the statement." }
            ],
            "controls": [
              {
                "id": "tc-1.1",
                "class": "test",
                "title": "Offsite copies",
                "parts": [{ "id": "tc-1.1_smt", "name": "statement", "prose": "Keep one copy offsite." }]
              }
            ]
          },
          {
            "id": "tc-2",
            "title": "Old control",
            "props": [{ "name": "status", "value": "withdrawn" }]
          }
        ]
      }
    ]
  }
}"#;

fn check_tiny(framework: &Framework) {
    assert_eq!(framework.key, "mamori-test-controls");
    assert_eq!(framework.name, "Mamori Test Controls");
    assert_eq!(framework.version, "0.3");
    assert_eq!(
        framework.source,
        "tiny (OSCAL catalog 3f0b5b8e-1c1a-4c55-9d57-0d4f7a3c9e11)"
    );
    let ids: Vec<(&str, ElementKind, Option<&str>)> = framework
        .elements
        .iter()
        .map(|e| (e.id.as_str(), e.kind, e.parent.as_deref()))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("tc", ElementKind::Group, None),
            ("tc-1", ElementKind::Control, Some("tc")),
            ("tc-1.1", ElementKind::Enhancement, Some("tc-1")),
            ("tc-2", ElementKind::Control, Some("tc")),
        ]
    );
    let tc = framework.element("tc").expect("group");
    assert_eq!(tc.title, "Test Controls");
    let tc1 = framework.element("tc-1").expect("control");
    assert_eq!(
        tc1.statement,
        "a. Back up data {tc-1_prm_1}; and\nb. Test restores & keep records."
    );
    assert_eq!(
        framework.element("tc-1.1").map(|e| e.statement.as_str()),
        Some("Keep one copy offsite.")
    );
    let tc2 = framework.element("tc-2").expect("withdrawn control");
    assert!(tc2.withdrawn);
    assert!(!tc1.withdrawn);
}

#[test]
fn tiny_xml_catalog_reads_kinds_parents_prose_and_status() {
    let framework = parse_oscal_catalog("tiny", TINY_XML.as_bytes()).expect("parses");
    check_tiny(&framework);
}

#[test]
fn tiny_json_catalog_reads_the_same_as_its_xml_twin() {
    let json = parse_oscal_catalog("tiny", TINY_JSON.as_bytes()).expect("parses");
    check_tiny(&json);
    let xml = parse_oscal_catalog("tiny", TINY_XML.as_bytes()).expect("parses");
    assert_eq!(json, xml);
}

#[test]
fn xml_catalog_with_a_byte_order_mark_and_leading_blank_lines_parses() {
    let mut bytes = b"\xEF\xBB\xBF\n\n".to_vec();
    bytes.extend_from_slice(
        TINY_XML
            .trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .as_bytes(),
    );
    let framework = parse_oscal_catalog("bom.xml", &bytes).expect("parses");
    assert_eq!(framework.elements.len(), 4);
}

fn err(name: &str, bytes: &[u8]) -> OscalError {
    match parse_oscal_catalog(name, bytes) {
        Ok(framework) => panic!("{name}: accepted {framework:?}"),
        Err(err) => err,
    }
}

#[test]
fn empty_and_unknown_files_are_refused() {
    assert_eq!(
        err("empty.xml", b"  \n\t"),
        OscalError::Empty {
            file: "empty.xml".into()
        }
    );
    let unknown = err("notes.txt", b"control,title\n");
    assert!(matches!(unknown, OscalError::UnknownSyntax { .. }));
    assert!(unknown.to_string().contains("notes.txt"));
    assert!(unknown.to_string().contains("'c'"));
}

#[test]
fn truncated_xml_names_the_file_and_line() {
    let cut = &TINY_XML[..TINY_XML.find("<control id=\"tc-2\">").expect("fixture")];
    let error = err("cut.xml", cut.as_bytes());
    let OscalError::Xml { file, line, .. } = &error else {
        panic!("expected an XML error, got {error:?}");
    };
    assert_eq!(file, "cut.xml");
    assert!(*line >= 30, "line {line}");
    assert!(error.to_string().contains("cut.xml, line"), "{error}");
}

#[test]
fn mismatched_xml_tags_are_located() {
    let bad = TINY_XML.replace("<title>Backups</title>", "<title>Backups</titel>");
    let error = err("bad.xml", bad.as_bytes());
    let OscalError::Xml { line, message, .. } = &error else {
        panic!("expected an XML error, got {error:?}");
    };
    assert_eq!(*line, 12, "{error}");
    assert!(message.contains("titel"), "{message}");
}

#[test]
fn undeclared_entities_are_errors_with_a_line() {
    let bad = TINY_XML.replace("&amp; keep", "&mdash; keep");
    let error = err("entity.xml", bad.as_bytes());
    assert!(
        matches!(error, OscalError::Xml { line: 23, .. }),
        "{error:?}"
    );
}

#[test]
fn other_oscal_documents_and_namespaces_are_not_catalogs() {
    let profile =
        r#"<profile xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="x"><metadata/></profile>"#;
    let error = err("profile.xml", profile.as_bytes());
    assert!(matches!(error, OscalError::NotACatalog { .. }));
    assert!(error.to_string().contains("<profile>"), "{error}");

    let foreign = r#"<catalog xmlns="urn:example"><group id="g"/></catalog>"#;
    let error = err("foreign.xml", foreign.as_bytes());
    assert!(
        error.to_string().contains("not in the OSCAL namespace"),
        "{error}"
    );

    let json_profile = r#"{"profile": {"uuid": "x"}}"#;
    let error = err("profile.json", json_profile.as_bytes());
    assert!(matches!(error, OscalError::NotACatalog { .. }));
    assert!(error.to_string().contains("found: profile"), "{error}");
}

#[test]
fn a_control_without_id_is_reported_with_its_line() {
    let bad = TINY_XML.replace("<control id=\"tc-2\">", "<control>");
    let error = err("noid.xml", bad.as_bytes());
    assert!(
        matches!(&error, OscalError::MissingField { field: "id", .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with("noid.xml, line 32:"),
        "{error}"
    );
}

#[test]
fn duplicate_ids_are_refused() {
    let bad = TINY_XML.replace("<control id=\"tc-2\">", "<control id=\"tc-1\">");
    let error = err("dup.xml", bad.as_bytes());
    assert!(
        matches!(&error, OscalError::DuplicateId { id, .. } if id == "tc-1"),
        "{error:?}"
    );
}

#[test]
fn json_syntax_errors_carry_line_and_column() {
    let bad = TINY_JSON.replace("\"title\": \"Backups\",", "\"title\": \"Backups\"");
    let error = err("bad.json", bad.as_bytes());
    let OscalError::Json { line, column, .. } = &error else {
        panic!("expected a JSON error, got {error:?}");
    };
    // The missing comma is noticed where the next member starts.
    assert_eq!((*line, *column), (20, 13), "{error}");
    assert!(error
        .to_string()
        .starts_with("bad.json, line 20, column 13:"));
}

#[test]
fn json_catalog_without_uuid_or_control_id_is_refused() {
    let no_uuid = TINY_JSON.replacen("\"uuid\": \"3f0b5b8e-1c1a-4c55-9d57-0d4f7a3c9e11\",", "", 1);
    let error = err("nouuid.json", no_uuid.as_bytes());
    assert!(
        error.to_string().contains("missing field `uuid`"),
        "{error}"
    );

    let no_id = TINY_JSON.replace("\"id\": \"tc-2\",", "");
    let error = err("noid.json", no_id.as_bytes());
    assert!(
        matches!(&error, OscalError::MissingField { field: "id", .. }),
        "{error:?}"
    );
}

#[test]
fn a_catalog_without_controls_is_refused() {
    let empty = r#"<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="u"><metadata><title>t</title></metadata></catalog>"#;
    assert!(matches!(
        err("none.xml", empty.as_bytes()),
        OscalError::NoElements { .. }
    ));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let depth = 10_000;
    let mut xml = String::from(r#"<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="u">"#);
    for i in 0..depth {
        xml.push_str(&format!("<group id=\"g{i}\">"));
    }
    for _ in 0..depth {
        xml.push_str("</group>");
    }
    xml.push_str("</catalog>");
    assert!(matches!(
        err("deep.xml", xml.as_bytes()),
        OscalError::TooDeep { .. }
    ));

    // Deep prose markup is bounded too.
    let prose = format!(
        r#"<catalog xmlns="http://csrc.nist.gov/ns/oscal/1.0" uuid="u"><control id="c"><part name="statement">{}{}</part></control></catalog>"#,
        "<em>".repeat(depth),
        "</em>".repeat(depth)
    );
    assert!(matches!(
        err("deep-prose.xml", prose.as_bytes()),
        OscalError::TooDeep { .. }
    ));

    let mut json = String::from(r#"{"catalog":{"uuid":"u","metadata":{"title":"t"},"controls":["#);
    for i in 0..100 {
        json.push_str(&format!(r#"{{"id":"c{i}","controls":["#));
    }
    for _ in 0..100 {
        json.push_str("]}");
    }
    json.push_str("]}}");
    let error = err("deep.json", json.as_bytes());
    assert!(
        matches!(error, OscalError::TooDeep { .. } | OscalError::Json { .. }),
        "{error:?}"
    );
}
