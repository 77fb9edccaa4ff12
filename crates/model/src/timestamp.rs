//! Timestamps in one text form, whatever printed them.
//!
//! The AWS CLI prints a timestamp as `2024-06-10T06:13:20+00:00` (v2), as the service sent it
//! (`2024-06-10T06:13:20.000Z`, v1), or as epoch seconds (`cli_timestamp_format`); the SDK gives
//! seconds and nanoseconds. All become RFC 3339 in UTC with `Z`, with microseconds only when there
//! are any (`2024-06-10T06:13:20Z`), so one instant reads the same from every source. Text that is
//! no timestamp is kept as it is.

/// The canonical text of an instant given as seconds and nanoseconds since the epoch.
pub fn from_epoch(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
    let micros = nanos.min(999_999_999) / 1000;
    if micros > 0 {
        let fraction = format!("{micros:06}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// The canonical text of `text` (see the module docs); text that is no timestamp is returned as is.
pub fn normalize(text: &str) -> String {
    parse_iso(text.trim())
        .or_else(|| parse_epoch(text.trim()))
        .map_or_else(|| text.to_owned(), |(secs, nanos)| from_epoch(secs, nanos))
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM]`; no zone means UTC.
fn parse_iso(text: &str) -> Option<(i64, u32)> {
    let bytes = text.as_bytes();
    let number = |from: usize, len: usize| -> Option<i64> {
        let digits = text.get(from..from + len)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0u32;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let digits = &after_dot[..len.min(9)];
        nanos = format!("{digits:0<9}").parse().ok()?;
        rest = &after_dot[len..];
    }
    let offset_minutes = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = rest[1..].replace(':', "");
            if zone.len() != 4 || !zone.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (h, m) = (zone[..2].parse::<i64>().ok()?, zone[2..].parse::<i64>().ok()?);
            sign * (h * 60 + m)
        }
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some((secs, nanos))
}

/// Epoch seconds, whole or with a fraction.
fn parse_epoch(text: &str) -> Option<(i64, u32)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let valid = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !valid(whole) || !valid(fraction) {
        return None;
    }
    let digits = &fraction[..fraction.len().min(9)];
    let nanos = if digits.is_empty() {
        0
    } else {
        format!("{digits:0<9}").parse().ok()?
    };
    Some((whole.parse().ok()?, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Serde for an optional timestamp: read as text or as epoch seconds, written as canonical text.
pub(crate) mod optional {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a timestamp string or number")]
    enum Printed {
        Text(String),
        Whole(i64),
        Fraction(f64),
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
        Ok(
            Option::<Printed>::deserialize(deserializer)?.map(|printed| match printed {
                Printed::Text(text) => super::normalize(&text),
                Printed::Whole(secs) => super::from_epoch(secs, 0),
                Printed::Fraction(secs) => {
                    let whole = secs.floor();
                    // Microsecond precision: the float's last digits are noise.
                    let micros = ((secs - whole) * 1e6).round() as u32;
                    super::from_epoch(whole as i64, micros.min(999_999) * 1000)
                }
            }),
        )
    }

    pub(crate) fn serialize<S: Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(text) => serializer.serialize_str(text),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_printed_form_of_one_instant_reads_the_same() {
        for text in [
            "2024-06-10T06:13:20+00:00",
            "2024-06-10T06:13:20.000Z",
            "2024-06-10T06:13:20Z",
            "2024-06-10T06:13:20",
            "2024-06-10 06:13:20",
            "2024-06-10T08:13:20+02:00",
            "2024-06-10T01:13:20-0500",
            "1718000000",
            "1718000000.000",
        ] {
            assert_eq!(normalize(text), "2024-06-10T06:13:20Z", "{text}");
        }
    }

    #[test]
    fn fractions_keep_microseconds() {
        assert_eq!(
            normalize("2024-06-10T06:13:20.123000+00:00"),
            "2024-06-10T06:13:20.123Z"
        );
        assert_eq!(from_epoch(1_718_000_000, 123_456_789), "2024-06-10T06:13:20.123456Z");
    }

    #[test]
    fn dates_across_eras_and_leap_days() {
        assert_eq!(from_epoch(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(normalize("2000-02-29T23:59:59Z"), "2000-02-29T23:59:59Z");
        assert_eq!(normalize("1969-12-31T23:59:59Z"), "1969-12-31T23:59:59Z");
        assert_eq!(normalize("2100-03-01T00:00:00Z"), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn text_that_is_no_timestamp_is_kept() {
        for text in ["yesterday", "2024-13-01T00:00:00Z", "2024-06-10T06:13:20+0", ""] {
            assert_eq!(normalize(text), text);
        }
    }
}
