//! The scenario form (issue #13, item 1), driven as a browser without JavaScript drives it: the page's fields read
//! from its HTML (inputs, ticked boxes, chosen options), changed, and posted back with the button pressed.

mod common;

use axum::http::{header, StatusCode};
use common::{get, post, spawn_app, text, Session, TestApp, LA};
use highneeds_domain::scenario::{LeverKind, Scenario};
use highneeds_domain::{FinancialYear, Pence};
use highneeds_usecases::scenario::{read_text, EXAMPLE};
use highneeds_web::auth::Role;
use scraper::{Html, Selector};

const NAME: &str = "Exampleshire DBV plan (Stockton-like)";

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What a browser sends for the page's scenario form: every named field's value (ticked boxes only; a select's
/// chosen option, else its first), the csrf field included, no button.
fn form_fields(page: &str) -> Vec<(String, String)> {
    let html = Html::parse_document(page);
    let form = Selector::parse("form.scenario-form").unwrap();
    let controls = Selector::parse("input[name], select[name], textarea[name]").unwrap();
    let option = Selector::parse("option").unwrap();
    let form = html
        .select(&form)
        .next()
        .expect("no scenario form on the page");
    let mut out = Vec::new();
    for el in form.select(&controls) {
        let e = el.value();
        let name = e.attr("name").unwrap_or_default().to_string();
        match e.name() {
            "select" => {
                let options: Vec<_> = el.select(&option).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.value().attr("selected").is_some())
                    .or(options.first());
                if let Some(o) = chosen {
                    out.push((
                        name,
                        o.value().attr("value").unwrap_or_default().to_string(),
                    ));
                }
            }
            "textarea" => out.push((name, el.text().collect())),
            _ => {
                let ty = e.attr("type").unwrap_or("text");
                if ty == "checkbox" && e.attr("checked").is_none() {
                    continue;
                }
                out.push((name, e.attr("value").unwrap_or_default().to_string()));
            }
        }
    }
    out
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(f) => f.1 = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
}

fn body(fields: &[(String, String)], action: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.append_pair("action", action);
    s.finish()
}

/// Press a button of the form: the response's status and page (or where it redirects).
async fn press(
    app: &TestApp,
    who: &Session,
    fields: &[(String, String)],
    action: &str,
) -> (StatusCode, String) {
    let r = app
        .send(post(
            "/scenarios/form",
            Some(who),
            &body(fields, action),
            false,
        ))
        .await;
    let status = r.status();
    let location = r
        .headers()
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap_or_default().to_string());
    (status, location.unwrap_or(text(r).await))
}

async fn stored(app: &TestApp, name: &str, version: usize) -> Scenario {
    let data = highneeds_usecases::scenario::load_from(&app.state.store, LA)
        .await
        .unwrap();
    let versions = app.state.store.scenario_versions(LA, name).await.unwrap();
    let (issues, s) = read_text("stored.toml", &versions[version - 1].body, &data);
    s.unwrap_or_else(|| panic!("{issues:?}"))
}

/// The scenario with each cohort's needs and settings in code order: the form lists them in the LA's order, and a
/// cohort is a set (its order means nothing).
fn in_code_order(mut s: Scenario) -> Scenario {
    for lever in s.initiatives.iter_mut().flat_map(|i| i.levers.iter_mut()) {
        match &mut lever.kind {
            LeverKind::JoinerRate { cohort, .. }
            | LeverKind::LeaverRate { cohort, .. }
            | LeverKind::UnitCost { cohort, .. }
            | LeverKind::Redirect { cohort, .. } => {
                cohort.needs.sort_by_key(ToString::to_string);
                cohort.settings.sort_by_key(ToString::to_string);
            }
            _ => {}
        }
    }
    s
}

/// The form's fields for the example, opened to edit (`name`) or to copy (`copy`).
async fn opened(app: &TestApp, who: &Session, how: &str) -> Vec<(String, String)> {
    let url = format!("/scenarios/form?{how}={}", enc(NAME));
    form_fields(&text(app.send(get(&url, Some(who))).await).await)
}

