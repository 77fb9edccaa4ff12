//! `scan --iac PATH`: the catalogue on infrastructure as code, before deploy.

use crate::Failure;
use netaudit_checks::{Catalogue, Control, Exception};
use netaudit_iac::cloudformation::Options;
use netaudit_iac::terraform::TfOptions;
use netaudit_model::Graph;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct IacArgs {
    /// Scan infrastructure as code instead of AWS: a Terraform folder, a Terraform plan in JSON
    /// (`terraform show -json`), a CloudFormation template (YAML or JSON, CDK's cdk.out included)
    /// or a folder of any mix. Repeatable.
    #[arg(
        long = "iac",
        value_name = "PATH",
        conflicts_with_all = ["evidence", "save_evidence", "profile", "role_arn", "regions", "org", "endpoint_url"]
    )]
    pub paths: Vec<PathBuf>,
    /// A Terraform variable, as `terraform plan -var` takes it. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", requires = "paths")]
    pub vars: Vec<String>,
    /// A Terraform variable file, as `terraform plan -var-file` takes it. Repeatable.
    #[arg(long = "var-file", value_name = "FILE", requires = "paths")]
    pub var_files: Vec<PathBuf>,
    /// A CloudFormation parameter value. Repeatable.
    #[arg(long = "cfn-parameter", value_name = "NAME=VALUE", requires = "paths")]
    pub cfn_parameters: Vec<String>,
}

impl IacArgs {
    pub fn is_requested(&self) -> bool {
        !self.paths.is_empty()
    }

    /// The code scanned, for the report's header.
    pub fn describe(&self) -> String {
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("infrastructure as code {}", paths.join(", "))
    }
}

fn name_value(flag: &str, raw: &str) -> Result<(String, String), Failure> {
    raw.split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .ok_or_else(|| Failure::Usage(format!("{flag} {raw:?}: expected NAME=VALUE")))
}

/// The controls that can be decided before deploy; the others are named on standard error.
pub fn applicable(selected: Vec<&Control>) -> Vec<&Control> {
    let (kept, left_out): (Vec<&Control>, Vec<&Control>) =
        selected.into_iter().partition(|c| c.before_deploy().is_ok());
    for c in left_out {
        let reason = c.before_deploy().err().unwrap_or_default();
        note!("netaudit: note: {} is left out of IaC scans: {reason}", c.id());
    }
    kept
}

/// The graph of what the paths declare, and the valid exceptions written on its resources.
/// Inputs and exceptions that cannot be read are errors (the scan goes on and ends incomplete).
pub fn graph(
    args: &IacArgs,
    catalogue: &Catalogue,
    errors: &mut Vec<String>,
) -> Result<(Graph, Vec<Exception>), Failure> {
    let tf = TfOptions {
        vars: args
            .vars
            .iter()
            .map(|v| name_value("--var", v))
            .collect::<Result<_, _>>()?,
        var_files: args.var_files.clone(),
    };
    let cfn = Options {
        parameters: args
            .cfn_parameters
            .iter()
            .map(|v| name_value("--cfn-parameter", v))
            .collect::<Result<_, _>>()?,
    };
    let declared = netaudit_iac::inputs::read(&args.paths, &tf, &cfn);
    if declared.units.is_empty() && declared.errors.is_empty() {
        errors.push(format!(
            "--iac: no Terraform folder or CloudFormation template found in {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    errors.extend(declared.errors.iter().map(ToString::to_string));
    let (exceptions, invalid) = netaudit_checks::inline_exceptions(&declared.exceptions, catalogue);
    // A module file read by several roots would report the same invalid exception once per root.
    let mut seen = std::collections::BTreeSet::new();
    errors.extend(
        invalid
            .iter()
            .map(|e| format!("invalid exception: {e}"))
            .filter(|e| seen.insert(e.clone())),
    );
    Ok((Graph::from_declared(declared.assets), exceptions))
}
