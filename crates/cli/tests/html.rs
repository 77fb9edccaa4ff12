//! `--format html`: the page is opened in a real browser (Debian's Chromium, driven by playwright-core,
//! both installed by scripts/test.sh) by scripts/html-report-check.cjs, which checks it against the
//! JSON report of the same scan: no console error, no network request, no dialog; the cards, the
//! rows, each filter and the search; the gaps and the exceptions.
//!
//! The README's screenshot is the example estate's page as that script takes it:
//! `node scripts/html-report-check.cjs estate.html estate.json docs/html-report.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{estate, netaudit, run};
use std::path::{Path, PathBuf};

fn exceptions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/exceptions.toml")
}

/// The example estate scanned with its exceptions (so with MUTED results), in `format`.
fn scan_estate(format: &str, extra: &[&str]) -> String {
    let (out, stderr, code) = run(netaudit()
        .args(["scan", "--format", format, "--evidence"])
        .arg(estate())
        .arg("--exceptions")
        .arg(exceptions())
        .args(extra));
    assert!(
        out.starts_with(if format == "html" { "<!DOCTYPE html>" } else { "{" }),
        "{stderr}"
    );
    assert!(
        (1..=3).contains(&code),
        "the example estate has FAILs or UNKNOWNs: exit {code}, {stderr}"
    );
    out
}

/// The browser check's summary (`{"checks": N, "results": N}`); panics with its failures.
fn browser_check(html: &Path, json: &Path, screenshot: Option<&Path>) -> serde_json::Value {
    let playwright = std::env::var("NETAUDIT_PLAYWRIGHT").expect(
        "NETAUDIT_PLAYWRIGHT is not set: run the tests with `bash scripts/test.sh`, which installs playwright-core",
    );
    let chromium = std::env::var("NETAUDIT_CHROMIUM")
        .expect("NETAUDIT_CHROMIUM is not set: run the tests with `bash scripts/test.sh`, which installs Chromium");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/html-report-check.cjs");
    let out = std::process::Command::new("node")
        .arg(script)
        .arg(html)
        .arg(json)
        .args(screenshot)
        .env("NETAUDIT_PLAYWRIGHT", playwright)
        .env("NETAUDIT_CHROMIUM", chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser check failed:\n{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// What a page loads or runs: its script elements, and any attribute that could fetch.
fn assert_self_contained(html: &str) {
    assert_eq!(html.matches("<script").count(), 2, "the data block and the script only");
    assert!(html.contains("<script type=\"application/json\" id=\"netaudit-data\">"));
    for fetching in [
        " src=\"",
        " href=\"",
        " srcset=\"",
        "<link",
        "<iframe",
        "<object",
        "<embed",
    ] {
        assert!(!html.contains(fetching), "the page holds {fetching:?}");
    }
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|rest| rest.split("</style>").next())
        .expect("a style");
    assert!(
        !style.contains("url(") && !style.contains("@import"),
        "the style fetches nothing"
    );
    let policy = html
        .split("http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a Content-Security-Policy");
    assert!(
        policy.starts_with("default-src &#39;none&#39;; style-src &#39;sha256-"),
        "{policy}"
    );
    assert!(policy.contains("script-src &#39;sha256-"), "{policy}");
}

#[test]
fn the_example_estate_page_works_offline_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let html = scan_estate("html", &[]);
    assert_self_contained(&html);
    let json = scan_estate("json", &[]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let results = report["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| r["status"] == "MUTED"),
        "the exceptions mute results"
    );
    assert!(
        !report["coverage"]["gaps"].as_array().unwrap().is_empty(),
        "the estate has gaps"
    );
    let screenshot = dir.path().join("estate.png");
    let summary = browser_check(
        &write(dir.path(), "estate.html", &html),
        &write(dir.path(), "estate.json", &json),
        Some(&screenshot),
    );
    assert_eq!(summary["results"], results.len());
    assert!(summary["checks"].as_u64().unwrap() > 50, "{summary}");
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "a screenshot"
    );
    // Each FAIL carries its evidence file and line, and its control's remediation.
    let remediations = html.matches("<pre class=\"remediation\">").count();
    let failing_or_muted = results
        .iter()
        .filter(|r| r["status"] == "FAIL" || r["status"] == "MUTED")
        .count();
    assert_eq!(remediations, failing_or_muted);
    assert!(
        html.contains("<dt>Read from</dt><dd>"),
        "evidence scans say where each resource was read"
    );
}

#[test]
fn markup_in_names_reasons_and_gaps_is_shown_literally_and_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&scan_estate("json", &[])).unwrap();
    let hostile =
        |i: usize| format!("<script>alert({i})</script> \"q\" 'a' & </script><!-- <img src=x onerror=alert(2)>");
    for (i, result) in json["results"].as_array_mut().unwrap().iter_mut().enumerate() {
        result["resource_name"] = hostile(i).into();
        result["reason"] = format!("{} {}", result["reason"].as_str().unwrap(), hostile(i)).into();
        if result["exception"].is_object() {
            result["exception"]["owner"] = hostile(i).into();
        }
    }
    for gap in json["coverage"]["gaps"].as_array_mut().unwrap() {
        gap["message"] = hostile(0).into();
    }
    let saved = write(dir.path(), "hostile.json", &json.to_string());
    let (html, stderr, code) = run(netaudit().args(["report", "--format", "html"]).arg(&saved));
    assert_eq!(code, 3, "{stderr}");
    assert_self_contained(&html);
    assert!(
        !html.contains("<script>alert") && !html.contains("<img"),
        "markup escaped"
    );
    let summary = browser_check(&write(dir.path(), "hostile.html", &html), &saved, None);
    assert_eq!(summary["results"], json["results"].as_array().unwrap().len());
}

#[test]
fn a_framework_page_has_the_requirement_rollup() {
    let dir = tempfile::tempdir().unwrap();
    let html = scan_estate("html", &["--framework", "800-53"]);
    let json = scan_estate("json", &["--framework", "800-53"]);
    assert!(html.contains("<section id=\"requirements\">"));
    assert!(html.contains("AU-12"), "EC2.6 maps to NIST 800-53 AU-12");
    browser_check(
        &write(dir.path(), "framework.html", &html),
        &write(dir.path(), "framework.json", &json),
        None,
    );
}
