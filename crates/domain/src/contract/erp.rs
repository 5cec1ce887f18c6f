//! ERP gateway contract.
