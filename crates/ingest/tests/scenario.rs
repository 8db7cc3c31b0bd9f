//! Scenario files: the shipped example reads, every fault is named by file, line, initiative and field, and a
//! written scenario reads back the same.

use highneeds_domain::scenario::LeverKind;
use highneeds_ingest::scenario::{
    read_scenario_json, read_scenario_toml, scenario_to_json, scenario_to_toml, ScenarioCodes,
};

const EXAMPLE: &str = include_str!("../../../examples/exampleshire-dbv-stockton.toml");
const TEMPLATE: &str = include_str!("../../../examples/scenario-template.toml");

fn codes() -> ScenarioCodes {
    let mut c = ScenarioCodes {
        needs: [
            "ASD", "SEMH", "SLCN", "MLD", "SPLD", "SLD", "PMLD", "HI", "VI", "MSI", "PD", "OTH",
        ]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect(),
        settings: [
            "mainstream",
            "mainstream_rp_unit",
            "special_maintained",
            "special_academy_free",
            "special_inmss",
            "ap_pru_hospital",
            "fe_college",
            "specialist_post16",
            "early_years",
            "eotas_ehe",
            "neet",
            "other",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect(),
    };
    c.settings.sort();
    c
}

/// The single error of a refused file, as displayed.
fn refusal(text: &str) -> String {
    let parsed = read_scenario_toml("plan.toml", text, Some(&codes()));
    assert!(parsed.value.is_none(), "accepted: {text}");
    let errors: Vec<String> = parsed.errors().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].clone()
}

#[test]
fn the_shipped_example_and_template_read() {
    let s = read_scenario_toml("example", EXAMPLE, Some(&codes()))
        .value
        .unwrap();
    assert_eq!(s.initiatives.len(), 10);
    assert_eq!(s.assumptions.target.to_string(), "2027-28");
    assert!(s.initiatives[0].name.starts_with("a. "));
    assert!(matches!(
        s.initiatives[4].levers[0].kind,
        LeverKind::Capacity { places: 30, .. }
    ));
    let t = read_scenario_toml("template", TEMPLATE, Some(&codes()))
        .value
        .unwrap();
    assert_eq!(t.initiatives.len(), 1);
}

#[test]
fn a_written_scenario_reads_back_the_same() {
    let s = read_scenario_toml("example", EXAMPLE, Some(&codes()))
        .value
        .unwrap();
    let toml = scenario_to_toml(&s);
    assert_eq!(
        read_scenario_toml("again", &toml, Some(&codes()))
            .value
            .as_ref(),
        Some(&s)
    );
    let json = scenario_to_json(&s);
    assert_eq!(
        read_scenario_json("again.json", &json, Some(&codes()))
            .value
            .as_ref(),
        Some(&s)
    );
}

const HEAD: &str = "name = \"p\"\n[assumptions]\ntarget_financial_year = \"2027-28\"\n[[initiative]]\nname = \"a. Early years\"\n[[initiative.lever]]\n";

#[test]
fn an_unknown_setting_names_the_line_initiative_and_field() {
    let e = refusal(&format!(
        "{HEAD}kind = \"redirect\"\nfrom = \"special_inmss\"\nto = \"special_academy\"\nshare = 0.5\nstart = \"2025-09\"\n"
    ));
    assert_eq!(
        e,
        "plan.toml:9: column initiative 1 (\"a. Early years\") lever 1 (redirect) to: \"special_academy\" unknown \
         setting: the LA's settings are ap_pru_hospital, early_years, eotas_ehe, fe_college, mainstream, \
         mainstream_rp_unit, neet, other, special_academy_free, special_inmss, special_maintained, specialist_post16"
    );
}

#[test]
fn an_unknown_need_is_refused() {
    let e = refusal(&format!(
        "{HEAD}kind = \"joiner_rate\"\nchange = -0.1\nneeds = [\"AUT\"]\nstart = \"2025-09\"\n"
    ));
    assert!(e.starts_with("plan.toml:9: column initiative 1 (\"a. Early years\") lever 1 (joiner_rate) needs: \"AUT\" unknown need"), "{e}");
}

#[test]
fn a_share_above_one_is_refused() {
    let e = refusal(&format!(
        "{HEAD}kind = \"redirect\"\nfrom = \"special_inmss\"\nto = \"mainstream_rp_unit\"\nshare = 1.2\nstart = \"2025-09\"\n"
    ));
    // The value once, in the rule's own words.
    assert_eq!(e, "plan.toml:10: column initiative 1 (\"a. Early years\") lever 1 (redirect) share: 1.2 is not a share between 0 and 1 (0.5 = 50 %)");
}

