//! Writing SEN2 returns (2025 layout) and a GIAS-shaped establishment register: the inverses of the readers,
//! used for synthetic returns (demo, tests, benchmarks). Each file is written atomically (temp file, rename).

use std::io::{self, Write};
use std::path::Path;

use chrono::NaiveDate;
use highneeds_domain::sen2::{
    Establishment, IdentifiedPerson, IdentifiedReturn, Place, Placement, Request, Sex,
};

fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    crate::write::write_file_atomically(path, |w| fill(w))
}

/// Text escaped for XML element content.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn el(w: &mut dyn Write, indent: usize, name: &str, value: &str) -> io::Result<()> {
    writeln!(w, "{:indent$}<{name}>{}</{name}>", "", esc(value))
}

fn el_date(w: &mut dyn Write, indent: usize, name: &str, d: Option<NaiveDate>) -> io::Result<()> {
    match d {
        Some(d) => el(w, indent, name, &date(d)),
        None => Ok(()),
    }
}

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

fn place(w: &mut dyn Write, indent: usize, p: &Placement) -> io::Result<()> {
    match p.place {
        Some(Place::Urn(u)) => el(w, indent, "URN", &format!("{u:06}"))?,
        Some(Place::Ukprn(u)) => el(w, indent, "UKPRN", &format!("{u:08}"))?,
        Some(Place::Setting(s)) => el(w, indent, "SENSetting", s.code())?,
        None => {}
    }
    el(w, indent, "PlacementRank", &p.rank.to_string())
}

fn request(w: &mut dyn Write, r: &Request) -> io::Result<()> {
    writeln!(w, "      <Requests>")?;
    el_date(w, 8, "ReceivedDate", r.received)?;
    el_date(w, 8, "RequestOutcomeDate", r.outcome_date)?;
    if let Some(o) = r.outcome {
        el(w, 8, "RequestOutcome", o.code())?;
    }
    if let Some(e) = &r.exported_to {
        el(w, 8, "Exported", e)?;
    }
    if let Some(a) = &r.assessment {
        writeln!(w, "        <Assessment>")?;
        if let Some(o) = a.outcome {
            el(w, 10, "AssessmentOutcome", o.code())?;
        }
        el_date(w, 10, "AssessmentOutcomeDate", a.outcome_date)?;
        el(w, 10, "Week20", flag(a.week20_exception))?;
        if let Some(p) = &a.named_plan {
            writeln!(w, "          <NamedPlan>")?;
            el_date(w, 12, "StartDate", p.start)?;
            // The plan's named setting: the current placement, if there is one.
            if let Some(first) = r.active_plan.as_ref().and_then(|a| a.placements.first()) {
                writeln!(w, "            <PlanDetail>")?;
                place(w, 14, first)?;
                el(w, 14, "SENunitIndicator", flag(first.sen_unit))?;
                el(
                    w,
                    14,
                    "ResourcedProvisionIndicator",
                    flag(first.resourced_provision),
                )?;
                writeln!(w, "            </PlanDetail>")?;
            }
            el_date(w, 12, "CeaseDate", p.cease_date)?;
            if let Some(c) = p.cease_reason {
                el(w, 12, "CeaseReason", &c.code().to_string())?;
            }
            writeln!(w, "          </NamedPlan>")?;
        }
        writeln!(w, "        </Assessment>")?;
    }
    if let Some(a) = &r.active_plan {
        writeln!(w, "        <ActivePlans>")?;
        if let Some(t) = &a.transferred_from {
            el(w, 10, "TransferLA", t)?;
        }
        for p in &a.placements {
            writeln!(w, "          <PlacementDetail>")?;
            place(w, 12, p)?;
            el_date(w, 12, "EntryDate", p.entry)?;
            el_date(w, 12, "LeavingDate", p.leaving)?;
            el(w, 12, "SENunitIndicator", flag(p.sen_unit))?;
            el(
                w,
                12,
                "ResourcedProvisionIndicator",
                flag(p.resourced_provision),
            )?;
            writeln!(w, "          </PlacementDetail>")?;
        }
        for (need, rank) in &a.needs {
            writeln!(
                w,
                "          <SENneed><SENtype>{}</SENtype><SENtypeRank>{rank}</SENtypeRank></SENneed>",
                need.code()
            )?;
        }
        writeln!(w, "        </ActivePlans>")?;
    }
    writeln!(w, "      </Requests>")
}

fn person(w: &mut dyn Write, p: &IdentifiedPerson) -> io::Result<()> {
    writeln!(w, "    <Person>")?;
    el(w, 6, "Surname", &p.surname)?;
    el(w, 6, "Forename", &p.forename)?;
    el(w, 6, "PersonBirthDate", &date(p.date_of_birth))?;
    let sex = match p.sex {
        Sex::Male => "M",
        Sex::Female => "F",
        Sex::Unknown => "U",
    };
    el(w, 6, "Sex", sex)?;
    match &p.upn {
        Some(u) => el(w, 6, "UPN", u)?,
        None => el(w, 6, "UPNunknown", "UN1")?,
    }
    for r in &p.requests {
        request(w, r)?;
    }
    writeln!(w, "    </Person>")
}

/// Write a whole return as XML (2025 layout) to any writer.
pub fn write_sen2_to(ret: &IdentifiedReturn, w: &mut dyn Write) -> io::Result<()> {
    let h = &ret.header;
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(w, "<Message>")?;
    writeln!(w, "  <Header>")?;
    writeln!(
        w,
        "    <CollectionDetails><Collection>SEN2</Collection><Year>{}</Year><ReferenceDate>{}</ReferenceDate></CollectionDetails>",
        h.census_year,
        date(h.reference_date)
    )?;
    writeln!(w, "    <Source>")?;
    el(w, 6, "SourceLevel", "L")?;
    if let Some(lea) = &h.lea {
        el(w, 6, "LEA", lea)?;
    }
    el(w, 6, "SoftwareCode", "HIGHNEEDS-SYNTH")?;
    el(w, 6, "Release", env!("CARGO_PKG_VERSION"))?;
    el(w, 6, "SerialNo", "001")?;
    el(
        w,
        6,
        "DateTime",
        &format!("{}T09:00:00", date(h.reference_date)),
    )?;
    writeln!(w, "    </Source>")?;
    writeln!(w, "  </Header>")?;
    writeln!(w, "  <Persons>")?;
    for p in &ret.persons {
        person(w, p)?;
    }
    writeln!(w, "  </Persons>")?;
    writeln!(w, "</Message>")
}

/// Write a return to a file, atomically.
pub fn write_sen2(ret: &IdentifiedReturn, path: &Path) -> io::Result<()> {
    write_atomic(path, |w| write_sen2_to(ret, w))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Write a register in the GIAS all-establishments layout (the columns the reader uses, plus
/// `EstablishmentName`).
pub fn write_establishments(
    establishments: &[(u32, String, Establishment)],
    path: &Path,
) -> io::Result<()> {
    write_atomic(path, |w| {
        writeln!(
            w,
            "URN,EstablishmentName,TypeOfEstablishment (name),EstablishmentTypeGroup (name),PhaseOfEducation (name),UKPRN"
        )?;
        for (urn, name, e) in establishments {
            writeln!(
                w,
                "{urn:06},{},{},{},{},",
                csv_field(name),
                csv_field(&e.type_name),
                csv_field(&e.type_group),
                csv_field(&e.phase)
            )?;
        }
        Ok(())
    })
}
