//! Problem groups that more than one function answers, built from the groups of the filters
//! that answer them (`filters::CALLER_PROBLEMS`, `context::UPSTREAM_PROBLEMS`), for
//! `FunctionSpec::problems` and the OpenAPI description.

use super::context::UPSTREAM_PROBLEMS;
use super::filters::CALLER_PROBLEMS;
use crate::error::ProblemCode;

/// What any function can answer: a declared body over the limit (`filters::body_size_limit`
/// runs before every function), and a bug.
pub const ANY_PROBLEMS: &[ProblemCode] = &[ProblemCode::PayloadTooLarge, ProblemCode::Internal];

/// What a Graph-backed GET can answer: the caller's problems, a parameter refused before Graph
/// is asked, and Graph's or on-behalf-of's problems.
pub const GRAPH_READ_PROBLEMS: &[&[ProblemCode]] = &[
    CALLER_PROBLEMS,
    &[ProblemCode::BadRequest],
    UPSTREAM_PROBLEMS,
];
