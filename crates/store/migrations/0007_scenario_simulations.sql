-- Monte-Carlo runs of a stored scenario version (issue #13: "results are kept with the scenario version they came
-- from"): the latest run of each version, with the data it ran on (the LA's latest import id), who ran it, when,
-- and the result as `highneeds scenario run --engine monte-carlo --format json` prints it.
CREATE TABLE scenario_simulations (
    la_code TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    data_version INTEGER,
    sims INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    run_at TEXT NOT NULL,
    run_by TEXT NOT NULL,
    milliseconds BIGINT NOT NULL,
    result_json TEXT NOT NULL,
    PRIMARY KEY (la_code, name, version),
    FOREIGN KEY (la_code, name, version) REFERENCES scenario_versions (la_code, name, version)
);
