//! Every route of Mamori, each with the permission it needs. This table is
//! the only place routes are added (`Routes::add` demands a permission), so
//! a route without a declared permission cannot exist.

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::Router;
use mamori_domain::Permission;
use Permission::*;

use crate::auth::{authenticate, authorize};
use crate::state::AppState;
use crate::{api, pages};

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub permission: Permission,
}

/// Bodies of ordinary forms and JSON requests: small, so nobody can make the
/// server buffer megabytes before signing in.
const FORM_LIMIT: usize = 1024 * 1024;
/// Files: vendor inventories (a 100,000-row CSV is about 30 MB).
const UPLOAD_LIMIT: usize = 200 * 1024 * 1024;

/// Evidence files and answer sheets: the evidence limit plus room for the
/// form's other fields.
const EVIDENCE_LIMIT: usize = mamori_app::assessments::MAX_EVIDENCE_BYTES + 64 * 1024;

struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Routes {
    fn add<H, T>(
        self,
        method: Method,
        path: &'static str,
        permission: Permission,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_with_limit(method, path, permission, FORM_LIMIT, handler)
    }

    /// Like `add`, for routes that take files (imports, policy documents).
    fn upload<H, T>(
        self,
        method: Method,
        path: &'static str,
        permission: Permission,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_with_limit(method, path, permission, UPLOAD_LIMIT, handler)
    }

    fn add_with_limit<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        permission: Permission,
        body_limit: usize,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            Method::GET => MethodFilter::GET,
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::DELETE => MethodFilter::DELETE,
            Method::PATCH => MethodFilter::PATCH,
            _ => MethodFilter::GET,
        };
        let route = on(filter, handler)
            .layer(DefaultBodyLimit::max(body_limit))
            .route_layer(axum::middleware::from_fn(move |req, next| {
                authorize(permission, req, next)
            }));
        self.router = self.router.route(path, route);
        self.specs.push(RouteSpec {
            method,
            path,
            permission,
        });
        self
    }
}

