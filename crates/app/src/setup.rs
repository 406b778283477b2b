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
    Ok(outcome.created)
}
