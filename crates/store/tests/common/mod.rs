//! Shared test helpers: deterministic synthetic data and a full dump of the database.
#![allow(dead_code)]

use std::path::Path;

use highneeds_domain::{
    BudgetKind, BudgetLine, CensusRecord, CensusYear, ChildId, FinancialYear, Ncy, Pence,
    PlanHistory, PopulationCount, State, Transition, TransitionHistory, UnitCost, Urn,
    ValidSetting,
};
use highneeds_store::{ImportedFile, LaRef};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Row, TypeInfo, ValueRef};

/// A small deterministic generator (64-bit LCG), so tests need no RNG crate.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(
            seed.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        )
    }
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

pub const NEEDS: [&str; 6] = ["T", "U", "V", "W", "X", "Y"];
pub const SETTINGS: [&str; 8] = [
    "A",
    "B",
    "C",
    "D",
    "mainstream",
    "special_maintained",
    "FE college",
    "I&S",
];

pub fn la(code: &str, name: &str) -> LaRef {
    LaRef {
        code: code.into(),
        name: name.into(),
    }
}

pub fn hash(seed: u64) -> String {
    let mut g = Lcg::new(seed);
    (0..64)
        .map(|_| char::from_digit(g.next(16) as u32, 16).unwrap())
        .collect()
}

pub fn file(kind: &str, name: &str, seed: u64, rows: u64) -> ImportedFile {
    ImportedFile {
        kind: kind.into(),
        file_name: name.into(),
        sha256: hash(seed),
        rows,
    }
}

/// The four witan files of a set, hashes derived from `seed`.
pub fn witan_files(seed: u64, h: &TransitionHistory) -> Vec<ImportedFile> {
    vec![
        file("witan", "transitions.csv", seed, h.transitions.len() as u64),
        file(
            "witan",
            "population.csv",
            seed + 1,
            h.population.len() as u64,
        ),
        file("witan", "costs.csv", seed + 2, h.costs.len() as u64),
        file(
            "witan",
            "valid-states.csv",
            seed + 3,
            h.valid_states.len() as u64,
        ),
    ]
}

fn state(g: &mut Lcg, ncy: i32) -> State {
    State {
        ncy: Ncy::new(ncy).unwrap(),
        need: NEEDS[g.next(NEEDS.len() as u64) as usize].parse().unwrap(),
        setting: SETTINGS[g.next(SETTINGS.len() as u64) as usize]
            .parse()
            .unwrap(),
    }
}

/// A history with `n` transitions and full population, costs and valid-states tables.
pub fn history(n: usize, seed: u64) -> TransitionHistory {
    let mut g = Lcg::new(seed);
    let transitions = (0..n)
        .map(|_| {
            let from_census = CensusYear::new(2015 + g.next(8) as i32).unwrap();
            let ncy = g.next(25) as i32 - 5;
            let before = state(&mut g, ncy);
            let mut after = before.clone();
            after.ncy = Ncy::new(ncy + 1).unwrap();
            match g.next(10) {
                0 => Transition {
                    from_census,
                    before: None,
                    after: Some(after),
                },
                1 => Transition {
                    from_census,
                    before: Some(before),
                    after: None,
                },
                2 => {
                    let moved = state(&mut g, ncy + 1);
                    Transition {
                        from_census,
                        before: Some(before),
                        after: Some(moved),
                    }
                }
                _ => Transition {
                    from_census,
                    before: Some(before),
                    after: Some(after),
                },
            }
        })
        .collect();
    let population = (2015..2030)
        .flat_map(|y| Ncy::all().map(move |ncy| (y, ncy)))
        .map(|(y, ncy)| PopulationCount {
            census_year: CensusYear::new(y).unwrap(),
            ncy,
            population: 3_000 + g.next(1_000),
        })
        .collect();
    let costs = NEEDS
        .iter()
        .flat_map(|n| SETTINGS.iter().map(move |s| (n, s)))
        .map(|(n, s)| UnitCost {
            need: n.parse().unwrap(),
            setting: s.parse().unwrap(),
            annual: Pence::new(1_000_000 + g.next(5_000_000) as i64),
            age_group: None,
            place_funding: None,
        })
        .collect();
    let valid_states = SETTINGS
        .iter()
        .enumerate()
        .map(|(i, s)| ValidSetting {
            setting: s.parse().unwrap(),
            group: if i % 2 == 0 {
                "mainstream group".into()
            } else {
                String::new()
            },
            min_ncy: Ncy::new(-5 + i as i32).unwrap(),
            max_ncy: Ncy::new(20 - i as i32).unwrap(),
            needs: NEEDS[..(i % NEEDS.len())]
                .iter()
                .map(|n| n.parse().unwrap())
                .collect(),
            moves_to: SETTINGS[i..].iter().map(|n| n.parse().unwrap()).collect(),
        })
        .collect();
    TransitionHistory {
        transitions,
        population,
        costs,
        valid_states,
    }
}

