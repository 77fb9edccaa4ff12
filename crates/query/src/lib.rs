//! The netaudit query language.
//!
//! Queries are GraphQL selections over the asset graph with Neo4j-GraphQL-style `where` filters:
//! `vpcs(where: {OR: [{hasFlowLog: null}, {hasFlowLog_NONE: {flowLogStatus: "ACTIVE"}}]}){...AssetFragment}`.
//! They are parsed and validated against the graph's schema (generated from `netaudit_model::schema`)
//! with `apollo-compiler`, so a misspelt field or operator is an error with line and column.
//! Parameters are GraphQL variables with defaults. Evaluation is three-valued ([`Truth`]): a
//! predicate over an unknown value is unknown, and the gaps that made it so travel with the answer.

mod compile;
mod eval;
mod reads;
mod sdl;

pub use compile::{compile, compile_filter, Const, Filter, Query, QueryError, RootSelection, Selection, Variable};
pub use eval::{evaluate_filter, project, Truth};
pub use reads::{filter_reads, query_reads};
pub use sdl::schema_sdl;
