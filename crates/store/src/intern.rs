//! Interning codes on load: each distinct need or setting code is parsed (and allocated) once; every row
//! that uses it gets a cheap clone of the same shared value.

use std::collections::HashMap;
use std::str::FromStr;

/// Up to this many distinct codes are found by a linear scan (no extra allocation); beyond, by a hash map.
const SCAN_LIMIT: usize = 32;

pub(crate) struct Interner<T> {
    values: Vec<(Box<str>, T)>,
    index: HashMap<Box<str>, usize>,
}

impl<T: Clone + FromStr> Interner<T> {
    pub(crate) fn new() -> Self {
        Self {
            values: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The value for `code`, parsing it the first time it is seen.
    pub(crate) fn get(&mut self, code: &str) -> Result<T, T::Err> {
        let found = if self.values.len() <= SCAN_LIMIT {
            self.values.iter().position(|(c, _)| &**c == code)
        } else {
            self.index.get(code).copied()
        };
        if let Some(i) = found {
            return Ok(self.values[i].1.clone());
        }
        let value: T = code.parse()?;
        let key: Box<str> = code.into();
        self.values.push((key, value.clone()));
        if self.values.len() > SCAN_LIMIT {
            if self.index.is_empty() {
                for (i, (c, _)) in self.values.iter().enumerate() {
                    self.index.insert(c.clone(), i);
                }
            } else {
                self.index.insert(code.into(), self.values.len() - 1);
            }
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_code_same_value_many_codes() {
        let mut interner: Interner<String> = Interner::new();
        for round in 0..3 {
            for i in 0..100 {
                let code = format!("C{i}");
                assert_eq!(interner.get(&code).unwrap(), code, "round {round}");
            }
        }
        assert_eq!(interner.values.len(), 100);
        assert_eq!(interner.index.len(), 100);
    }
}
