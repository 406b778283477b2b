//! OSCAL assessment-results export: shape, reproducible uuids, input checks,
//! and (when `MAMORI_OSCAL_VALIDATOR` is set) validation against the official
//! OSCAL models with `scripts/validate-oscal.py`.

use std::path::{Path, PathBuf};
use std::process::Command;

use mamori_formats::{
    write_assessment_results_json, AssessmentResultsInput, FindingInput, ObservationInput,
    OscalResultsError, Outcome,
};
use serde_json::Value;
use uuid::Uuid;

fn sample() -> AssessmentResultsInput {
    AssessmentResultsInput {
        assessment_id: "0195f3a2-7c1e-7b3a-9d4e-2f6a8b0c1d2e".into(),
        title: "Cedar Imaging Cloud — annual review 2026".into(),
        vendor_name: "Cedar Imaging Cloud, Inc.".into(),
        template_key: "healthcare-baseline/standard".into(),
        template_version: "2026.12.0".into(),
        started: "2026-03-02T09:15:00Z".into(),
        completed: "2026-03-09T16:40:00+09:00".into(),
        reviewer: "Aiko Tanaka".into(),
        overall_score: Some(72),
        function_scores: vec![("GV".into(), 80), ("PR".into(), 65), ("RS".into(), 70)],
        observations: vec![
            ObservationInput {
                question_id: "soc2.has_report".into(),
                question: "Do you have a current SOC 2 report?".into(),
                answer: "yes".into(),
                outcome: Outcome::Pass,
                csf_ids: vec!["GV.SC-07".into()],
            },
            ObservationInput {
                question_id: "access.mfa_admin".into(),
                question: "Is multi-factor authentication required\nfor all administrative access?"
                    .into(),
                answer: "no".into(),
                outcome: Outcome::Fail,
                csf_ids: vec!["PR.AA-03".into(), "PR.AA-05".into()],
            },
            ObservationInput {
                question_id: "phi.offshore".into(),
                question: "Where is PHI processed?".into(),
                answer: String::new(),
                outcome: Outcome::NotApplicable,
                csf_ids: vec![],
            },
        ],
        findings: vec![
            FindingInput {
                id: "0195f3a2-7c1e-7b3a-9d4e-000000000001".into(),
                title: "No MFA for administrators".into(),
                description: "Administrative access is protected by password only.".into(),
                severity: "high".into(),
                status: "open".into(),
                question_id: "access.mfa_admin".into(),
                csf_ids: vec!["PR.AA-03".into(), "PR.AA-05".into()],
                reviewer_comment: Some("Vendor plans MFA rollout in Q3.".into()),
            },
            FindingInput {
                id: "0195f3a2-7c1e-7b3a-9d4e-000000000002".into(),
                title: "Unmapped gap".into(),
                description: String::new(),
                severity: "low".into(),
                status: "overridden".into(),
                question_id: "phi.offshore".into(),
                csf_ids: vec![],
                reviewer_comment: None,
            },
        ],
    }
}

fn export(input: &AssessmentResultsInput) -> Value {
    let json = write_assessment_results_json(input).expect("writes");
    serde_json::from_str(&json).expect("valid JSON")
}

fn uuid_version(value: &Value) -> Option<usize> {
    value
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .map(|u| u.get_version_num())
}

fn all_uuids<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "uuid" || key.ends_with("-uuid") {
                    out.push(v);
                } else if key.ends_with("-uuids") {
                    out.extend(v.as_array().into_iter().flatten());
                }
                all_uuids(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_uuids(v, out)),
        _ => {}
    }
}

