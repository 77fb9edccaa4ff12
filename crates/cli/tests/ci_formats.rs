//! `--format junit` and `--format markdown`: what CI shows. JUnit is read back by an XML parser and
//! by junitparser (a JUnit consumer, installed by scripts/test.sh); Markdown by a CommonMark parser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{estate, netaudit, run};
use std::path::{Path, PathBuf};

fn exceptions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/exceptions.toml")
}

/// The estate scanned with its exceptions (MUTED results), in `format`; and its JSON report.
fn scan(format: &str) -> (String, serde_json::Value) {
    let args = |format: &str| {
        let mut cmd = netaudit();
        cmd.args(["scan", "--format", format, "--evidence"])
            .arg(estate())
            .arg("--exceptions")
            .arg(exceptions());
        cmd
    };
    let (out, stderr, code) = run(&mut args(format));
    assert_eq!(code, 3, "{stderr}");
    let (json, _, _) = run(&mut args("json"));
    (out, serde_json::from_str(&json).unwrap())
}

/// A saved report whose resource names and reasons hold markup, quotes and control characters.
fn hostile_report(dir: &Path) -> PathBuf {
    let (_, mut json) = scan("json");
    for (i, result) in json["results"].as_array_mut().unwrap().iter_mut().enumerate() {
        result["resource_name"] = format!("<script>alert({i})</script> \"q\" 'a' & | * _x_ \u{1}").into();
        result["reason"] = format!(
            "{} </testcase> ]]> | `tick` [link](http://x)",
            result["reason"].as_str().unwrap()
        )
        .into();
    }
    let path = dir.join("hostile.json");
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

fn count(json: &serde_json::Value, status: &str) -> usize {
    json["totals"][status].as_u64().unwrap() as usize
}

/// The estate's report with an input error and a gap that no result carries (as a region whose
/// listing failed before any control read it would be).
fn report_with_loose_coverage(dir: &Path) -> (PathBuf, serde_json::Value) {
    let (_, mut json) = scan("json");
    json["coverage"]["errors"] = serde_json::json!(["controls/EXTRA.toml:3: unknown key `severty`"]);
    json["coverage"]["gaps"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "kind": "api_error", "api": "ec2:DescribeVpcs", "code": "Throttling", "account": "111111111111",
            "region": "sa-east-1", "message": "Rate exceeded", "source": null
        }));
    let path = dir.join("loose.json");
    std::fs::write(&path, json.to_string()).unwrap();
    (path, json)
}

#[test]
fn junit_has_a_suite_per_control_and_a_case_per_result_with_statuses_as_ci_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let (saved, json) = report_with_loose_coverage(dir.path());
    let (xml, stderr, code) = run(netaudit().args(["report", "--format", "junit"]).arg(&saved));
    assert_eq!(code, 3, "{stderr}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let attr = |node: roxmltree::Node, name: &str| node.attribute(name).unwrap().parse::<usize>().unwrap();
    let cases: Vec<_> = root.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    let result_cases: Vec<_> = cases
        .iter()
        .filter(|c| c.attribute("classname") != Some("coverage"))
        .collect();
    let results = json["results"].as_array().unwrap();
    assert_eq!(result_cases.len(), results.len());
    let with_child = |tag: &str| {
        result_cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
            .count()
    };
    assert_eq!(with_child("failure"), count(&json, "FAIL"));
    assert_eq!(with_child("error"), count(&json, "UNKNOWN"));
    assert_eq!(
        with_child("skipped"),
        count(&json, "NOT_APPLICABLE") + count(&json, "MUTED")
    );
    assert!(count(&json, "MUTED") > 0);
    // The totals agree with the cases, the coverage suite's errors included.
    let errors = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("error")))
        .count();
    assert_eq!(attr(root, "tests"), cases.len());
    assert_eq!(attr(root, "errors"), errors);
    assert!(
        errors > count(&json, "UNKNOWN"),
        "gaps no result carries are errors of the coverage suite"
    );
    // A suite per control, and each result's identity: control, resource, account, region.
    let suites = root.children().filter(|n| n.has_tag_name("testsuite")).count();
    assert_eq!(suites, json["controls"].as_array().unwrap().len() + 1);
    for result in results {
        let name_starts = result["resource_id"].as_str().unwrap();
        let place = format!(
            "in {}/{}",
            result["account_id"].as_str().unwrap(),
            result["region"].as_str().unwrap()
        );
        assert!(
            result_cases
                .iter()
                .any(|c| c.attribute("classname") == result["control"].as_str()
                    && c.attribute("name")
                        .is_some_and(|n| n.starts_with(name_starts) && n.ends_with(&place))),
            "{result}"
        );
    }
    // A muted case says who owns the exception and when it ends.
    let muted = result_cases
        .iter()
        .filter_map(|c| c.children().find(|n| n.has_tag_name("skipped")))
        .filter_map(|s| s.attribute("message"))
        .find(|m| m.starts_with("muted:"))
        .unwrap();
    assert!(muted.contains("owner") && muted.contains("expires"), "{muted}");
}

