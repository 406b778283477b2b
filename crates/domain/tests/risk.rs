//! The risk rules: matrix, threshold, deadlines, acceptance and CVSS.

use chrono::{NaiveDate, TimeZone, Utc};
use mamori_domain::questionnaire::Severity;
use mamori_domain::risk::{
    acceptance_lapsed, rate_cvss, AcceptanceRequest, Refusal, RiskPolicy, RiskStatus,
    ThresholdFacts, DEFAULT_RISK_POLICY_TOML,
};
use mamori_domain::{Role, Tier};
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn policy() -> RiskPolicy {
    RiskPolicy::default_policy()
}

fn policy_in(zone: &str) -> RiskPolicy {
    let text = DEFAULT_RISK_POLICY_TOML.replace(
        "time_zone = \"Asia/Tokyo\"",
        &format!("time_zone = \"{zone}\""),
    );
    RiskPolicy::parse(&text).expect("valid")
}

// ----- matrix -----------------------------------------------------------

#[test]
fn default_matrix_levels() {
    let p = policy();
    let level = |l, i| p.rate(l, i).expect("inside").level;
    assert_eq!(level(1, 1), Severity::Low);
    assert_eq!(level(2, 2), Severity::Low);
    assert_eq!(level(1, 5), Severity::Medium);
    assert_eq!(level(3, 3), Severity::Medium);
    assert_eq!(level(2, 5), Severity::High);
    assert_eq!(level(4, 4), Severity::High);
    assert_eq!(level(4, 5), Severity::Critical);
    assert_eq!(level(5, 5), Severity::Critical);
    assert_eq!(p.rate(0, 3), None);
    assert_eq!(p.rate(6, 1), None);
    assert_eq!(p.matrix.likelihood_label(5), "Almost certain");
    assert_eq!(p.matrix.impact_label(9), "?");
}

#[test]
fn a_three_by_three_matrix_can_be_configured() {
    let text = r#"
version = "3x3"
time_zone = "UTC"
[matrix]
likelihood = ["Low", "Medium", "High"]
impact = ["Low", "Medium", "High"]
levels = [{ name = "low", min_score = 1 }, { name = "medium", min_score = 3 }, { name = "critical", min_score = 9 }]
[threshold]
residual_score_at_least = 6
[remediation_days]
critical = 7
high = 30
medium = 90
low = 365
[acceptance]
max_months = 6
may_accept = { critical = ["acceptance_authority"], high = ["acceptance_authority"], medium = ["acceptance_authority"], low = ["acceptance_authority", "risk_manager"] }
"#;
    let p = RiskPolicy::parse(text).expect("valid");
    assert_eq!(p.matrix.max_score(), 9);
    assert_eq!(p.rate(3, 3).map(|r| r.level), Some(Severity::Critical));
    assert_eq!(p.rate(2, 3).map(|r| r.level), Some(Severity::Medium));
}

#[test]
fn broken_policies_are_refused_with_reasons() {
    let cases = [
        (
            "time_zone = \"Asia/Tokyo\"",
            "time_zone = \"Mars/Olympus\"",
            "time_zone",
        ),
        (
            "residual_score_at_least = 10",
            "residual_score_at_least = 26",
            "between 1 and 25",
        ),
        (
            "critical = 15\n",
            "critical = 0\n",
            "remediation_days.critical",
        ),
        ("max_months = 12", "max_months = 60", "max_months"),
        (
            "low = [\"acceptance_authority\", \"risk_manager\"]",
            "low = [\"risk_manager\"]",
            "must include acceptance_authority",
        ),
        (
            "min_score = 20",
            "min_score = 30",
            "above the largest score",
        ),
        ("name = \"critical\"", "name = \"low\"", "low to critical"),
    ];
    for (from, to, expected) in cases {
        let text = DEFAULT_RISK_POLICY_TOML.replacen(from, to, 1);
        assert_ne!(text, DEFAULT_RISK_POLICY_TOML, "{from} not in the policy");
        let err = RiskPolicy::parse(&text).expect_err(to).to_string();
        assert!(err.contains(expected), "{to}: {err}");
    }
    assert!(RiskPolicy::parse("version = ").is_err());
    let unknown = format!("{DEFAULT_RISK_POLICY_TOML}\nsurprise = 1\n");
    assert!(
        RiskPolicy::parse(&unknown).is_err(),
        "unknown keys are refused"
    );
}

