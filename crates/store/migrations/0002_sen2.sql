-- highneeds store, schema version 2: SEN2 person-level returns.
--
-- Portable SQL (see 0001). Pseudonymised: a person is a 32-hex-digit keyed hash (HMAC-SHA256 under the LA's own
-- secret key, which is never stored here); no name, date of birth, postcode, ethnicity or UPN is kept.

-- One row per imported return (one census of one LA).
CREATE TABLE sen2_returns (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    census_year INTEGER NOT NULL,
    reference_date TEXT NOT NULL,
    lea TEXT,
    persons BIGINT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, census_year),
    CHECK (persons >= 0)
);

-- One row per person per census who had an active plan at the census, or whose plan ceased in the calendar
-- year before it (or both). ncy/need/setting/urn describe the active plan (NULL if none); ceased = 1 and
-- cease_reason (1-9, NULL if the return gave none) describe a plan that ceased.
CREATE TABLE sen2_people (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    census_year INTEGER NOT NULL,
    person_key TEXT NOT NULL,
    pupil_key TEXT,
    ncy INTEGER,
    need TEXT,
    setting TEXT,
    urn BIGINT,
    ceased INTEGER NOT NULL,
    cease_reason INTEGER,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, census_year, person_key),
    CHECK (length(person_key) = 32),
    CHECK (pupil_key IS NULL OR length(pupil_key) = 32),
    CHECK (ncy IS NULL OR ncy BETWEEN -5 AND 20),
    CHECK ((ncy IS NULL AND need IS NULL AND setting IS NULL)
        OR (ncy IS NOT NULL AND need IS NOT NULL AND setting IS NOT NULL)),
    CHECK (ceased IN (0, 1)),
    CHECK (ncy IS NOT NULL OR ceased = 1),
    CHECK (cease_reason IS NULL OR cease_reason BETWEEN 1 AND 9)
);

-- Flows in the calendar year before each census, in long form: measure (e.g. requests, new_plans,
-- new_plans_within_20_weeks, cessations), breakdown ('' for a total, else an outcome or reason code), value.
CREATE TABLE sen2_flows (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    census_year INTEGER NOT NULL,
    measure TEXT NOT NULL,
    breakdown TEXT NOT NULL,
    amount BIGINT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, census_year, measure, breakdown),
    CHECK (amount >= 0)
);
