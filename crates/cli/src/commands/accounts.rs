//! `highneeds user …` and `highneeds token …`: the web dashboard's accounts and API tokens.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{bail, Result};
use highneeds_store::Store;
use highneeds_usecases::report::{text, Kind, Table};
use highneeds_web::accounts;

use crate::args::{AccountDb, TokenAction, TokenArgs, UserAction, UserArgs};
use crate::commands::runtime;

/// Who the audit log says made a change from the command line.
fn actor() -> String {
    format!("cli:{}", highneeds_usecases::import::user_name(None))
}

/// Open the database and run `f` with it and the LA's code.
fn with_store<T>(db: &AccountDb, f: impl AsyncFnOnce(&Store, &str) -> Result<T>) -> Result<T> {
    if !db.db.exists() {
        bail!(
            "database {} does not exist: run `highneeds demo` or import data first",
            db.db.display()
        );
    }
    runtime()?.block_on(async {
        let store = Store::open(&db.db).await?;
        let la = match &db.la {
            Some(la) => la.clone(),
            None => highneeds_usecases::only_la(&store, &db.db).await?,
        };
        let out = f(&store, &la).await;
        store.close().await;
        out
    })
}

pub fn user(args: UserArgs) -> Result<ExitCode> {
    match args.action {
        UserAction::Add {
            username,
            role,
            password_stdin,
            db,
        } => {
            let role = accounts::role(&role)?;
            let given = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\n', '\r']).to_string())
            } else {
                None
            };
            let made = given.is_none();
            let (user, password) = with_store(&db, async |store, la| {
                accounts::add_user(store, la, &actor(), &username, role, given).await
            })?;
            println!(
                "added {} ({}) for LA {}",
                user.username, user.role, user.la_code
            );
            if made {
                println!("password (shown once): {password}");
            }
        }
        UserAction::List { db } => {
            let users = with_store(&db, async |store, la| Ok(store.users(la).await?))?;
            let mut t = Table::new("Accounts", "Accounts of the dashboard")
                .column("username", Kind::Text)
                .column("role", Kind::Text)
                .column("status", Kind::Text)
                .column("created", Kind::Text);
            for u in users {
                t.push(vec![
                    u.username.into(),
                    u.role.to_string().into(),
                    if u.disabled { "disabled" } else { "active" }.into(),
                    u.created_at.to_string().into(),
                ]);
            }
            print!("{}", text::table(&t));
        }
        UserAction::SetRole { username, role, db } => {
            let role = accounts::role(&role)?;
            with_store(&db, async |store, la| {
                accounts::set_role(store, la, &actor(), &username, role).await
            })?;
            println!("{username} is now {role}");
        }
        UserAction::Disable { username, db } => {
            with_store(&db, async |store, la| {
                accounts::set_disabled(store, la, &actor(), &username, true).await
            })?;
            println!(
                "{username} is disabled: its sessions ended and its API tokens no longer work"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn token(args: TokenArgs) -> Result<ExitCode> {
    match args.action {
        TokenAction::Create { user, label, db } => {
            let (id, token) = with_store(&db, async |store, la| {
                accounts::create_token(store, la, &actor(), &user, &label).await
            })?;
            println!(
                "token {id} for {user} (shown once; use it as `Authorization: Bearer TOKEN`):"
            );
            println!("{token}");
        }
        TokenAction::Revoke { id, db } => {
            with_store(&db, async |store, la| {
                accounts::revoke_token(store, la, &actor(), id).await
            })?;
            println!("token {id} revoked");
        }
        TokenAction::List { db } => {
            let tokens = with_store(&db, async |store, la| Ok(store.api_tokens(la).await?))?;
            let mut table = Table::new("Tokens", "API tokens (never the tokens themselves)")
                .column("id", Kind::Decimal(0))
                .column("user", Kind::Text)
                .column("label", Kind::Text)
                .column("created", Kind::Text)
                .column("revoked", Kind::Text);
            for t in tokens {
                table.push(vec![
                    t.token_id.into(),
                    t.username.into(),
                    t.label.into(),
                    t.created_at.to_string().into(),
                    t.revoked_at.unwrap_or_else(|| "-".into()).into(),
                ]);
            }
            print!("{}", text::table(&table));
        }
    }
    Ok(ExitCode::SUCCESS)
}
