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
