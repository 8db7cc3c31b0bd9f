-- highneeds store, schema version 4: which SEN2 key pseudonymised an LA's returns.
--
-- Portable SQL (see 0001). The key itself is never stored: only its fingerprint, HMAC-SHA256 of a fixed label
-- under the key (32 hex digits), so that a return keyed with another key (a new laptop, a lost key file) is
-- refused instead of matching nobody and turning every child into a leaver and a joiner.
CREATE TABLE sen2_keys (
    la_code TEXT NOT NULL PRIMARY KEY REFERENCES las (la_code),
    fingerprint TEXT NOT NULL,
    CHECK (length(fingerprint) = 32)
);
