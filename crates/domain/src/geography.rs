//! English local-authority geography: the ONS code of an LA ([`LaCode`]) and the boundary and code changes
//! between 2010 and 2022, so that every current LA has one continuous series.
//!
//! The changes are data ([`BOUNDARY_CHANGES`]), sourced from the DfE release's own rows (see
//! `shared/data/PROVENANCE.md`) and the ONS code history:
//! - Northumberland E06000048 → E06000057 and Gateshead E08000020 → E08000037 (new codes from 2014, same area);
//! - Buckinghamshire county E10000002 → Buckinghamshire unitary E06000060 (2021, same area);
//! - Bournemouth E06000028 + Poole E06000029 + Dorset county E10000009 → Bournemouth, Christchurch and Poole
//!   E06000058 + Dorset E06000059 (2020);
//! - Northamptonshire E10000021 → North Northamptonshire E06000061 + West Northamptonshire E06000062 (2022).
//!
//! **Apportioning rule** ([`continuous_series`]): for each change, the years before the successors first appear
//! (together) in a series get the predecessors' summed value split by each successor's share of the successors'
//! total in that first year. A code change (one predecessor, one successor) is exact (share 1); a merge or split
//! is an estimate and every such value is flagged `apportioned`. Regions are not in the data and are not used.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// The ONS code of England as a whole, as the DfE releases write it.
pub const ENGLAND: &str = "E92000001";

/// The ONS code of an English upper-tier local authority (E06 unitary, E08 metropolitan district, E09 London
/// borough, E10 county) or of England itself (E92000001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LaCode([u8; 9]);

impl LaCode {
    /// England as a whole.
    pub fn england() -> Self {
        Self(*b"E92000001")
    }
    pub fn is_england(&self) -> bool {
        *self == Self::england()
    }
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and 'E' are ever stored (checked in `from_str`).
        std::str::from_utf8(&self.0).unwrap_or("E00000000")
    }
}

impl FromStr for LaCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bytes = t.as_bytes();
        let ok = bytes.len() == 9
            && bytes[0] == b'E'
            && bytes[1..].iter().all(u8::is_ascii_digit)
            && (matches!(&bytes[1..3], b"06" | b"08" | b"09" | b"10") || t == ENGLAND);
        if !ok {
            return Err(DomainError::Invalid {
                what: "LA code",
                value: s.to_string(),
                expected: "an upper-tier LA's ONS code: E06, E08, E09 or E10 then 6 digits (e.g. E06000037), or E92000001 for England",
            });
        }
        let mut code = [0u8; 9];
        code.copy_from_slice(bytes);
        Ok(Self(code))
    }
}

impl fmt::Display for LaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change of LA boundaries or codes: the predecessors' areas became the successors' from `first_year`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundaryChange {
    pub predecessors: &'static [&'static str],
    pub successors: &'static [&'static str],
    /// The first January census (or calendar year of flows) published for the successors.
    pub first_year: i32,
    pub description: &'static str,
}

impl BoundaryChange {
    /// A new code for the same area: nothing is estimated.
    pub fn is_recode(&self) -> bool {
        self.predecessors.len() == 1 && self.successors.len() == 1
    }
}

/// Every change between the 2010 and 2022 censuses (sources in the module documentation).
pub const BOUNDARY_CHANGES: [BoundaryChange; 5] = [
    BoundaryChange {
        predecessors: &["E06000048"],
        successors: &["E06000057"],
        first_year: 2014,
        description: "Northumberland: new ONS code E06000057 (was E06000048)",
    },
    BoundaryChange {
        predecessors: &["E08000020"],
        successors: &["E08000037"],
        first_year: 2014,
        description: "Gateshead: new ONS code E08000037 (was E08000020)",
    },
    BoundaryChange {
        predecessors: &["E10000002"],
        successors: &["E06000060"],
        first_year: 2021,
        description: "Buckinghamshire: county E10000002 became the unitary E06000060",
    },
    BoundaryChange {
        predecessors: &["E06000028", "E06000029", "E10000009"],
        successors: &["E06000058", "E06000059"],
        first_year: 2020,
        description: "Bournemouth, Poole and Dorset county became Bournemouth, Christchurch and Poole (E06000058) and Dorset (E06000059)",
    },
    BoundaryChange {
        predecessors: &["E10000021"],
        successors: &["E06000061", "E06000062"],
        first_year: 2022,
        description: "Northamptonshire became North Northamptonshire (E06000061) and West Northamptonshire (E06000062)",
    },
];