#[test]
fn assessment_results_have_the_oscal_shape() {
    let doc = export(&sample());
    let ar = &doc["assessment-results"];
    assert_eq!(ar["metadata"]["oscal-version"], "1.1.2");
    assert_eq!(
        ar["metadata"]["title"],
        "Cedar Imaging Cloud — annual review 2026"
    );
    assert_eq!(ar["metadata"]["last-modified"], "2026-03-09T16:40:00+09:00");
    assert_eq!(ar["metadata"]["parties"][0]["name"], "Aiko Tanaka");
    // import-ap points at the back-matter resource describing the plan.
    let href = ar["import-ap"]["href"].as_str().expect("href");
    let resource = &ar["back-matter"]["resources"][0];
    assert_eq!(
        href,
        format!("#{}", resource["uuid"].as_str().expect("uuid"))
    );

    let result = &ar["results"][0];
    assert_eq!(result["start"], "2026-03-02T09:15:00Z");
    assert_eq!(result["end"], "2026-03-09T16:40:00+09:00");
    let props = result["props"].as_array().expect("props");
    assert!(props
        .iter()
        .all(|p| p["ns"] == "https://mamori.dev/ns/oscal"));
    assert!(props
        .iter()
        .any(|p| p["name"] == "overall-score" && p["value"] == "72"));
    assert!(props
        .iter()
        .any(|p| p["name"] == "function-score" && p["class"] == "PR" && p["value"] == "65"));

    let controls: Vec<&str> = result["reviewed-controls"]["control-selections"][0]
        ["include-controls"]
        .as_array()
        .expect("include-controls")
        .iter()
        .filter_map(|c| c["control-id"].as_str())
        .collect();
    assert_eq!(controls, ["GV.SC-07", "PR.AA-03", "PR.AA-05"]);

    let observations = result["observations"].as_array().expect("observations");
    assert_eq!(observations.len(), 3);
    assert_eq!(observations[1]["methods"][0], "EXAMINE");
    assert_eq!(
        observations[1]["title"],
        "Is multi-factor authentication required for all administrative access?"
    );
    assert!(observations[2]["description"]
        .as_str()
        .is_some_and(|d| d.ends_with("Answer: (no answer)")));

    let findings = result["findings"].as_array().expect("findings");
    let mfa = &findings[0];
    assert_eq!(mfa["target"]["type"], "objective-id");
    assert_eq!(mfa["target"]["target-id"], "PR.AA-03");
    assert_eq!(mfa["target"]["status"]["state"], "not-satisfied");
    assert_eq!(mfa["remarks"], "Vendor plans MFA rollout in Q3.");
    assert_eq!(
        mfa["related-observations"][0]["observation-uuid"],
        observations[1]["uuid"]
    );
    let overridden = &findings[1];
    assert_eq!(overridden["target"]["target-id"], "phi.offshore");
    assert_eq!(overridden["target"]["status"]["state"], "satisfied");
    assert_eq!(overridden["description"], "Unmapped gap");

    let mut uuids = Vec::new();
    all_uuids(&doc, &mut uuids);
    assert!(uuids.len() >= 9, "found {}", uuids.len());
    for uuid in &uuids {
        assert_eq!(uuid_version(uuid), Some(5), "{uuid} is not a v5 uuid");
    }
    // Every object's own uuid is distinct (references repeat them).
    let mut own = Vec::new();
    own_uuids(&doc, &mut own);
    let distinct: std::collections::HashSet<&str> = own.iter().copied().collect();
    assert_eq!(distinct.len(), own.len(), "{own:?}");
}

fn own_uuids<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            out.extend(map.get("uuid").and_then(Value::as_str));
            map.values().for_each(|v| own_uuids(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| own_uuids(v, out)),
        _ => {}
    }
}

#[test]
fn exports_are_reproducible_and_distinct_per_assessment() {
    let input = sample();
    assert_eq!(
        write_assessment_results_json(&input).expect("writes"),
        write_assessment_results_json(&input).expect("writes")
    );
    let mut other = sample();
    other.assessment_id = "another-assessment".into();
    let a = export(&input);
    let b = export(&other);
    assert_ne!(
        a["assessment-results"]["uuid"],
        b["assessment-results"]["uuid"]
    );
    assert_ne!(
        a["assessment-results"]["results"][0]["findings"][0]["uuid"],
        b["assessment-results"]["results"][0]["findings"][0]["uuid"]
    );
}

#[test]
fn an_assessment_without_mappings_or_findings_reviews_all_controls() {
    let mut input = sample();
    input.findings.clear();
    input.reviewer.clear();
    input.overall_score = None;
    input.function_scores.clear();
    for o in &mut input.observations {
        o.csf_ids.clear();
    }
    let doc = export(&input);
    let result = &doc["assessment-results"]["results"][0];
    assert_eq!(
        result["reviewed-controls"]["control-selections"][0]["include-all"],
        serde_json::json!({})
    );
    assert!(result.get("findings").is_none(), "no empty arrays in OSCAL");
    assert!(doc["assessment-results"]["metadata"]
        .get("parties")
        .is_none());
}

