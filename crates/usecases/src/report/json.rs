//! A report as JSON: its title, inputs, tables (columns with their kind, rows of values) and notes. Money is
//! integer pence, shares are fractions, missing values `null`, as in every JSON the program writes.

use serde_json::{json, Value};

use super::{Cell, Kind, Report, Table};

fn kind_code(k: Kind) -> String {
    match k {
        Kind::Count => "count".into(),
        Kind::Money | Kind::MoneyMillions | Kind::MoneyPence => "money_pence".into(),
        Kind::Percent => "share".into(),
        Kind::Change => "change".into(),
        Kind::Decimal(n) => format!("decimal{n}"),
        Kind::Year => "year".into(),
        Kind::Text => "text".into(),
    }
}

fn value(c: &Cell) -> Value {
    match c {
        Cell::Missing => Value::Null,
        Cell::Number(x) | Cell::Typed(x, _) => json!(x),
        Cell::Money(p) => json!(p.pence()),
        Cell::Text(s) => json!(s),
    }
}

pub fn table(t: &Table) -> Value {
    json!({
        "sheet": t.sheet,
        "title": t.title,
        "columns": t.columns.iter().map(|c| json!({"name": c.name, "kind": kind_code(c.kind)})).collect::<Vec<_>>(),
        "rows": t.rows.iter().map(|r| r.iter().map(value).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "notes": t.notes,
    })
}

pub fn report(r: &Report) -> Value {
    json!({
        "title": r.title,
        "summary": r.summary,
        "inputs": r.inputs.iter().map(|(l, v)| json!({"label": l, "value": v})).collect::<Vec<_>>(),
        "tables": r.tables.iter().map(table).collect::<Vec<_>>(),
        "notes": r.notes,
    })
}