fn code(s: &str) -> LaCode {
    s.parse().unwrap_or_else(|_| LaCode::england())
}

/// The change that ended this LA, if it no longer exists.
pub fn change_ending(la: LaCode) -> Option<&'static BoundaryChange> {
    BOUNDARY_CHANGES
        .iter()
        .find(|c| c.predecessors.iter().any(|p| code(p) == la))
}

/// The change that created this LA, if it is a successor.
pub fn change_creating(la: LaCode) -> Option<&'static BoundaryChange> {
    BOUNDARY_CHANGES
        .iter()
        .find(|c| c.successors.iter().any(|s| code(s) == la))
}

/// A value of a continuous series: as published, or estimated from predecessors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MappedValue {
    pub value: f64,
    /// Estimated by splitting predecessors' figures (a merge or split), not published for this LA.
    pub apportioned: bool,
    /// Taken from the LA's previous code (exact).
    pub recoded: bool,
}

/// A yearly series per LA and key (e.g. an age group), as published: `(la, key, year) → value`.
pub type PublishedSeries<K> = BTreeMap<(LaCode, K, i32), f64>;
/// The same on current boundaries.
pub type ContinuousSeries<K> = BTreeMap<(LaCode, K, i32), MappedValue>;

/// Put a published series on current (latest) boundaries with the apportioning rule of the module
/// documentation. Predecessors' rows are removed; notes say what was mapped (or why a change could not be).
/// England rows pass through unchanged.
pub fn continuous_series<K: Ord + Clone>(
    published: &PublishedSeries<K>,
) -> (ContinuousSeries<K>, Vec<String>) {
    let mut out: ContinuousSeries<K> = published
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                MappedValue {
                    value: *v,
                    apportioned: false,
                    recoded: false,
                },
            )
        })
        .collect();
    let mut notes = Vec::new();
    for change in &BOUNDARY_CHANGES {
        apply_boundary_change(published, change, &mut out, &mut notes);
    }
    (out, notes)
}