#[test]
fn input_that_oscal_would_refuse_is_reported_by_field() {
    let check = |change: fn(&mut AssessmentResultsInput), expected: &str| {
        let mut input = sample();
        change(&mut input);
        let error = write_assessment_results_json(&input).expect_err("refused");
        assert!(
            error.to_string().contains(expected),
            "expected '{expected}' in: {error}"
        );
    };
    check(|i| i.title = "  ".into(), "title is empty");
    check(
        |i| i.started = "2026-03-02 09:15".into(),
        "started '2026-03-02 09:15'",
    );
    check(|i| i.completed = "2026-03-09T16:40:00".into(), "completed");
    check(
        |i| i.completed = "2026-03-01T00:00:00Z".into(),
        "ends (2026-03-01T00:00:00Z) before",
    );
    check(|i| i.overall_score = Some(101), "overall_score is 101");
    check(
        |i| i.findings[0].csf_ids[1] = "PR AA 05".into(),
        "findings[0].csf_ids 'PR AA 05' is not an OSCAL token",
    );
    check(
        |i| i.observations[2].question = String::new(),
        "observations[2].question is empty",
    );
    check(
        |i| i.findings[1].id = String::new(),
        "findings[1].id is empty",
    );
    assert!(matches!(
        write_assessment_results_json(&AssessmentResultsInput::default()),
        Err(OscalResultsError::Empty { .. })
    ));
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the configured validator (e.g. `python3 scripts/validate-oscal.py`)
/// on one file from the repository root; true when it accepts the file.
fn run_validator(command: &str, file: &Path) -> (bool, String) {
    let mut words = command.split_whitespace();
    let Some(program) = words.next() else {
        panic!("MAMORI_OSCAL_VALIDATOR is set but empty");
    };
    let output = Command::new(program)
        .args(words)
        .arg(file)
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|err| panic!("cannot run validator '{command}': {err}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn assessment_results_pass_the_official_oscal_models() {
    let Ok(validator) = std::env::var("MAMORI_OSCAL_VALIDATOR") else {
        eprintln!(
            "SKIPPED: OSCAL schema validation; set MAMORI_OSCAL_VALIDATOR=\"python3 \
             scripts/validate-oscal.py\" (needs pip install compliance-trestle) to run it"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");

    let valid = dir.path().join("assessment-results.json");
    std::fs::write(
        &valid,
        write_assessment_results_json(&sample()).expect("writes"),
    )
    .expect("write file");
    let (ok, output) = run_validator(&validator, &valid);
    assert!(ok, "validator refused the export:\n{output}");

    let mut minimal = sample();
    minimal.findings.clear();
    minimal.reviewer.clear();
    for o in &mut minimal.observations {
        o.csf_ids.clear();
    }
    let minimal_path = dir.path().join("minimal.json");
    std::fs::write(
        &minimal_path,
        write_assessment_results_json(&minimal).expect("writes"),
    )
    .expect("write file");
    let (ok, output) = run_validator(&validator, &minimal_path);
    assert!(ok, "validator refused the minimal export:\n{output}");

    // The check must be able to fail: a document without its uuid, and one
    // with a uuid that is not RFC 4122, are refused.
    let mut broken = export(&sample());
    if let Some(ar) = broken["assessment-results"].as_object_mut() {
        ar.remove("uuid");
    }
    let broken_path = dir.path().join("broken.json");
    std::fs::write(&broken_path, broken.to_string()).expect("write file");
    let (ok, output) = run_validator(&validator, &broken_path);
    assert!(!ok, "validator accepted a document without uuid:\n{output}");
    assert!(output.contains("uuid"), "{output}");

    let mut bad_uuid = export(&sample());
    bad_uuid["assessment-results"]["results"][0]["uuid"] = Value::from("not-a-uuid");
    let bad_uuid_path = dir.path().join("bad-uuid.json");
    std::fs::write(&bad_uuid_path, bad_uuid.to_string()).expect("write file");
    let (ok, output) = run_validator(&validator, &bad_uuid_path);
    assert!(!ok, "validator accepted a malformed uuid:\n{output}");
}
