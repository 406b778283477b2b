//! `RiskPolicy::parse`, `ClauseCatalog::parse` and `rate_cvss` on arbitrary
//! UTF-8. An accepted risk policy must rate every cell of its own matrix,
//! give every level a deadline and never accept an expiry past its maximum.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use mamori_domain::contract::ClauseCatalog;
use mamori_domain::questionnaire::Severity;
use mamori_domain::risk::{rate_cvss, AcceptanceRequest, RiskPolicy};
use mamori_domain::Role;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = RiskPolicy::parse(text) {
        for l in 1..=policy.matrix.likelihood_steps().min(20) {
            for i in 1..=policy.matrix.impact_steps().min(20) {
                let rated = policy.rate(l, i).expect("a cell of the matrix is rated");
                assert!(rated.score <= policy.matrix.max_score());
            }
        }
        let today = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
        let latest = policy.latest_expiry(today);
        let too_late = latest.succ_opt().unwrap_or(latest);
        let request = AcceptanceRequest {
            role: Role::AcceptanceAuthority,
            level: Severity::Low,
            above_threshold: true,
            justification: "a justification that is long enough",
            compensating_controls: "segmentation",
            expires_on: too_late,
            today,
        };
        if too_late > latest {
            assert!(policy.check_acceptance(&request).is_err());
        }
    }
    let _ = ClauseCatalog::parse(text);
    let _ = rate_cvss(text);
});
