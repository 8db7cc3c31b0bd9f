-- highneeds store, schema version 6: the web server's accounts, sessions, API tokens and audit log.
-- (0004 and 0005 are other features' migrations.)
--
-- Portable SQL (see 0001). Accounts belong to an LA like everything else: an officer of one LA signs in to
-- that LA's figures. Secrets are never stored: passwords as argon2id PHC strings, session and API tokens as
-- SHA-256 hex of the random token the user holds. Times are RFC 3339 UTC text written by the store.

-- One row per account. role: admin (users, settings), officer (imports, scenarios), analyst (reads person-level
-- tables), viewer (aggregates only). disabled = 1: cannot sign in, its sessions and tokens stop working.
CREATE TABLE users (
    la_code TEXT NOT NULL,
    user_id BIGINT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    disabled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (la_code, username),
    CHECK (length(username) BETWEEN 1 AND 64),
    CHECK (role IN ('admin', 'officer', 'analyst', 'viewer')),
    CHECK (disabled IN (0, 1))
);

-- A signed-in browser: the SHA-256 of its cookie, its CSRF token, when it ends.
CREATE TABLE sessions (
    la_code TEXT NOT NULL,
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (user_id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    CHECK (length(token_hash) = 64)
);

-- Bearer tokens for scripts and Power BI: the SHA-256 of the token, whose role is its user's; revoked_at set
-- once revoked (kept, so the audit log can name it).
CREATE TABLE api_tokens (
    la_code TEXT NOT NULL,
    token_id BIGINT NOT NULL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (user_id),
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK (length(token_hash) = 64)
);

-- The audit log: sign-ins, imports, scenario edits, exports, account and token changes, API token use.
-- Append-only: the store has no statement that updates or deletes a row of it.
CREATE TABLE audit_log (
    la_code TEXT NOT NULL,
    seq BIGINT NOT NULL PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_by_la ON audit_log (la_code, seq);

-- The DfE's published EHC plan statistics (every LA in England), stored by `highneeds import published DIR` so
-- the dashboard shows the diagnostic and neighbours without the folder. la_code is the LA as published;
-- measure a code (plans, plans_by_age:5_10, plans_by_setting:mainstream, new_plans, requests, ...); year the
-- census (or calendar year of flows). amount NULL = published as suppressed (never 0). A re-import replaces
-- every year it covers.
CREATE TABLE published_figures (
    la_code TEXT NOT NULL,
    measure TEXT NOT NULL,
    year INTEGER NOT NULL,
    amount BIGINT,
    PRIMARY KEY (la_code, measure, year),
    CHECK (amount IS NULL OR amount >= 0)
);

-- The LA names the release gives.
CREATE TABLE published_las (
    la_code TEXT NOT NULL PRIMARY KEY,
    la_name TEXT NOT NULL
);
