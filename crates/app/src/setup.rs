//! First start: the organisation, the first administrator, demo data.

use mamori_domain::{assess, Role, TieringPolicy};
use mamori_store::{Actor, NewUser, Store};

use crate::password::{generate_password, hash_password};
use crate::AppError;

pub const DEFAULT_ORGANISATION: &str = "My Hospital";
pub const FIRST_ADMIN_EMAIL: &str = "admin@mamori.local";

/// What start-up found or made.
pub struct Started {
    pub org_id: String,
    /// Set only when this start created the first administrator: the
    /// one-time password to print.
    pub first_admin: Option<(String, String)>,
}

/// Runs migrations, makes sure the organisation exists, and creates the
/// first administrator when there are no users yet.
pub async fn start(store: &Store, org_name: &str) -> Result<Started, AppError> {
    store.migrate().await?;
    store.optimize().await?;
    // Every entry point (server, CLI) finds the shipped questionnaires.
    crate::assessments::sync_builtin_templates(store).await?;
    let org_id = store.ensure_organisation(org_name).await?;
    let mut first_admin = None;
    if store.count_users(&org_id).await? == 0 {
        let password = generate_password();
        store
            .create_user(
                &org_id,
                NewUser {
                    email: FIRST_ADMIN_EMAIL.into(),
                    display_name: "Administrator".into(),
                    role: Role::Administrator,
                    password_hash: Some(hash_password(&password)?),
                    locale: None,
                },
                &Actor::system("first start"),
            )
            .await?;
        first_admin = Some((FIRST_ADMIN_EMAIL.to_string(), password));
    }
    Ok(Started {
        org_id,
        first_admin,
    })
}

/// Loads the demo organisation's people and vendors, once: does nothing when
/// vendors exist already. Returns how many vendors were added.
pub async fn load_demo(
    store: &Store,
    org_id: &str,
    policy: &TieringPolicy,
) -> Result<usize, AppError> {
    let existing = store
        .list_vendors(org_id, &Default::default(), &mamori_store::VendorScope::All)
        .await?;
    if existing.total > 0 {
        return Ok(0);
    }
    let demo = mamori_demo::demo_organisation();
    let actor = Actor::system("demo loader");
    for person in &demo.people {
        if store.user_by_email(&person.email).await?.is_none() {
            // Demo people have no password: an administrator can set one.
            store
                .create_user(
                    org_id,
                    NewUser {
                        email: person.email.clone(),
                        display_name: person.display_name.clone(),
                        role: person.role,
                        password_hash: None,
                        locale: None,
                    },
                    &actor,
                )
                .await?;
        }
    }
    let rows: Vec<_> = demo
        .vendors
        .into_iter()
        .map(|draft| {
            let risk = assess(policy, draft.risk_profile()).rating();
            (draft, risk)
        })
        .collect();
    let outcome = store
        .import_vendors(org_id, &rows, "demo organisation", &actor, &|_| {})
        .await?;
    load_demo_assessments(
        store,
        org_id,
        &mamori_domain::assessment::AssessmentPolicy::default_policy(),
    )
    .await?;
    load_demo_risks(store, org_id).await?;
    Ok(outcome.created)
}

