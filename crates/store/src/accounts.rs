//! The web server's accounts, sessions, API tokens and the append-only audit log (migration 0006).
//!
//! The store keeps only what it is given: password hashes (argon2id PHC strings made by the web crate) and
//! SHA-256 hashes of session and API tokens, never a secret itself. Roles are text checked by the database
//! (`admin`, `officer`, `analyst`, `viewer`); what a role may do is the web crate's business.

use chrono::{SecondsFormat, Utc};
use sqlx::Row;

use crate::{Store, StoreError};

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub la_code: String,
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
}

/// A signed-in browser's session, as stored.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
}

/// An API token's row (never the token itself).
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub token_id: i64,
    pub username: String,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// The time now as the store writes it.
pub fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The account columns every account query selects first (a macro so queries stay literal strings).
macro_rules! user_columns {
    () => {
        "u.la_code, u.user_id, u.username, u.role, u.disabled, u.created_at"
    };
}

fn user_of(row: &sqlx::sqlite::SqliteRow) -> Result<User, StoreError> {
    let disabled: i64 = row.try_get(4)?;
    Ok(User {
        la_code: row.try_get(0)?,
        user_id: row.try_get(1)?,
        username: row.try_get(2)?,
        role: row.try_get(3)?,
        disabled: disabled != 0,
        created_at: row.try_get(5)?,
    })
}

impl Store {
    /// Add an account (the username must be new for the LA).
    pub async fn add_user(
        &self,
        la_code: &str,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query("SELECT COALESCE(MAX(user_id), 0) + 1 FROM users")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let created_at = now_text();
        sqlx::query(
            "INSERT INTO users (la_code, user_id, username, password_hash, role, disabled, created_at)
             VALUES (?, ?, ?, ?, ?, 0, ?)",
        )
        .bind(la_code)
        .bind(id)
        .bind(username)
        .bind(password_hash)
        .bind(role)
        .bind(&created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(User {
            la_code: la_code.to_string(),
            user_id: id,
            username: username.to_string(),
            role: role.to_string(),
            disabled: false,
            created_at,
        })
    }

    /// The LA's accounts, by username.
    pub async fn users(&self, la_code: &str) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.la_code = ? ORDER BY u.username"
        ))
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_of).collect()
    }

    /// An account and its password hash, by username.
    pub async fn user_with_hash(
        &self,
        la_code: &str,
        username: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", u.password_hash FROM users u WHERE u.la_code = ? AND u.username = ?"
        ))
        .bind(la_code)
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some((user_of(&row)?, row.try_get(6)?))),
            None => Ok(None),
        }
    }

    /// Change an account's role; false if there is no such account.
    pub async fn set_role(
        &self,
        la_code: &str,
        username: &str,
        role: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET role = ? WHERE la_code = ? AND username = ?")
            .bind(role)
            .bind(la_code)
            .bind(username)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replace an account's password hash and end its sessions; false if there is no such account.
    pub async fn set_password_hash(
        &self,
        la_code: &str,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("UPDATE users SET password_hash = ? WHERE la_code = ? AND username = ?")
                .bind(password_hash)
                .bind(la_code)
                .bind(username)
                .execute(&mut *tx)
                .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE user_id IN
             (SELECT user_id FROM users WHERE la_code = ? AND username = ?)",
        )
        .bind(la_code)
        .bind(username)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Disable (or enable) an account; disabling also ends its sessions. False if there is no such account.
    pub async fn set_disabled(
        &self,
        la_code: &str,
        username: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE users SET disabled = ? WHERE la_code = ? AND username = ?")
            .bind(i64::from(disabled))
            .bind(la_code)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query(
                "DELETE FROM sessions WHERE user_id IN
                 (SELECT user_id FROM users WHERE la_code = ? AND username = ?)",
            )
            .bind(la_code)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Start a session.
    pub async fn create_session(
        &self,
        user: &User,
        token_hash: &str,
        csrf_token: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (la_code, token_hash, user_id, csrf_token, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&user.la_code)
        .bind(token_hash)
        .bind(user.user_id)
        .bind(csrf_token)
        .bind(now_text())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session of a token hash, with its account (whether expired or disabled is the caller's check).
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", s.csrf_token, s.expires_at
             FROM sessions s JOIN users u ON u.user_id = s.user_id WHERE s.token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(Session {
                user: user_of(&row)?,
                csrf_token: row.try_get(6)?,
                expires_at: row.try_get(7)?,
            })),
            None => Ok(None),
        }
    }

    /// End a session (sign-out, or found expired).
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Store a new API token's hash for an account; returns its id.
    pub async fn create_api_token(
        &self,
        user: &User,
        token_hash: &str,
        label: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query("SELECT COALESCE(MAX(token_id), 0) + 1 FROM api_tokens")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        sqlx::query(
            "INSERT INTO api_tokens (la_code, token_id, token_hash, user_id, label, created_at, revoked_at)
             VALUES (?, ?, ?, ?, ?, ?, NULL)",
        )
        .bind(&user.la_code)
        .bind(id)
        .bind(token_hash)
        .bind(user.user_id)
        .bind(label)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The account of an unrevoked API token, and the token's id.
    pub async fn api_token_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(User, i64)>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", t.token_id
             FROM api_tokens t JOIN users u ON u.user_id = t.user_id
             WHERE t.token_hash = ? AND t.revoked_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some((user_of(&row)?, row.try_get(6)?))),
            None => Ok(None),
        }
    }

    /// Revoke a token; false if there is no such unrevoked token for the LA.
    pub async fn revoke_api_token(&self, la_code: &str, token_id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? WHERE la_code = ? AND token_id = ? AND revoked_at IS NULL",
        )
        .bind(now_text())
        .bind(la_code)
        .bind(token_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The LA's API tokens, newest first.
    pub async fn api_tokens(&self, la_code: &str) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.token_id, u.username, t.label, t.created_at, t.revoked_at
             FROM api_tokens t JOIN users u ON u.user_id = t.user_id
             WHERE t.la_code = ? ORDER BY t.token_id DESC",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiToken {
                    token_id: row.try_get(0)?,
                    username: row.try_get(1)?,
                    label: row.try_get(2)?,
                    created_at: row.try_get(3)?,
                    revoked_at: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Append a row to the audit log.
    pub async fn audit(
        &self,
        la_code: &str,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        // The id comes from MAX + 1 inside one statement; a racing writer hits the primary key and retries.
        for _ in 0..5 {
            let mut conn = self.pool.acquire().await?;
            match audit_in(&mut conn, la_code, actor, action, detail).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Rejected { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Rejected {
            detail: "the audit log was written by too many requests at once".into(),
        })
    }

    /// The LA's latest `limit` audit rows, newest first.
    pub async fn audit_log(
        &self,
        la_code: &str,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, detail FROM audit_log WHERE la_code = ?
             ORDER BY seq DESC LIMIT ?",
        )
        .bind(la_code)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    seq: row.try_get(0)?,
                    at: row.try_get(1)?,
                    actor: row.try_get(2)?,
                    action: row.try_get(3)?,
                    detail: row.try_get(4)?,
                })
            })
            .collect()
    }
}

/// Append a row to the audit log on this connection (inside the caller's transaction, so the row is written
/// together with the change it records, or not at all).
pub(crate) async fn audit_in(
    conn: &mut sqlx::SqliteConnection,
    la_code: &str,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (la_code, seq, at, actor, action, detail)
         SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM audit_log",
    )
    .bind(la_code)
    .bind(now_text())
    .bind(actor)
    .bind(action)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}
