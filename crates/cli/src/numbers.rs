//! Value parsers for counts and durations that must be positive: clap's own range parsers name
//! the type's largest value as the upper bound, which reads as noise.

use std::str::FromStr;

/// A whole number of at least 1.
pub fn positive<T>(value: &str) -> Result<T, String>
where
    T: FromStr + PartialOrd + From<u8>,
{
    match value.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        Ok(_) => Err("must be 1 or more".to_owned()),
        Err(_) => Err("expected a whole number of 1 or more".to_owned()),
    }
}
