//! Writers: the exact inverses of the readers, each writing a whole file atomically (temp file, then rename).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use highneeds_domain::{BudgetLine, Pence, PlanHistory, State, TransitionHistory, NONSEND};

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A text cell of an export, formula-like text neutralised ([`crate::table::neutralise_formula`]).
fn text(s: &str) -> String {
    crate::table::neutralise_formula(s).into_owned()
}

/// Write a file by writing a temp file beside it and renaming it into place: a reader never sees half a file,
/// and a failure leaves no temp file behind. Every writer in this crate (CSV and SEN2 XML) goes through here.
pub(crate) fn write_file_atomically(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| invalid(format!("{} is not a file path", path.display())))?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        // Exports hold person-level data: readable by their owner only, like the database and the key file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&tmp)?;
        {
            let mut w = BufWriter::with_capacity(256 * 1024, &file);
            fill(&mut w)?;
            w.flush()?;
        }
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Write `bytes` to a new file at `path` (readable by its owner only on Unix), through a temp file beside it:
/// a reader never sees half a file and a failure leaves nothing behind. An existing file is refused
/// (`AlreadyExists`, checked again at the last moment by linking rather than renaming) unless `replace`.
pub fn write_new_file(path: &Path, bytes: &[u8], replace: bool) -> io::Result<()> {
    let exists = || {
        io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists (nothing was written)", path.display()),
        )
    };
    if !replace && fs::symlink_metadata(path).is_ok() {
        return Err(exists());
    }
    if replace {
        return write_file_atomically(path, |w| w.write_all(bytes));
    }
    // Written under a temp name, then linked to `path`, which fails if something appeared there meanwhile.
    let staging = path.with_file_name(format!(
        ".{}.{}.{}.new",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    write_file_atomically(&staging, |w| w.write_all(bytes))?;
    let linked = match fs::hard_link(&staging, path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists()),
        // A file system without hard links (FAT, some network shares): the check above stands.
        Err(_) if fs::symlink_metadata(path).is_err() => fs::rename(&staging, path),
        other => other,
    };
    let _ = fs::remove_file(&staging);
    linked
}

/// A CSV file written atomically (`\n` line ends).
fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut csv::Writer<&mut BufWriter<&File>>) -> io::Result<()>,
) -> io::Result<()> {
    write_file_atomically(path, |out| {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        fill(&mut w)?;
        w.flush()
    })
}

/// Pounds as witan.send writes them: `1000.0`, `1234.5`, `1234.56`.
pub fn pounds_text(p: Pence) -> String {
    let v = i128::from(p.pence());
    let sign = if v < 0 { "-" } else { "" };
    let (pounds, pence) = (v.abs() / 100, v.abs() % 100);
    if pence % 10 == 0 {
        format!("{sign}{pounds}.{}", pence / 10)
    } else {
        format!("{sign}{pounds}.{pence:02}")
    }
}

/// Pounds with two decimal places: `1234.50`.
fn pounds_2dp(p: Pence) -> String {
    let v = i128::from(p.pence());
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", v.abs() / 100, v.abs() % 100)
}

fn side(state: Option<&State>, other: Option<&State>, offset: i32) -> io::Result<[String; 3]> {
    match (state, other) {
        (Some(s), _) => Ok([s.setting.to_string(), s.need.to_string(), s.ncy.to_string()]),
        (None, Some(o)) => Ok([
            NONSEND.into(),
            NONSEND.into(),
            (o.ncy.value() + offset).to_string(),
        ]),
        (None, None) => Err(invalid(
            "a transition with no plan on either side cannot be written",
        )),
    }
}

