//! SQLite implementation of crm2sage's store ports. (Filled in by the store issue.)
