//! SEN2 returns: reading and deriving them for an import, SEN2 files in `validate`, synthetic returns in
//! `synth`, and the LA's pseudonymisation key file.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use highneeds_domain::money::group_thousands;
use highneeds_domain::sen2::{
    census_of, flows_of, transitions_of, EstablishmentRegister, Sen2Census, Sen2Flows, Sen2Return,
    TransitionSummary,
};
use highneeds_domain::{CensusYear, SettingMap};
use highneeds_ingest::sen2::{read_establishments, read_sen2, KeyFileError, PersonKeyer};
use highneeds_ingest::{Issue, Parsed, Severity};
use highneeds_store::{ImportOutcome, ImportedFile, LaRef, Sen2Import, Sen2ReturnSummary, Store};
use highneeds_synth::SyntheticLa;

/// Bytes of a newly made key.
const KEY_BYTES: usize = 32;

/// The LA's pseudonymisation key, and whether it was just made (not yet saved).
pub struct Key {
    pub keyer: PersonKeyer,
    pub path: PathBuf,
    /// Hex text of a key made now; saved only when an import goes ahead.
    unsaved: Option<String>,
    /// Said about the key file when it was read (e.g. other users can read it).
    pub warning: Option<String>,
}

/// Where an LA's key lives by default: `<la>.sen2-key` in the per-user key folder ([`crate::home`]): on Linux
/// `$XDG_CONFIG_HOME/highneeds/` (or `~/.config/highneeds/`).
pub fn default_key_path(la: &str) -> Result<PathBuf> {
    if la.is_empty()
        || !la
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("LA code {la:?} cannot name a key file: use letters, digits, - or _ (or give --key-file)");
    }
    let folder = crate::home::key_folder()
        .context("no home folder to keep the SEN2 key in: give --key-file")?;
    Ok(folder.join(format!("{la}.sen2-key")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read the key file, or make a new random key (saved later by [`Key::save`]). A file of hex digits is the
/// key's bytes; any other file's bytes are the key itself (at least 16).
pub fn load_key(path: &Path) -> Result<Key> {
    if let Err(rule) = highneeds_ingest::check_regular_file(path) {
        bail!("the SEN2 key file {} {rule}", path.display());
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            #[allow(unused_mut)]
            let mut warning = None;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if let Ok(m) = std::fs::metadata(path) {
                    if m.permissions().mode() & 0o077 != 0 {
                        warning = Some(format!(
                            "the SEN2 key file {} can be read by other users: chmod 600 it",
                            path.display()
                        ));
                    }
                }
            }
            let keyer = PersonKeyer::from_key_file(&bytes).map_err(|e| match e {
                KeyFileError::Empty => anyhow::anyhow!(
                    "the SEN2 key file {} is empty (left by a failed creation?): if no return was imported \
                     with it, delete it and import again (a new key is made); otherwise restore the key from \
                     its backup",
                    path.display()
                ),
                KeyFileError::Short(e) => anyhow::anyhow!("SEN2 key file {}: {e}", path.display()),
            })?;
            Ok(Key {
                keyer,
                path: path.to_path_buf(),
                unsaved: None,
                warning,
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
                warning: None,
            })
        }
        Err(e) => {
            Err(e).with_context(|| format!("could not read the SEN2 key file {}", path.display()))
        }
    }
}

impl Key {
    /// What to tell the user once a new key has been saved.
    pub fn made_note(&self) -> String {
        format!(
            "made a new SEN2 pseudonymisation key: {} (keep it safe and backed up; without it next year's \
             returns cannot be matched to this year's)",
            self.path.display()
        )
    }

    pub fn is_new(&self) -> bool {
        self.unsaved.is_some()
    }

