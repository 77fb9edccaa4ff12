//! Infrastructure as code, read before anything is deployed.
//!
//! Templates ([`cloudformation`]) and Terraform configurations ([`terraform`]) are parsed with
//! their source positions (Terraform plans in JSON, [`terraform::plan`], are read as the plan
//! left them) and evaluated as far as can be known before deploy: parameters and
//! variables take their defaults (or the values given), conditions and `count`/`for_each` decide
//! which resources exist, and intrinsic functions are resolved. What only the deploy can tell
//! (another resource's id, a value imported from another stack, the region) stays an explicit
//! unknown that names the expression, or a reference to the resource it comes from, so the checks
//! can link resources and report UNKNOWN instead of guessing.

mod error;
mod value;
mod yaml;

pub mod cloudformation;
pub mod declare;
pub mod inline;
pub mod inputs;
pub mod terraform;

pub use error::IacError;
pub use value::{Reference, Value};
pub use yaml::{Location, Node, NodeValue};