async fn with_example(app: &TestApp, officer: &Session) {
    let form = format!("toml={}", enc(EXAMPLE));
    let r = app
        .send(post("/scenarios/save", Some(officer), &form, true))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// The Stockton-like example (ten initiatives, every kind of lever but two) shown in the form and saved unchanged
/// is the same scenario: no field is lost or changed by the round trip through HTML.
#[tokio::test]
async fn the_example_saved_from_the_form_unchanged_is_the_same_scenario() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    with_example(&app, &officer).await;
    let fields = opened(&app, &officer, "name").await;
    let (status, location) = press(&app, &officer, &fields, "save").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert_eq!(location, format!("/scenarios?name={}", enc(NAME)));
    let (before, after) = (stored(&app, NAME, 1).await, stored(&app, NAME, 2).await);
    assert_eq!(in_code_order(after), in_code_order(before.clone()));
    // A copy starts as "Copy of …" and is stored under that name.
    let fields = opened(&app, &officer, "copy").await;
    assert!(fields.contains(&("name".into(), format!("Copy of {NAME}"))));
    let (status, _) = press(&app, &officer, &fields, "save").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let copy = stored(&app, &format!("Copy of {NAME}"), 1).await;
    assert_eq!(
        in_code_order(copy).initiatives,
        in_code_order(before).initiatives
    );
}

/// Faults are named by their field, next to it (tied by aria-describedby) and in a summary linking to it; nothing
/// is stored while any is left.
#[tokio::test]
async fn faults_are_named_by_their_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    with_example(&app, &officer).await;
    let mut fields = opened(&app, &officer, "name").await;
    // Initiative h (the 8th) redirects a share of 0.25: make it 1.25; the uplift not a number; the target years
    // after the horizon.
    assert!(
        fields.contains(&("i.7.l.0.share".into(), "0.25".into())),
        "{fields:?}"
    );
    set(&mut fields, "i.7.l.0.share", "1.25");
    set(&mut fields, "a.uplift", "three percent");
    let (status, page) = press(&app, &officer, &fields, "save").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = Html::parse_document(&page);
    let summary: Vec<String> = html
        .select(&Selector::parse("#error-summary li a").unwrap())
        .map(|a| {
            format!(
                "{} -> {}",
                a.text().collect::<String>(),
                a.value().attr("href").unwrap_or("")
            )
        })
        .collect();
    assert_eq!(summary.len(), 2, "{summary:?}");
    assert_eq!(
        summary[0],
        "Assumptions: uplift: \"three percent\" is not a number -> #f-a-uplift"
    );
    assert_eq!(
        summary[1],
        "Initiative 8 (h. Post-16 pathways), lever 1 (Redirection to another setting): share: 1.25 is not a share between 0 and 1 (0.5 = 50 %) -> #f-i-7-l-0-share"
    );
    let share = html
        .select(&Selector::parse("#f-i-7-l-0-share").unwrap())
        .next()
        .unwrap();
    assert_eq!(share.value().attr("aria-invalid"), Some("true"));
    assert_eq!(
        share.value().attr("value"),
        Some("1.25"),
        "the value typed is kept"
    );
    let described = share.value().attr("aria-describedby").unwrap();
    let error = html
        .select(
            &Selector::parse(&format!("#{}", described.split(' ').next_back().unwrap())).unwrap(),
        )
        .next()
        .unwrap()
        .text()
        .collect::<String>();
    assert!(error.contains("is not a share between 0 and 1"), "{error}");

    // Fixed, but a target after the projection: the target field is named with the years it may be.
    let mut fields = form_fields(&page);
    set(&mut fields, "i.7.l.0.share", "0.3");
    set(&mut fields, "a.uplift", "0.03");
    set(&mut fields, "a.target_financial_year", "2060-61");
    let (status, page) = press(&app, &officer, &fields, "save").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = Html::parse_document(&page);
    let target = html
        .select(&Selector::parse("#f-a-target_financial_year-error").unwrap())
        .next()
        .map(|e| e.text().collect::<String>())
        .unwrap_or_default();
    assert!(
        target.contains("\"2060-61\" is outside the projected years"),
        "{target}"
    );
    assert_eq!(
        app.state
            .store
            .scenario_versions(LA, NAME)
            .await
            .unwrap()
            .len(),
        1
    );

    // Fixed: stored as version 2 with the new share.
    let mut fields = form_fields(&page);
    set(&mut fields, "a.target_financial_year", "2027-28");
    let (status, _) = press(&app, &officer, &fields, "save").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let v2 = stored(&app, NAME, 2).await;
    match &v2.initiatives[7].levers[0].kind {
        LeverKind::Redirect { share, .. } => assert_eq!(share.get(), 0.3),
        other => panic!("{other:?}"),
    }
}