fn table() -> Routes {
    let get = Method::GET;
    let post = Method::POST;
    let put = Method::PUT;
    let delete = Method::DELETE;
    Routes {
        router: Router::new(),
        specs: Vec::new(),
    }
    // Public surface: as small as it can be.
    .add(get.clone(), "/healthz", Public, pages::healthz)
    .add(get.clone(), "/static/{file}", Public, pages::static_file)
    .add(get.clone(), "/login", Public, pages::session::login_form)
    .add(post.clone(), "/login", Public, pages::session::login_submit)
    .add(
        get.clone(),
        "/lang/{code}",
        Public,
        pages::session::set_language,
    )
    .add(get.clone(), "/api/openapi.json", Public, api::openapi_json)
    // Pages.
    .add(post.clone(), "/logout", SignedIn, pages::session::logout)
    .add(get.clone(), "/", DashboardView, pages::dashboard::dashboard)
    .add(get.clone(), "/vendors", VendorRead, pages::vendors::list)
    .add(
        post.clone(),
        "/vendors",
        VendorWrite,
        pages::vendors::create,
    )
    .add(
        get.clone(),
        "/vendors/new",
        VendorWrite,
        pages::vendors::new_form,
    )
    .add(
        get.clone(),
        "/vendors/export",
        VendorExport,
        pages::vendors::export,
    )
    .add(
        get.clone(),
        "/vendors/import",
        VendorImport,
        pages::import::form,
    )
    .upload(
        post.clone(),
        "/vendors/import",
        VendorImport,
        pages::import::submit,
    )
    .add(
        get.clone(),
        "/vendors/import/template/{format}",
        VendorImport,
        pages::import::template,
    )
    .add(
        get.clone(),
        "/imports/{id}",
        VendorImport,
        pages::import::status,
    )
    .add(
        get.clone(),
        "/vendors/{id}",
        VendorRead,
        pages::vendors::show,
    )
    .add(
        post.clone(),
        "/vendors/{id}",
        VendorWrite,
        pages::vendors::update,
    )
    .add(
        get.clone(),
        "/vendors/{id}/edit",
        VendorWrite,
        pages::vendors::edit_form,
    )
    .add(
        post.clone(),
        "/vendors/{id}/shred",
        KeyManage,
        pages::vendors::shred,
    )
    .add(get.clone(), "/policy", PolicyRead, pages::policy::show)
    .add(
        get.clone(),
        "/policy/download",
        PolicyRead,
        pages::policy::download,
    )
    .upload(
        post.clone(),
        "/policy/check",
        PolicyManage,
        pages::policy::check,
    )
    .upload(
        post.clone(),
        "/policy/apply",
        PolicyManage,
        pages::policy::apply,
    )
    .add(get.clone(), "/audit", AuditRead, pages::audit::list)
    // Assessments.
    .add(
        get.clone(),
        "/assessments",
        AssessmentRead,
        pages::assessments::list,
    )
    .add(
        post.clone(),
        "/vendors/{id}/assessments",
        AssessmentManage,
        pages::assessments::create,
    )
    .add(
        get.clone(),
        "/assessments/{id}",
        AssessmentRead,
        pages::assessments::show,
    )
    .add(
        post.clone(),
        "/assessments/{id}/send",
        AssessmentManage,
        pages::assessments::send,
    )
    .add(
        post.clone(),
        "/assessments/{id}/revoke",
        AssessmentManage,
        pages::assessments::revoke,
    )
    .add(
        post.clone(),
        "/assessments/{id}/review",
        AssessmentManage,
        pages::assessments::review,
    )
    .add(
        post.clone(),
        "/assessments/{id}/complete",
        AssessmentManage,
        pages::assessments::complete,
    )
    .add(
        post.clone(),
        "/assessments/{id}/cancel",
        AssessmentManage,
        pages::assessments::cancel,
    )
    .add(
        post.clone(),
        "/assessments/{id}/findings",
        AssessmentManage,
        pages::assessments::add_finding,
    )
    .add(
        post.clone(),
        "/findings/{id}/decide",
        AssessmentManage,
        pages::assessments::decide,
    )
    .add_with_limit(
        post.clone(),
        "/assessments/{id}/answers/import",
        AssessmentManage,
        EVIDENCE_LIMIT,
        pages::assessments::import_answers,
    )
    .add(
        get.clone(),
        "/assessments/{id}/sheet.csv",
        AssessmentRead,
        pages::assessments::sheet,
    )
    .add(
        get.clone(),
        "/assessments/{id}/report",
        AssessmentRead,
        pages::assessments::report,
    )
    .add(
        get.clone(),
        "/assessments/{id}/oscal",
        AssessmentRead,
        pages::assessments::oscal,
    )
    .add(
        get.clone(),
        "/evidence/{id}",
        AssessmentRead,
        pages::assessments::download_evidence,
    )
    // Risk register pages.
    .add(get.clone(), "/risks", RiskRead, pages::risks::list)
    .add(post.clone(), "/risks", RiskManage, pages::risks::create)
    .add(
        get.clone(),
        "/risks/new",
        RiskManage,
        pages::risks::new_form,
    )
    .add(get.clone(), "/risks/report", RiskRead, pages::risks::report)
    .add(get.clone(), "/risks/{id}", RiskRead, pages::risks::show)
    .add(
        post.clone(),
        "/risks/{id}",
        RiskManage,
        pages::risks::update,
    )
    .add(
        post.clone(),
        "/risks/{id}/accept",
        RiskAccept,
        pages::risks::accept,
    )
    .add(
        get.clone(),
        "/acceptances",
        RiskRead,
        pages::risks::acceptances,
    )
    .add(
        get.clone(),
        "/vendors/{id}/risks",
        RiskRead,
        pages::risks::vendor_risks,
    )
    .add(
        post.clone(),
        "/vendors/{id}/remediation",
        RiskManage,
        pages::risks::create_remediation,
    )
    .add(
        get.clone(),
        "/remediation/{id}",
        RiskRead,
        pages::risks::show_remediation,
    )
    .add(
        post.clone(),
        "/remediation/{id}/send",
        RiskManage,
        pages::risks::send_remediation,
    )
    .add(
        post.clone(),
        "/remediation/items/{id}/verify",
        RiskManage,
        pages::risks::verify_item,
    )
    .add(
        post.clone(),
        "/vendors/{id}/contracts",
        RiskManage,
        pages::risks::create_contract,
    )
    .add(
        get.clone(),
        "/contracts/{id}",
        RiskRead,
        pages::risks::show_contract,
    )
    .add(
        post.clone(),
        "/contracts/{id}/clauses",
        RiskManage,
        pages::risks::save_clauses,
    )
    .add_with_limit(
        post.clone(),
        "/contracts/{id}/document",
        RiskManage,
        EVIDENCE_LIMIT,
        pages::risks::upload_contract_document,
    )
    // Corrective action plans in the vendor portal: the link is the
    // credential, checked by the handler like assessment links.
    .add(
        get.clone(),
        "/remediate/{token}",
        PortalLink,
        pages::risks::portal_show,
    )
    .add(
        post.clone(),
        "/remediate/{token}/items/{item_id}",
        PortalLink,
        pages::risks::portal_answer,
    )
    .add_with_limit(
        post.clone(),
        "/remediate/{token}/items/{item_id}/evidence",
        PortalLink,
        EVIDENCE_LIMIT,
        pages::risks::portal_evidence,
    )
    // Vendor portal: the link's token is the credential (checked by the
    // handlers); these routes reach one assessment and nothing else.
    .add(
        get.clone(),
        "/portal/{token}",
        PortalLink,
        pages::portal::show,
    )
    .add(
        post.clone(),
        "/portal/{token}/answers",
        PortalLink,
        pages::portal::save,
    )
    .add_with_limit(
        post.clone(),
        "/portal/{token}/evidence",
        PortalLink,
        EVIDENCE_LIMIT,
        pages::portal::upload,
    )
    .add(
        post.clone(),
        "/portal/{token}/submit",
        PortalLink,
        pages::portal::submit,
    )
    .add(get.clone(), "/admin/users", UserManage, pages::admin::users)
    .add(
        post.clone(),
        "/admin/users",
        UserManage,
        pages::admin::create_user,
    )
    .add(
        post.clone(),
        "/admin/users/{id}",
        UserManage,
        pages::admin::update_user,
    )
    .add(get.clone(), "/account", SignedIn, pages::account::show)
    .add(
        post.clone(),
        "/account/language",
        SignedIn,
        pages::account::language,
    )
    .add(
        post.clone(),
        "/account/password",
        SignedIn,
        pages::account::password,
    )
    .add(
        post.clone(),
        "/account/tokens",
        TokenManage,
        pages::account::create_token,
    )
    .add(
        post.clone(),
        "/account/tokens/{id}/revoke",
        TokenManage,
        pages::account::revoke_token,
    )
    // JSON API.
    .add(get.clone(), "/api/v1/me", SignedIn, api::me)
    .add(
        get.clone(),
        "/api/v1/dashboard",
        DashboardView,
        api::dashboard,
    )
    .add(
        get.clone(),
        "/api/v1/vendors",
        VendorRead,
        api::list_vendors,
    )
    .add(
        post.clone(),
        "/api/v1/vendors",
        VendorWrite,
        api::create_vendor,
    )
    .upload(
        post.clone(),
        "/api/v1/vendors/import",
        VendorImport,
        api::import_vendors,
    )
    .add(
        get.clone(),
        "/api/v1/vendors/export",
        VendorExport,
        api::export_vendors,
    )
    .add(
        get.clone(),
        "/api/v1/vendors/{id}",
        VendorRead,
        api::get_vendor,
    )
    .add(
        put.clone(),
        "/api/v1/vendors/{id}",
        VendorWrite,
        api::update_vendor,
    )
    .add(
        get.clone(),
        "/api/v1/vendors/{id}/risk",
        VendorRead,
        api::vendor_risk,
    )
    .add(get.clone(), "/api/v1/policy", PolicyRead, api::get_policy)
    .upload(
        post.clone(),
        "/api/v1/policy/check",
        PolicyManage,
        api::check_policy,
    )
    .upload(
        post.clone(),
        "/api/v1/policy/apply",
        PolicyManage,
        api::apply_policy,
    )
    .add(get.clone(), "/api/v1/audit", AuditRead, api::audit)
    .add(
        get.clone(),
        "/api/v1/assessments",
        AssessmentRead,
        api::assessments::list,
    )
    .add(
        post.clone(),
        "/api/v1/vendors/{id}/assessments",
        AssessmentManage,
        api::assessments::create,
    )
    .add(
        get.clone(),
        "/api/v1/assessments/{id}",
        AssessmentRead,
        api::assessments::get,
    )
    .add(
        get.clone(),
        "/api/v1/assessments/{id}/oscal",
        AssessmentRead,
        api::assessments::oscal,
    )
    // Risk register API.
    .add(get.clone(), "/api/v1/risks", RiskRead, api::risks::list)
    .add(
        post.clone(),
        "/api/v1/risks",
        RiskManage,
        api::risks::create,
    )
    .add(
        get.clone(),
        "/api/v1/risks/heatmap",
        RiskRead,
        api::risks::heatmap,
    )
    .add(
        get.clone(),
        "/api/v1/risks/export",
        RiskRead,
        api::risks::export,
    )
    .add(get.clone(), "/api/v1/risks/{id}", RiskRead, api::risks::get)
    .add(
        put.clone(),
        "/api/v1/risks/{id}",
        RiskManage,
        api::risks::update,
    )
    .add(
        post.clone(),
        "/api/v1/risks/{id}/findings",
        RiskManage,
        api::risks::link_findings,
    )
    .add(
        post.clone(),
        "/api/v1/risks/{id}/acceptances",
        RiskAccept,
        api::risks::accept,
    )
    .add(
        get.clone(),
        "/api/v1/acceptances",
        RiskRead,
        api::risks::acceptances,
    )
    .add(
        get.clone(),
        "/api/v1/remediation",
        RiskRead,
        api::risks::remediation_list,
    )
    .add(
        get.clone(),
        "/api/v1/remediation/{id}",
        RiskRead,
        api::risks::remediation_get,
    )
    .add(
        post.clone(),
        "/api/v1/vendors/{id}/remediation",
        RiskManage,
        api::risks::remediation_create,
    )
    .add(
        post.clone(),
        "/api/v1/remediation/{id}/send",
        RiskManage,
        api::risks::remediation_send,
    )
    .add(
        post.clone(),
        "/api/v1/remediation/items/{item_id}/verify",
        RiskManage,
        api::risks::remediation_verify,
    )
    .add(
        get.clone(),
        "/api/v1/vendors/{id}/contracts",
        RiskRead,
        api::risks::contracts_for_vendor,
    )
    .add(
        post.clone(),
        "/api/v1/vendors/{id}/contracts",
        RiskManage,
        api::risks::contract_create,
    )
    .add(
        get.clone(),
        "/api/v1/contracts/{id}",
        RiskRead,
        api::risks::contract_get,
    )
    .add(
        put.clone(),
        "/api/v1/contracts/{id}",
        RiskManage,
        api::risks::contract_update,
    )
    .add(
        put.clone(),
        "/api/v1/contracts/{id}/clauses",
        RiskManage,
        api::risks::contract_clauses,
    )
    .add(
        get.clone(),
        "/api/v1/risk-policy",
        PolicyRead,
        api::risks::policy_get,
    )
    .upload(
        post.clone(),
        "/api/v1/risk-policy",
        PolicyManage,
        api::risks::policy_apply,
    )
    .add(get.clone(), "/api/v1/users", UserManage, api::list_users)
    .add(post.clone(), "/api/v1/users", UserManage, api::create_user)
    .add(get.clone(), "/api/v1/tokens", TokenManage, api::list_tokens)
    .add(
        post.clone(),
        "/api/v1/tokens",
        TokenManage,
        api::create_token,
    )
    .add(
        delete,
        "/api/v1/tokens/{id}",
        TokenManage,
        api::revoke_token,
    )
}

/// The route table, for tests and documentation.
pub fn route_table() -> Vec<RouteSpec> {
    table().specs
}

/// The whole application, ready to serve.
pub fn build_router(state: AppState) -> Router {
    table()
        .router
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .with_state(state)
}
