//! Need and setting codes.
//!
//! An LA's own codes work as they are: [`Need`] and [`Setting`] hold whatever code the LA uses (witan.send's demo
//! uses needs `T`-`Y` and settings `A`-`S`). The SEN2 need list ([`Sen2Need`]) and the canonical setting set
//! ([`CanonicalSetting`]) are used for reports and benchmarking; a [`SettingMap`] (data, not code) maps source
//! labels onto canonical settings and an LA may override it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::DomainError;

/// The code witan.send files use on the absent side of a joiner or leaver.
pub const NONSEND: &str = "NONSEND";

/// Longest code we accept (an LA code, not free text).
const MAX_CODE_LEN: usize = 40;

fn parse_code(s: &str, what: &'static str) -> Result<Arc<str>, DomainError> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.len() <= MAX_CODE_LEN
        && t.chars()
            .all(|c| c.is_alphanumeric() || "_-/&+. ".contains(c))
        && !t.eq_ignore_ascii_case(NONSEND);
    if ok {
        Ok(Arc::from(t))
    } else {
        Err(DomainError::Invalid {
            what,
            value: s.to_string(),
            expected: "a code of 1-40 letters, digits, spaces or _-/&+. (not NONSEND)",
        })
    }
}

macro_rules! la_code {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Eq, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state);
            }
        }

        impl PartialEq for $name {
            /// Codes are interned when read, so most comparisons are of the same allocation: check that first.
            fn eq(&self, other: &Self) -> bool {
                Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_code(s, $what).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

la_code!(
    /// A primary need as the LA codes it (SEN2 codes such as `ASD`, or any code of the LA's own).
    Need,
    "need"
);
la_code!(
    /// A setting (placement) as the LA codes it (a canonical code such as `special_maintained`, or its own).
    Setting,
    "setting"
);

impl Need {
    /// The SEN2 primary need this code names, if it is one.
    pub fn sen2(&self) -> Option<Sen2Need> {
        self.as_str().parse().ok()
    }
}

/// SEN2 primary need codes (plus NSA and UNKNOWN; DS appears in recent SEN2 guides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sen2Need {
    Asd,
    Hi,
    Mld,
    Msi,
    Oth,
    Pd,
    Pmld,
    Semh,
    Slcn,
    Sld,
    Spld,
    Vi,
    Ds,
    Nsa,
    Unknown,
}

impl Sen2Need {
    pub const ALL: [Sen2Need; 15] = [
        Sen2Need::Asd,
        Sen2Need::Hi,
        Sen2Need::Mld,
        Sen2Need::Msi,
        Sen2Need::Oth,
        Sen2Need::Pd,
        Sen2Need::Pmld,
        Sen2Need::Semh,
        Sen2Need::Slcn,
        Sen2Need::Sld,
        Sen2Need::Spld,
        Sen2Need::Vi,
        Sen2Need::Ds,
        Sen2Need::Nsa,
        Sen2Need::Unknown,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Asd => "ASD",
            Self::Hi => "HI",
            Self::Mld => "MLD",
            Self::Msi => "MSI",
            Self::Oth => "OTH",
            Self::Pd => "PD",
            Self::Pmld => "PMLD",
            Self::Semh => "SEMH",
            Self::Slcn => "SLCN",
            Self::Sld => "SLD",
            Self::Spld => "SPLD",
            Self::Vi => "VI",
            Self::Ds => "DS",
            Self::Nsa => "NSA",
            Self::Unknown => "UNKNOWN",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Asd => "autistic spectrum disorder",
            Self::Hi => "hearing impairment",
            Self::Mld => "moderate learning difficulty",
            Self::Msi => "multi-sensory impairment",
            Self::Oth => "other difficulty or disability",
            Self::Pd => "physical disability",
            Self::Pmld => "profound and multiple learning difficulty",
            Self::Semh => "social, emotional and mental health",
            Self::Slcn => "speech, language and communication needs",
            Self::Sld => "severe learning difficulty",
            Self::Spld => "specific learning difficulty",
            Self::Vi => "visual impairment",
            Self::Ds => "Down syndrome",
            Self::Nsa => "SEN support but no specialist assessment of type of need",
            Self::Unknown => "unknown",
        }
    }
}

