//! The whole workflow end to end.