proptest! {
    #[test]
    fn more_likely_or_more_severe_never_lowers_the_level(l in 1u32..=5, i in 1u32..=5) {
        let p = policy();
        let here = p.rate(l, i).expect("inside");
        if let Some(up) = p.rate(l + 1, i) {
            prop_assert!(up.score > here.score);
            prop_assert!(up.level.rank() <= here.level.rank());
        }
        if let Some(up) = p.rate(l, i + 1) {
            prop_assert!(up.level.rank() <= here.level.rank());
        }
    }

    #[test]
    fn threshold_is_monotone(score in 1u32..=25, extra in 0u32..=10, tier in 0usize..4, finding in 0usize..5) {
        let p = policy();
        let tiers = [Tier::Low, Tier::Moderate, Tier::High, Tier::Critical];
        let findings = [None, Some(Severity::Low), Some(Severity::Medium), Some(Severity::High), Some(Severity::Critical)];
        let base = ThresholdFacts { residual_score: score, tier: Some(tiers[tier]), worst_open_finding: findings[finding] };
        let worse = ThresholdFacts { residual_score: (score + extra).min(25), ..base };
        if p.threshold(&base).is_some() {
            prop_assert!(p.threshold(&worse).is_some());
        }
        let worse_finding = ThresholdFacts { worst_open_finding: Some(Severity::Critical), ..base };
        prop_assert!(p.threshold(&worse_finding).is_some(), "an open critical finding always needs a decision");
        let critical_tier = ThresholdFacts { tier: Some(Tier::Critical), ..base };
        if p.threshold(&base).is_some() {
            prop_assert!(p.threshold(&critical_tier).is_some());
        }
    }

    #[test]
    fn deadlines_never_precede_identification_and_worse_is_sooner(secs in 0i64..2_000_000_000) {
        let p = policy();
        let at = Utc.timestamp_opt(secs, 0).single().expect("instant");
        let local = p.local_date(at);
        let mut previous = None;
        for s in [Severity::Low, Severity::Medium, Severity::High, Severity::Critical] {
            let due = p.remediation_due(s, at);
            prop_assert!(due > local);
            if let Some(prev) = previous {
                prop_assert!(due <= prev);
            }
            previous = Some(due);
        }
    }

    #[test]
    fn acceptances_never_exceed_the_policy_maximum(days in 0u64..4000) {
        let p = policy();
        let today = d("2024-01-01") + chrono::Days::new(days);
        let latest = p.latest_expiry(today);
        prop_assert!(latest > today);
        prop_assert!((latest - today).num_days() <= 366);
        let request = AcceptanceRequest {
            role: Role::AcceptanceAuthority,
            level: Severity::Critical,
            above_threshold: true,
            justification: "Vendor replaces the platform in Q3; network isolation meanwhile.",
            compensating_controls: "Segmented VLAN, monitored jump host",
            expires_on: latest,
            today,
        };
        prop_assert!(p.check_acceptance(&request).is_ok());
        let too_late = AcceptanceRequest { expires_on: latest + chrono::Days::new(1), ..request };
        let refused = matches!(p.check_acceptance(&too_late), Err(Refusal::ExpiryTooLate { .. }));
        prop_assert!(refused);
    }
}

// ----- threshold --------------------------------------------------------

#[test]
fn threshold_reasons() {
    let p = policy();
    let facts = |score, tier, finding| ThresholdFacts {
        residual_score: score,
        tier,
        worst_open_finding: finding,
    };
    assert!(p.threshold(&facts(9, Some(Tier::High), None)).is_none());
    let reason = p
        .threshold(&facts(10, Some(Tier::High), None))
        .expect("above");
    assert!(reason.contains("10"), "{reason}");
    let tier_reason = p
        .threshold(&facts(8, Some(Tier::Critical), None))
        .expect("tier limit");
    assert!(tier_reason.contains("critical tier"), "{tier_reason}");
    assert!(p.threshold(&facts(8, Some(Tier::High), None)).is_none());
    let finding_reason = p
        .threshold(&facts(2, None, Some(Severity::Critical)))
        .expect("finding");
    assert!(finding_reason.contains("critical finding"));
    assert!(p.threshold(&facts(2, None, Some(Severity::High))).is_none());
}

// ----- deadlines --------------------------------------------------------

#[test]
fn default_remediation_days() {
    let p = policy();
    assert_eq!(p.remediation_days(Severity::Critical), 15);
    assert_eq!(p.remediation_days(Severity::High), 30);
    assert_eq!(p.remediation_days(Severity::Medium), 90);
    assert_eq!(p.remediation_days(Severity::Low), 180);
}

