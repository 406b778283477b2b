//! Google VSAQ questionnaires → templates: the four published files, and
//! hand-made snippets for the condition and warning mapping.

use mamori_domain::questionnaire::{AnswerType, Condition, Severity};
use mamori_formats::{parse_vsaq_questionnaire, VsaqError};

use super::common::shared_data;

const FILES: [&str; 4] = [
    "vsaq_infrastructure.json",
    "vsaq_physical_and_datacenter.json",
    "vsaq_security_privacy_programs.json",
    "vsaq_webapp.json",
];

#[test]
fn the_four_published_vsaq_questionnaires_import_and_validate() {
    for name in FILES {
        let Some(bytes) = shared_data(&format!("questionnaires/{name}")) else {
            return;
        };
        let import =
            parse_vsaq_questionnaire(name, &bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
        let t = &import.template;
        let s = import.stats;
        let with_show_if = t.questions.iter().filter(|q| q.show_if.is_some()).count();
        eprintln!(
            "{name}: key {}, {} sections, {} questions ({} scored), {} conditional: \
             {} exact, {} partial, {} dropped; show_if on {}; warning tips {} ({} mapped); \
             {} warnings",
            t.key,
            s.sections,
            s.questions,
            s.scored,
            s.conditional,
            s.conditions_exact,
            s.conditions_partial,
            s.conditions_dropped,
            with_show_if,
            s.warning_tips,
            s.warning_tips_mapped,
            import.warnings.len()
        );
        assert!(t.key.starts_with("vsaq-"), "{}", t.key);
        assert_eq!(s.questions, t.questions.len());
        assert!(s.questions >= 20, "{name}: only {} questions", s.questions);
        assert!(s.scored >= 10, "{name}: only {} scored", s.scored);
        assert_eq!(
            s.conditional,
            s.conditions_exact + s.conditions_partial + s.conditions_dropped
        );
        assert_eq!(with_show_if, s.conditions_exact + s.conditions_partial);
        assert!(s.conditions_exact > 0, "{name}: no condition carried over");
        // Most warnings become pass rules; the rest ("fails when this box is
        // ticked") have no pass rule in the template model and are listed.
        assert!(s.warning_tips_mapped * 2 >= s.warning_tips, "{name}: {s:?}");
        assert!(import.warnings.len() >= s.warning_tips - s.warning_tips_mapped);
        t.validate().expect("valid template");
        // Text is plain: no markup left (escaped `&lt;script&gt;` examples
        // legitimately become literal text).
        for q in &t.questions {
            assert!(
                !q.text.en.contains("<p>") && !q.text.en.contains("<a href"),
                "{}",
                q.id
            );
        }
    }
}

#[test]
fn webapp_questionnaire_maps_types_conditions_and_warnings() {
    let Some(bytes) = shared_data("questionnaires/vsaq_webapp.json") else {
        return;
    };
    let import = parse_vsaq_questionnaire("vsaq_webapp.json", &bytes).expect("imports");
    let t = &import.template;
    assert_eq!(t.key, "vsaq-webapp");
    assert_eq!(t.title.en, "Web Application Security Questionnaire");
    let name = t.question("application_name").expect("line item");
    assert_eq!(name.answer_type, AnswerType::Text);
    assert_eq!(name.weight, 0);
    let contact = t
        .question("application_vm_securitycontact")
        .expect("radiogroup");
    assert_eq!(contact.answer_type, AnswerType::Single);
    let values: Vec<&str> = contact.options.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(values, ["yes", "no"]);
    assert_eq!(contact.pass, ["yes"], "the tip warns on 'no'");
    assert!(contact.severity.is_some());
    assert_eq!(contact.section.as_deref(), Some("block_application"));
}

#[test]
fn infrastructure_questionnaire_keeps_block_conditions() {
    let Some(bytes) = shared_data("questionnaires/vsaq_infrastructure.json") else {
        return;
    };
    let import = parse_vsaq_questionnaire("vsaq_infrastructure.json", &bytes).expect("imports");
    let t = &import.template;
    // In the "Firewalls" block, shown when the company uses firewalls.
    let dmz = t.question("network_dmz").expect("present");
    assert_eq!(
        dmz.show_if,
        Some(Condition {
            question: "network_firewalls".into(),
            any: vec!["yes".into()]
        })
    );
    assert_eq!(dmz.pass, ["yes"]);
    assert_eq!(dmz.severity, Some(Severity::High));
    let firewalls = t.question("network_firewalls").expect("present");
    assert_eq!(firewalls.severity, Some(Severity::Critical));
    // The project-options checkgroup ("options", choices req_sensitive and
    // req_nodata) gates the sensitive-data questions.
    let options = t.question("options").expect("options checkgroup");
    assert_eq!(options.answer_type, AnswerType::Multiple);
    let values: Vec<&str> = options.options.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(values, ["req_sensitive", "req_nodata"]);
    assert!(t.questions.iter().any(|q| q
        .show_if
        .as_ref()
        .is_some_and(|c| c.question == "options" && c.any == ["req_sensitive"])));
}

const SNIPPET: &str = r#"// Licensed under the Apache License, Version 2.0
{
  "questionnaire": [
    {
      "type": "block",
      "text": "Tiny <b>Questionnaire</b>",
      "items": [
        {
          "type": "block",
          "id": "block_main",
          "text": "Main",
          "items": [
            {"type": "info", "text": "Some context."},
            {"type": "radiogroup", "id": "enc", "text": "<p>Do you " +
               "encrypt?</p>", "defaultChoice": false,
             "choices": [{"enc_yes": "Yes"}, {"enc_partly": "Partly"}, {"enc_no": "No"}]},
            {"type": "tip", "id": "warn_enc", "cond": "enc_no || enc_partly", "warn": "yes",
             "name": "No encryption", "why": "Explain:", "severity": "critical"},
            {"type": "checkgroup", "defaultChoice": false,
             "choices": [{"ctl_badges": "Badges"}, {"ctl_cctv": "CCTV"}, {"ctl_guards": "Guards"}]},
            {"type": "tip", "id": "warn_ctl", "cond": "!ctl_badges || !ctl_cctv", "warn": "yes",
             "name": "Weak physical controls", "why": "Explain:"},
            {"type": "yesno", "id": "audit", "text": "Audited?"},
            {"type": "tip", "id": "warn_audit", "cond": "!audit", "warn": "yes", "name": "No audit",
             "severity": "low"},
            {"type": "block", "id": "block_enc", "cond": "enc_yes || enc_partly", "text": "Encryption",
             "items": [
               {"type": "line", "id": "enc_algo", "text": "Which algorithm?"},
               {"type": "box", "id": "enc_keys", "cond": "!enc_yes", "text": "Why partly?"},
               {"type": "box", "id": "enc_both", "cond": "enc_yes && audit", "text": "Both?"},
               {"type": "box", "id": "enc_audit", "cond": "audit", "text": "Audit notes?"}
             ]},
            {"type": "line", "id": "not_badges", "cond": "!ctl_badges", "text": "Why no badges?"},
            {"type": "tip", "id": "warn_complex", "cond": "enc_no && !audit", "warn": "yes",
             "name": "Combined"},
            {"type": "tip", "id": "info_only", "cond": "enc_yes", "text": "Good."},
            {"type": "upload", "id": "policy_doc", "text": "Upload your policy"}
          ]
        }
      ]
    }
  ]
}
"#;

#[test]
fn hand_made_questionnaire_maps_every_construct() {
    let import = parse_vsaq_questionnaire("tiny.json", SNIPPET.as_bytes()).expect("imports");
    let t = &import.template;
    assert_eq!(t.key, "vsaq-tiny");
    assert_eq!(t.title.en, "Tiny Questionnaire");
    assert_eq!(t.sections.len(), 1);
    assert_eq!(t.sections[0].id, "block_main");

    let enc = t.question("enc").expect("radiogroup");
    assert_eq!(
        enc.text.en, "Do you encrypt?",
        "joined and stripped of HTML"
    );
    assert_eq!(enc.pass, ["yes"]);
    assert_eq!(enc.severity, Some(Severity::Critical));
    assert_eq!(enc.weight, 1);

    let ctl = t
        .question("ctl")
        .expect("unnamed checkgroup named by prefix");
    assert_eq!(ctl.answer_type, AnswerType::Multiple);
    assert_eq!(ctl.text.en, "Select all that apply.");
    assert_eq!(ctl.pass, ["badges", "cctv"], "both must be selected");
    assert_eq!(ctl.severity, Some(Severity::Medium), "no severity → medium");

    let audit = t.question("audit").expect("yesno");
    assert_eq!(audit.answer_type, AnswerType::YesNo);
    assert_eq!(audit.pass, ["yes"]);
    assert_eq!(audit.severity, Some(Severity::Low));

    let gate = |question: &str, any: &[&str]| {
        Some(Condition {
            question: question.into(),
            any: any.iter().map(|s| s.to_string()).collect(),
        })
    };
    // Block condition: an OR of two choices of one question.
    assert_eq!(
        t.question("enc_algo").expect("q").show_if,
        gate("enc", &["yes", "partly"])
    );
    // A negated choice: any other choice; the block's condition is dropped
    // because the gate is outside the block, and says so.
    assert_eq!(
        t.question("enc_keys").expect("q").show_if,
        gate("enc", &["partly", "no"])
    );
    // An AND falls back to the enclosing block's condition.
    assert_eq!(
        t.question("enc_both").expect("q").show_if,
        gate("enc", &["yes", "partly"])
    );
    // A yes/no gate.
    assert_eq!(
        t.question("enc_audit").expect("q").show_if,
        gate("audit", &["yes"])
    );
    // A negated checkgroup choice cannot be said: always shown.
    assert_eq!(t.question("not_badges").expect("q").show_if, None);

    let file = t.question("policy_doc").expect("upload");
    assert_eq!(file.answer_type, AnswerType::File);

    let s = import.stats;
    assert_eq!(s.questions, 9);
    assert_eq!(s.conditional, 5);
    assert_eq!(
        (
            s.conditions_exact,
            s.conditions_partial,
            s.conditions_dropped
        ),
        (1, 3, 1)
    );
    assert_eq!((s.warning_tips, s.warning_tips_mapped), (4, 3));
    let warnings = import.warnings.join("\n");
    assert!(warnings.contains("question 'not_badges'"), "{warnings}");
    assert!(warnings.contains("question 'enc_both'"), "{warnings}");
    assert!(
        warnings.contains("warning 'warn_complex' (Combined)"),
        "{warnings}"
    );
}

#[test]
fn broken_vsaq_files_are_refused_with_a_location() {
    let error = parse_vsaq_questionnaire(
        "bad.json",
        b"// c\n{\n \"questionnaire\": [\n  {\"type\": }\n ]\n}",
    )
    .expect_err("bad JSON");
    assert!(
        matches!(error, VsaqError::Json { line: 4, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with("bad.json, line 4, column"),
        "{error}"
    );

    let error = parse_vsaq_questionnaire("x.json", b"{\"catalog\": {}}").expect_err("not VSAQ");
    assert!(matches!(error, VsaqError::NotVsaq { .. }));

    let error = parse_vsaq_questionnaire(
        "x.json",
        b"{\"questionnaire\": [{\"type\": \"info\", \"text\": \"hi\"}]}",
    )
    .expect_err("no questions");
    assert!(matches!(error, VsaqError::NoQuestions { .. }));

    let error = parse_vsaq_questionnaire("x.json", b"\xFF\xFE").expect_err("not UTF-8");
    assert!(matches!(error, VsaqError::NotUtf8 { .. }));

    let deep = format!(
        "{{\"questionnaire\": [{}{{\"type\": \"line\", \"id\": \"q\", \"text\": \"t\"}}{}]}}",
        "{\"type\": \"block\", \"items\": [".repeat(40),
        "]}".repeat(40)
    );
    let error = parse_vsaq_questionnaire("deep.json", deep.as_bytes()).expect_err("too deep");
    assert!(matches!(error, VsaqError::TooDeep { .. }), "{error:?}");
}
