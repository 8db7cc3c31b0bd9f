//! Writing a synthetic LA's files, exactly as an LA would hand them over.

use std::path::Path;

use anyhow::{Context, Result};
use highneeds_synth::SyntheticLa;

/// Write one synthetic LA's files into `dir`: witan.send's four files, plans.csv and hnb-budget.csv.
pub fn write_la(la: &SyntheticLa, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    highneeds_ingest::write::write_witan_dir(&la.transition_history(), dir)
        .with_context(|| format!("could not write witan.send files to {}", dir.display()))?;
    highneeds_ingest::write::write_plans(&la.histories, &dir.join("plans.csv"))
        .with_context(|| format!("could not write {}", dir.join("plans.csv").display()))?;
    highneeds_ingest::write::write_budget(&la.budget, &dir.join("hnb-budget.csv"))
        .with_context(|| format!("could not write {}", dir.join("hnb-budget.csv").display()))?;
    Ok(())
}
