-- Unit costs may be given per age group ('' = every age group) and split into place funding and top-up
-- (place_funding_pence NULL = no split given; top-up = annual − place funding).
-- Rebuilt rather than altered so the UNIQUE key can include the age group (portable SQL).
CREATE TABLE unit_costs_v3 (
    la_code TEXT NOT NULL REFERENCES las (la_code),
    seq BIGINT NOT NULL,
    need TEXT NOT NULL,
    setting TEXT NOT NULL,
    age_group TEXT NOT NULL,
    annual_pence BIGINT NOT NULL,
    place_funding_pence BIGINT,
    import_id BIGINT NOT NULL REFERENCES imports (import_id),
    PRIMARY KEY (la_code, seq),
    UNIQUE (la_code, need, setting, age_group)
);

INSERT INTO unit_costs_v3 (la_code, seq, need, setting, age_group, annual_pence, place_funding_pence, import_id)
SELECT la_code, seq, need, setting, '', annual_pence, NULL, import_id FROM unit_costs;

DROP TABLE unit_costs;

ALTER TABLE unit_costs_v3 RENAME TO unit_costs;
