//! OData v4 pieces shared by any OData-speaking flavour: the `$filter` grammar, entity keys in
//! URLs (`('X')`, `(Name='X',Other=2)`) and the system query options of a list request.
//!
//! Everything here is pure: strings in, values or errors out.

pub mod filter;
pub mod key;
pub mod query;
