//! The highneeds web server: the officers' workspace, the public transparency view and the JSON API, one LA
//! per server. Server-rendered HTML that reads without JavaScript (charts are inline SVG with their numbers
//! in a table beside them); every asset is in this crate (`assets/`), nothing comes from a CDN.
//!
//! - `auth`: roles, password hashes, tokens, CSRF, sign-in throttling; `caller`: who is asking (session
//!   cookie or bearer token) and what their role allows.
//! - `routes`: every route with the least role it needs — the table the router, the OpenAPI document and the
//!   role-matrix test are built from.
//! - `figures`: the LA's figures (caseload, forecast, ledger, backtest), computed off the async workers
//!   (`spawn_blocking`) and cached until the next import.
//! - `pages/`: the HTML pages by area; `api`: `/api/v1`; `views`: layout, tables, charts.
//! - `accounts`: what `highneeds user …` and `highneeds token create` do.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod caller;
pub mod figures;
pub mod pages;
pub mod routes;
pub mod simulation;
pub mod tables;
pub mod views;
pub mod workspace;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use highneeds_store::Store;

pub use routes::router;

/// What every request handler shares.
pub struct AppState {
    pub store: Store,
    /// The LA this server shows.
    pub la_code: String,
    pub la_name: String,
    /// Key of the sign-in form's CSRF tokens (random per start: a form older than the server is refused).
    pub server_key: Vec<u8>,
    pub throttle: auth::SignInThrottle,
    pub figures: figures::Cache,
    pub scenario: figures::ScenarioCache,
    pub published: figures::PublishedCache,
    /// The scenario workspace's data, fitted models and runs.
    pub workspace: workspace::Workspace,
    /// Monte-Carlo runs going on or failed (finished runs are in the database).
    pub simulations: simulation::Jobs,
    /// Counts under this are withheld on the public view.
    pub public_threshold: u64,
    /// Whether cookies carry `Secure` (always, unless the tests' plain-HTTP client asks otherwise).
    pub secure_cookies: bool,
}

pub type Shared = Arc<AppState>;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub db: PathBuf,
    pub la: Option<String>,
    pub bind: SocketAddr,
    pub public_threshold: u64,
}

/// The LA the server shows: the one asked for, or the database's only LA.
async fn choose_la(store: &Store, asked: Option<&str>, db: &Path) -> Result<(String, String)> {
    let las = store.las().await?;
    match asked {
        Some(code) => match las.iter().find(|l| l.code == code) {
            Some(l) => Ok((l.code.clone(), l.name.clone())),
            None => bail!("LA {code} is not in {}", db.display()),
        },
        None => {
            let code = highneeds_usecases::only_la(store, db).await?;
            let name = las
                .iter()
                .find(|l| l.code == code)
                .map_or_else(|| code.clone(), |l| l.name.clone());
            Ok((code, name))
        }
    }
}

/// Open the database and make the shared state.
pub async fn state(db: &Path, la: Option<&str>, public_threshold: u64) -> Result<Shared> {
    if !db.exists() {
        bail!(
            "database {} does not exist: run `highneeds demo` or import data first",
            db.display()
        );
    }
    let store = Store::open(db).await?;
    let (la_code, la_name) = choose_la(&store, la, db).await?;
    let mut server_key = vec![0u8; 32];
    getrandom::fill(&mut server_key).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    Ok(Arc::new(AppState {
        store,
        la_code,
        la_name,
        server_key,
        throttle: auth::SignInThrottle::default(),
        figures: figures::Cache::default(),
        scenario: figures::ScenarioCache::default(),
        published: figures::PublishedCache::default(),
        workspace: workspace::Workspace::default(),
        simulations: simulation::Jobs::default(),
        public_threshold,
        secure_cookies: true,
    }))
}

/// Serve until Ctrl-C. `ready` is called with the bound address once the server accepts connections.
pub async fn serve(options: &ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<()> {
    let state = state(&options.db, options.la.as_deref(), options.public_threshold).await?;
    serve_state(state, options.bind, false, ready).await
}

/// Serve `state` on `bind` (or, if `any_port_if_busy` and that port is taken, on a free port of the same
/// address) until Ctrl-C.
pub async fn serve_state(
    state: Shared,
    bind: SocketAddr,
    any_port_if_busy: bool,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(l) => l,
        Err(e) if any_port_if_busy && e.kind() == std::io::ErrorKind::AddrInUse => {
            tokio::net::TcpListener::bind(SocketAddr::new(bind.ip(), 0))
                .await
                .with_context(|| format!("could not listen on {}", bind.ip()))?
        }
        Err(e) => return Err(e).with_context(|| format!("could not listen on {bind}")),
    };
    let addr = listener.local_addr()?;
    // Warm the figures so the first visitor does not wait for the forecast.
    let warm = state.clone();
    tokio::spawn(async move {
        if let Err(e) = figures::get(&warm).await {
            tracing::error!("could not compute the figures: {e:#}");
        }
        if let Err(e) = figures::target_check(&warm).await {
            tracing::error!("could not run the chosen scenario: {e:#}");
        }
    });
    ready(addr);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the web server stopped")
}

/// A multi-threaded runtime for the server (forecasts run on its blocking pool, requests on its workers).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the web server's runtime")
}
