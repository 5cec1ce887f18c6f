//! SData 1.x pieces shared by any SData-speaking flavour: the `where=` grammar, single-resource
//! keys in URLs, Atom/diagnosis XML writing and the reading of a POSTed Atom entry.
//!
//! Everything public here is pure: strings in, values or errors out.

pub(crate) mod atom;
pub mod key;
pub mod where_clause;
