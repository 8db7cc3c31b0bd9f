-- Scenarios (DBV plans): every saved version kept, as the TOML text the officer edited, with who and when.
CREATE TABLE scenario_versions (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    PRIMARY KEY (la_code, name, version)
);
