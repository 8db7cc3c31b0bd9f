-- highneeds store, schema version 1.
--
-- Portable SQL: this file must run unchanged on SQLite and on PostgreSQL. Only TEXT, INTEGER and BIGINT
-- columns; no AUTOINCREMENT, SERIAL, ROWID tricks, PRAGMAs or date functions. Ids are assigned by the store
-- inside the import's transaction (MAX(id) + 1); primary keys catch two writers racing for the same id.
-- Every data table is keyed by la_code so that several local authorities share one database.

-- One row per local authority that has imported anything.
CREATE TABLE las (
    la_code TEXT NOT NULL PRIMARY KEY,
    la_name TEXT NOT NULL,
    CHECK (length(la_code) BETWEEN 1 AND 20),
    CHECK (length(la_name) >= 1)
);

-- One row per import (one call of import_history / import_plans / import_budget).
-- operation: which data the import replaced or updated ('history', 'plans', 'budget').
-- imported_at: RFC 3339 UTC text written by the store (not by a database function).
CREATE TABLE imports (
    import_id BIGINT NOT NULL PRIMARY KEY,
    la_code TEXT NOT NULL REFERENCES las (la_code),
    operation TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    CHECK (operation IN ('history', 'plans', 'budget'))
);

-- The import log: one row per file of an import.
CREATE TABLE import_files (
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    file_no INTEGER NOT NULL,
    la_code TEXT NOT NULL REFERENCES las (la_code),
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    PRIMARY KEY (import_id, file_no),
    CHECK (length(sha256) = 64),
    CHECK (row_count >= 0)
);
CREATE INDEX import_files_by_hash ON import_files (la_code, kind, sha256);

-- Transitions between consecutive January censuses (witan.send's transitions file).
-- calendar_year is the starting census; the absent side of a joiner (before) or leaver (after) is NULL.
-- seq keeps the order of the imported file.
CREATE TABLE transitions (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    seq BIGINT NOT NULL,
    calendar_year INTEGER NOT NULL,
    ncy_before INTEGER,
    need_before TEXT,
    setting_before TEXT,
    ncy_after INTEGER,
    need_after TEXT,
    setting_after TEXT,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, seq),
    CHECK ((ncy_before IS NULL AND need_before IS NULL AND setting_before IS NULL)
        OR (ncy_before IS NOT NULL AND need_before IS NOT NULL AND setting_before IS NOT NULL)),
    CHECK ((ncy_after IS NULL AND need_after IS NULL AND setting_after IS NULL)
        OR (ncy_after IS NOT NULL AND need_after IS NOT NULL AND setting_after IS NOT NULL)),
    CHECK (ncy_before IS NOT NULL OR ncy_after IS NOT NULL),
    CHECK (ncy_before IS NULL OR ncy_before BETWEEN -5 AND 20),
    CHECK (ncy_after IS NULL OR ncy_after BETWEEN -5 AND 20)
);

-- Resident population by census year and NCY.
CREATE TABLE population (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    seq BIGINT NOT NULL,
    census_year INTEGER NOT NULL,
    ncy INTEGER NOT NULL,
    population BIGINT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, seq),
    UNIQUE (la_code, census_year, ncy),
    CHECK (ncy BETWEEN -5 AND 20),
    CHECK (population >= 0)
);

-- Annual cost of one plan by (need, setting), in integer pence.
CREATE TABLE unit_costs (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    seq BIGINT NOT NULL,
    need TEXT NOT NULL,
    setting TEXT NOT NULL,
    annual_pence BIGINT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, seq),
    UNIQUE (la_code, need, setting)
);

-- Valid states: which NCYs and needs suit a setting, and where a child in it may move to.
-- needs and moves_to are comma-joined codes (codes never contain commas).
CREATE TABLE valid_states (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    seq BIGINT NOT NULL,
    setting TEXT NOT NULL,
    setting_group TEXT NOT NULL,
    min_ncy INTEGER NOT NULL,
    max_ncy INTEGER NOT NULL,
    needs TEXT NOT NULL,
    moves_to TEXT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, seq),
    UNIQUE (la_code, setting),
    CHECK (min_ncy BETWEEN -5 AND 20),
    CHECK (max_ncy BETWEEN -5 AND 20)
);

-- Person-level plan records: one child at one census. Upserted by (la_code, child_id, census_year).
CREATE TABLE plan_records (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    child_id TEXT NOT NULL,
    census_year INTEGER NOT NULL,
    ncy INTEGER NOT NULL,
    need TEXT NOT NULL,
    setting TEXT NOT NULL,
    urn BIGINT,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, child_id, census_year),
    CHECK (ncy BETWEEN -5 AND 20)
);

-- High Needs Block budget lines, amount in integer pence. Upserted by (la_code, financial_year, kind, line).
-- financial_year is the year the FY starts (2024 = 2024-25).
CREATE TABLE budget_lines (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    financial_year INTEGER NOT NULL,
    kind TEXT NOT NULL,
    line TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, financial_year, kind, line),
    CHECK (kind IN ('opening_balance', 'allocation', 'block_transfer', 'deduction', 'expenditure', 'total_dsg'))
);