#[test]
fn a_start_after_its_end_is_refused() {
    let e = refusal(&format!(
        "{HEAD}kind = \"leaver_rate\"\nchange = 0.1\nstart = \"2026-09\"\nend = \"2025-09\"\n"
    ));
    assert!(
        e.starts_with(
            "plan.toml:10: column initiative 1 (\"a. Early years\") lever 1 (leaver_rate) end"
        ),
        "{e}"
    );
    assert!(e.contains("is not after start"), "{e}");
}

#[test]
fn negative_places_are_refused() {
    let e = refusal(
        "name = \"p\"\n[assumptions]\ntarget_financial_year = \"2027-28\"\nplaces = [{ setting = \"mainstream\", census_year = 2025, places = -4 }]\n",
    );
    assert!(
        e.starts_with("plan.toml:4: column assumptions.places"),
        "{e}"
    );
}

#[test]
fn malformed_toml_and_unknown_fields_name_their_line() {
    let e = refusal("name = \"p\"\n[assumptions\n");
    assert!(e.starts_with("plan.toml:2:"), "{e}");
    let e = refusal(&format!(
        "{HEAD}kind = \"joiner_rate\"\nchnage = -0.1\nstart = \"2025-09\"\n"
    ));
    assert!(e.starts_with("plan.toml:8:"), "{e}");
    assert!(e.contains("chnage"), "{e}");
}

#[test]
fn a_field_another_kind_takes_is_refused() {
    let e = refusal(&format!(
        "{HEAD}kind = \"joiner_rate\"\nchange = -0.1\nshare = 0.5\nstart = \"2025-09\"\n"
    ));
    assert!(
        e.contains("lever 1 (joiner_rate) share") && e.contains("a joiner_rate lever has no share"),
        "{e}"
    );
}

#[test]
fn amounts_must_be_pounds_and_pence() {
    let e = refusal(&format!(
        "{HEAD}kind = \"grant\"\namount = {{ \"2025-26\" = 100.001 }}\n"
    ));
    assert!(e.contains("up to 2 decimal places"), "{e}");
}

#[test]
fn any_bytes_are_refused_or_read_without_panicking() {
    for text in [
        "",
        "\u{0}",
        "[[initiative]]\n[[initiative.lever]]\nkind = 3",
        "name = 1e400",
        &"[".repeat(10_000),
    ] {
        let _ = read_scenario_toml("x.toml", text, None);
        let _ = read_scenario_json("x.json", text, None);
    }
}

/// A scenario in the file's shape (a form's) is checked by the same rules, each fault with its field by position.
#[test]
fn a_shapes_faults_come_with_their_fields() {
    use highneeds_ingest::scenario::{check_scenario_shape, scenario_file, ScenarioField};
    let example = read_scenario_toml("example.toml", EXAMPLE, Some(&codes()))
        .value
        .unwrap();
    let mut shape = scenario_file(&example);
    shape.assumptions.uplift = 2.0;
    shape.initiatives[4].levers[2].share = Some(1.5);
    shape.initiatives[0].levers[0].needs.push("NOPE".into());
    shape.initiatives[1].levers[0].kind = "joiner_rates".into();
    let (parsed, fields) = check_scenario_shape("form", &shape, Some(&codes()));
    assert!(parsed.value.is_none());
    let mut fields = fields;
    fields.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(
        fields,
        vec![
            ScenarioField::Assumption("uplift"),
            ScenarioField::Lever(0, 0, "needs"),
            ScenarioField::Lever(1, 0, "kind"),
            ScenarioField::Lever(4, 2, "share"),
        ]
    );
    assert_eq!(parsed.issues.len(), 4);
    assert!(parsed.issues.iter().all(|i| i.line.is_none()));
}

#[test]
fn every_lever_kind_has_its_fields() {
    use highneeds_ingest::scenario::{lever_fields, LEVER_KINDS};
    assert!(LEVER_KINDS.iter().all(|k| lever_fields(k).is_some()));
    assert_eq!(
        lever_fields("capacity"),
        Some(&["setting", "places", "overflow"][..])
    );
    assert_eq!(lever_fields("joiner_rates"), None);
}
