//! The role matrix over every route, CSRF, sign-in, tokens, the audit log, and what viewers and the public
//! can never see.

mod common;

use axum::http::{header, StatusCode};
use common::{get, post, spawn_app, text, LA};
use highneeds_web::auth::Role;
use highneeds_web::routes::{routes, Access};

/// Who calls: nobody, or an account of each role.
const CALLERS: [Option<Role>; 5] = [
    None,
    Some(Role::Viewer),
    Some(Role::Analyst),
    Some(Role::Officer),
    Some(Role::Admin),
];

/// Every route × every caller: refused callers get exactly 303 to /login (pages) or 401 (API) when anonymous
/// and 403 when their role is too low; allowed callers are never refused.
#[tokio::test]
async fn role_matrix_covers_every_route() {
    let app = spawn_app().await;
    let mut checked = 0;
    for route in &routes() {
        for caller in CALLERS {
            let session = match caller {
                Some(role) => Some(app.session(role).await),
                None => None,
            };
            let request = match route.method {
                "GET" => get(route.path, session.as_ref()),
                _ => post(route.path, session.as_ref(), "", true),
            };
            let response = app.send(request).await;
            let status = response.status();
            let allowed = match (route.access, caller) {
                (Access::Public, _) => true,
                (Access::Least(least), Some(role)) => role >= least,
                (Access::Least(_), None) => false,
            };
            let who = caller.map_or("anonymous", Role::code);
            if allowed {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
                        || route.path == "/login",
                    "{who} was refused {} {} ({status})",
                    route.method,
                    route.path
                );
                if route.method == "GET" {
                    assert_eq!(status, StatusCode::OK, "{who} GET {}", route.path);
                }
            } else if caller.is_none() && route.api {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "anonymous {} {}",
                    route.method,
                    route.path
                );
            } else if caller.is_none() {
                assert_eq!(
                    status,
                    StatusCode::SEE_OTHER,
                    "anonymous {} {}",
                    route.method,
                    route.path
                );
                assert_eq!(response.headers()[header::LOCATION], "/login");
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{who} {} {}",
                    route.method,
                    route.path
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, routes().len() * CALLERS.len());
}