impl FromStr for Sen2Need {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|n| n.code().eq_ignore_ascii_case(t))
            .ok_or_else(|| DomainError::Invalid {
                what: "SEN2 primary need",
                value: s.to_string(),
                expected: "one of ASD HI MLD MSI OTH PD PMLD SEMH SLCN SLD SPLD VI DS NSA UNKNOWN",
            })
    }
}

impl fmt::Display for Sen2Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The canonical settings (DESIGN.md §3). Codes match `setting_canonical` in published-statistics files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CanonicalSetting {
    Mainstream,
    MainstreamResourcedProvisionOrUnit,
    SpecialMaintained,
    SpecialAcademyOrFree,
    SpecialIndependentOrNonMaintained,
    AlternativeProvisionPruHospital,
    FurtherEducation,
    SpecialistPost16,
    EarlyYears,
    EotasOrHomeEducation,
    NotInEducationOrEmployment,
    Other,
}

impl CanonicalSetting {
    pub const ALL: [CanonicalSetting; 12] = [
        Self::Mainstream,
        Self::MainstreamResourcedProvisionOrUnit,
        Self::SpecialMaintained,
        Self::SpecialAcademyOrFree,
        Self::SpecialIndependentOrNonMaintained,
        Self::AlternativeProvisionPruHospital,
        Self::FurtherEducation,
        Self::SpecialistPost16,
        Self::EarlyYears,
        Self::EotasOrHomeEducation,
        Self::NotInEducationOrEmployment,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Mainstream => "mainstream",
            Self::MainstreamResourcedProvisionOrUnit => "mainstream_rp_unit",
            Self::SpecialMaintained => "special_maintained",
            Self::SpecialAcademyOrFree => "special_academy_free",
            Self::SpecialIndependentOrNonMaintained => "special_inmss",
            Self::AlternativeProvisionPruHospital => "ap_pru_hospital",
            Self::FurtherEducation => "fe_college",
            Self::SpecialistPost16 => "specialist_post16",
            Self::EarlyYears => "early_years",
            Self::EotasOrHomeEducation => "eotas_ehe",
            Self::NotInEducationOrEmployment => "neet",
            Self::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Mainstream => "mainstream school",
            Self::MainstreamResourcedProvisionOrUnit => "resourced provision / SEN unit",
            Self::SpecialMaintained => "maintained special school",
            Self::SpecialAcademyOrFree => "academy or free special school",
            Self::SpecialIndependentOrNonMaintained => "independent or non-maintained special",
            Self::AlternativeProvisionPruHospital => "alternative provision / PRU / hospital",
            Self::FurtherEducation => "further education college",
            Self::SpecialistPost16 => "specialist post-16 institution",
            Self::EarlyYears => "early years",
            Self::EotasOrHomeEducation => "EOTAS / elective home education",
            Self::NotInEducationOrEmployment => "not in education, employment or training",
            Self::Other => "other",
        }
    }

    /// Specialist placements: maintained, academy/free and independent special schools, and specialist post-16.
    pub fn is_specialist(self) -> bool {
        matches!(
            self,
            Self::SpecialMaintained
                | Self::SpecialAcademyOrFree
                | Self::SpecialIndependentOrNonMaintained
                | Self::SpecialistPost16
        )
    }
}

impl FromStr for CanonicalSetting {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(t))
            .ok_or_else(|| DomainError::Invalid {
                what: "canonical setting",
                value: s.to_string(),
                expected: "one of mainstream mainstream_rp_unit special_maintained special_academy_free special_inmss ap_pru_hospital fe_college specialist_post16 early_years eotas_ehe neet other",
            })
    }
}

impl fmt::Display for CanonicalSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The mapping shipped with the program: canonical codes, published-statistics establishment types and SEN2
/// setting codes. Columns `source,label,setting`; `#` lines are comments.
pub const DEFAULT_SETTING_MAP: &str = include_str!("../data/setting-map.csv");

/// Which vocabulary a source label comes from (`canonical`, `published`, `sen2_setting`, `la`, …).
pub type SettingSource = String;

/// Source label → canonical setting, loaded from text (the shipped default, optionally overlaid by an LA's own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingMap {
    entries: BTreeMap<(SettingSource, String), CanonicalSetting>,
}

/// A line of a setting-map file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SettingMapError {
    pub line: usize,
    pub message: String,
}

impl SettingMap {
    /// The mapping shipped with the program.
    pub fn shipped() -> Self {
        // The shipped file is tested to parse; fall back to empty rather than panic.
        Self::parse(DEFAULT_SETTING_MAP).unwrap_or_default()
    }

