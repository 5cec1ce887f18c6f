//! Property-based suites.
