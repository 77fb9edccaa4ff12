//! Running controls over the graph.

use crate::catalogue::{placeholders, CatalogueError, Control};
use crate::results::{Finding, GapRef, Location, Status};
use netaudit_model::{partition_for, Asset, Gap, GapKind, Graph, Kind};
use netaudit_query::Selection;
use netaudit_query::{compile, compile_filter, evaluate_filter, project, Truth};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Parameter values per control id (ids compared ignoring case).
pub type Params = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

fn gap_refs(gaps: &[Arc<Gap>]) -> Vec<GapRef> {
    let mut refs: Vec<GapRef> = gaps.iter().map(|g| GapRef::from(g.as_ref())).collect();
    refs.sort();
    refs.dedup();
    refs
}

/// A short account of what hid the answer; the full gaps travel in `Finding::gaps` and the
/// coverage report.
fn unknown_reason(gaps: &[Arc<Gap>]) -> String {
    let mut parts: Vec<String> = gaps
        .iter()
        .map(|g| {
            let place = match &g.region {
                Some(r) if !g.account.is_empty() => format!(" in {}/{r}", g.account),
                Some(r) => format!(" in {r}"),
                None if !g.account.is_empty() => format!(" in {}", g.account),
                None => String::new(),
            };
            match g.kind {
                // These messages say what is missing; API errors are detailed under coverage.
                GapKind::NotKnownBeforeDeploy => g.message.clone(),
                GapKind::NotReported | GapKind::NotCollected => format!("{} {}{place}: {}", g.api, g.code, g.message),
                _ => format!("{} {}{place}", g.api, g.code),
            }
        })
        .collect();
    parts.sort();
    parts.dedup();
    format!("could not be determined: {}", parts.join("; "))
}

/// The ARN pattern standing for every asset of `kind` in one place.
fn wildcard_arn(kind: Kind, account: &str, region: &str) -> String {
    let p = partition_for(region);
    match kind {
        Kind::Vpc => format!("arn:{p}:ec2:{region}:{account}:vpc/*"),
        Kind::Subnet => format!("arn:{p}:ec2:{region}:{account}:subnet/*"),
        Kind::FlowLog => format!("arn:{p}:ec2:{region}:{account}:vpc-flow-log/*"),
        Kind::ClientVpnEndpoint => format!("arn:{p}:ec2:{region}:{account}:client-vpn-endpoint/*"),
        Kind::VpnConnection => format!("arn:{p}:ec2:{region}:{account}:vpn-connection/*"),
        Kind::VpnTunnel => format!("arn:{p}:ec2:{region}:{account}:vpn-connection/*/tunnel/*"),
        Kind::LogGroup => format!("arn:{p}:logs:{region}:{account}:log-group:*"),
        Kind::Alarm => format!("arn:{p}:cloudwatch:{region}:{account}:alarm:*"),
        Kind::Bucket => format!("arn:{p}:s3:::*"),
        Kind::DeliveryStream => format!("arn:{p}:firehose:{region}:{account}:deliverystream/*"),
        Kind::Region => format!("arn:{p}:ec2:{region}:{account}:region"),
        Kind::Account => format!("arn:{p}:iam::{account}:root"),
    }
}

/// One concrete ARN of `kind`, for testing what a pattern covers.
pub(crate) fn sample_arn(kind: Kind, account: &str, region: &str, id: &str) -> String {
    wildcard_arn(kind, account, region).replace('*', id)
}

fn finding(control: &Control, asset: &Asset, status: Status, reason: String, gaps: Vec<GapRef>) -> Finding {
    Finding {
        control: control.id().to_owned(),
        status,
        resource_type: asset.kind.def().type_name.to_owned(),
        resource_id: asset.id.clone(),
        resource_name: asset.name.clone().filter(|n| n != &asset.id),
        resource_arn: asset.arn.clone(),
        account_id: asset.account_id.clone(),
        region: asset.region.clone(),
        reason,
        evidence: serde_json::Map::new(),
        gaps,
        exception: None,
        remedy: None,
        location: asset.source.as_ref().map(|s| Location {
            file: s.file.clone(),
            start_line: s.line,
            end_line: s.end_line,
            construct_path: s.construct_path.clone(),
        }),
        read_from: None,
        priority: Default::default(),
        priority_reasons: vec![],
    }
}

/// The selected values beyond the common fields, shown with a FAIL as its evidence.
fn evidence(
    graph: &Graph,
    node: netaudit_model::NodeId,
    selection: &[Selection],
) -> serde_json::Map<String, serde_json::Value> {
    match project(graph, node, selection) {
        serde_json::Value::Object(map) => {
            // Sorted, so the order never depends on serde_json's map features.
            let mut pairs: Vec<(String, serde_json::Value)> = map
                .into_iter()
                .filter(|(k, _)| !netaudit_model::schema::COMMON_FIELDS.iter().any(|c| c.name == k))
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            pairs.into_iter().collect()
        }
        _ => serde_json::Map::new(),
    }
}

