//! API keys for the systems that send data: admins manage every key, owners the keys whose
//! scopes lie inside their teams.

use crate::error::AppError;
use crate::views::keys::{IssuedKeyView, KeysView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<KeysView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.manages_keys(), "managing API keys")?;
    crate::service::accounts::keys_page(&db()?, &viewer).await
}

/// Creates a key limited to `scopes` (`team:<id>`, `workflow:<id>`, or `all` alone: every
/// workflow, admins only). The secret is returned once.
#[server(prefix = "/rpc", endpoint = "create_api_key")]
pub async fn create_api_key(
    name: String,
    scopes: Option<Vec<String>>,
) -> Result<IssuedKeyView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.manages_keys(), "managing API keys")?;
    let scopes = scopes.unwrap_or_default();
    let now = crate::db::now_ms();
    crate::service::accounts::create_key_for(&db()?, &viewer, &name, &scopes, now).await
}

/// Revokes a key at once.
#[server(prefix = "/rpc", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(key_id: i64) -> Result<(), AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.manages_keys(), "managing API keys")?;
    crate::service::accounts::revoke_key_for(&db()?, &viewer, key_id, crate::db::now_ms()).await
}
