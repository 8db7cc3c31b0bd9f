//! What the account commands do (`highneeds user add|list|set-role|disable`, `highneeds token create`), for
//! the command line and the admin page alike. Every change is written to the audit log.

use anyhow::{bail, Result};
use highneeds_store::{Store, User};

use crate::auth::{hash_password, new_password, random_hex, token_hash, Role};

/// A username: 1-64 letters, digits, `.`, `-`, `_` or `@`.
pub fn check_username(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
    {
        bail!("username {name:?}: use 1-64 letters, digits, '.', '-', '_' or '@'");
    }
    Ok(())
}

/// A role by name, or an error listing them.
pub fn role(text: &str) -> Result<Role> {
    Role::parse(text)
        .ok_or_else(|| anyhow::anyhow!("role {text:?}: expected admin, officer, analyst or viewer"))
}

/// Add an account. Without a password one is made; the password is returned (shown once, never stored).
pub async fn add_user(
    store: &Store,
    la: &str,
    actor: &str,
    username: &str,
    role: Role,
    password: Option<String>,
) -> Result<(User, String)> {
    check_username(username)?;
    if store.user_with_hash(la, username).await?.is_some() {
        bail!("there is already an account {username:?} for LA {la}");
    }
    let password = match password {
        Some(p) if p.chars().count() < 12 => bail!("a password needs at least 12 characters"),
        Some(p) => p,
        None => new_password()?,
    };
    let p = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&p)).await??;
    let user = store.add_user(la, username, &hash, role.code()).await?;
    store
        .audit(la, actor, "user added", &format!("{username} as {role}"))
        .await?;
    Ok((user, password))
}

/// Change an account's role.
pub async fn set_role(
    store: &Store,
    la: &str,
    actor: &str,
    username: &str,
    role: Role,
) -> Result<()> {
    if !store.set_role(la, username, role.code()).await? {
        bail!("no account {username:?} for LA {la}");
    }
    store
        .audit(la, actor, "role changed", &format!("{username} to {role}"))
        .await?;
    Ok(())
}

/// Disable (or enable) an account; disabling ends its sessions.
pub async fn set_disabled(
    store: &Store,
    la: &str,
    actor: &str,
    username: &str,
    disabled: bool,
) -> Result<()> {
    if !store.set_disabled(la, username, disabled).await? {
        bail!("no account {username:?} for LA {la}");
    }
    let action = if disabled {
        "user disabled"
    } else {
        "user enabled"
    };
    store.audit(la, actor, action, username).await?;
    Ok(())
}

/// Make an API token for an account: returned once, stored hashed.
pub async fn create_token(
    store: &Store,
    la: &str,
    actor: &str,
    username: &str,
    label: &str,
) -> Result<(i64, String)> {
    let Some((user, _)) = store.user_with_hash(la, username).await? else {
        bail!("no account {username:?} for LA {la}");
    };
    if user.disabled {
        bail!("account {username:?} is disabled");
    }
    let token = format!("hn_{}", random_hex(32)?);
    let id = store
        .create_api_token(&user, &token_hash(&token), label)
        .await?;
    store
        .audit(
            la,
            actor,
            "api token created",
            &format!("token {id} for {username} ({label})"),
        )
        .await?;
    Ok((id, token))
}

/// Revoke an API token.
pub async fn revoke_token(store: &Store, la: &str, actor: &str, token_id: i64) -> Result<()> {
    if !store.revoke_api_token(la, token_id).await? {
        bail!("no unrevoked API token {token_id} for LA {la}");
    }
    store
        .audit(la, actor, "api token revoked", &format!("token {token_id}"))
        .await?;
    Ok(())
}

/// A new password for an account (made when not given), replacing the old one and ending its sessions.
pub async fn reset_password(
    store: &Store,
    la: &str,
    actor: &str,
    username: &str,
) -> Result<String> {
    let password = new_password()?;
    let p = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&p)).await??;
    if !store.set_password_hash(la, username, &hash).await? {
        bail!("no account {username:?} for LA {la}");
    }
    store.audit(la, actor, "password reset", username).await?;
    Ok(password)
}

/// The demo's administrator: `admin` with a new password each time (made if missing), shown once.
pub async fn demo_admin(store: &Store, la: &str) -> Result<String> {
    let actor = "highneeds demo";
    if store.user_with_hash(la, "admin").await?.is_some() {
        set_disabled(store, la, actor, "admin", false).await?;
        set_role(store, la, actor, "admin", Role::Admin).await?;
        reset_password(store, la, actor, "admin").await
    } else {
        Ok(add_user(store, la, actor, "admin", Role::Admin, None)
            .await?
            .1)
    }
}