/// Evaluate one control. Errors only when its parameters do not fit its query.
pub fn evaluate_control(
    control: &Control,
    graph: &Graph,
    params: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<Finding>, CatalogueError> {
    let err = |message: String| CatalogueError {
        path: control.origin.clone(),
        line: None,
        column: None,
        message,
    };
    control.check_params(params).map_err(err)?;
    let query = compile(&control.file.query.text, params).map_err(|e| err(format!("{}: {e}", control.id())))?;
    let [root] = query.roots.as_slice() else {
        return Err(err(format!(
            "{}: a control lists exactly one kind of asset",
            control.id()
        )));
    };
    let not_applicable = control
        .file
        .query
        .not_applicable
        .iter()
        .map(|na| {
            Ok((
                compile_filter(root.kind, &na.where_)?,
                na.reason.clone().unwrap_or_default(),
            ))
        })
        .collect::<Result<Vec<_>, netaudit_query::QueryError>>()
        .map_err(|e| err(e.to_string()))?;
    let fail_reasons = control
        .file
        .query
        .fail_reason
        .iter()
        .map(|fr| {
            Ok((
                compile_filter(root.kind, &fr.where_)?,
                fr.reason.clone().unwrap_or_default(),
            ))
        })
        .collect::<Result<Vec<_>, netaudit_query::QueryError>>()
        .map_err(|e| err(e.to_string()))?;
    let scope = match &control.file.query.scope {
        Some(s) => Some(compile_filter(root.kind, &s.where_).map_err(|e| err(e.to_string()))?),
        None => None,
    };

    let mut fail_message = control.file.fail_message.clone();
    for name in placeholders(&control.file.fail_message) {
        if let Some(v) = query.variables.iter().find(|v| v.name == name) {
            fail_message = fail_message.replace(&format!("{{{name}}}"), &v.value.to_string());
        }
    }

    let mut findings = vec![];
    for gap in graph.listing_gaps(root.kind) {
        findings.push(Finding {
            control: control.id().to_owned(),
            status: Status::Unknown,
            resource_type: root.kind.def().type_name.to_owned(),
            resource_id: "*".into(),
            resource_name: None,
            resource_arn: wildcard_arn(root.kind, &gap.account, &gap.region),
            account_id: gap.account.clone(),
            region: gap.region.clone(),
            reason: format!(
                "the {} here could not be listed: {}",
                root.kind.def().root_field,
                unknown_reason(std::slice::from_ref(&gap.gap)).trim_start_matches("could not be determined: ")
            ),
            evidence: serde_json::Map::new(),
            gaps: gap_refs(std::slice::from_ref(&gap.gap)),
            exception: None,
            remedy: None,
            location: None,
            read_from: None,
            priority: Default::default(),
            priority_reasons: vec![],
        });
    }

    for &node in graph.of_kind(root.kind) {
        let asset = graph.asset(node);
        let mut in_scope = scope.as_ref().map_or(Truth::True, |s| evaluate_filter(graph, node, s));
        // A declared asset that may not be deployed is in scope only maybe: it can never FAIL,
        // and, like any asset of unknown scope, it is not reported PASS.
        if let Some(gap) = &asset.uncertain {
            in_scope = match in_scope {
                Truth::True => Truth::Unknown(vec![gap.clone()]),
                Truth::Unknown(mut g) => {
                    g.push(gap.clone());
                    Truth::Unknown(g)
                }
                Truth::False => Truth::False,
            };
        }
        if in_scope == Truth::False {
            continue;
        }
        let mut na_unknown: Vec<Arc<Gap>> = vec![];
        let mut na_reason = None;
        for (filter, reason) in &not_applicable {
            match evaluate_filter(graph, node, filter) {
                Truth::True => {
                    na_reason = Some(reason.clone());
                    break;
                }
                Truth::Unknown(g) => na_unknown.extend(g),
                Truth::False => {}
            }
        }
        if let Some(reason) = na_reason {
            findings.push(finding(control, asset, Status::NotApplicable, reason, vec![]));
            continue;
        }
        let verdict = root
            .filter
            .as_ref()
            .map_or(Truth::True, |f| evaluate_filter(graph, node, f));
        // A FAIL needs the asset to be in scope and applicable for sure; a PASS holds either way.
        let f = match (verdict, in_scope) {
            // It would pass whether or not it is in scope: only assets certainly in scope are
            // reported PASS, so the PASS count means what it says.
            (Truth::False, Truth::Unknown(_)) => continue,
            (Truth::False, _) => finding(control, asset, Status::Pass, String::new(), vec![]),
            (Truth::True, Truth::True) if na_unknown.is_empty() => {
                // The first specific reason that certainly holds; else the control's own.
                let reason = fail_reasons
                    .iter()
                    .find(|(filter, _)| evaluate_filter(graph, node, filter) == Truth::True)
                    .map_or_else(|| fail_message.clone(), |(_, reason)| reason.clone());
                let mut f = finding(control, asset, Status::Fail, reason, vec![]);
                f.evidence = evidence(graph, node, &root.selection);
                f.remedy = control.remedy(graph, node);
                f
            }
            (Truth::True, Truth::Unknown(mut g))
            | (Truth::Unknown(mut g), Truth::Unknown(_) | Truth::True | Truth::False) => {
                g.extend(na_unknown);
                finding(control, asset, Status::Unknown, unknown_reason(&g), gap_refs(&g))
            }
            (Truth::True, _) => finding(
                control,
                asset,
                Status::Unknown,
                unknown_reason(&na_unknown),
                gap_refs(&na_unknown),
            ),
        };
        findings.push(f);
    }
    findings.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.resource_type, &a.resource_id).cmp(&(
            &b.account_id,
            &b.region,
            &b.resource_type,
            &b.resource_id,
        ))
    });
    Ok(findings)
}

/// Evaluate controls in order. A control whose parameters are wrong is an error; the rest still run.
pub fn evaluate(controls: &[&Control], graph: &Graph, params: &Params) -> (Vec<Finding>, Vec<CatalogueError>) {
    let (mut findings, mut errors) = (vec![], vec![]);
    let empty = BTreeMap::new();
    for control in controls {
        let p = params
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(control.id()))
            .map_or(&empty, |(_, p)| p);
        match evaluate_control(control, graph, p) {
            Ok(f) => findings.extend(f),
            Err(e) => errors.push(e),
        }
    }
    (findings, errors)
}
