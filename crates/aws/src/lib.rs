//! Live AWS collection for netaudit, on the official AWS SDK for Rust.
//!
//! It fills the same [`netaudit_model::Inventory`] as offline evidence, so every check works
//! unchanged. Per account and region it makes one paginated listing per resource type (DescribeVpcs,
//! DescribeFlowLogs, DescribeNetworkInterfaces, …), never one call per VPC, and runs regions
//! concurrently. Every failure — AccessDenied, an opt-in region, throttling past the retry budget, a
//! timeout, a failed page of a paginated listing — becomes the listing's [`netaudit_model::Gap`],
//! naming API, account, region and error code; it is never an empty list.
//!
//! It also executes fix plans ([`apply_plan`]): read first, change only what is missing, never
//! delete or lower, one tunnel at a time. And it imports findings into Security Hub ([`securityhub`]).
//!
//! This is the only crate that depends on the AWS SDK.

mod apply;
pub mod athena;
mod calls;
mod collect;
mod convert;
mod errors;
pub mod log_sources;
mod policy;
#[cfg(test)]
mod round_trip;
pub mod securityhub;

pub use apply::{
    apply_and_verify, apply_batch, apply_plan, caller_account, recollect, AccountAccess, ApplyClients, ApplyOptions,
    ApplyReport, StepOutcome, StepReport,
};
pub use calls::{Call, CallLog};
pub use collect::{
    collect, collect_account, collect_org, collect_region, collect_region_for, sdk_config, CollectError, LiveOptions,
    RegionClients, UNKNOWN_ACCOUNT,
};
pub use errors::gap_from_sdk;
pub use policy::{
    action_for, athena_policy, read_only_policy, securityhub_import_policy, API_ACTIONS, ATHENA_API_ACTIONS,
    IMPORT_API_ACTIONS, ORG_API_ACTIONS,
};
