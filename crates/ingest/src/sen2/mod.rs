//! The SEN2 person-level return (DfE, XML, one file per LA per year; `../shared/formats/SEN2.md`).
//!
//! - [`parse_sen2`] / [`read_sen2`]: a streaming reader (quick-xml) that finds elements by name,
//!   case-insensitively, whatever their order (the 2023-2026 layouts), holds one person at a time, and
//!   pseudonymises as it reads: each person's surname, forename and date of birth become a keyed hash
//!   ([`PersonKeyer`]), their UPN/ULN a second one; names, postcode, ethnicity and UPN never leave the parser.
//!   Schema-level problems (not XML, truncated, no `Header`/`Persons`, a mandatory element missing) are errors
//!   that refuse the file; data-quality problems are warnings tallied with counts, the first line and the
//!   person's position in the file ("person 17"), never their name.
//! - [`read_establishments`]: the user's GIAS all-establishments CSV (URN/UKPRN → type of establishment).
//! - [`write`]: synthetic returns and registers, for the demo, tests and benchmarks.

mod key;
mod parse;
mod person;
mod register;
pub mod write;

pub use key::{normalise_name, KeyFileError, PersonKeyer, ShortSecret, MIN_SECRET_BYTES};
pub use parse::{looks_like_sen2, parse_sen2, read_sen2};
pub use person::upn_check_letter_ok;
pub use register::{parse_establishments, read_establishments, REGISTER_COLUMNS};