#[test]
fn deadlines_count_from_the_local_day() {
    let tokyo = policy_in("Asia/Tokyo");
    let new_york = policy_in("America/New_York");
    // 15:30 UTC on 31 January is already 1 February in Tokyo (UTC+9) but
    // still 31 January in New York (UTC-5).
    let at = Utc
        .with_ymd_and_hms(2026, 1, 31, 15, 30, 0)
        .single()
        .expect("t");
    assert_eq!(
        tokyo.remediation_due(Severity::Critical, at),
        d("2026-02-16")
    );
    assert_eq!(
        new_york.remediation_due(Severity::Critical, at),
        d("2026-02-15")
    );
    // Month ends and leap years: 30 days from 31 January 2028.
    let leap = Utc
        .with_ymd_and_hms(2028, 1, 31, 3, 0, 0)
        .single()
        .expect("t");
    assert_eq!(tokyo.remediation_due(Severity::High, leap), d("2028-03-01"));
    let common = Utc
        .with_ymd_and_hms(2027, 1, 31, 3, 0, 0)
        .single()
        .expect("t");
    assert_eq!(
        tokyo.remediation_due(Severity::High, common),
        d("2027-03-02")
    );
    // Across the New York daylight-saving change (8 March 2026).
    let before_dst = Utc
        .with_ymd_and_hms(2026, 3, 1, 4, 30, 0)
        .single()
        .expect("t");
    assert_eq!(
        new_york.remediation_due(Severity::Critical, before_dst),
        d("2026-03-15"),
        "23:30 on 28 February in New York"
    );
}

#[test]
fn overdue_once_the_local_day_is_over() {
    let tokyo = policy_in("Asia/Tokyo");
    let due = d("2026-02-16");
    // 14:59 UTC on the 16th is 23:59 in Tokyo: still due today.
    let last_minute = Utc
        .with_ymd_and_hms(2026, 2, 16, 14, 59, 0)
        .single()
        .expect("t");
    assert!(!tokyo.is_overdue(due, last_minute));
    let next_day = Utc
        .with_ymd_and_hms(2026, 2, 16, 15, 0, 0)
        .single()
        .expect("t");
    assert!(tokyo.is_overdue(due, next_day));
}

// ----- acceptance -------------------------------------------------------

fn request(role: Role, level: Severity, above: bool) -> AcceptanceRequest<'static> {
    AcceptanceRequest {
        role,
        level,
        above_threshold: above,
        justification: "Vendor replaces the platform in Q3; network isolation meanwhile.",
        compensating_controls: "Segmented VLAN, monitored jump host",
        expires_on: d("2027-06-30"),
        today: d("2026-12-03"),
    }
}

#[test]
fn only_the_acceptance_authority_accepts_above_threshold() {
    let p = policy();
    for role in Role::ALL {
        let result = p.check_acceptance(&request(*role, Severity::Low, true));
        if *role == Role::AcceptanceAuthority {
            assert!(result.is_ok());
        } else {
            assert_eq!(
                result,
                Err(Refusal::AboveThreshold { role: *role }),
                "{role}"
            );
        }
    }
}

#[test]
fn the_policy_names_who_accepts_each_level_below_threshold() {
    let p = policy();
    for level in Severity::ALL {
        for role in Role::ALL {
            let allowed = p.check_acceptance(&request(*role, *level, false)).is_ok();
            let expected = *role == Role::AcceptanceAuthority
                || (*role == Role::RiskManager
                    && matches!(level, Severity::Medium | Severity::Low));
            assert_eq!(allowed, expected, "{role} accepting {level}");
        }
    }
}

#[test]
fn acceptances_need_reasons_and_a_bounded_expiry() {
    let p = policy();
    let base = request(Role::AcceptanceAuthority, Severity::High, true);
    let short = AcceptanceRequest {
        justification: "ok",
        ..base.clone()
    };
    assert_eq!(p.check_acceptance(&short), Err(Refusal::Justification));
    let no_controls = AcceptanceRequest {
        compensating_controls: "  ",
        ..base.clone()
    };
    assert_eq!(
        p.check_acceptance(&no_controls),
        Err(Refusal::CompensatingControls)
    );
    let today = AcceptanceRequest {
        expires_on: base.today,
        ..base.clone()
    };
    assert_eq!(p.check_acceptance(&today), Err(Refusal::ExpiryInPast));
    let too_long = AcceptanceRequest {
        expires_on: d("2027-12-04"),
        ..base.clone()
    };
    assert_eq!(
        p.check_acceptance(&too_long),
        Err(Refusal::ExpiryTooLate {
            latest: d("2027-12-03"),
            max_months: 12
        })
    );
}

#[test]
fn acceptance_expiry_at_month_ends() {
    let p = policy();
    assert_eq!(p.latest_expiry(d("2027-02-28")), d("2028-02-28"));
    assert_eq!(p.latest_expiry(d("2028-02-29")), d("2029-02-28"));
    let six = policy_with_months(6);
    assert_eq!(six.latest_expiry(d("2026-08-31")), d("2027-02-28"));
    assert_eq!(six.latest_expiry(d("2027-08-31")), d("2028-02-29"));
    // Valid through the expiry day, lapsed the day after.
    assert!(!acceptance_lapsed(d("2027-02-28"), d("2027-02-28")));
    assert!(acceptance_lapsed(d("2027-02-28"), d("2027-03-01")));
}

