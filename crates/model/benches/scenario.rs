//! Scenario benchmarks on Exampleshire (synthetic, 2,150 plans, seed 7, generated in memory) with the shipped
//! Stockton-like plan (`examples/exampleshire-dbv-stockton.toml`):
//! - the analytic re-run after one lever changes (what a slider redraws): effects, mitigated means, placement
//!   cost per financial year and the mitigated ledger;
//! - the exact Shapley attribution over the eight initiatives a-h (256 coalitions, each a means run), and over
//!   all ten;
//! - the whole analytic scenario run (ledgers, attribution, target check, sufficiency).
//!
//! Run: `cargo bench -p highneeds-model --bench scenario` (see `bench/README.md`).

use std::sync::OnceLock;

use divan::{black_box, Bencher};
use highneeds_domain::scenario::{LeverKind, Scenario, ScenarioEngine};
use highneeds_domain::{BudgetLine, TransitionHistory};
use highneeds_ingest::scenario::read_scenario_toml;
use highneeds_model::scenario::{
    self, compile::Compiler, ledger, placement_by_fy, shapley, ScenarioInputs,
};
use highneeds_model::{fit_reaching, FitOptions, Parameters, ProjectionOptions};
use highneeds_synth::{generate_la, SynthConfig};

fn main() {
    divan::main();
}

struct Fixture {
    history: TransitionHistory,
    budget: Vec<BudgetLine>,
    scenario: Scenario,
    params: Parameters,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let la = generate_la(
            &SynthConfig {
                plans: 2_150,
                seed: 7,
                ..SynthConfig::default()
            },
            0,
        );
        let text = include_str!("../../../examples/exampleshire-dbv-stockton.toml");
        let Some(mut scenario) = read_scenario_toml("example", text, None).value else {
            panic!("the shipped example does not read");
        };
        scenario.assumptions.engine = ScenarioEngine::Analytic;
        let history = la.transition_history();
        let params = match fit_reaching(
            &history,
            &FitOptions::default(),
            &scenario::settings_reached(&scenario),
        ) {
            Ok(p) => p,
            Err(e) => panic!("Exampleshire does not fit: {e}"),
        };
        Fixture {
            history,
            budget: la.budget,
            scenario,
            params,
        }
    })
}

/// One slider move: initiative a's joiner change edited, then the mitigated means, FY placement and ledger.
#[divan::bench(sample_count = 50)]
fn analytic_rerun_after_one_lever_change(bencher: Bencher) {
    let f = fixture();
    let a = &f.scenario.assumptions;
    let options = ProjectionOptions {
        years: a.horizon_years,
        cost_uplift: a.uplift,
        quantiles: vec![],
    };
    let basis = match ledger::basis(&f.budget, |_| Some(0.0), a.allocation_growth, a.uplift) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    };
    let mut edited = f.scenario.clone();
    let all = vec![true; edited.initiatives.len()];
    let mut step = 0u32;
    bencher.bench_local(|| {
        step += 1;
        if let LeverKind::JoinerRate { change, .. } = &mut edited.initiatives[0].levers[0].kind {
            if let Ok(c) =
                highneeds_domain::scenario::Change::new(-0.05 - f64::from(step % 10) / 100.0)
            {
                *change = c;
            }
        }
        let compiler = Compiler::new(&f.params, &edited, a.horizon_years);
        let effects = compiler.effects(&all, a.horizon_years);
        let placement = placement_by_fy(&f.params, &options, &effects);
        let money = scenario::scenario_money(&edited, &all);
        black_box(ledger::project(&basis, &placement, &money))
    });
}

fn shapley_over(bencher: Bencher, n: usize) {
    let f = fixture();
    let mut s = f.scenario.clone();
    s.initiatives.truncate(n);
    let a = &s.assumptions;
    let options = ProjectionOptions {
        years: a.horizon_years,
        cost_uplift: a.uplift,
        quantiles: vec![],
    };
    bencher.bench(|| {
        let compiler = Compiler::new(&f.params, &s, a.horizon_years);
        shapley::attribute(n, |active| {
            placement_by_fy(
                &f.params,
                &options,
                &compiler.effects(active, a.horizon_years),
            )
            .iter()
            .map(|(_, c)| c.round() as i64)
            .collect()
        })
    });
}

/// Exact Shapley attribution over the eight initiatives a-h: 256 coalitions, every core.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn shapley_8_initiatives(bencher: Bencher) {
    shapley_over(bencher, 8);
}

/// Exact Shapley attribution over all ten initiatives: 1,024 coalitions, every core.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn shapley_10_initiatives(bencher: Bencher) {
    shapley_over(bencher, 10);
}

/// The whole analytic scenario run: ledgers, attribution over ten initiatives, target check, sufficiency.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn scenario_run_analytic(bencher: Bencher) {
    let f = fixture();
    bencher.bench(|| {
        scenario::run(&ScenarioInputs {
            params: &f.params,
            history: &f.history,
            budget: &f.budget,
            scenario: &f.scenario,
            threads: None,
            progress: None,
        })
    });
}

/// The preview's slider path (`?attribution=later`): the whole analytic run without the attribution: both
/// placements and ledgers, both sides' analytic forecasts with intervals, the target check and sufficiency.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn scenario_preview_without_attribution(bencher: Bencher) {
    let f = fixture();
    bencher.bench(|| {
        scenario::run_attributing(
            &ScenarioInputs {
                params: &f.params,
                history: &f.history,
                budget: &f.budget,
                scenario: &f.scenario,
                threads: None,
                progress: None,
            },
            scenario::Attributing::Later,
        )
    });
}

/// The workspace's slider path: the same, with the unmitigated side computed once (it reads no initiative, so
/// the server keeps it per scenario's assumptions) and each preview running the mitigated side only.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn scenario_preview_unmitigated_kept(bencher: Bencher) {
    let f = fixture();
    let inputs = ScenarioInputs {
        params: &f.params,
        history: &f.history,
        budget: &f.budget,
        scenario: &f.scenario,
        threads: None,
        progress: None,
    };
    let side = match scenario::unmitigated_side(&inputs) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    bencher.bench(|| scenario::run_with_unmitigated(&inputs, scenario::Attributing::Later, &side));
}