/// Write witan.send's four files (`transitions.csv`, `population.csv`, `costs.csv`, `valid-states.csv`) into
/// `dir`, in witan.send's column order. Each file is replaced atomically.
pub fn write_witan_dir(history: &TransitionHistory, dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    write_atomic(&dir.join("transitions.csv"), |w| {
        w.write_record(crate::witan::TRANSITION_COLUMNS)
            .map_err(csv_err)?;
        for t in &history.transitions {
            let [s1, n1, a1] = side(t.before.as_ref(), t.after.as_ref(), -1)?;
            let [s2, n2, a2] = side(t.after.as_ref(), t.before.as_ref(), 1)?;
            w.write_record([
                t.from_census.to_string(),
                text(&s1),
                text(&n1),
                a1,
                text(&s2),
                text(&n2),
                a2,
            ])
            .map_err(csv_err)?;
        }
        Ok(())
    })?;
    write_atomic(&dir.join("population.csv"), |w| {
        w.write_record(crate::witan::POPULATION_COLUMNS)
            .map_err(csv_err)?;
        for p in &history.population {
            w.write_record([
                p.census_year.to_string(),
                p.ncy.to_string(),
                p.population.to_string(),
            ])
            .map_err(csv_err)?;
        }
        Ok(())
    })?;
    // witan.send's three columns, plus age group and the place-funding / top-up split only when some row has them.
    let by_age = history.costs.iter().any(|c| c.age_group.is_some());
    let split = history.costs.iter().any(|c| c.place_funding.is_some());
    write_atomic(&dir.join("costs.csv"), |w| {
        let columns = crate::witan::COST_COLUMNS;
        let mut header = columns[..3].to_vec();
        if by_age {
            header.push(columns[3]);
        }
        if split {
            header.extend(&columns[4..]);
        }
        w.write_record(&header).map_err(csv_err)?;
        for c in &history.costs {
            let mut record = vec![
                text(c.need.as_str()),
                text(c.setting.as_str()),
                pounds_text(c.annual),
            ];
            if by_age {
                record.push(c.age_group.map_or(String::new(), |g| g.code().to_string()));
            }
            if split {
                record.push(c.place_funding.map_or(String::new(), pounds_text));
                record.push(c.top_up().map_or(String::new(), pounds_text));
            }
            w.write_record(&record).map_err(csv_err)?;
        }
        Ok(())
    })?;
    write_atomic(&dir.join("valid-states.csv"), |w| {
        w.write_record(crate::witan::VALID_STATE_COLUMNS)
            .map_err(csv_err)?;
        for v in &history.valid_states {
            let needs: Vec<&str> = v.needs.iter().map(|n| n.as_str()).collect();
            let moves: Vec<&str> = v.moves_to.iter().map(|s| s.as_str()).collect();
            w.write_record([
                text(v.setting.as_str()),
                text(&v.group),
                v.min_ncy.to_string(),
                v.max_ncy.to_string(),
                text(&needs.join(",")),
                text(&moves.join(",")),
            ])
            .map_err(csv_err)?;
        }
        Ok(())
    })
}

/// Write `plans.csv`: one row per child per census, children in the given order.
pub fn write_plans(histories: &[PlanHistory], path: &Path) -> io::Result<()> {
    write_atomic(path, |w| {
        w.write_record(crate::plans::PLAN_COLUMNS)
            .map_err(csv_err)?;
        for h in histories {
            for r in h.records() {
                let urn = r
                    .urn
                    .map(|u| format!("{:06}", u.value()))
                    .unwrap_or_default();
                w.write_record([
                    text(h.child.as_str()),
                    r.census_year.to_string(),
                    r.state.ncy.to_string(),
                    text(r.state.need.as_str()),
                    text(r.state.setting.as_str()),
                    urn,
                ])
                .map_err(csv_err)?;
            }
        }
        Ok(())
    })
}

/// Write `hnb-budget.csv` (`financial_year,kind,line,amount`, amounts in pounds to 2 d.p.).
pub fn write_budget(lines: &[BudgetLine], path: &Path) -> io::Result<()> {
    write_atomic(path, |w| {
        w.write_record(["financial_year", "kind", "line", "amount"])
            .map_err(csv_err)?;
        for l in lines {
            w.write_record([
                l.financial_year.to_string(),
                l.kind.to_string(),
                text(&l.line),
                pounds_2dp(l.amount),
            ])
            .map_err(csv_err)?;
        }
        Ok(())
    })
}