fn policy_with_months(months: u32) -> RiskPolicy {
    let text =
        DEFAULT_RISK_POLICY_TOML.replace("max_months = 12", &format!("max_months = {months}"));
    RiskPolicy::parse(&text).expect("valid")
}

#[test]
fn status_moves() {
    use RiskStatus::*;
    assert!(Open.can_move_to(InTreatment));
    assert!(InTreatment.can_move_to(Closed));
    assert!(Closed.can_move_to(Open));
    assert!(
        !Open.can_move_to(Accepted),
        "acceptance is its own decision"
    );
    assert!(!Closed.can_move_to(InTreatment));
}

// ----- CVSS ---------------------------------------------------------------

/// Example vectors and base scores published with the CVSS v3.1
/// specification (the FIRST "CVSS v3.1 Examples" document).
#[test]
fn cvss_v31_published_examples() {
    let cases = [
        // CVE-2014-0160 (Heartbleed)
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
            7.5,
            Severity::High,
        ),
        // CVE-2014-6271 (Shellshock)
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            9.8,
            Severity::Critical,
        ),
        // CVE-2013-1937 (phpMyAdmin reflected XSS)
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            6.1,
            Severity::Medium,
        ),
        // CVE-2013-0375 (MySQL stored SQL injection)
        (
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
            6.4,
            Severity::Medium,
        ),
        // CVE-2014-3566 (POODLE)
        (
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N",
            3.1,
            Severity::Low,
        ),
        // CVE-2012-1516 (VMware guest to host escape)
        (
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
            9.9,
            Severity::Critical,
        ),
        // CVE-2009-0783 (Apache Tomcat XML parser)
        (
            "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L",
            4.2,
            Severity::Medium,
        ),
        // CVE-2012-0384 (Cisco IOS command injection)
        (
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
            8.8,
            Severity::High,
        ),
        // CVE-2015-1098 (Apple iWork denial of service)
        (
            "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
            7.8,
            Severity::High,
        ),
        // CVE-2016-0128 (Badlock)
        (
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N",
            6.8,
            Severity::Medium,
        ),
    ];
    for (vector, score, severity) in cases {
        let rated = rate_cvss(vector).expect(vector);
        assert_eq!(rated.version, "3.1");
        assert!(
            (rated.base_score - score).abs() < 1e-9,
            "{vector}: {}",
            rated.base_score
        );
        assert_eq!(rated.severity, Some(severity), "{vector}");
    }
}

/// CVSS v4.0: the highest-severity base vector scores 10.0, the classic
/// network-reachable full-impact vector 9.3, and no impact at all 0.0.
#[test]
fn cvss_v40_reference_vectors() {
    let cases = [
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
            10.0,
            Some(Severity::Critical),
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            9.3,
            Some(Severity::Critical),
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
            0.0,
            None,
        ),
    ];
    for (vector, score, severity) in cases {
        let rated = rate_cvss(vector).expect(vector);
        assert_eq!(rated.version, "4.0");
        assert!(
            (rated.base_score - score).abs() < 1e-9,
            "{vector}: {}",
            rated.base_score
        );
        assert_eq!(rated.severity, severity, "{vector}");
    }
}

#[test]
fn bad_cvss_vectors_are_errors() {
    for bad in [
        "",
        "CVSS:3.1",
        "CVSS:3.1/AV:N",
        "CVSS:9.9/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
    ] {
        assert!(rate_cvss(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn matrix_steps_have_japanese_names_when_given() {
    let p = policy();
    assert_eq!(p.matrix.likelihood_label_in(1, false), "Rare");
    assert_eq!(p.matrix.likelihood_label_in(1, true), "まれ");
    assert_eq!(p.matrix.impact_label_in(5, true), "甚大");
    // Without Japanese names, the English ones serve both.
    let mut english_only = p.clone();
    english_only.matrix.impact_ja.clear();
    assert_eq!(english_only.matrix.impact_label_in(5, true), "Severe");
    // A list of the wrong length is refused.
    let text = DEFAULT_RISK_POLICY_TOML.replacen(
        "impact_ja = [\"軽微\", \"小\", \"中\", \"大\", \"甚大\"]",
        "impact_ja = [\"軽微\", \"小\"]",
        1,
    );
    assert_ne!(text, DEFAULT_RISK_POLICY_TOML);
    let err = RiskPolicy::parse(&text).expect_err("mismatched names");
    assert!(err.to_string().contains("impact_ja"), "{err}");
}