/// Map one boundary change: the predecessors' figures before the successors' first published year, split by the
/// successors' shares that year (or carried over under the new code, for a recode), and the predecessors
/// dropped; with notes saying what was estimated and what could not be.
fn apply_boundary_change<K: Ord + Clone>(
    published: &PublishedSeries<K>,
    change: &BoundaryChange,
    out: &mut ContinuousSeries<K>,
    notes: &mut Vec<String>,
) {
    let preds: Vec<LaCode> = change.predecessors.iter().map(|p| code(p)).collect();
    let succs: Vec<LaCode> = change.successors.iter().map(|s| code(s)).collect();
    let pred_years: BTreeSet<i32> = preds
        .iter()
        .flat_map(|p| years_published(published, *p))
        .collect();
    if pred_years.is_empty() {
        return;
    }
    let Some((first_year, shares)) = successor_shares(published, &succs) else {
        // The successors are not in this series: the predecessors stay as published (nothing to map to).
        return;
    };
    // Predecessors' rows summed per (key, year) before the successors' first year.
    // A year where some predecessor has no value is not apportioned (its sum would be too small): noted.
    let mut summed: BTreeMap<(K, i32), (f64, usize)> = BTreeMap::new();
    for ((l, k, y), v) in published {
        if preds.contains(l) && *y < first_year {
            let e = summed.entry((k.clone(), *y)).or_insert((0.0, 0));
            e.0 += v;
            e.1 += 1;
        }
    }
    let incomplete: BTreeSet<i32> = summed
        .iter()
        .filter(|(_, (_, n))| *n < preds.len())
        .map(|((_, y), _)| *y)
        .collect();
    if !incomplete.is_empty() {
        notes.push(format!(
            "{}: not estimated for {} (a predecessor has no figure that year)",
            change
                .successors
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" + "),
            incomplete
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let recode = change.is_recode();
    for ((k, y), (v, n)) in summed {
        if n < preds.len() {
            continue;
        }
        for (s, share) in succs.iter().zip(&shares) {
            out.entry((*s, k.clone(), y)).or_insert(MappedValue {
                value: v * share,
                apportioned: !recode,
                recoded: recode,
            });
        }
    }
    out.retain(|(l, _, _), _| !preds.contains(l));
    let years: Vec<i32> = pred_years.range(..first_year).copied().collect();
    if let (Some(a), Some(b)) = (years.first(), years.last()) {
        notes.push(mapped_years_note(
            change,
            &succs,
            &shares,
            (*a, *b),
            first_year,
        ));
    }
}

/// The years the series publishes for `la`.
fn years_published<K>(published: &PublishedSeries<K>, la: LaCode) -> BTreeSet<i32> {
    published
        .keys()
        .filter(|(l, _, _)| *l == la)
        .map(|(_, _, y)| *y)
        .collect()
}

/// The first year every successor is published, and each one's share of their total that year (equal shares if
/// the total is 0); `None` if they are never all published.
fn successor_shares<K>(
    published: &PublishedSeries<K>,
    succs: &[LaCode],
) -> Option<(i32, Vec<f64>)> {
    let mut succ_years = succs.iter().map(|s| years_published(published, *s));
    let first = succ_years.next()?;
    let common: BTreeSet<i32> =
        succ_years.fold(first, |a, b| a.intersection(&b).copied().collect());
    let first_year = *common.iter().next()?;
    let totals: Vec<f64> = succs
        .iter()
        .map(|s| {
            published
                .iter()
                .filter(|((l, _, y), _)| l == s && *y == first_year)
                .map(|(_, v)| *v)
                .sum()
        })
        .collect();
    let sum: f64 = totals.iter().sum();
    let shares = if sum > 0.0 {
        totals.iter().map(|t| t / sum).collect()
    } else {
        vec![1.0 / succs.len() as f64; succs.len()]
    };
    Some((first_year, shares))
}

/// What was done to the predecessors' years `a`-`b`: taken from the old code, or split by the successors' shares.
fn mapped_years_note(
    change: &BoundaryChange,
    succs: &[LaCode],
    shares: &[f64],
    (a, b): (i32, i32),
    first_year: i32,
) -> String {
    if change.is_recode() {
        format!("{}: {a}-{b} taken from the old code", change.description)
    } else {
        let split: Vec<String> = succs
            .iter()
            .zip(shares)
            .map(|(s, sh)| format!("{s} {:.1}%", sh * 100.0))
            .collect();
        format!(
            "{}: {a}-{b} estimated by splitting the predecessors' figures by the successors' shares in {first_year} ({})",
            change.description,
            split.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la(s: &str) -> LaCode {
        s.parse().unwrap()
    }

    #[test]
    fn codes_parse_and_reject() {
        assert_eq!(la("E06000037").to_string(), "E06000037");
        assert!(la(" E92000001 ").is_england());
        for bad in [
            "E07000001",
            "E0600003",
            "e06000037",
            "E06000O37",
            "",
            "E12000001",
            "E0600003é",
        ] {
            assert!(bad.parse::<LaCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_change_names_valid_codes() {
        for c in &BOUNDARY_CHANGES {
            for s in c.predecessors.iter().chain(c.successors) {
                assert!(s.parse::<LaCode>().is_ok(), "{s}");
            }
        }
        assert_eq!(
            change_ending(la("E10000021")).map(|c| c.first_year),
            Some(2022)
        );
        assert_eq!(
            change_creating(la("E06000059")).map(|c| c.first_year),
            Some(2020)
        );
        assert_eq!(change_ending(la("E06000037")), None);
    }

    #[test]
    fn bcp_and_dorset_split_by_their_2020_shares() {
        // Real headline plans (ehcp_caseload_la_2010_2022.csv): 2019 Bournemouth 1,045, Poole 846, Dorset county
        // 2,392 (sum 4,283); 2020 BCP 2,448 and Dorset 2,534 (sum 4,982).
        // BCP 2019 = 4,283 × 2,448 / 4,982 = 2,104.53; Dorset 2019 = 4,283 × 2,534 / 4,982 = 2,178.47.
        let mut p: PublishedSeries<()> = BTreeMap::new();
        p.insert((la("E06000028"), (), 2019), 1045.0);
        p.insert((la("E06000029"), (), 2019), 846.0);
        p.insert((la("E10000009"), (), 2019), 2392.0);
        p.insert((la("E06000058"), (), 2020), 2448.0);
        p.insert((la("E06000059"), (), 2020), 2534.0);
        let (c, notes) = continuous_series(&p);
        let bcp = c[&(la("E06000058"), (), 2019)];
        let dorset = c[&(la("E06000059"), (), 2019)];
        assert!((bcp.value - 4283.0 * 2448.0 / 4982.0).abs() < 1e-9);
        assert!((bcp.value - 2104.53).abs() < 0.01);
        assert!((dorset.value - 2178.47).abs() < 0.01);
        assert!(bcp.apportioned && !bcp.recoded);
        assert!(!c[&(la("E06000058"), (), 2020)].apportioned);
        assert_eq!(c.len(), 4, "predecessors removed");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("E06000058 49.1%"), "{notes:?}");
    }

    #[test]
    fn a_year_missing_a_predecessor_is_not_estimated() {
        // 2018 lacks Poole: summing Bournemouth and Dorset county alone would understate both successors.
        let mut p: PublishedSeries<()> = BTreeMap::new();
        for (code, v2018, v2019) in [
            ("E06000028", Some(1000.0), 1045.0),
            ("E06000029", None, 846.0),
            ("E10000009", Some(2300.0), 2392.0),
        ] {
            if let Some(v) = v2018 {
                p.insert((la(code), (), 2018), v);
            }
            p.insert((la(code), (), 2019), v2019);
        }
        p.insert((la("E06000058"), (), 2020), 2448.0);
        p.insert((la("E06000059"), (), 2020), 2534.0);
        let (c, notes) = continuous_series(&p);
        assert!(c.contains_key(&(la("E06000058"), (), 2019)));
        assert!(!c.contains_key(&(la("E06000058"), (), 2018)));
        assert!(!c.contains_key(&(la("E06000059"), (), 2018)));
        assert!(
            notes.iter().any(|n| n.contains("not estimated for 2018")),
            "{notes:?}"
        );
    }

    #[test]
    fn a_recode_is_exact_and_keys_are_kept_apart() {
        let mut p: PublishedSeries<u8> = BTreeMap::new();
        p.insert((la("E06000048"), 1, 2013), 1573.0);
        p.insert((la("E06000048"), 2, 2013), 10.0);
        p.insert((la("E06000057"), 1, 2014), 1508.0);
        let (c, _) = continuous_series(&p);
        let v = c[&(la("E06000057"), 1, 2013)];
        assert_eq!(v.value, 1573.0);
        assert!(v.recoded && !v.apportioned);
        assert_eq!(c[&(la("E06000057"), 2, 2013)].value, 10.0);
    }

    proptest::proptest! {
        /// Apportioning never creates or loses plans: each year's total over current LAs is the published total.
        #[test]
        fn totals_are_conserved(n in proptest::collection::vec(0u32..5000, 8)) {
            let codes = ["E10000021", "E06000061", "E06000062", "E06000037"];
            let mut p: PublishedSeries<()> = BTreeMap::new();
            p.insert((la(codes[0]), (), 2020), f64::from(n[0]));
            p.insert((la(codes[0]), (), 2021), f64::from(n[1]));
            p.insert((la(codes[1]), (), 2022), f64::from(n[2]));
            p.insert((la(codes[2]), (), 2022), f64::from(n[3]));
            for (i, y) in [2020, 2021, 2022].into_iter().enumerate() {
                p.insert((la(codes[3]), (), y), f64::from(n[4 + i]));
            }
            let (c, _) = continuous_series(&p);
            for y in [2020, 2021, 2022] {
                let before: f64 = p.iter().filter(|((_, _, yy), _)| *yy == y).map(|(_, v)| v).sum();
                let after: f64 = c.iter().filter(|((_, _, yy), _)| *yy == y).map(|(_, v)| v.value).sum();
                proptest::prop_assert!((before - after).abs() < 1e-6);
            }
        }
    }
}
