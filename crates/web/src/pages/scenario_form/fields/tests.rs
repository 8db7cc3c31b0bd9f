use super::*;

fn sent(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_form_reads_into_the_files_shape_renumbering_gaps() {
    // Initiative 3 follows initiative 0 (1 and 2 were removed): it becomes the second. Its lever 5 the first.
    let form = sent(&[
        ("name", " Plan A "),
        ("a.horizon_years", "6"),
        ("a.uplift", "0.03"),
        ("a.allocation_growth", ""),
        ("a.target_financial_year", "2027-28"),
        ("a.engine", "analytic"),
        ("a.sims", "500"),
        ("a.seed", "7"),
        ("i.0.name", "Early help"),
        ("i.3.name", "Capital"),
        ("i.3.l.5.kind", "capacity"),
        ("i.3.l.5.setting", "special"),
        ("i.3.l.5.places", "-12"),
        ("i.3.l.5.overflow", ""),
        ("i.3.l.5.start", "2026-09"),
        ("i.3.l.5.cost.2026-27", "£1,250,000.50"),
        ("i.3.l.5.cost.2027-28", ""),
        // A field the kind does not take is not read.
        ("i.3.l.5.change", "0.5"),
    ]);
    let Sent { shape, faults, .. } = read(&form);
    assert!(faults.is_empty(), "{faults:?}");
    assert_eq!(shape.name, "Plan A");
    assert_eq!(shape.assumptions.horizon_years, 6);
    assert_eq!(shape.assumptions.allocation_growth, None);
    assert_eq!(shape.assumptions.sims, 500);
    assert_eq!(shape.assumptions.seed, 7);
    assert_eq!(shape.initiatives.len(), 2);
    assert_eq!(shape.initiatives[1].name, "Capital");
    let lever = &shape.initiatives[1].levers[0];
    assert_eq!(lever.kind, "capacity");
    assert_eq!(lever.places, Some(-12));
    assert_eq!(lever.overflow, None);
    assert_eq!(lever.change, None);
    assert_eq!(lever.start.as_deref(), Some("2026-09"));
    assert_eq!(
        lever.cost,
        BTreeMap::from([("2026-27".to_string(), 1_250_000.5)])
    );
}

#[test]
fn values_that_are_not_numbers_are_faults_of_their_renumbered_field() {
    let form = sent(&[
        ("a.horizon_years", "five"),
        ("i.2.name", "Early help"),
        ("i.2.l.4.kind", "joiner_rate"),
        ("i.2.l.4.change", "ten percent"),
        ("i.2.l.4.ncy_from", "-1"),
        ("i.2.l.4.cost.2025-26", "1,23"),
        ("i.2.l.4.ramp_months", "-3"),
    ]);
    let Sent { faults, .. } = read(&form);
    let at: Vec<ScenarioField> = faults.iter().map(|f| f.0).collect();
    assert_eq!(
        at,
        vec![
            ScenarioField::Assumption("horizon_years"),
            ScenarioField::Lever(0, 0, "ramp_months"),
            ScenarioField::Lever(0, 0, "cost"),
            ScenarioField::Lever(0, 0, "change"),
            ScenarioField::Lever(0, 0, "ncy"),
        ]
    );
    assert!(faults[0].1.contains("\"five\""), "{}", faults[0].1);
    assert!(
        faults[2].1.starts_with("2025-26: \"1,23\""),
        "{}",
        faults[2].1
    );
    assert!(faults[4].1.contains("both ends"), "{}", faults[4].1);
}

#[test]
fn a_blank_horizon_is_named_rather_than_read_as_zero() {
    let Sent { shape, faults, .. } = read(&sent(&[("name", "x")]));
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].0, ScenarioField::Assumption("horizon_years"));
    assert_eq!(shape.assumptions.horizon_years, 0);
}

#[test]
fn redirection_checkboxes_read_as_ticked_or_not() {
    let form = sent(&[
        ("a.horizon_years", "5"),
        ("i.0.name", "Specialist"),
        ("i.0.l.0.kind", "redirect"),
        ("i.0.l.0.from", "inmss"),
        ("i.0.l.0.to", "special"),
        ("i.0.l.0.share", "0.25"),
        ("i.0.l.0.movers", "true"),
        ("i.0.l.0.needs", "ASD"),
        ("i.0.l.0.needs", "SEMH"),
    ]);
    let Sent { shape, faults, .. } = read(&form);
    assert!(faults.is_empty(), "{faults:?}");
    let l = &shape.initiatives[0].levers[0];
    assert_eq!((l.joiners, l.movers), (Some(false), Some(true)));
    assert_eq!(l.needs, vec!["ASD".to_string(), "SEMH".to_string()]);
    assert_eq!(l.share, Some(0.25));
}

#[test]
fn buttons_name_their_action_and_anything_else_saves() {
    for a in [
        Action::AddInitiative,
        Action::RemoveInitiative(3),
        Action::AddLever(1),
        Action::RemoveLever(2, 0),
        Action::AddPlace,
        Action::RemovePlace(4),
    ] {
        assert_eq!(Action::of(Some(&a.value())), a);
    }
    assert_eq!(Action::of(Some("remove-lever.2")), Action::Save);
    assert_eq!(Action::of(Some("drop table")), Action::Save);
    assert_eq!(Action::of(None), Action::Save);
    // The kind to add is read with the button that adds it, for that initiative only.
    let sent_form = sent(&[
        ("action", "add-lever.1"),
        ("i.0.new_kind", "grant"),
        ("i.1.new_kind", "capacity"),
    ]);
    let Sent {
        action, new_kind, ..
    } = read(&sent_form);
    assert_eq!(action, Action::AddLever(1));
    assert_eq!(new_kind.as_deref(), Some("capacity"));
}

#[test]
fn add_and_remove_change_only_what_they_name() {
    let Sent { mut shape, .. } = read(&sent(&[
        ("a.horizon_years", "5"),
        ("i.0.name", "A"),
        ("i.1.name", "B"),
        ("i.1.l.0.kind", "grant"),
    ]));
    apply(&mut shape, Action::AddLever(0), Some("unit_cost"));
    apply(&mut shape, Action::AddLever(0), Some("no_such_kind"));
    apply(&mut shape, Action::RemoveLever(1, 0), None);
    apply(&mut shape, Action::RemoveInitiative(7), None);
    assert_eq!(shape.initiatives.len(), 2);
    assert_eq!(shape.initiatives[0].levers.len(), 1);
    assert_eq!(shape.initiatives[0].levers[0].kind, "unit_cost");
    assert!(shape.initiatives[1].levers.is_empty());
    apply(&mut shape, Action::RemoveInitiative(0), None);
    assert_eq!(shape.initiatives[0].name, "B");
}

#[test]
fn keys_and_ids_follow_the_fields() {
    assert_eq!(key(ScenarioField::Lever(1, 2, "change")), "i.1.l.2.change");
    assert_eq!(key(ScenarioField::Assumption("places")), "p");
    assert_eq!(key(ScenarioField::Assumption("uplift")), "a.uplift");
    assert_eq!(id("i.1.l.2.cost.2025-26"), "f-i-1-l-2-cost-2025-26");
}
