//! Sage 300 Web API and Sage 100 SData transport for crm2sage.
//!
//! This crate is the only place that knows Sage's wire formats. It implements the domain's ERP
//! ports; wire structs stay private and convert through the domain's constructors. (Filled in by
//! the Sage 300 adapter issue.)
