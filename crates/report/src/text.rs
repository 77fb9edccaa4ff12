//! Sentences several renderers share.

use netaudit_checks::GapRef;

/// A gap in one line: the API, its error code, where, what it said, and the evidence file.
pub fn gap_text(gap: &GapRef) -> String {
    let mut text = format!(
        "{} {} ({}/{}): {}",
        gap.api,
        gap.code,
        gap.account,
        gap.region.as_deref().unwrap_or("-"),
        gap.message.trim()
    );
    if let Some(source) = &gap.source {
        text.push_str(&format!(" [{source}]"));
    }
    text
}

/// Evidence for a terminal: strings unquoted, objects as `{key=value …}`.
pub fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => format!("[{}]", items.iter().map(plain).collect::<Vec<_>>().join(", ")),
        serde_json::Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}={}", plain(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => other.to_string(),
    }
}