/// Bearer tokens get the same matrix on the API: a viewer's token reads aggregates, not records or the audit log.
#[tokio::test]
async fn api_tokens_carry_their_users_role_and_every_use_is_audited() {
    let app = spawn_app().await;
    let viewer = app.session(Role::Viewer).await;
    let (_, token) = highneeds_web::accounts::create_token(
        &app.state.store,
        LA,
        "test",
        &viewer.user.username,
        "pbi",
    )
    .await
    .unwrap();
    let call = |path: &str| {
        axum::http::Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(
        app.send(call("/api/v1/forecast")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.send(call("/api/v1/records")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(call("/api/v1/audit")).await.status(),
        StatusCode::FORBIDDEN
    );
    let uses = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(_, a, _)| a == "api token used")
        .count();
    assert_eq!(uses, 3);
    // A wrong token is refused like no token.
    let bad = axum::http::Request::get("/api/v1/forecast")
        .header(header::AUTHORIZATION, "Bearer hn_0000")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.send(bad).await.status(), StatusCode::UNAUTHORIZED);
    // Disabling the account stops its token.
    highneeds_web::accounts::set_disabled(
        &app.state.store,
        LA,
        "test",
        &viewer.user.username,
        true,
    )
    .await
    .unwrap();
    assert_eq!(
        app.send(call("/api/v1/forecast")).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A state-changing request from a signed-in browser needs the session's CSRF token.
#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let admin = app.session(Role::Admin).await;
    for route in routes()
        .iter()
        .filter(|r| r.method == "POST" && r.access != Access::Public)
    {
        let none = app
            .send(post(
                route.path,
                Some(&admin),
                "username=x&action=add",
                false,
            ))
            .await;
        assert_eq!(
            none.status(),
            StatusCode::FORBIDDEN,
            "{} without a token",
            route.path
        );
        let wrong = app
            .send(post(
                route.path,
                Some(&admin),
                &format!("csrf={}", "0".repeat(64)),
                false,
            ))
            .await;
        assert_eq!(
            wrong.status(),
            StatusCode::FORBIDDEN,
            "{} with a wrong token",
            route.path
        );
    }
    assert!(
        app.state
            .store
            .user_with_hash(LA, "x")
            .await
            .unwrap()
            .is_none(),
        "a refused POST changed something"
    );
}

fn set_cookie(response: &axum::http::Response<axum::body::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// Sign-in: the form's token is bound to its cookie; the session cookie is HttpOnly, Secure, SameSite=Strict
/// with an expiry; failures are audited and throttled.
#[tokio::test]
async fn sign_in_flow() {
    let app = spawn_app().await;
    let (_, password) = highneeds_web::accounts::add_user(
        &app.state.store,
        LA,
        "test",
        "carol",
        Role::Officer,
        None,
    )
    .await
    .unwrap();
    let form = app.send(get("/login", None)).await;
    let login_cookie = set_cookie(&form, "hn_login").unwrap();
    let login_cookie = login_cookie.split(';').next().unwrap().to_string();
    let html = text(form).await;
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap()[..64].to_string();
    let sign_in = |user: &str, pw: &str, csrf: &str| {
        let body = format!("username={user}&password={}&csrf={csrf}", pw);
        axum::http::Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &login_cookie)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    // Without the cookie-bound token: refused before the password is looked at.
    assert_eq!(
        app.send(sign_in("carol", &password, &"0".repeat(64)))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Wrong password: 401, audited.
    assert_eq!(
        app.send(sign_in("carol", "wrong password", &csrf))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Right password: a session cookie with every protection, then the overview.
    let ok = app.send(sign_in("carol", &password, &csrf)).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&ok, "hn_session").unwrap();
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Max-Age=28800",
        "Path=/",
    ] {
        assert!(
            session.contains(attr),
            "session cookie {session:?} lacks {attr}"
        );
    }
    let cookie = session.split(';').next().unwrap().to_string();
    let overview = app
        .send(
            axum::http::Request::get("/")
                .header(header::COOKIE, &cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(overview.status(), StatusCode::OK);
    // Five more failures lock the name out, even with the right password.
    for _ in 0..5 {
        app.send(sign_in("carol", "wrong again", &csrf)).await;
    }
    assert_eq!(
        app.send(sign_in("carol", &password, &csrf)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .map(|(_, a, _)| a)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "sign-in failed").count(), 6);
    assert_eq!(actions.iter().filter(|a| *a == "sign in").count(), 1);
    assert_eq!(actions.last().map(String::as_str), Some("sign-in refused"));
}

/// No page or API answer a viewer or the public can get carries a child's id.
#[tokio::test]
async fn viewers_and_the_public_never_see_a_person_level_row() {
    let app = spawn_app().await;
    let viewer = app.session(Role::Viewer).await;
    let analyst = app.session(Role::Analyst).await;
    // The analyst's records page does show ids: the check below can fail.
    let records = text(app.send(get("/caseload/records", Some(&analyst))).await).await;
    assert!(
        app.child_ids.iter().any(|id| records.contains(id.as_str())),
        "records page shows no child id"
    );
    for route in routes().iter().filter(|r| r.method == "GET") {
        for (who, session) in [("public", None), ("viewer", Some(&viewer))] {
            let body = text(app.send(get(route.path, session)).await).await;
            if let Some(id) = app.child_ids.iter().find(|id| body.contains(id.as_str())) {
                panic!("{who} GET {} shows child id {id}", route.path);
            }
        }
    }
}

/// The public figures withhold every count from 1 to 4, and each withheld cell has a withheld partner.
#[tokio::test]
async fn public_view_suppresses_small_numbers() {
    let app = spawn_app().await;
    let json: serde_json::Value =
        serde_json::from_str(&text(app.send(get("/api/v1/public/caseload", None)).await).await)
            .unwrap();
    let mut withheld = 0;
    for key in ["by_setting", "by_need", "by_age_group"] {
        let cells = json[key]["cells"].as_array().unwrap();
        let hidden = cells.iter().filter(|c| c["plans"].is_null()).count();
        for c in cells {
            if let Some(n) = c["plans"].as_u64() {
                assert!(n == 0 || n >= 5, "{key}: {c} shown");
            }
        }
        assert!(
            hidden == 0 || hidden >= 2,
            "{key}: a single withheld cell can be worked out from the total"
        );
        withheld += hidden;
    }
    // A 300-plan LA has small categories: the rule is exercised, not vacuous.
    assert!(withheld > 0, "nothing was withheld: {json}");
    let page = text(app.send(get("/public", None)).await).await;
    assert!(page.contains("[c]"));
}

/// Every state change is in the audit log with who did it.
#[tokio::test]
async fn every_state_change_is_audited() {
    let app = spawn_app().await;
    let admin = app.session(Role::Admin).await;
    let who = admin.user.username.clone();
    let steps: Vec<(axum::http::Request<axum::body::Body>, &str)> = vec![
        (
            post(
                "/admin/users",
                Some(&admin),
                "username=dave&action=add&role=viewer",
                true,
            ),
            "user added",
        ),
        (
            post(
                "/admin/users",
                Some(&admin),
                "username=dave&action=set-role&role=analyst",
                true,
            ),
            "role changed",
        ),
        (
            post(
                "/admin/users",
                Some(&admin),
                "username=dave&action=disable",
                true,
            ),
            "user disabled",
        ),
        (
            post(
                "/admin/users",
                Some(&admin),
                "username=dave&action=enable",
                true,
            ),
            "user enabled",
        ),
        (get("/export/forecast.csv", Some(&admin)), "export"),
        (get("/export/records.csv", Some(&admin)), "export"),
        (post("/logout", Some(&admin), "", true), "sign out"),
    ];
    for (request, action) in steps {
        let before = app.audit_actions().await.len();
        let status = app.send(request).await.status();
        assert!(
            status.is_success() || status.is_redirection(),
            "{action}: {status}"
        );
        let log = app.audit_actions().await;
        assert_eq!(log.len(), before + 1, "{action} wrote no audit row");
        let (actor, got, _) = log.last().unwrap();
        assert_eq!((actor.as_str(), got.as_str()), (who.as_str(), action));
    }
    // Token revocation and an upload import, by the admin's next session.
    let admin = app.session(Role::Admin).await;
    let (id, _) = highneeds_web::accounts::create_token(&app.state.store, LA, "test", "dave", "x")
        .await
        .unwrap();
    let r = app
        .send(post(
            "/admin/tokens/revoke",
            Some(&admin),
            &format!("token_id={id}"),
            true,
        ))
        .await;
    assert!(r.status().is_redirection());
    assert_eq!(
        app.audit_actions().await.last().unwrap().1,
        "api token revoked"
    );
    let budget = "financial_year,kind,line,amount\n2024-25,allocation,HNB,1000000\n2024-25,expenditure,special,900000\n";
    let body = format!(
        "--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nbudget\r\n--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hnb-budget.csv\"\r\nContent-Type: text/csv\r\n\r\n{budget}\r\n--X--\r\n"
    );
    let upload = axum::http::Request::post(format!("/data/upload?csrf={}", admin.csrf))
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=X")
        .header(header::COOKIE, &admin.cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    let r = app.send(upload).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", text(r).await);
    let (_, action, detail) = app.audit_actions().await.last().unwrap().clone();
    assert_eq!(action, "import");
    assert!(detail.contains("hnb-budget.csv"), "{detail}");
}

/// Every response carries the Content-Security-Policy and no-sniff headers.
#[tokio::test]
async fn security_headers_on_every_response() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/login",
        "/public",
        "/",
        "/no-such-page",
        "/api/v1/forecast",
    ] {
        let r = app.send(get(path, None)).await;
        assert_eq!(
            r.headers()[header::CONTENT_SECURITY_POLICY],
            highneeds_web::routes::CSP,
            "{path}"
        );
        assert_eq!(
            r.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{path}"
        );
    }
}
