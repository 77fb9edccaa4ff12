//! One renderer per plan format.

pub mod cloudformation;
pub mod script;
pub mod table;
pub mod terraform;
