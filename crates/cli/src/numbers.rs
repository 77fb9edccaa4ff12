//! Value parsers for counts with a bound of their own: clap's range parsers need an integer type
//! they know, and a `usize` is not one.

/// A count of rows to show: a whole number from 1 to a million (more is no answer to read).
pub fn row_count(value: &str) -> Result<usize, String> {
    const MAX: usize = 1_000_000;
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX).contains(&n) => Ok(n),
        Ok(_) => Err(format!("must be from 1 to {MAX}")),
        Err(_) => Err(format!("expected a whole number from 1 to {MAX}")),
    }
}