    /// Save a newly made key: a new file (never overwriting one), readable by its owner only. True when a
    /// new key file was written (the caller tells the user to keep it safe).
    pub fn save(&mut self) -> Result<bool> {
        let Some(text) = self.unsaved.take() else {
            return Ok(false);
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
        if let Err(e) = writeln!(f, "{text}").and_then(|()| f.sync_all()) {
            // Leave no empty or partial key file behind: the next import would stop on it.
            drop(f);
            let _ = std::fs::remove_file(&self.path);
            return Err(e).with_context(|| {
                format!("could not write the SEN2 key file {}", self.path.display())
            });
        }
        Ok(true)
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
    key_fingerprint: Option<String>,
) -> Result<(ImportOutcome, Vec<TransitionSummary>)> {
    let (transitions, summaries) = stored_and_new_transitions(db, la, derived).await?;
    let data = Sen2Import {
        key_fingerprint,
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

/// Fewest children at a census for the match-rate check to judge a pair of censuses.
const MATCH_CHECK_MIN_CHILDREN: u64 = 20;

/// Why these returns must not be stored, if they must not: a key other than the one that pseudonymised the LA's
/// stored returns (by the stored fingerprint, or a missing key file), consecutive censuses in which almost nobody
/// matches (the same fault in a database from before fingerprints), or a return with no active plans in place of a stored one.
pub async fn refusal(
    db: &Store,
    la: &LaRef,
    key: &Key,
    derived: &Derived,
    replace_with_empty: bool,
) -> Result<Option<String>> {
    let new: BTreeSet<CensusYear> = derived.censuses.iter().map(|c| c.census_year).collect();
    let stored: Vec<CensusYear> = db
        .sen2_returns(&la.code)
        .await?
        .iter()
        .map(|r| r.census_year)
        .collect();
    let kept: Vec<String> = stored
        .iter()
        .filter(|y| !new.contains(y))
        .map(ToString::to_string)
        .collect();
    if !kept.is_empty() {
        let kept = kept.join(", ");
        let again = format!(
            "If that key is lost for good, import every return again in one command (censuses {kept} and the \
             new ones) with the new key: they replace the stored ones"
        );
        if key.is_new() {
            return Ok(Some(format!(
                "LA {} already has SEN2 returns (censuses {kept}) pseudonymised with a key, but the key file {} \
                 does not exist: restore it from its backup (or give --key-file) so people can be matched \
                 across years. {again}.",
                la.code,
                key.path.display()
            )));
        }
        let fingerprint = db.sen2_key_fingerprint(&la.code).await?;
        if fingerprint.is_some_and(|f| f != key.keyer.fingerprint()) {
            return Ok(Some(format!(
                "the SEN2 key file {} is not the key that pseudonymised LA {}'s stored returns (censuses \
                 {kept}): nobody would match between the years, and every child would become a leaver and a \
                 joiner. Give the LA's own key file with --key-file. {again}.",
                key.path.display(),
                la.code
            )));
        }
    }
    for s in transition_summaries(db, la, derived).await? {
        let Some(from) = s.from_census else { continue };
        if !new.contains(&from) && !new.contains(&from.next()) {
            continue;
        }
        let before = s.stayers + s.movers + s.leavers;
        let matched = s.stayers + s.movers;
        if before >= MATCH_CHECK_MIN_CHILDREN && matched * 5 < before {
            return Ok(Some(format!(
                "only {} of the {} children with a plan at census {from} were found at census {} ({:.1}%; \
                 consecutive censuses keep most children, usually 70-90%): the returns were most likely \
                 pseudonymised with different keys, or are not the same LA's. Check --key-file and --la.",
                n(matched),
                n(before),
                from.next(),
                matched as f64 * 100.0 / before as f64
            )));
        }
    }
    if !replace_with_empty {
        let replaced_with_nothing =
            |c: &&Sen2Census| c.plans.is_empty() && stored.contains(&c.census_year);
        if let Some(c) = derived.censuses.iter().find(replaced_with_nothing) {
            return Ok(Some(format!(
                "the return for census {} has no active plans: importing it would replace the stored census \
                 with nothing (give --replace-with-empty if that is meant)",
                c.census_year
            )));
        }
    }
    Ok(None)
}

/// SEN2 transitions use SEN2 need codes and canonical setting codes; an LA whose stored history (a witan.send set)
/// uses its own codes would end up with two codings of the same children. Says which codes differ, if any.
pub fn mixed_coding(history: &highneeds_domain::TransitionHistory) -> Option<String> {
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
    // Opening a named pipe would block: only a regular file is sniffed.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
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
