//! The netaudit control catalogue and its evaluation.
//!
//! A control is data: one TOML file (`catalogue/<ID>/control.toml`) with its documentation,
//! framework mappings, remediation, parameters and the stored query with its expectation, exactly
//! the shape of a stored check (`vpcs(where: …){...AssetFragment}` with `expect: eq []`). The
//! built-in catalogue is embedded in the binary; users add directories of their own controls.
//! [`evaluate`] runs controls over an asset graph and yields one [`Finding`] per
//! (control, resource): PASS, FAIL, UNKNOWN (with the gaps that hid the answer) or NOT_APPLICABLE
//! (with the reason). A listing that could not be read becomes an UNKNOWN finding of its own, so a
//! failed read is never silence.

mod catalogue;
mod evaluate;
mod exceptions;
mod explain;
mod parameters;
mod priority;
mod reads;
mod remedy;
mod results;
mod shape;

pub use catalogue::{
    builtin, load_dir, AwsConfigRule, Catalogue, CatalogueError, Category, Control, ControlFile, FilterSpec, Framework,
    IacSpec, ParamDoc, ParamType, QuerySpec, Remediation, Severity,
};
pub use evaluate::{evaluate, evaluate_control, Params};
pub use exceptions::{
    apply_exceptions, inline_exceptions, parse_exceptions, Date, Exception, ExceptionOrigin, ExceptionRef,
    ExceptionState, ExceptionUse, ExceptionsError, ExceptionsSummary, ResourceMatch,
};
pub use explain::explain;
pub use priority::{assign_priorities, order_by_priority, Priority, ProductionTags};
pub use reads::controls_read;
pub use remedy::{FlowLogTarget, LogGroupRef, Remedy, RemedyKind, TunnelRef};
pub use results::{Finding, GapRef, Location, ResultKey, Status};

/// The built-in catalogue's identity for `--version`: how many controls, and a fingerprint of their
/// files (FNV-1a, 64 bits), which changes whenever any control's text does.
pub fn builtin_version() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (dir, _path, text) in catalogue::BUILTIN {
        for byte in dir.bytes().chain([0]).chain(text.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{} controls, fingerprint {hash:016x}", catalogue::BUILTIN.len())
}
