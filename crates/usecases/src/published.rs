//! The DfE's published statistics: reading the folder the user names and choosing an LA in it.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use highneeds_domain::geography::{change_creating, change_ending};
use highneeds_domain::published::CurrentSeries;
use highneeds_domain::{LaCode, Measure, PublishedStatistics};
use highneeds_ingest::Issue;
use highneeds_model::published_forecast::{LaHistory, LaRecords};

use crate::Rejected;

/// The release as read, on current boundaries, and its warnings.
pub struct Loaded {
    pub stats: PublishedStatistics,
    pub current: CurrentSeries,
    pub warnings: Vec<Issue>,
}

/// Read the folder and put it on current boundaries; errors are [`Rejected`] with every issue.
pub fn load(dir: &Path) -> Result<Loaded> {
    let parsed = highneeds_ingest::read_published_dir(dir);
    let Some(stats) = parsed.value else {
        return Err(Rejected {
            issues: parsed.issues,
            message: format!(
                "the published statistics in {} have errors (above): fix them and run again",
                dir.display()
            ),
        }
        .into());
    };
    let current = stats.on_current_boundaries();
    Ok(Loaded {
        stats,
        current,
        warnings: parsed.issues,
    })
}

/// An LA code as the user gave it, checked against the published data, with advice for old codes.
pub fn la_code(text: &str, current: &CurrentSeries) -> Result<LaCode> {
    let la: LaCode = text.parse().map_err(|e| anyhow!("--la {text:?}: {e}"))?;
    if la.is_england() {
        bail!("--la must be a local authority, not England (E92000001): England is the comparison");
    }
    if current.years(la, Measure::Plans).is_empty() {
        if let Some(c) = change_ending(la) {
            bail!(
                "LA {la} no longer exists ({}): use {}",
                c.description,
                c.successors.join(" or ")
            );
        }
        bail!("LA {la} is not in the published statistics: check the code (e.g. E06000037 is West Berkshire)");
    }
    Ok(la)
}

/// Every LA's headline plans on current boundaries, with its new plans and initial requests by calendar year.
pub fn la_records(current: &CurrentSeries) -> LaRecords {
    let series = |measure: Measure| -> LaHistory {
        let mut h = LaHistory::new();
        for ((la, m, y), v) in &current.values {
            if *m == measure && !la.is_england() {
                h.entry(*la).or_default().insert(*y, v.value);
            }
        }
        h
    };
    LaRecords {
        plans: series(Measure::Plans),
        new_plans: series(Measure::NewPlans),
        requests: series(Measure::Requests),
    }
}

/// A note for an LA created by a boundary change: its earlier years are mapped from its predecessors.
pub fn lifetime_note(la: LaCode) -> Option<String> {
    change_creating(la).map(|c| {
        format!(
            "{la} exists from {}; earlier years are mapped from its predecessors ({})",
            c.first_year, c.description
        )
    })
}

/// `import published DIR`: read and check the release exactly as `--published DIR` does; if it has no error,
/// store it in one transaction (replacing the years it covers) and audit it. Returns the rows stored and
/// the warnings.
pub async fn import(
    store: &highneeds_store::Store,
    dir: &Path,
    la_for_audit: &str,
    user: &str,
) -> Result<(u64, Vec<Issue>)> {
    let dir_owned = dir.to_path_buf();
    let loaded = tokio::task::spawn_blocking(move || load(&dir_owned)).await??;
    let rows = store.import_published(&loaded.stats).await?;
    let years: std::collections::BTreeSet<i32> = loaded.stats.figures.keys().map(|k| k.2).collect();
    let span = match (years.first(), years.last()) {
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => "no years".to_string(),
    };
    // The release serves every LA's dashboard: the import is in each LA's audit log.
    let mut las: Vec<String> = store.las().await?.into_iter().map(|l| l.code).collect();
    if las.is_empty() {
        las.push(la_for_audit.to_string());
    }
    let detail = format!(
        "published statistics {} ({span}, {rows} figures)",
        dir.display()
    );
    for la in &las {
        store.audit(la, user, "import", &detail).await?;
    }
    Ok((rows, loaded.warnings))
}

/// The stored release on current boundaries (`None` if none was imported).
pub async fn stored(store: &highneeds_store::Store) -> Result<Option<Loaded>> {
    Ok(store.load_published().await?.map(|stats| {
        let current = stats.on_current_boundaries();
        Loaded {
            stats,
            current,
            warnings: Vec::new(),
        }
    }))
}
