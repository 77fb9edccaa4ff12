//! A control's remedy is declared in its catalogue file and must change the kind of asset its query
//! lists; a FAIL carries the remedy's facts from the graph, whatever the query selects.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_checks::{builtin, evaluate_control, load_dir, Control, Remedy, RemedyKind};
use netaudit_model::Graph;
use std::collections::BTreeMap;
use std::path::Path;

fn catalogue_dir() -> std::path::PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("catalogue")
}

fn control_text(id: &str) -> String {
    std::fs::read_to_string(catalogue_dir().join(id).join("control.toml")).unwrap()
}

/// The control's text with its `[remediation]` declaration replaced by `declaration`.
fn with_declaration(text: &str, declaration: &str) -> String {
    let (head, rest) = text.split_once("\n[remediation]\n").unwrap();
    let rest = rest
        .split_once("\nconsole = ")
        .map(|(_, after)| format!("\nconsole = {after}"))
        .unwrap();
    format!("{head}\n[remediation]\n{declaration}{rest}")
}

/// Load one control file through the public loader, as `--checks-dir` does.
fn load(id: &str, text: &str) -> Result<Control, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(id)).unwrap();
    std::fs::write(dir.path().join(id).join("control.toml"), text).unwrap();
    let (mut controls, errors) = load_dir(dir.path()).unwrap();
    match (controls.pop(), errors.first()) {
        (Some(c), None) => Ok(c),
        (_, Some(e)) => Err(e.to_string()),
        (None, None) => panic!("nothing loaded and no error"),
    }
}

#[test]
fn every_built_in_control_declares_its_remedy() {
    let (catalogue, errors) = builtin();
    assert!(errors.is_empty(), "{errors:?}");
    for c in catalogue.controls() {
        let r = &c.file.remediation;
        assert!(
            r.automatic.is_some() != r.manual.is_some(),
            "{} must declare exactly one of `automatic` and `manual`",
            c.id()
        );
    }
}

#[test]
fn a_remedy_loads_only_on_a_control_listing_the_kind_it_changes() {
    let (catalogue, _) = builtin();
    let mut accepted = 0;
    for c in catalogue.controls() {
        let text = control_text(c.id());
        for remedy in RemedyKind::ALL {
            let declared = with_declaration(&text, &format!("automatic = \"{remedy}\"\n"));
            let loaded = load(c.id(), &declared);
            if remedy.resource_kind() == c.kind {
                accepted += 1;
                assert!(loaded.is_ok(), "{} with {remedy}: {loaded:?}", c.id());
            } else {
                let message = loaded.expect_err(&format!("{} must refuse {remedy}", c.id()));
                let line = declared.lines().position(|l| l.starts_with("automatic = ")).unwrap() + 1;
                assert!(message.contains(&format!("control.toml:{line}:")), "{message}");
                assert!(
                    message.contains(c.kind.def().root_field)
                        && message.contains(remedy.resource_kind().def().root_field),
                    "{message}"
                );
            }
        }
    }
    // Each remedy fits at least one built-in control.
    assert!(accepted >= RemedyKind::ALL.len());
}

#[test]
fn automatic_and_manual_together_or_an_empty_reason_are_refused() {
    let text = control_text("EC2.6");
    let both = with_declaration(&text, "automatic = \"create-flow-log\"\nmanual = \"by hand\"\n");
    assert!(load("EC2.6", &both).unwrap_err().contains("choose one"));
    let empty = with_declaration(&text, "manual = \"  \"\n");
    assert!(load("EC2.6", &empty).unwrap_err().contains("needs the reason"));
    let unknown = with_declaration(&text, "automatic = \"delete-vpc\"\n");
    let message = load("EC2.6", &unknown).unwrap_err();
    assert!(
        message.contains("control.toml:") && message.contains("delete-vpc"),
        "{message}"
    );
}

#[test]
fn remedy_facts_come_from_the_graph() {
    let dir = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/estate");
    let graph = Graph::build(&netaudit_evidence::load_dir(&dir).unwrap().inventory);
    let (catalogue, _) = builtin();
    let remedies = |id: &str| -> Vec<Remedy> {
        evaluate_control(catalogue.get(id).unwrap(), &graph, &BTreeMap::new())
            .unwrap()
            .into_iter()
            .filter_map(|f| f.remedy)
            .collect()
    };
    // One tunnel of the estate's connection logs and the other does not: only that one is named.
    let tunnels: Vec<Remedy> = remedies("EC2.171");
    assert_eq!(tunnels.len(), 1, "{tunnels:?}");
    let Remedy::EnableTunnelLogging {
        vpn_connection_id,
        tunnels_without_logging,
    } = &tunnels[0]
    else {
        panic!("{tunnels:?}")
    };
    assert_eq!(vpn_connection_id, "vpn-0aa1bb2cc3dd40002");
    let addresses: Vec<Option<&str>> = tunnels_without_logging
        .iter()
        .map(|t| t.outside_ip.as_deref())
        .collect();
    assert_eq!(addresses, vec![Some("3.5.140.21")]);
    // Retention: the current value read from the group.
    let retention = remedies("CloudWatch.16");
    assert!(!retention.is_empty());
    assert!(retention
        .iter()
        .all(|r| matches!(r, Remedy::RaiseRetention { current_days: Some(d), .. } if *d < 365)));
    // A manual control says why.
    let down = remedies("EC2.20");
    assert!(!down.is_empty());
    assert!(down
        .iter()
        .all(|r| matches!(r, Remedy::Manual { why } if why.contains("customer gateway"))));
}