/// `children` plan histories of 1-5 consecutive censuses each, ids `{prefix}{i:05}` (sorted by id).
pub fn plans(children: usize, prefix: &str, seed: u64) -> Vec<PlanHistory> {
    let mut g = Lcg::new(seed);
    (0..children)
        .map(|i| {
            let first = 2016 + g.next(5) as i32;
            let len = 1 + g.next(5) as i32;
            let ncy0 = g.next(15) as i32 - 3;
            let records = (0..len)
                .map(|k| CensusRecord {
                    census_year: CensusYear::new(first + k).unwrap(),
                    state: state(&mut g, ncy0 + k),
                    urn: match g.next(3) {
                        0 => None,
                        1 => Some(Urn::parse("012345").unwrap()),
                        _ => Some(Urn::parse(&format!("{}", 100_000 + g.next(899_999))).unwrap()),
                    },
                })
                .collect();
            PlanHistory::new(ChildId::parse(&format!("{prefix}{i:05}")).unwrap(), records).unwrap()
        })
        .collect()
}

/// Budget lines for FYs 2021-22..2025-26, in the store's load order.
pub fn budget(seed: u64) -> Vec<BudgetLine> {
    let mut g = Lcg::new(seed);
    let mut lines = Vec::new();
    for fy in 2021..2026 {
        let financial_year = FinancialYear::starting(fy).unwrap();
        let mut add = |kind: BudgetKind, line: &str, amount: i64| {
            lines.push(BudgetLine {
                financial_year,
                kind,
                line: line.into(),
                amount: Pence::new(amount),
            })
        };
        if fy == 2021 {
            add(BudgetKind::OpeningBalance, "", -952_851_600);
        }
        add(
            BudgetKind::Allocation,
            "",
            2_948_831_300 + g.next(100_000_000) as i64,
        );
        add(
            BudgetKind::BlockTransfer,
            "Schools Block transfer",
            50_000_000,
        );
        add(BudgetKind::Deduction, "Academy recoupment", 120_000_000);
        add(
            BudgetKind::Expenditure,
            "Top-up: independent special",
            900_000_000 + g.next(1_000) as i64,
        );
        add(
            BudgetKind::Expenditure,
            "Top-up: maintained special",
            700_000_000,
        );
        add(BudgetKind::TotalDsg, "", 20_000_000_000);
    }
    lines.sort_by(|a, b| {
        (a.financial_year, a.kind, &a.line).cmp(&(b.financial_year, b.kind, &b.line))
    });
    lines
}

/// Every table of the database (schema and rows), as text: equal dumps mean equal databases.
pub async fn dump(path: &Path) -> String {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path).read_only(true))
        .await
        .unwrap();
    let mut out = String::new();
    let schema =
        sqlx::query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut tables = Vec::new();
    for row in &schema {
        let (kind, name, sql): (String, String, Option<String>) =
            (row.get(0), row.get(1), row.get(3));
        out.push_str(&format!("{kind} {name}: {}\n", sql.unwrap_or_default()));
        if kind == "table" {
            tables.push(name);
        }
    }
    for table in tables {
        out.push_str(&format!("-- {table}\n"));
        let sql = format!("SELECT * FROM \"{table}\" ORDER BY rowid");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&pool)
            .await
            .unwrap();
        for row in &rows {
            let mut cells = Vec::new();
            for i in 0..row.len() {
                let raw = row.try_get_raw(i).unwrap();
                let cell = if raw.is_null() {
                    "NULL".to_string()
                } else {
                    match raw.type_info().name() {
                        "INTEGER" => row.get::<i64, _>(i).to_string(),
                        "REAL" => row.get::<f64, _>(i).to_string(),
                        "BLOB" => format!("{:?}", row.get::<Vec<u8>, _>(i)),
                        _ => format!("{:?}", row.get::<String, _>(i)),
                    }
                };
                cells.push(cell);
            }
            out.push_str(&cells.join("|"));
            out.push('\n');
        }
    }
    pool.close().await;
    out
}

/// `sqlite3 FILE .dump`, when the sqlite3 program is installed (the external check uses it).
pub fn sqlite3_dump(path: &Path) -> Option<String> {
    let out = std::process::Command::new("sqlite3")
        .arg(path)
        .arg(".dump")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