    /// Parse `source,label,setting` lines. Labels are matched case-insensitively.
    pub fn parse(text: &str) -> Result<Self, SettingMapError> {
        let mut map = Self::default();
        map.overlay(text)?;
        Ok(map)
    }

    /// Add or replace entries from another file of the same shape (an LA's override).
    pub fn overlay(&mut self, text: &str) -> Result<(), SettingMapError> {
        let mut header_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if !header_seen {
                header_seen = true;
                if t.eq_ignore_ascii_case("source,label,setting") {
                    continue;
                }
                return Err(SettingMapError {
                    line,
                    message: format!("header must be source,label,setting, found {t:?}"),
                });
            }
            let mut parts = t.splitn(3, ',');
            let (Some(source), Some(label), Some(setting)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(SettingMapError {
                    line,
                    message: format!("expected 3 columns source,label,setting in {t:?}"),
                });
            };
            let setting: CanonicalSetting =
                setting.parse().map_err(|e: DomainError| SettingMapError {
                    line,
                    message: e.to_string(),
                })?;
            if source.trim().is_empty() || label.trim().is_empty() {
                return Err(SettingMapError {
                    line,
                    message: "source and label must not be empty".into(),
                });
            }
            self.entries.insert(
                (
                    source.trim().to_ascii_lowercase(),
                    label.trim().to_lowercase(),
                ),
                setting,
            );
        }
        Ok(())
    }

    /// The canonical setting for a label from a given source.
    pub fn lookup(&self, source: &str, label: &str) -> Option<CanonicalSetting> {
        self.entries
            .get(&(source.to_ascii_lowercase(), label.trim().to_lowercase()))
            .copied()
    }

    /// The canonical setting for an LA's setting code: its own `la` entries first, then canonical codes.
    pub fn canonical_for(&self, setting: &Setting) -> Option<CanonicalSetting> {
        self.lookup("la", setting.as_str())
            .or_else(|| self.lookup("canonical", setting.as_str()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Every `(source, label, setting)` entry, sorted.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, CanonicalSetting)> {
        self.entries
            .iter()
            .map(|((s, l), c)| (s.as_str(), l.as_str(), *c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn la_codes_kept_as_given() {
        let n: Need = " T ".parse().unwrap();
        assert_eq!(n.as_str(), "T");
        assert_eq!(n.sen2(), None);
        let asd: Need = "asd".parse().unwrap();
        assert_eq!(asd.sen2(), Some(Sen2Need::Asd));
        assert_eq!(asd.as_str(), "asd");
        assert!("".parse::<Need>().is_err());
        assert!("NONSEND".parse::<Setting>().is_err());
        assert!("a,b".parse::<Setting>().is_err());
        assert!("x".repeat(41).parse::<Setting>().is_err());
    }

    #[test]
    fn shipped_map_parses_and_covers_every_canonical_code() {
        let map = SettingMap::parse(DEFAULT_SETTING_MAP).unwrap();
        for c in CanonicalSetting::ALL {
            assert_eq!(map.lookup("canonical", c.code()), Some(c));
        }
        assert_eq!(
            map.lookup("published", "Special - Independent"),
            Some(CanonicalSetting::SpecialIndependentOrNonMaintained)
        );
        assert_eq!(
            map.lookup("sen2_setting", "EHE"),
            Some(CanonicalSetting::EotasOrHomeEducation)
        );
        assert_eq!(SettingMap::shipped(), map);
    }

    #[test]
    fn la_override_wins() {
        let mut map = SettingMap::shipped();
        map.overlay("source,label,setting\nla,B,mainstream\nla,mainstream,other\n")
            .unwrap();
        assert_eq!(
            map.canonical_for(&"B".parse().unwrap()),
            Some(CanonicalSetting::Mainstream)
        );
        assert_eq!(
            map.canonical_for(&"mainstream".parse().unwrap()),
            Some(CanonicalSetting::Other)
        );
        assert_eq!(map.canonical_for(&"Z".parse().unwrap()), None);
    }

    #[test]
    fn bad_map_lines_are_named() {
        let e = SettingMap::parse("source,label,setting\nla,B,nowhere\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("nowhere"));
        assert_eq!(SettingMap::parse("a,b\n").unwrap_err().line, 1);
        assert_eq!(
            SettingMap::parse("source,label,setting\nla,B\n")
                .unwrap_err()
                .line,
            2
        );
    }
}
