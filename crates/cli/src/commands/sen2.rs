//! SEN2 returns: `highneeds import sen2`, SEN2 files in `validate`, synthetic returns in `synth`, and the LA's
//! pseudonymisation key file.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use highneeds_domain::money::group_thousands;
use highneeds_domain::sen2::{
    census_of, flows_of, transitions_of, EstablishmentRegister, Sen2Census, Sen2Flows, Sen2Return,
    TransitionSummary,
};
use highneeds_domain::SettingMap;
use highneeds_ingest::sen2::{read_establishments, read_sen2, PersonKeyer};
use highneeds_ingest::{Issue, Parsed, Severity};
use highneeds_store::{ImportOutcome, ImportedFile, LaRef, Sen2Import, Sen2ReturnSummary, Store};
use highneeds_synth::SyntheticLa;

use crate::args::ImportArgs;
use crate::commands::{print_issues, runtime, REJECTED};

/// Bytes of a newly made key.
const KEY_BYTES: usize = 32;

/// The LA's pseudonymisation key, and whether it was just made (not yet saved).
pub struct Key {
    pub keyer: PersonKeyer,
    pub path: PathBuf,
    /// Hex text of a key made now; saved only when an import goes ahead.
    unsaved: Option<String>,
}

/// Where an LA's key lives by default: `$XDG_CONFIG_HOME/highneeds/<la>.sen2-key` (or `~/.config/...`).
pub fn default_key_path(la: &str) -> Result<PathBuf> {
    if la.is_empty()
        || !la
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("LA code {la:?} cannot name a key file: use letters, digits, - or _ (or give --key-file)");
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .context("no $XDG_CONFIG_HOME or $HOME to keep the SEN2 key in: give --key-file")?;
    Ok(base.join("highneeds").join(format!("{la}.sen2-key")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Read the key file, or make a new random key (saved later by [`Key::save`]). A file of hex digits is the
/// key's bytes; any other file's bytes are the key itself (at least 16).
pub fn load_key(path: &Path) -> Result<Key> {
    match std::fs::read(path) {
        Ok(bytes) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if let Ok(m) = std::fs::metadata(path) {
                    if m.permissions().mode() & 0o077 != 0 {
                        eprintln!(
                            "warning: the SEN2 key file {} can be read by other users: chmod 600 it",
                            path.display()
                        );
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let secret = unhex(text.trim()).unwrap_or(bytes);
            let keyer = PersonKeyer::new(&secret)
                .with_context(|| format!("SEN2 key file {}", path.display()))?;
            Ok(Key {
                keyer,
                path: path.to_path_buf(),
                unsaved: None,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; KEY_BYTES];
            getrandom::fill(&mut secret).map_err(|e| {
                anyhow::anyhow!("could not get random bytes for a new SEN2 key: {e}")
            })?;
            let keyer = PersonKeyer::new(&secret)?;
            Ok(Key {
                keyer,
                path: path.to_path_buf(),
                unsaved: Some(hex(&secret)),
            })
        }
        Err(e) => {
            Err(e).with_context(|| format!("could not read the SEN2 key file {}", path.display()))
        }
    }
}

impl Key {
    pub fn is_new(&self) -> bool {
        self.unsaved.is_some()
    }

    /// Save a newly made key: a new file (never overwriting one), readable by its owner only.
    pub fn save(&mut self) -> Result<()> {
        let Some(text) = self.unsaved.take() else {
            return Ok(());
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&self.path).with_context(|| {
            format!("could not create the SEN2 key file {}", self.path.display())
        })?;
        writeln!(f, "{text}")
            .and_then(|()| f.sync_all())
            .with_context(|| {
                format!("could not write the SEN2 key file {}", self.path.display())
            })?;
        eprintln!(
            "made a new SEN2 pseudonymisation key: {} (keep it safe and backed up; without it next year's \
             returns cannot be matched to this year's)",
            self.path.display()
        );
        Ok(())
    }
}

/// What was read from a set of returns.
pub struct ReadReturns {
    pub returns: Vec<Sen2Return>,
    pub files: Vec<ImportedFile>,
}

/// Read the register (if any) and every return; the value only if nothing has an error.
pub fn read_returns(
    paths: &[PathBuf],
    register: Option<&Path>,
    keyer: &PersonKeyer,
) -> (Parsed<ReadReturns>, EstablishmentRegister) {
    let mut issues = Vec::new();
    let mut reg = EstablishmentRegister::default();
    let mut failed = false;
    if let Some(p) = register {
        let parsed = read_establishments(p);
        failed |= parsed.has_errors();
        issues.extend(parsed.issues);
        if let Some(r) = parsed.value {
            reg = r;
        }
    }
    let mut returns = Vec::new();
    let mut files = Vec::new();
    let mut years = BTreeSet::new();
    for p in paths {
        let parsed = read_sen2(p, keyer);
        failed |= parsed.has_errors();
        issues.extend(parsed.issues);
        if let Some(ret) = parsed.value {
            let name = parsed
                .sources
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            if !years.insert(ret.header.census_year) {
                issues.push(Issue::about_file(
                    &name,
                    Severity::Error,
                    format!(
                        "a second return for census {}: import one return per census year",
                        ret.header.census_year
                    ),
                ));
                failed = true;
            }
            returns.push(ret);
        }
        files.extend(parsed.sources.iter().map(|s| ImportedFile {
            kind: "sen2".into(),
            file_name: s.name.clone(),
            sha256: s.sha256.clone(),
            rows: s.rows,
        }));
    }
    let leas: BTreeSet<&str> = returns
        .iter()
        .filter_map(|r| r.header.lea.as_deref())
        .collect();
    if leas.len() > 1 {
        issues.push(Issue::about_file(
            paths
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
                .as_str(),
            Severity::Warning,
            format!(
                "the returns name different LAs (LEA {}): are they all this LA's?",
                leas.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let value = (!failed).then_some(ReadReturns { returns, files });
    (
        Parsed {
            value,
            issues,
            sources: Vec::new(),
        },
        reg,
    )
}

/// Everything derived from the returns, ready to store.
pub struct Derived {
    pub censuses: Vec<Sen2Census>,
    pub flows: Vec<Sen2Flows>,
    pub summaries: Vec<Sen2ReturnSummary>,
    /// Derivation notes, as warnings naming the return.
    pub warnings: Vec<Issue>,
}

pub fn derive(
    returns: &[Sen2Return],
    names: &[String],
    register: &EstablishmentRegister,
    map: &SettingMap,
) -> Derived {
    let mut d = Derived {
        censuses: Vec::new(),
        flows: Vec::new(),
        summaries: Vec::new(),
        warnings: Vec::new(),
    };
    for (i, ret) in returns.iter().enumerate() {
        let name = names.get(i).cloned().unwrap_or_default();
        let (census, notes) = census_of(ret, register, map);
        for (n, what) in notes.lines() {
            d.warnings.push(Issue::about_file(
                &name,
                Severity::Warning,
                format!("{n} {what}"),
            ));
        }
        d.summaries.push(Sen2ReturnSummary {
            census_year: ret.header.census_year,
            reference_date: ret.header.reference_date.format("%Y-%m-%d").to_string(),
            lea: ret.header.lea.clone(),
            persons: ret.persons.len() as u64,
        });
        d.flows.push(flows_of(ret));
        d.censuses.push(census);
    }
    d
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

fn n(v: u64) -> String {
    group_thousands(i128::from(v))
}

/// The lines `import sen2` prints about what the returns hold.
pub fn summary_lines(
    censuses: &[Sen2Census],
    flows: &[Sen2Flows],
    transitions: &[TransitionSummary],
) -> Vec<String> {
    let mut out = Vec::new();
    for (c, f) in censuses.iter().zip(flows) {
        out.push(format!(
            "census {}: {} active plans; in {}: {} requests, {} new plans ({} within 20 weeks, {} excluding exceptions), {} ceased, {} transferred in, {} out",
            c.census_year,
            n(c.plans.len() as u64),
            c.census_year.year() - 1,
            n(f.requests),
            n(f.new_plans),
            pct(f.share_within_20_weeks()),
            pct(f.share_within_20_weeks_excluding_exceptions()),
            n(f.cessations_total()),
            n(f.transfers_in),
            n(f.transfers_out),
        ));
    }
    for s in transitions {
        let Some(from) = s.from_census else { continue };
        let reasons: Vec<String> = s
            .leavers_by_reason
            .iter()
            .map(|(r, k)| {
                let label = r.map_or("no ceased plan in the later return", |r| r.label());
                format!("{label} {}", n(*k))
            })
            .collect();
        out.push(format!(
            "{from} → {}: {} joiners, {} leavers ({}), {} movers, {} stayers, {} need changes{}",
            from.next(),
            n(s.joiners),
            n(s.leavers),
            if reasons.is_empty() {
                "-".into()
            } else {
                reasons.join(", ")
            },
            n(s.movers),
            n(s.stayers),
            n(s.need_changes),
            if s.matched_by_pupil_key > 0 {
                format!(", {} matched by UPN/ULN", n(s.matched_by_pupil_key))
            } else {
                String::new()
            }
        ));
    }
    out
}

/// Store derived returns: combine with the LA's stored SEN2 censuses (the new ones replace the same years),
/// derive transitions over all of them, and write everything in one transaction.
pub async fn store_returns(
    db: &Store,
    la: &LaRef,
    derived: &Derived,
    files: &[ImportedFile],
    user: &str,
) -> Result<(ImportOutcome, Vec<TransitionSummary>)> {
    let (transitions, summaries) = stored_and_new_transitions(db, la, derived).await?;
    let data = Sen2Import {
        returns: derived.summaries.clone(),
        censuses: &derived.censuses,
        flows: &derived.flows,
        transitions: &transitions,
        transition_years: summaries.iter().filter_map(|s| s.from_census).collect(),
    };
    let outcome = db.import_sen2(la, &data, files, user).await?;
    Ok((outcome, summaries))
}

/// Transitions over every census the LA has stored plus these returns' (theirs replacing the same years).
async fn stored_and_new_transitions(
    db: &Store,
    la: &LaRef,
    derived: &Derived,
) -> Result<(Vec<highneeds_domain::Transition>, Vec<TransitionSummary>)> {
    let new_years: BTreeSet<_> = derived.censuses.iter().map(|c| c.census_year).collect();
    let mut all: Vec<Sen2Census> = db
        .sen2_censuses(&la.code)
        .await?
        .into_iter()
        .filter(|c| !new_years.contains(&c.census_year))
        .collect();
    all.extend(derived.censuses.iter().cloned());
    Ok(transitions_of(&all))
}

/// What [`store_returns`] would report on transitions, without importing (the returns are already stored).
pub async fn transition_summaries(
    db: &Store,
    la: &LaRef,
    derived: &Derived,
) -> Result<Vec<TransitionSummary>> {
    Ok(stored_and_new_transitions(db, la, derived).await?.1)
}

/// `highneeds import sen2 FILE...`.
pub fn run_import(args: &ImportArgs, user: &str) -> Result<ExitCode> {
    let key_path = match &args.key_file {
        Some(p) => p.clone(),
        None => default_key_path(&args.la)?,
    };
    let mut key = load_key(&key_path)?;
    let (parsed, register) = read_returns(&args.paths, args.establishments.as_deref(), &key.keyer);
    let mut issues = parsed.issues;
    let Some(read) = parsed.value else {
        print_issues(&issues);
        let errors = issues.iter().filter(|i| i.is_error()).count();
        eprintln!("import rejected: {errors} error(s); the database was not changed");
        return Ok(ExitCode::from(REJECTED));
    };
    let names: Vec<String> = read.files.iter().map(|f| f.file_name.clone()).collect();
    let derived = derive(&read.returns, &names, &register, &SettingMap::shipped());
    if args.establishments.is_none()
        && derived
            .censuses
            .iter()
            .any(|c| c.plans.iter().any(|p| p.urn.is_some()))
    {
        issues.push(Issue::about_file(
            names.first().map(String::as_str).unwrap_or("sen2"),
            Severity::Warning,
            "no --establishments register was given: placements at a URN or UKPRN have setting `other` \
             (give GIAS's all-establishments CSV to place them)"
                .into(),
        ));
    }
    issues.extend(derived.warnings.iter().cloned());
    print_issues(&issues);
    let la = LaRef {
        code: args.la.clone(),
        name: args.la_name.clone().unwrap_or_else(|| args.la.clone()),
    };
    let rt = runtime()?;
    let (outcome, summaries) = rt.block_on(async {
        let db = Store::open(&args.db).await?;
        let result = async {
            if key.is_new() && !db.sen2_returns(&la.code).await?.is_empty() {
                bail!(
                    "LA {} already has SEN2 returns in {} made with another key, but the key file {} does not \
                     exist: restore it (or give --key-file) so people can be matched across years",
                    la.code,
                    args.db.display(),
                    key.path.display()
                );
            }
            key.save()?;
            if let Some(before) = db.load_history(&la.code).await? {
                if let Some(warning) = mixed_coding(&before) {
                    eprintln!("warning: {warning}");
                }
            }
            store_returns(&db, &la, &derived, &read.files, user).await
        }
        .await;
        db.close().await;
        result
    })?;
    for line in summary_lines(&derived.censuses, &derived.flows, &summaries) {
        println!("{line}");
    }
    match outcome {
        ImportOutcome::Imported { import_id, rows } => println!(
            "imported {} into {} for LA {} (import {import_id}, {rows} rows, {} warnings)",
            names.join(", "),
            args.db.display(),
            la.code,
            issues.len()
        ),
        ImportOutcome::AlreadyImported {
            import_id,
            imported_at,
        } => println!("already imported (import {import_id} at {imported_at}): nothing changed"),
    }
    Ok(ExitCode::SUCCESS)
}

/// SEN2 transitions use SEN2 need codes and canonical setting codes; an LA whose stored history (a witan.send set)
/// uses its own codes would end up with two codings of the same children. Says which codes differ, if any.
fn mixed_coding(history: &highneeds_domain::TransitionHistory) -> Option<String> {
    use std::collections::BTreeSet;
    let mut settings = BTreeSet::new();
    let mut needs = BTreeSet::new();
    for t in &history.transitions {
        for s in [&t.before, &t.after].into_iter().flatten() {
            if s.setting
                .as_str()
                .parse::<highneeds_domain::CanonicalSetting>()
                .is_err()
            {
                settings.insert(s.setting.as_str().to_string());
            }
            if s.need.sen2().is_none() {
                needs.insert(s.need.as_str().to_string());
            }
        }
    }
    if settings.is_empty() && needs.is_empty() {
        return None;
    }
    let list = |codes: &BTreeSet<String>| {
        let mut shown: Vec<&str> = codes.iter().take(6).map(String::as_str).collect();
        if codes.len() > 6 {
            shown.push("…");
        }
        shown.join(", ")
    };
    let mut what = Vec::new();
    if !settings.is_empty() {
        what.push(format!("settings {}", list(&settings)));
    }
    if !needs.is_empty() {
        what.push(format!("needs {}", list(&needs)));
    }
    Some(format!(
        "this LA's stored history uses its own codes ({}), but transitions from SEN2 returns use SEN2 need codes \
         and canonical settings (mainstream, special_maintained, …): the forecast will treat them as different \
         needs and settings. Import a witan.send set coded the same way, or only SEN2 returns.",
        what.join("; ")
    ))
}

/// Check a SEN2 return on its own (`validate`): parsed with a throw-away key, nothing saved.
pub fn validate(path: &Path) -> Result<Parsed<String>> {
    let mut secret = [0u8; KEY_BYTES];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    let keyer = PersonKeyer::new(&secret)?;
    let parsed = read_sen2(path, &keyer);
    Ok(parsed.map(|r| format!("sen2 {}", r.header.census_year)))
}

/// Whether a path is (probably) a SEN2 return: `.xml`, or XML whose root is `<Message>`.
pub fn is_sen2(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
    {
        return true;
    }
    std::fs::File::open(path)
        .map(|f| highneeds_ingest::sen2::looks_like_sen2(std::io::BufReader::new(f)))
        .unwrap_or(false)
}

/// Write a synthetic LA's SEN2 returns for its last `count` censuses into `dir` (`sen2-YYYY.xml`) with the
/// register of their establishments (`establishments.csv`).
pub fn write_synthetic(
    la: &SyntheticLa,
    count: u32,
    seed: u64,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let synthetic = highneeds_synth::sen2::sen2_returns(la, count, seed);
    let mut paths = Vec::new();
    for ret in &synthetic.returns {
        let path = dir.join(format!("sen2-{}.xml", ret.header.census_year));
        highneeds_ingest::sen2::write::write_sen2(ret, &path)
            .with_context(|| format!("could not write {}", path.display()))?;
        paths.push(path);
    }
    let reg = dir.join("establishments.csv");
    highneeds_ingest::sen2::write::write_establishments(&synthetic.establishments, &reg)
        .with_context(|| format!("could not write {}", reg.display()))?;
    Ok(paths)
}
