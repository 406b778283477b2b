//! Mamori's web surface: server-rendered pages, the JSON API under
//! `/api/v1` with its OpenAPI document, sign-in and authorization.
//!
//! Invariant: handlers are thin. They authenticate (done once, in
//! `auth`), parse input, call `mamori_app`/`mamori_store`, and render. Every
//! route is declared in `routes::table` together with the permission it
//! needs; a route cannot be added any other way, which makes
//! authorization default-deny and checkable by enumerating the table.

pub mod api;
pub mod auth;
pub mod charts;
pub mod error;
pub mod i18n;
pub mod imports;
pub mod pages;
pub mod routes;
pub mod state;

pub use routes::{build_router, route_table, RouteSpec};
pub use state::{AppState, WebConfig};
