-- Monte-Carlo runs going on (issue #13): a row while a stored version's simulation runs, removed when it ends
-- (kept or failed), with the server process that runs it (`server`: its start time and process id). A row left by
-- another server process is a run that process stopped during: the page says so instead of forgetting that it was
-- asked for.
CREATE TABLE scenario_simulation_starts (
    la_code TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    started_by TEXT NOT NULL,
    server TEXT NOT NULL,
    PRIMARY KEY (la_code, name, version),
    FOREIGN KEY (la_code, name, version) REFERENCES scenario_versions (la_code, name, version)
);
