//! A server on a small synthetic LA for the tests, driven in process (`tower::ServiceExt::oneshot`), the way
//! zero2prod's `spawn_app` gives each test its own application and database.

#![allow(dead_code)]

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request, Response};
use axum::Router;
use highneeds_domain::CensusYear;
use highneeds_store::{LaRef, Store, User};
use highneeds_synth::{generate_la, SynthConfig};
use highneeds_usecases::import::{imported_files, read, store, ImportKind};
use highneeds_web::auth::{random_hex, token_hash, Role};
use highneeds_web::Shared;
use tower::ServiceExt;

pub const LA: &str = "E99999999";

pub struct TestApp {
    pub state: Shared,
    pub router: Router,
    pub child_ids: Vec<String>,
    _dir: tempfile::TempDir,
}

/// A session for an account of each role, made directly in the store.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub user: User,
}

/// Build a 300-plan synthetic LA (witan set, plans, budget) through the import use-cases, and a server on it.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("la");
    let config = SynthConfig {
        plans: 300,
        seed: 11,
        las: 1,
        censuses: 8,
        last_census: CensusYear::new(2024).unwrap(),
    };
    let la = generate_la(&config, 0);
    highneeds_usecases::synth::write_la(&la, &files).unwrap();
    let child_ids: Vec<String> = la
        .histories
        .iter()
        .map(|h| h.child.as_str().to_string())
        .collect();
    let db_path: PathBuf = dir.path().join("test.db");
    let db = Store::open(&db_path).await.unwrap();
    let la_ref = LaRef {
        code: LA.into(),
        name: "Testshire".into(),
    };
    for (kind, path) in [
        (ImportKind::Witan, files.clone()),
        (ImportKind::Plans, files.join("plans.csv")),
        (ImportKind::Budget, files.join("hnb-budget.csv")),
    ] {
        let parsed = read(kind, &[path], &Default::default()).unwrap();
        let f = imported_files(kind, &parsed.sources);
        store(&db, &la_ref, parsed.value.as_ref().unwrap(), &f, "test")
            .await
            .unwrap();
    }
    db.close().await;
    let state = highneeds_web::state(&db_path, None, 5).await.unwrap();
    let router = highneeds_web::router(state.clone());
    TestApp {
        state,
        router,
        child_ids,
        _dir: dir,
    }
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(request).await.unwrap()
    }

    /// An account of `role` (made once per name) with a fresh session.
    pub async fn session(&self, role: Role) -> Session {
        let name = format!("{}-user", role.code());
        let user = match self.state.store.user_with_hash(LA, &name).await.unwrap() {
            Some((u, _)) => u,
            None => self
                .state
                .store
                .add_user(LA, &name, "$argon2id$unused", role.code())
                .await
                .unwrap(),
        };
        let token = random_hex(32).unwrap();
        let csrf = random_hex(32).unwrap();
        self.state
            .store
            .create_session(&user, &token_hash(&token), &csrf, "2999-01-01T00:00:00Z")
            .await
            .unwrap();
        Session {
            cookie: format!("hn_session={token}"),
            csrf,
            user,
        }
    }

    /// The audit log's actions, oldest first.
    pub async fn audit_actions(&self) -> Vec<(String, String, String)> {
        let mut log = self.state.store.audit_log(LA, 10_000).await.unwrap();
        log.reverse();
        log.into_iter()
            .map(|a| (a.actor, a.action, a.detail))
            .collect()
    }
}

pub fn get(path: &str, session: Option<&Session>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(s) = session {
        r = r.header(header::COOKIE, &s.cookie);
    }
    r.body(Body::empty()).unwrap()
}

/// A form POST; `csrf` true adds the session's token as the form's `csrf` field.
pub fn post(path: &str, session: Option<&Session>, form: &str, csrf: bool) -> Request<Body> {
    let mut body = form.to_string();
    if let (Some(s), true) = (session, csrf) {
        if !body.is_empty() {
            body.push('&');
        }
        body.push_str(&format!("csrf={}", s.csrf));
    }
    let mut r =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(s) = session {
        r = r.header(header::COOKIE, &s.cookie);
    }
    r.body(Body::from(body)).unwrap()
}

pub async fn text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}
