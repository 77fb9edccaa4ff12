//! A folder of many root modules: they are evaluated on every core, and the result must not show it.
#![allow(clippy::expect_used)]

use netaudit_iac::cloudformation::Options;
use netaudit_iac::inputs::read;
use netaudit_iac::terraform::TfOptions;
use std::path::{Path, PathBuf};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create the folder");
    std::fs::write(path, text).expect("write the file");
}

/// A fresh folder of its own under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netaudit-iac-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn many_roots_come_back_in_path_order_each_with_its_own_resources_and_errors() {
    let base = scratch("many-roots");
    write(
        &base.join("modules/vpc/main.tf"),
        "variable \"cidr\" {}\nresource \"aws_vpc\" \"this\" {\n  cidr_block = var.cidr\n}\n",
    );
    // More roots than any machine running this has cores, so every worker gets several.
    let roots = 37;
    for i in 0..roots {
        let root = base.join(format!("envs/env{i:02}"));
        let mut text = format!("resource \"aws_vpc\" \"own{i}\" {{\n  cidr_block = \"10.{i}.0.0/16\"\n}}\n");
        if i % 5 == 0 {
            text += "module \"shared\" {\n  source = \"../../modules/vpc\"\n  cidr   = \"10.200.0.0/16\"\n}\n";
        }
        if i == 17 {
            text += "resource \"aws_vpc\" \"broken\" {\n  cidr_block = \n";
        }
        write(&root.join("main.tf"), &text);
    }

    let declared = read(std::slice::from_ref(&base), &TfOptions::default(), &Options::default());

    // The module folder is called by some roots, so it is read in their context only.
    let expected_units: Vec<String> = (0..roots)
        .map(|i| base.join(format!("envs/env{i:02}")).display().to_string())
        .collect();
    assert_eq!(declared.units, expected_units);
    for (i, unit) in expected_units.iter().enumerate() {
        let mut addresses: Vec<&str> = declared
            .assets
            .iter()
            .filter(|a| &a.unit == unit)
            .map(|a| a.address.as_str())
            .collect();
        addresses.sort();
        let mut expected = vec![format!("aws_vpc.own{i}")];
        if i % 5 == 0 {
            expected.push("module.shared.aws_vpc.this".to_owned());
        }
        if i == 17 {
            // The syntax error costs that file; the other roots are read in full.
            expected.clear();
        }
        assert_eq!(addresses, expected, "{unit}");
    }
    assert_eq!(declared.errors.len(), 1, "{:?}", declared.errors);
    assert!(
        declared.errors[0].path.ends_with("env17/main.tf"),
        "{:?}",
        declared.errors[0]
    );
    let _ = std::fs::remove_dir_all(&base);
}
