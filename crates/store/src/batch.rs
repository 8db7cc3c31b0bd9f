//! Batched multi-row INSERTs with bound values, chunked to stay under the bind-parameter limits.
//!
//! SQL text here is built only from `'static` fragments and `?` placeholders: values are always bound,
//! never formatted into SQL. Every full chunk uses the same SQL text, so the connection's statement cache
//! prepares it once per import.

use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteConnection};
use sqlx::AssertSqlSafe;

use crate::StoreError;

/// A query being bound.
pub(crate) type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// At most this many bound values in one statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 30_000;
/// At most this many rows in one statement (larger statements stop getting faster).
const MAX_ROWS: usize = 500;

/// One INSERT shape: `head` names the table and columns, `tail` is what follows the VALUES list (e.g. an
/// `ON CONFLICT` clause, or empty).
pub(crate) struct Insert {
    pub head: &'static str,
    pub columns: usize,
    pub tail: &'static str,
}

impl Insert {
    fn rows_per_statement(&self) -> usize {
        (MAX_BINDS / self.columns.max(1)).clamp(1, MAX_ROWS)
    }

    fn sql(&self, rows: usize) -> String {
        let mut tuple = String::with_capacity(2 * self.columns + 2);
        tuple.push('(');
        for i in 0..self.columns {
            if i > 0 {
                tuple.push(',');
            }
            tuple.push('?');
        }
        tuple.push(')');
        let mut sql =
            String::with_capacity(self.head.len() + self.tail.len() + 8 + rows * (tuple.len() + 1));
        sql.push_str(self.head);
        sql.push_str(" VALUES ");
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            sql.push_str(&tuple);
        }
        if !self.tail.is_empty() {
            sql.push(' ');
            sql.push_str(self.tail);
        }
        sql
    }

    /// Insert `rows`, binding each row's `columns` values with `bind`. Returns the number of rows written.
    pub(crate) async fn run<T>(
        &self,
        conn: &mut SqliteConnection,
        rows: &[T],
        mut bind: impl FnMut(Query, &T) -> Result<Query, StoreError>,
    ) -> Result<u64, StoreError> {
        let per = self.rows_per_statement();
        let mut full_sql: Option<String> = None;
        let mut written = 0;
        for chunk in rows.chunks(per) {
            let sql = if chunk.len() == per {
                full_sql.get_or_insert_with(|| self.sql(per)).clone()
            } else {
                self.sql(chunk.len())
            };
            // Only placeholders and static SQL fragments: values are bound below.
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for row in chunk {
                query = bind(query, row)?;
            }
            written += query.execute(&mut *conn).await?.rows_affected();
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_shape() {
        let insert = Insert {
            head: "INSERT INTO t (a, b)",
            columns: 2,
            tail: "ON CONFLICT (a) DO NOTHING",
        };
        assert_eq!(
            insert.sql(3),
            "INSERT INTO t (a, b) VALUES (?,?),(?,?),(?,?) ON CONFLICT (a) DO NOTHING"
        );
        assert_eq!(insert.rows_per_statement(), 500);
        let wide = Insert {
            head: "",
            columns: 100,
            tail: "",
        };
        assert_eq!(wide.rows_per_statement(), 300);
    }
}
