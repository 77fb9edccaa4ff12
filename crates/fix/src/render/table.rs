//! The plan for a terminal: per account and region, each step and what it fixes.

use crate::plan::Plan;
use std::fmt::Write;

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.is_empty() && plan.is_complete() {
        out.push_str("Nothing to do: no failing result has an automatic fix.\n");
    } else if plan.is_empty() {
        out.push_str("Nothing planned, but the scan is incomplete: see below.\n");
    }
    for batch in &plan.batches {
        let _ = writeln!(
            out,
            "{} {} ({} step(s), priority {})",
            batch.account_id,
            batch.region,
            batch.steps.len(),
            batch.priority
        );
        for (i, step) in batch.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", i + 1, step.action.summary());
            for f in &step.fixes {
                let _ = writeln!(
                    out,
                    "       fixes {} {} (account {}, {})",
                    f.control, f.resource_arn, f.account_id, f.region
                );
            }
        }
    }
    if !plan.not_planned.is_empty() {
        let _ = writeln!(out, "Not planned ({}):", plan.not_planned.len());
        for n in &plan.not_planned {
            let _ = writeln!(out, "  {} {}: {}", n.control, n.resource_arn, n.why);
        }
    }
    if !plan.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "Not planned, could not be read ({}): read them, then plan again:",
            plan.unreadable.len()
        );
        for u in &plan.unreadable {
            let _ = writeln!(out, "  {}: {}", u.result, u.reason);
        }
    }
    if !plan.errors.is_empty() {
        let _ = writeln!(out, "Input problems ({}):", plan.errors.len());
        for e in &plan.errors {
            let _ = writeln!(out, "  {e}");
        }
    }
    let _ = writeln!(
        out,
        "\n{} step(s) in {} batch(es); {} result(s) not planned; {} could not be read.",
        plan.step_count(),
        plan.batches.len(),
        plan.not_planned.len(),
        plan.unreadable.len()
    );
    out
}