#[test]
fn junitparser_reads_the_counts_netaudit_reports() {
    let python = std::env::var("NETAUDIT_TEST_PYTHON").expect(
        "NETAUDIT_TEST_PYTHON is not set: run the tests with `bash scripts/test.sh`, which installs junitparser",
    );
    let dir = tempfile::tempdir().unwrap();
    let (saved, json) = report_with_loose_coverage(dir.path());
    let (xml, _, _) = run(netaudit().args(["report", "--format", "junit"]).arg(&saved));
    let file = dir.path().join("netaudit.xml");
    std::fs::write(&file, xml).unwrap();
    let hostile = hostile_report(dir.path());
    let (hostile_xml, stderr, _) = run(netaudit().args(["report", "--format", "junit"]).arg(&hostile));
    assert!(hostile_xml.starts_with("<?xml"), "{stderr}");
    let hostile_file = dir.path().join("hostile.xml");
    std::fs::write(&hostile_file, hostile_xml).unwrap();
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
for path in sys.argv[1:]:
    xml = JUnitXml.fromfile(path)
    kinds = {"failure": 0, "error": 0, "skipped": 0, "cases": 0}
    names = []
    for suite in xml:
        for case in suite:
            kinds["cases"] += 1
            names.append(case.name)
            for r in case.result:
                if isinstance(r, Failure): kinds["failure"] += 1
                elif isinstance(r, Error): kinds["error"] += 1
                elif isinstance(r, Skipped): kinds["skipped"] += 1
    print(kinds["cases"], kinds["failure"], kinds["error"], kinds["skipped"], any("<script>alert(0)</script>" in n for n in names))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&file)
        .arg(&hostile_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let results = json["results"].as_array().unwrap().len();
    // The coverage suite: input errors, and gaps that no result carries.
    let carried: Vec<&serde_json::Value> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["gaps"].as_array().into_iter().flatten())
        .collect();
    let gaps_and_errors = json["coverage"]["errors"].as_array().unwrap().len()
        + json["coverage"]["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| !carried.contains(g))
            .count();
    assert!(gaps_and_errors > 0);
    let expected = format!(
        "{} {} {} {} False",
        results + gaps_and_errors,
        count(&json, "FAIL"),
        count(&json, "UNKNOWN") + gaps_and_errors,
        count(&json, "NOT_APPLICABLE") + count(&json, "MUTED")
    );
    assert_eq!(lines[0], expected);
    // The hostile names come back as the text they were, in a document that still parses. Its
    // report has the estate's own loose coverage only: internet gateways not collected in one
    // region, which decides no status (only priorities), without the error and gap added above.
    let estate_loose = gaps_and_errors - 2;
    assert_eq!(estate_loose, 1);
    let hostile_expected = format!(
        "{} {} {} {} True",
        results + estate_loose,
        count(&json, "FAIL"),
        count(&json, "UNKNOWN") + estate_loose,
        count(&json, "NOT_APPLICABLE") + count(&json, "MUTED")
    );
    assert_eq!(lines[1], hostile_expected);
}

#[test]
fn markdown_summarises_counts_failures_coverage_and_exceptions() {
    let (markdown, json) = scan("markdown");
    let fail = count(&json, "FAIL");
    assert!(
        markdown.starts_with(&format!("## netaudit: {fail} failing, and the scan is incomplete")),
        "{markdown}"
    );
    assert!(markdown.contains("**Incomplete**"), "coverage is never left out");
    assert!(
        markdown.contains("ec2:DescribeFlowLogs AccessDenied"),
        "each gap is named"
    );
    assert!(markdown.contains("2 applied, 0 expired, 0 stale."), "{markdown}");
    assert!(markdown.contains(&format!("…and {} more failures", fail - 10)));
    assert!(markdown.len() < 65_536, "fits a pull-request comment");
    // Failures come most urgent first, then in the report's order of controls: most severe first.
    let controls: Vec<&str> = json["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let priorities = ["critical", "high", "unknown", "elevated", "normal"];
    let listed: Vec<(usize, usize)> = markdown
        .split("### Top failures")
        .nth(1)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| {
            let mut cells = l.split(" | ");
            let priority = cells.next()?.split_whitespace().next()?;
            let id = cells.next()?.replace('\\', "");
            Some((
                priorities.iter().position(|p| *p == priority)?,
                controls.iter().position(|c| *c == id)?,
            ))
        })
        .collect();
    assert_eq!(listed.len(), 10);
    assert!(listed.windows(2).all(|w| w[0] <= w[1]), "{listed:?}");
    assert_eq!(listed[0].0, 0, "a critical failure leads: {markdown}");
}

#[test]
fn markdown_shows_hostile_values_as_text_in_their_table_cells() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let dir = tempfile::tempdir().unwrap();
    let hostile = hostile_report(dir.path());
    let (markdown, stderr, code) = run(netaudit().args(["report", "--format", "markdown"]).arg(&hostile));
    assert_eq!(code, 3, "{stderr}");
    let mut cells_per_row = vec![];
    let mut cells = 0;
    let mut text = String::new();
    for event in Parser::new_ext(&markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => panic!("markup became HTML: {html}"),
            Event::Start(Tag::Link { .. } | Tag::Emphasis | Tag::Image { .. } | Tag::CodeBlock(_)) => {
                panic!("a value became markup: {event:?}")
            }
            Event::Code(code) if !code.starts_with("netaudit report") => panic!("a value became code: {code}"),
            Event::Start(Tag::TableRow | Tag::TableHead) => cells = 0,
            Event::End(TagEnd::TableCell) => cells += 1,
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => cells_per_row.push(cells),
            Event::Text(t) => text.push_str(&t),
            _ => {}
        }
    }
    // The failures table keeps seven cells in every row, whatever the values hold.
    assert!(
        cells_per_row.iter().filter(|n| **n == 7).count() >= 11,
        "{cells_per_row:?}"
    );
    assert!(text.contains("<script>alert("), "the value is shown as text");
    assert!(text.contains("[link](http://x)"));
}
