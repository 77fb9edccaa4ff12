//! The plan for a terminal: per account and region, each step and what it fixes.

use crate::plan::Plan;
use std::fmt::Write;

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        out.push_str("Nothing to do: no failing result has an automatic fix.\n");
    }
    for batch in &plan.batches {
        let _ = writeln!(
            out,
            "{} {} ({} step(s))",
            batch.account_id,
            batch.region,
            batch.steps.len()
        );
        for (i, step) in batch.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", i + 1, step.action.summary());
            for f in &step.fixes {
                let _ = writeln!(out, "       fixes {} {}", f.control, f.resource_arn);
            }
        }
    }
    if !plan.not_planned.is_empty() {
        let _ = writeln!(out, "Not planned ({}):", plan.not_planned.len());
        for n in &plan.not_planned {
            let _ = writeln!(out, "  {} {}: {}", n.control, n.resource_arn, n.why);
        }
    }
    let _ = writeln!(
        out,
        "\n{} step(s) in {} batch(es); {} result(s) not planned.",
        plan.step_count(),
        plan.batches.len(),
        plan.not_planned.len()
    );
    out
}
