use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use mamori_domain::{LifecycleStatus, RiskCategory, Tier};
use mamori_store::{SortKey, VendorListQuery, VendorSummary};

use super::{error_page, render, Chrome};
use crate::auth::{CurrentUser, RequestLocale};
use crate::charts::{
    bar_chart, stacked_chart, tier_class, BarChart, BarInput, StackedChart, StackedInput,
};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    pub total: String,
    pub tier_cards: Vec<(String, String, &'static str, String)>,
    pub tier_chart: BarChart,
    pub status_chart: BarChart,
    pub category_chart: StackedChart,
    pub top: Vec<(String, String, String, &'static str, u32, String)>,
    pub policy_version: String,
    pub assessments: Option<mamori_store::AssessmentCounts>,
    pub overdue: Vec<(String, String, String, String)>,
    pub severity_labels: Vec<String>,
    /// Risk register figures, for people who may see risks.
    pub risks: Option<RiskPanel>,
}

pub struct RiskPanel {
    pub counts: mamori_store::RiskCounts,
    pub overdue_remediation: i64,
    /// (request id, action, vendor, due) of the most overdue actions.
    pub overdue_items: Vec<(String, String, String, String)>,
    /// (level label, count, class) of active risks.
    pub levels: Vec<(String, i64, &'static str)>,
    /// (contract id, title, vendor, end date) of contracts in their renewal
    /// notice window.
    pub renewals: Vec<(String, String, String, String)>,
}

async fn risk_panel(state: &AppState, chrome_tr: &crate::i18n::Tr) -> Option<RiskPanel> {
    let policy = state.risk_policy().await;
    if let Err(e) = mamori_app::risks::expire_acceptances(
        &state.store,
        &state.org_id,
        &policy,
        chrono::Utc::now(),
    )
    .await
    {
        tracing::error!(error = %e, "expiring risk acceptances failed");
    }
    let today = policy.local_date(chrono::Utc::now());
    let soon = (today + chrono::Duration::days(30)).to_string();
    let counts = state.store.risk_counts(&state.org_id, &soon).await.ok()?;
    let overdue = state
        .store
        .overdue_remediation(&state.org_id, &today.to_string())
        .await
        .unwrap_or_default();
    let levels = [
        ("critical", "sev-critical"),
        ("high", "sev-high"),
        ("medium", "sev-medium"),
        ("low", "sev-low"),
    ]
    .iter()
    .map(|(l, class)| {
        (
            chrome_tr.label("severity", l),
            counts.by_level.get(*l).copied().unwrap_or(0),
            *class,
        )
    })
    .collect();
    let renewals = state
        .store
        .list_contracts(&state.org_id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| {
            let end = c
                .ends_on
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            matches!(
                mamori_domain::contract::renewal(end, c.renewal_notice_days, today),
                mamori_domain::contract::Renewal::NoticeWindow { .. }
            )
        })
        .map(|c| (c.id, c.title, c.vendor_name, c.ends_on.unwrap_or_default()))
        .collect();
    Some(RiskPanel {
        renewals,
        overdue_remediation: overdue.len() as i64,
        overdue_items: overdue
            .iter()
            .take(10)
            .map(|o| {
                (
                    o.item.request_id.clone(),
                    o.item.action.clone(),
                    o.vendor_name.clone(),
                    o.item.due_on.clone(),
                )
            })
            .collect(),
        levels,
        counts,
    })
}

const STATUS_CLASSES: [&str; 5] = [
    "s-candidate",
    "s-onboarding",
    "s-active",
    "s-offboarding",
    "s-terminated",
];

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
) -> Response {
    let policy = state.policy().await;
    let scope = user.vendor_scope();
    let counts = match state
        .store
        .dashboard_counts(&state.org_id, &scope, policy.bands)
        .await
    {
        Ok(c) => c,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    // Assessment counts are organisation-wide, so only people who may see
    // assessments get them.
    let (assessments, overdue) = if user.can(mamori_domain::Permission::AssessmentRead) {
        let today = mamori_app::assessments::today();
        let soon = (today + chrono::Duration::days(90)).to_string();
        let year_ago = mamori_store::timestamp(chrono::Utc::now() - chrono::Duration::days(365));
        let counts = match state
            .store
            .assessment_counts(&state.org_id, &today.to_string(), &soon, &year_ago)
            .await
        {
            Ok(c) => c,
            Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
        };
        let overdue = state
            .store
            .overdue_vendors(&state.org_id, &today.to_string(), 10)
            .await
            .unwrap_or_default();
        (Some(counts), overdue)
    } else {
        (None, Vec::new())
    };
    let top = state
        .store
        .list_vendors(
            &state.org_id,
            &VendorListQuery {
                sort: SortKey::Tier,
                descending: true,
                per_page: 10,
                page: 1,
                ..Default::default()
            },
            &scope,
        )
        .await
        .map(|p| p.vendors)
        .unwrap_or_default();
    let chrome = Chrome::new(&state, Some(&user), locale, "dashboard").await;
    let tr = &chrome.tr;
    let tiers = [Tier::Critical, Tier::High, Tier::Moderate, Tier::Low];
    let tier_index = |t: Tier| Tier::ALL.iter().position(|x| *x == t).unwrap_or(0);
    let tier_chart = bar_chart(
        tr.t("dashboard.by_tier").to_string(),
        tiers
            .iter()
            .map(|t| BarInput {
                label: tr.label("tier", t.as_str()),
                value: counts.by_tier[tier_index(*t)],
                class: tier_class(*t),
                href: format!("/vendors?tier={}", t.as_str()),
            })
            .collect(),
        |v| tr.number(v),
    );
    let status_chart = bar_chart(
        tr.t("dashboard.by_status").to_string(),
        LifecycleStatus::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| BarInput {
                label: tr.label("status", s.as_str()),
                value: counts.by_status[i],
                class: STATUS_CLASSES[i],
                href: format!("/vendors?status={}", s.as_str()),
            })
            .collect(),
        |v| tr.number(v),
    );
    let category_chart = stacked_chart(
        tr.t("dashboard.by_category").to_string(),
        RiskCategory::ALL
            .iter()
            .map(|c| StackedInput {
                label: tr.label("category", c.as_str()),
                parts: tiers
                    .iter()
                    .rev()
                    .map(|t| {
                        (
                            counts.category_bands[c.index()][tier_index(*t)],
                            tier_class(*t),
                            tr.label("tier", t.as_str()),
                        )
                    })
                    .collect(),
            })
            .collect(),
        tiers
            .iter()
            .rev()
            .map(|t| (tr.label("tier", t.as_str()), tier_class(*t)))
            .collect(),
    );
    let tier_cards = tiers
        .iter()
        .map(|t| {
            (
                tr.label("tier", t.as_str()),
                tr.number(counts.by_tier[tier_index(*t)]),
                tier_class(*t),
                format!("/vendors?tier={}", t.as_str()),
            )
        })
        .collect();
    let risks = if user.can(mamori_domain::Permission::RiskRead) {
        let tr = crate::i18n::Tr::new(state.catalog.clone(), locale);
        risk_panel(&state, &tr).await
    } else {
        None
    };
    let page = DashboardPage {
        risks,
        total: tr.number(counts.total),
        tier_cards,
        tier_chart,
        status_chart,
        category_chart,
        top: top
            .iter()
            .map(|v: &VendorSummary| {
                (
                    v.id.clone(),
                    v.legal_name.clone(),
                    tr.label("tier", v.tier.as_str()),
                    tier_class(v.tier),
                    v.score_max,
                    v.owner_email.clone(),
                )
            })
            .collect(),
        policy_version: policy.version.clone(),
        assessments,
        overdue: overdue
            .into_iter()
            .map(|(id, name, tier, due)| (id, name, tr.label("tier", &tier), due))
            .collect(),
        severity_labels: ["critical", "high", "medium", "low"]
            .iter()
            .map(|s| tr.label("severity", s))
            .collect(),
        chrome,
    };
    render(&page)
}
