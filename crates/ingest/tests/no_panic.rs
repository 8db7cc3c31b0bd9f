//! Random and mangled bytes into every parser: never a panic, and a value only without errors.

use highneeds_ingest::{parse_bytes, FileKind};
use proptest::prelude::*;

const SEEDS: [&str; 6] = [
    "calendar-year,setting-1,need-1,academic-year-1,setting-2,need-2,academic-year-2\n2016,A,T,5,A,T,6\n2016,NONSEND,NONSEND,-1,B,U,0\n",
    "calendar-year,academic-year,population\n2016,0,100\n2016,22,5\n",
    "need,setting,cost\nT,A,1000.0\n",
    "setting,setting-group,min-academic-year,max-academic-year,needs,setting->setting\nA,g,0,5,\"T,U\",\"A,B\"\n",
    "child_id,census_year,ncy,need,setting,urn\nC1,2023,5,ASD,A,123456\nC1,2024,6,ASD,A,\n",
    "financial_year,kind,line,amount\n2024-25,allocation,,\"£1,000\"\n",
];

fn check(kind: FileKind, name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let p = parse_bytes(kind, name, bytes);
    prop_assert_eq!(p.value.is_some(), !p.has_errors());
    for i in &p.issues {
        prop_assert!(!i.to_string().is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512), k in 0..6usize) {
        let kind = FileKind::ALL[k];
        check(kind, "file.csv", &bytes)?;
        check(kind, "file.xlsx", &bytes)?;
    }

    #[test]
    fn mangled_valid_files(k in 0..6usize, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = SEEDS[k].as_bytes().to_vec();
        for (at, b) in edits {
            let i = at % (bytes.len() + 1);
            if b % 3 == 0 && i < bytes.len() {
                bytes.remove(i);
            } else {
                bytes.insert(i, b);
            }
        }
        for kind in FileKind::ALL {
            check(kind, "file.csv", &bytes)?;
        }
    }
}

#[test]
fn seeds_parse_cleanly() {
    for (kind, seed) in FileKind::ALL.into_iter().zip(SEEDS) {
        let p = parse_bytes(kind, "file.csv", seed.as_bytes());
        assert!(p.value.is_some(), "{kind}: {:?}", p.issues);
    }
}