/// Gives the demo vendors an assessment history: most have a completed
/// assessment from the last three years (so some are overdue), a few have
/// one out with the vendor, one waits for review. Does nothing when any
/// assessment exists. Returns how many assessments were created.
pub async fn load_demo_assessments(
    store: &Store,
    org_id: &str,
    policy: &mamori_domain::assessment::AssessmentPolicy,
) -> Result<usize, AppError> {
    use crate::assessments as a;
    use chrono::{Datelike, Duration, Utc};
    if store.list_assessments(org_id, None, None, 1, 0).await?.1 > 0 {
        return Ok(0);
    }
    let vendors = store
        .list_vendors(
            org_id,
            &mamori_store::VendorListQuery {
                per_page: 500,
                ..Default::default()
            },
            &mamori_store::VendorScope::All,
        )
        .await?;
    let actor = Actor::system("demo loader");
    let now = Utc::now();
    let today = now.date_naive();
    let mut created = 0;
    for (i, v) in vendors.vendors.iter().enumerate() {
        let kind = i % 5;
        if kind == 4 || (kind == 3 && i > 40) {
            continue; // never assessed
        }
        let id = a::create_for_vendor(store, org_id, policy, &v.id, &actor).await?;
        created += 1;
        let ctx = a::load_context(store, org_id, &id).await?;
        let seed = 0x6d61_6d6f_7269 ^ (i as u64);
        let pass_percent = 55 + (i as u64 * 37) % 43;
        let answers = mamori_demo::demo_answers(&ctx.template, seed, pass_percent, today);
        let changes: Vec<(String, Option<String>)> = if kind == 3 && i != 1 {
            // Out with the vendor, a third answered.
            answers
                .iter()
                .take(answers.len() / 3)
                .map(|(q, ans)| (q.clone(), serde_json::to_string(ans).ok()))
                .collect()
        } else {
            answers
                .iter()
                .map(|(q, ans)| (q.clone(), serde_json::to_string(ans).ok()))
                .collect()
        };
        if kind == 3 || i == 1 {
            a::send(
                store,
                org_id,
                policy,
                &id,
                "Demo Contact",
                &format!("security@vendor{i}.example"),
                &actor,
            )
            .await?;
            store
                .save_answers(
                    org_id,
                    &id,
                    &changes,
                    (changes.len() as i64, ctx.template.questions.len() as i64),
                    "demo",
                    &actor,
                    None,
                )
                .await?;
            if i == 1 {
                // Answered in full and submitted: waiting for a reviewer.
                store
                    .transition_assessment(
                        org_id,
                        &id,
                        mamori_domain::assessment::AssessmentStatus::Submitted,
                        &actor,
                        "submitted by the vendor",
                    )
                    .await?;
            }
            continue;
        }
        store
            .save_answers(
                org_id,
                &id,
                &changes,
                (changes.len() as i64, ctx.template.questions.len() as i64),
                "demo",
                &actor,
                Some(format!("demo answers for {}", v.legal_name)),
            )
            .await?;
        a::begin_review(store, org_id, policy, &id, &actor).await?;
        a::complete(store, org_id, policy, &id, &actor).await?;
        // Spread completions over the last 34 months; those older than the
        // tier's interval are overdue.
        let months_ago = (i as u32 * 7) % 34;
        let completed = today
            .checked_sub_months(chrono::Months::new(months_ago))
            .unwrap_or(today)
            .with_day(1 + (i as u32 % 27))
            .unwrap_or(today);
        let tier =
            mamori_domain::Tier::parse(&ctx.record.tier).unwrap_or(mamori_domain::Tier::Moderate);
        let next_due = policy.next_due(tier, completed);
        let at = mamori_store::timestamp(
            completed
                .and_hms_opt(10, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(now - Duration::days(1)),
        );
        store
            .backdate_assessment(org_id, &id, &at, &next_due.to_string(), &actor)
            .await?;
    }
    Ok(created)
}

/// Gives the demo a risk register: open findings of assessed vendors
/// promoted to risks on the shipped matrix, some treated, two accepted, a
/// corrective action plan out with a vendor, and contracts whose checklists
/// have gaps. Does nothing when any risk exists. Returns how many risks were
/// created.
pub async fn load_demo_risks(store: &Store, org_id: &str) -> Result<usize, AppError> {
    use crate::risks as r;
    if !store.threshold_inputs(org_id).await?.is_empty() {
        return Ok(0);
    }
    let policy = mamori_domain::risk::RiskPolicy::default_policy();
    let catalog = mamori_domain::contract::ClauseCatalog::builtin();
    let actor = Actor::system("demo loader");
    let vendors = store
        .list_vendors(
            org_id,
            &mamori_store::VendorListQuery {
                per_page: 60,
                ..Default::default()
            },
            &mamori_store::VendorScope::All,
        )
        .await?;
    let owner = store
        .list_users(org_id)
        .await?
        .into_iter()
        .find(|u| u.role == mamori_domain::Role::RiskManager)
        .map(|u| u.id);
    let categories = ["cybersecurity", "privacy", "operational", "compliance"];
    let mut created = Vec::new();
    for (i, v) in vendors.vendors.iter().enumerate() {
        if created.len() >= 14 {
            break;
        }
        let findings = store.open_findings_for_vendor(org_id, &v.id).await?;
        let Some(first) = findings.first() else {
            continue;
        };
        let picked: Vec<String> = findings.iter().take(2).map(|f| f.id.clone()).collect();
        // Residual ratings spread over the matrix, worst for the first ones.
        let (rl, ri) = [(4, 4), (3, 4), (2, 3), (3, 3), (2, 2), (1, 3), (4, 5)][i % 7];
        let input = r::RiskInput {
            vendor_id: v.id.clone(),
            category: categories[i % categories.len()].into(),
            title: first.title.clone(),
            description: findings
                .iter()
                .take(2)
                .map(|f| format!("- {}", f.title))
                .collect::<Vec<_>>()
                .join("\n"),
            owner_id: owner.clone(),
            inherent_likelihood: (rl + 1).min(5),
            inherent_impact: ri,
            existing_controls: "Contractual security schedule; annual questionnaire.".into(),
            residual_likelihood: rl,
            residual_impact: ri,
            treatment: Some(if i % 3 == 0 { "mitigate" } else { "undecided" }.into()),
            status: Some(if i % 3 == 0 { "in_treatment" } else { "open" }.into()),
            ..Default::default()
        };
        let id = r::create_risk(store, org_id, &policy, &input, &picked, &actor).await?;
        created.push((id, v.id.clone(), rl * ri));
    }
    // Two accepted by the acceptance authority, with expiries in the future
    // (one inside the 30-day warning window).
    let today = policy.local_date(chrono::Utc::now());
    let to_accept = created
        .iter()
        .filter(|(_, _, s)| (6..=12).contains(s))
        .take(2);
    for (n, (id, _, score)) in to_accept.enumerate() {
        let days = if n == 0 { 20 } else { 180 };
        let expires = today + chrono::Duration::days(days);
        r::accept_risk(
            store,
            org_id,
            &policy,
            id,
            mamori_domain::Role::AcceptanceAuthority,
            &r::AcceptanceInput {
                justification: format!(
                    "Replacement vendor procurement under way; residual score {score} tolerated until the migration completes."
                ),
                compensating_controls: "Network segmentation of the integration; weekly access review.".into(),
                expires_on: expires.to_string(),
            },
            &Actor::system("demo acceptance authority"),
        )
        .await?;
    }
    // A corrective action plan for the vendor of the worst risk.
    if let Some((_, vendor_id, _)) = created.iter().max_by_key(|(_, _, s)| *s) {
        let actions: Vec<r::ActionInput> = created
            .iter()
            .filter(|(_, v, _)| v == vendor_id)
            .map(|(id, _, _)| r::ActionInput {
                risk_id: id.clone(),
                action: String::new(),
            })
            .collect();
        let request = r::create_remediation_request(
            store,
            org_id,
            &policy,
            vendor_id,
            "Corrective action plan after the annual assessment",
            &actions,
            &actor,
        )
        .await?;
        r::send_remediation_request(
            store,
            org_id,
            &request,
            "Demo Contact",
            "security@vendor.example",
            &actor,
        )
        .await?;
    }
    // Contracts for the first vendors: one fully reviewed, the others with
    // clauses missing (a PHI vendor without a BAA is a critical gap).
    for (i, v) in vendors.vendors.iter().take(6).enumerate() {
        let start = today - chrono::Duration::days(300 + 40 * i as i64);
        let end = start + chrono::Duration::days(365 * 2);
        let contract = r::create_contract(
            store,
            org_id,
            &catalog,
            &v.id,
            &r::ContractInput {
                title: format!("Master services agreement — {}", v.legal_name),
                starts_on: Some(start.to_string()),
                ends_on: Some(end.to_string()),
                renewal_notice_days: Some(if i == 2 { 500 } else { 90 }),
                value: Some(format!("{}", 1_200_000 + i * 350_000)),
                currency: Some("JPY".into()),
                ..Default::default()
            },
            &actor,
        )
        .await?;
        let clauses: Vec<r::ClauseInput> = catalog
            .clauses
            .iter()
            .enumerate()
            .map(|(k, c)| r::ClauseInput {
                clause_key: c.key.clone(),
                state: match (i, k % 4) {
                    (0, _) => "present",
                    (_, 0) => "absent",
                    (_, 1) => "partial",
                    _ => "present",
                }
                .into(),
                note: String::new(),
                reference: format!("§{}", k + 3),
            })
            .collect();
        r::save_clauses(store, org_id, &catalog, &contract, &clauses, &actor).await?;
    }
    Ok(created.len())
}