fn fy(s: &str) -> FinancialYear {
    s.parse().unwrap()
}

/// A new scenario built with the buttons alone (no JavaScript): an initiative with one lever of every kind, each
/// filled in with the fields its kind takes, saved and read back.
#[tokio::test]
async fn a_lever_of_every_kind_is_added_filled_in_and_saved() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    let page = text(app.send(get("/scenarios/form", Some(&officer))).await).await;
    let mut fields = form_fields(&page);
    // Start clean: remove the template's example initiative, then add one.
    let (_, page) = press(&app, &officer, &fields, "remove-initiative.0").await;
    fields = form_fields(&page);
    assert!(
        !fields.iter().any(|(k, _)| k.starts_with("i.")),
        "{fields:?}"
    );
    let (_, page) = press(&app, &officer, &fields, "add-initiative").await;
    fields = form_fields(&page);
    for kind in highneeds_ingest::scenario::LEVER_KINDS {
        set(&mut fields, "i.0.new_kind", kind);
        let (status, page) = press(&app, &officer, &fields, "add-lever.0").await;
        assert_eq!(status, StatusCode::OK);
        fields = form_fields(&page);
    }
    let data = highneeds_usecases::scenario::load_from(&app.state.store, LA)
        .await
        .unwrap();
    let codes = highneeds_usecases::scenario::codes_of(&data.history);
    let (need, a, b) = (
        codes.needs[0].to_string(),
        codes.settings[0].to_string(),
        codes.settings[1].to_string(),
    );
    set(&mut fields, "name", "Every lever");
    set(&mut fields, "i.0.name", "All kinds");
    for (j, figure) in ["-0.1", "0.2", "", "", "-0.05"].iter().enumerate() {
        if !figure.is_empty() {
            set(&mut fields, &format!("i.0.l.{j}.change"), figure);
        }
        set(&mut fields, &format!("i.0.l.{j}.start"), "2025-09");
    }
    set(&mut fields, "i.0.l.0.needs", &need);
    set(&mut fields, "i.0.l.0.ncy_from", "-1");
    set(&mut fields, "i.0.l.0.ncy_to", "2");
    set(&mut fields, "i.0.l.0.ramp_months", "12");
    set(&mut fields, "i.0.l.0.cost.2025-26", "£100,000");
    set(&mut fields, "i.0.l.2.from", &a);
    set(&mut fields, "i.0.l.2.to", &b);
    set(&mut fields, "i.0.l.2.share", "0.5");
    set(&mut fields, "i.0.l.3.setting", &b);
    set(&mut fields, "i.0.l.3.places", "30");
    set(&mut fields, "i.0.l.3.overflow", &a);
    set(&mut fields, "i.0.l.4.settings", &a);
    set(&mut fields, "i.0.l.5.amount.2025-26", "870000");
    set(&mut fields, "i.0.l.6.amount.2025-26", "500000.50");
    set(&mut fields, "i.0.l.7.amount.2026-27", "1000000");
    set(&mut fields, "i.0.l.8.cost.2025-26", "60000");
    set(&mut fields, "a.target_financial_year", "2026-27");
    let (status, page) = press(&app, &officer, &fields, "save").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let s = stored(&app, "Every lever", 1).await;
    let levers = &s.initiatives[0].levers;
    let kinds: Vec<&str> = levers.iter().map(|l| l.kind.code()).collect();
    assert_eq!(kinds, highneeds_ingest::scenario::LEVER_KINDS);
    match &levers[0].kind {
        LeverKind::JoinerRate { change, cohort } => {
            assert_eq!(change.get(), -0.1);
            assert_eq!(cohort.needs.len(), 1);
            assert_eq!(
                cohort.ncy.map(|(x, y)| (x.value(), y.value())),
                Some((-1, 2))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(levers[0].timing.ramp_months, 12);
    assert_eq!(
        levers[0].cost.get(&fy("2025-26")),
        Some(&Pence::new(10_000_000))
    );
    match &levers[2].kind {
        LeverKind::Redirect {
            share,
            joiners,
            movers,
            ..
        } => {
            assert_eq!((share.get(), *joiners, *movers), (0.5, true, false));
        }
        other => panic!("{other:?}"),
    }
    match &levers[3].kind {
        LeverKind::Capacity {
            places, overflow, ..
        } => {
            assert_eq!(*places, 30);
            assert_eq!(overflow.as_ref().map(ToString::to_string), Some(a.clone()));
        }
        other => panic!("{other:?}"),
    }
    match &levers[5].kind {
        LeverKind::BlockTransfer {
            amount,
            needs_schools_forum_approval,
        } => {
            assert_eq!(amount.get(&fy("2025-26")), Some(&Pence::new(87_000_000)));
            assert!(*needs_schools_forum_approval, "ticked by default");
        }
        other => panic!("{other:?}"),
    }
    match &levers[6].kind {
        LeverKind::Grant { amount } => {
            assert_eq!(amount.get(&fy("2025-26")), Some(&Pence::new(50_000_050)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        levers[8].cost.get(&fy("2025-26")),
        Some(&Pence::new(6_000_000))
    );
}

/// Viewers and analysts get no form and cannot post one.
#[tokio::test]
async fn only_officers_and_above_use_the_form() {
    let app = spawn_app().await;
    for role in [Role::Viewer, Role::Analyst] {
        let s = app.session(role).await;
        let r = app.send(get("/scenarios/form", Some(&s))).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
        let r = app
            .send(post(
                "/scenarios/form",
                Some(&s),
                "name=x&action=save",
                true,
            ))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
    }
    assert!(app.state.store.scenarios(LA).await.unwrap().is_empty());
}

/// A form of absurd size is refused before it is read; garbage year names get no column of their own but are named.
#[tokio::test]
async fn hostile_forms_are_refused_or_named() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    let mut many: Vec<(String, String)> = (0..20_001)
        .map(|k| (format!("i.{k}.name"), "x".to_string()))
        .collect();
    many.push(("csrf".into(), officer.csrf.clone()));
    let (status, page) = press(&app, &officer, &many, "save").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.contains("at most 20000"), "{page}");
    let page = text(app.send(get("/scenarios/form", Some(&officer))).await).await;
    let mut fields = form_fields(&page);
    set(&mut fields, "i.0.l.0.cost.not-a-year", "5");
    set(&mut fields, "i.0.l.0.cost.2025-26", "ten pounds");
    let (status, page) = press(&app, &officer, &fields, "save").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = Html::parse_document(&page);
    let cost_error = html
        .select(&Selector::parse("#f-i-0-l-0-cost-error").unwrap())
        .next()
        .map(|e| e.text().collect::<String>())
        .unwrap_or_default();
    assert!(
        cost_error.contains("2025-26: \"ten pounds\" is not an amount"),
        "{cost_error}"
    );
    assert!(!page.contains("f-i-0-l-0-cost-not-a-year"));
    assert!(app.state.store.scenarios(LA).await.unwrap().is_empty());
}

/// Side by side names the scenarios whose own forecast without a plan differs from the one shown (other
/// assumptions), and only those.
#[tokio::test]
async fn side_by_side_names_scenarios_with_other_assumptions() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    with_example(&app, &officer).await;
    for (copy, uplift) in [("Same assumptions", "0.03"), ("Dearer", "0.06")] {
        let mut fields = opened(&app, &officer, "copy").await;
        set(&mut fields, "name", copy);
        set(&mut fields, "a.uplift", uplift);
        let (status, _) = press(&app, &officer, &fields, "save").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let url = format!(
        "/scenarios/compare?name={}&name={}&name={}",
        enc(NAME),
        enc("Same assumptions"),
        enc("Dearer")
    );
    let page = text(app.send(get(&url, Some(&officer))).await).await;
    let html = Html::parse_document(&page);
    let note = html
        .select(&Selector::parse("#compare-assumptions").unwrap())
        .next()
        .map(|e| e.text().collect::<String>())
        .unwrap_or_default();
    assert!(note.contains("Dearer assumes other figures"), "{note}");
    assert!(!note.contains("Same assumptions"), "{note}");
    let url = format!(
        "/scenarios/compare?name={}&name={}",
        enc(NAME),
        enc("Same assumptions")
    );
    let page = text(app.send(get(&url, Some(&officer))).await).await;
    assert!(!page.contains("compare-assumptions"));
}
