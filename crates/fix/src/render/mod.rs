//! One renderer per plan format.

pub mod cloudformation;
pub mod script;
pub mod table;
pub mod terraform;

/// The results no step fixes, as `#` comment lines (bash and HCL share the comment syntax).
fn not_planned_comment(plan: &crate::Plan) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if !plan.not_planned.is_empty() {
        let _ = writeln!(out, "\n# Not planned ({}): fix these by hand.", plan.not_planned.len());
        for n in &plan.not_planned {
            let _ = writeln!(out, "#   {} {}: {}", n.control, n.resource_arn, n.why);
        }
    }
    out
}
