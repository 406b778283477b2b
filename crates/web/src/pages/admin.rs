//! User administration.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_domain::Role;
use mamori_store::{NewUser, UserRecord};
use serde::Deserialize;

use super::vendor_form::{options, Opt};
use super::{error_page, render, Chrome};
use crate::auth::{CurrentUser, RequestLocale};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<(UserRecord, String, Vec<Opt>)>,
    pub role_opts: Vec<Opt>,
    pub message: Option<String>,
    pub error: Option<String>,
}

fn role_names() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

async fn users_page(
    state: &AppState,
    user: &CurrentUser,
    locale: Locale,
    message: Option<String>,
    error: Option<String>,
) -> Response {
    let users = match state.store.list_users(&state.org_id).await {
        Ok(u) => u,
        Err(e) => return error_page(state, Some(user), locale, e.into()).await,
    };
    let chrome = Chrome::new(state, Some(user), locale, "users").await;
    let tr = &chrome.tr;
    let names = role_names();
    let view = UsersPage {
        users: users
            .into_iter()
            .map(|u| {
                let label = tr.label("role", u.role.as_str());
                let opts = options(tr, "role", &names, u.role.as_str());
                (u, label, opts)
            })
            .collect(),
        role_opts: options(tr, "role", &names, "risk_manager"),
        message,
        error,
        chrome,
    };
    render(&view)
}

pub async fn users(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
) -> Response {
    users_page(&state, &user, locale, None, None).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Form(form): Form<NewUserForm>,
) -> Response {
    let role = match Role::parse(&form.role) {
        Ok(r) => r,
        Err(e) => return users_page(&state, &user, locale, None, Some(e.to_string())).await,
    };
    if let Err(reason) = mamori_domain::validate_email(&form.email) {
        return users_page(
            &state,
            &user,
            locale,
            None,
            Some(format!("e-mail {reason}")),
        )
        .await;
    }
    let password = form.password.clone();
    let hash =
        match tokio::task::spawn_blocking(move || mamori_app::password::hash_password(&password))
            .await
        {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => {
                return users_page(&state, &user, locale, None, Some(e.to_string())).await
            }
            Err(e) => {
                return error_page(
                    &state,
                    Some(&user),
                    locale,
                    WebError::Internal(e.to_string()),
                )
                .await
            }
        };
    let new_user = NewUser {
        email: form.email.clone(),
        display_name: if form.display_name.trim().is_empty() {
            form.email.clone()
        } else {
            form.display_name.trim().to_string()
        },
        role,
        password_hash: Some(hash),
        locale: None,
    };
    match state
        .store
        .create_user(&state.org_id, new_user, &user.actor())
        .await
    {
        Ok(u) => users_page(&state, &user, locale, Some(u.email), None).await,
        Err(e) => {
            users_page(
                &state,
                &user,
                locale,
                None,
                Some(WebError::from(e).public_message()),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct UpdateUserForm {
    pub role: String,
    pub active: Option<String>,
    pub password: Option<String>,
}

pub async fn update_user(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(form): Form<UpdateUserForm>,
) -> Response {
    let role = match Role::parse(&form.role) {
        Ok(r) => r,
        Err(e) => return users_page(&state, &user, locale, None, Some(e.to_string())).await,
    };
    let active = form.active.is_some();
    if id == user.user.id && (!active || role != Role::Administrator) {
        // Keeps at least the acting administrator able to administer.
        return users_page(
            &state,
            &user,
            locale,
            None,
            Some("you cannot demote or deactivate yourself".into()),
        )
        .await;
    }
    // Check the new password before changing anything, so a rejected
    // password does not leave a half-applied change behind.
    let new_hash = match form.password.filter(|p| !p.is_empty()) {
        None => None,
        Some(password) => match tokio::task::spawn_blocking(move || {
            mamori_app::password::hash_password(&password)
        })
        .await
        {
            Ok(Ok(h)) => Some(h),
            Ok(Err(e)) => {
                return users_page(&state, &user, locale, None, Some(e.to_string())).await
            }
            Err(e) => {
                return error_page(
                    &state,
                    Some(&user),
                    locale,
                    WebError::Internal(e.to_string()),
                )
                .await
            }
        },
    };
    if let Err(e) = state
        .store
        .update_user_access(&state.org_id, &id, role, active, &user.actor())
        .await
    {
        return users_page(
            &state,
            &user,
            locale,
            None,
            Some(WebError::from(e).public_message()),
        )
        .await;
    }
    if let Some(hash) = new_hash {
        if let Err(e) = state
            .store
            .set_password_hash(&state.org_id, &id, &hash, &user.actor())
            .await
        {
            return users_page(
                &state,
                &user,
                locale,
                None,
                Some(WebError::from(e).public_message()),
            )
            .await;
        }
    }
    Redirect::to("/admin/users").into_response()
}
