//! Control parameters declare their type and range; values outside them are refused before a run,
//! and a declaration its own default breaks does not load. Control files that miss or misname
//! several keys report every one of them, each at its line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_checks::{builtin, load_dir, CatalogueError, Control, ParamType};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn control_text(id: &str) -> String {
    let dir = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("catalogue");
    std::fs::read_to_string(dir.join(id).join("control.toml")).unwrap()
}

/// Load one control file through the public loader, as `--checks-dir` does.
fn load(text: &str) -> Result<Control, Vec<CatalogueError>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.toml"), text).unwrap();
    let (mut controls, errors) = load_dir(dir.path()).unwrap();
    match controls.pop() {
        Some(c) if errors.is_empty() => Ok(c),
        _ => Err(errors),
    }
}

fn params(name: &str, value: Value) -> BTreeMap<String, Value> {
    BTreeMap::from([(name.to_owned(), value)])
}

#[test]
fn every_built_in_parameter_declares_a_type_its_default_satisfies() {
    let (catalogue, errors) = builtin();
    assert!(errors.is_empty(), "{errors:?}");
    let mut checked = 0;
    for control in catalogue.controls() {
        for (name, default) in &control.defaults {
            let doc = &control.file.parameters[name];
            assert!(doc.value_type.is_some(), "{}.{name} declares no type", control.id());
            // The default as the query has it: 365 an integer, "REJECT" a string.
            let value: Value = serde_json::from_str(default).unwrap_or_else(|_| Value::String(default.clone()));
            assert_eq!(
                doc.check_value(&value),
                Ok(()),
                "{}.{name} default {default}",
                control.id()
            );
            assert_eq!(
                control.check_params(&params(name, value)),
                Ok(()),
                "{}.{name}",
                control.id()
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "the catalogue has parameters: {checked}");
}

#[test]
fn retention_minimums_take_an_integer_from_1_to_3653() {
    let (catalogue, _) = builtin();
    for id in ["CloudWatch.16", "NETAUDIT.RETENTION.CHAIN"] {
        let control = catalogue.get(id).unwrap();
        let doc = &control.file.parameters["minRetentionTime"];
        assert_eq!(doc.value_type, Some(ParamType::Integer));
        for good in [json!(1), json!(400), json!(3653), json!("731")] {
            assert_eq!(
                control.check_params(&params("minRetentionTime", good.clone())),
                Ok(()),
                "{good}"
            );
        }
        for (bad, shown) in [
            (json!(-5), "-5"),
            (json!(0), "0"),
            (json!(3654), "3654"),
            (json!("abc"), "\"abc\""),
            (json!(1.5), "1.5"),
            (json!(true), "true"),
        ] {
            assert_eq!(
                control.check_params(&params("minRetentionTime", bad)),
                Err(format!(
                    "{id}.minRetentionTime must be an integer from 1 to 3653, not {shown}"
                ))
            );
        }
    }
}

#[test]
fn a_user_control_gets_the_same_checks_and_an_untyped_one_stays_open() {
    let text = control_text("CloudWatch.16").replace("id = \"CloudWatch.16\"", "id = \"ACME.RET\"");
    let capped = load(&text.replace("maximum = 3653", "maximum = 400")).unwrap();
    assert_eq!(
        capped.check_params(&params("minRetentionTime", json!(500))),
        Err("ACME.RET.minRetentionTime must be an integer from 1 to 400, not 500".to_owned())
    );
    let untyped = load(&text.replace("type = \"integer\"\nminimum = 1\nmaximum = 3653\n", "")).unwrap();
    assert!(untyped.file.parameters["minRetentionTime"].value_type.is_none());
    assert_eq!(untyped.check_params(&params("minRetentionTime", json!(99_999))), Ok(()));
}

#[test]
fn a_declaration_that_contradicts_its_query_or_default_does_not_load() {
    let text = control_text("CloudWatch.16");
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let header = line_of("[parameters.minRetentionTime]");
    for (from, to, says) in [
        (
            "minimum = 1\n",
            "minimum = 400\n",
            "the query's default 365 is not an integer from 400 to 3653",
        ),
        (
            "type = \"integer\"",
            "type = \"string\"",
            "type = \"string\", but the query declares it as Int",
        ),
        (
            "minimum = 1\n",
            "minimum = 4000\n",
            "minimum 4000 is above maximum 3653",
        ),
        (
            "maximum = 3653\n",
            "maximum = 3653\nallowed = [\"365\"]\n",
            "allowed lists text values",
        ),
    ] {
        let errors = load(&text.replacen(from, to, 1)).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, Some(header), "{}", errors[0]);
        assert!(errors[0].message.contains(says), "{}", errors[0]);
    }
}

#[test]
fn every_missing_and_unknown_key_is_reported_at_once_with_its_line() {
    let text = control_text("EC2.51")
        .replace("title = ", "# title = ")
        .replace("summary = ", "# summary = ")
        .replace("expect = \"eq []\"", "# expect")
        .replace("[remediation]\n", "[remediation]\nconsol = \"typo\"\n");
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let errors = load(&text).unwrap_err();
    let found: Vec<(Option<usize>, &str)> = errors.iter().map(|e| (e.line, e.message.as_str())).collect();
    assert_eq!(
        found,
        vec![
            (Some(1), "missing field \"title\" in the top-level table"),
            (Some(1), "missing field \"summary\" in the top-level table"),
            (
                Some(line_of("consol = ")),
                "[remediation] has unknown field \"consol\" (it takes: console, cli, terraform, cloudformation, \
                 automatic, manual)"
            ),
            (Some(line_of("[query]")), "[query] is missing field \"expect\""),
        ]
    );
    assert_eq!(errors[2].column, Some(1));
}

#[test]
fn missing_keys_in_arrays_of_tables_point_at_each_table() {
    let text = control_text("EC2.6");
    let second = text.match_indices("[[frameworks]]").nth(1).unwrap().0;
    let (head, tail) = text.split_at(second);
    let tail = tail.replacen("requirement = ", "requirment = ", 1);
    let text = format!("{head}{tail}");
    let header = text[..second].lines().count() + 1;
    let errors = load(&text).unwrap_err();
    let found: Vec<(Option<usize>, &str)> = errors.iter().map(|e| (e.line, e.message.as_str())).collect();
    assert_eq!(
        found,
        vec![
            (Some(header), "[[frameworks]] is missing field \"requirement\""),
            (
                Some(header + 2),
                "[[frameworks]] has unknown field \"requirment\" (it takes: framework, requirement, source)"
            ),
        ]
    );
}

#[test]
fn a_wrong_value_is_reported_with_the_missing_keys() {
    let text = control_text("EC2.51")
        .replace("severity = \"low\"", "severity = \"severe\"")
        .replace("title = ", "# title = ");
    let errors = load(&text).unwrap_err();
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(errors.len(), 2, "{messages:?}");
    assert_eq!(messages[0], "missing field \"title\" in the top-level table");
    assert!(messages[1].contains("unknown variant `severe`"), "{messages:?}");
    assert!(errors[1].line.is_some_and(|l| l > 1), "{}", errors[1]);
}
