//! The command line, as clap reads it. Names follow the spec's "Command line" exactly.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Promote CRM accounts into Sage 300 / Sage 100 customers, exactly once.
///
/// The workflow: `integration add` (one ERP company), `sync` (reference data), `account new`,
/// `promote`, `erp-details`. Try `crm2sage demo` to see it run against a built-in Sage
/// simulator.
#[derive(Debug, Parser)]
#[command(name = "crm2sage", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// The database: a SQLite file, or a PostgreSQL URL (postgres://USER[:PASSWORD]@HOST/DB;
    /// the password is never printed) [default: the platform data directory's
    /// crm2sage/crm2sage.db].
    #[arg(
        long,
        global = true,
        env = "CRM2SAGE_DB",
        hide_env_values = true,
        value_name = "PATH|URL"
    )]
    pub(crate) db: Option<std::ffi::OsString>,

    /// The host id this process writes into its leases [default: the machine's hostname].
    /// Every machine sharing a database needs its own; a lease of another host is settled
    /// only once it expired.
    #[arg(long, global = true, env = "CRM2SAGE_HOST_ID", value_name = "ID")]
    pub(crate) host_id: Option<String>,

    /// Print exactly one JSON document on stdout (errors too, as {"error": {...}}).
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// More diagnostics on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Only errors on stderr; no progress bars or narration.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,

    /// How long a promotion's lease lasts, in seconds [default: derived from the
    /// integration's timeout, 45 s at least]. A worker on another host that dies is settled by
    /// `recover` only once its lease has expired; a shorter lease settles sooner.
    #[arg(long, global = true, env = "CRM2SAGE_LEASE_SECS", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) lease_secs: Option<u64>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 ok · 1 internal error · 2 usage · 3 invalid input or unmet prerequisites · \
4 not found · 5 conflict (already promoted, customer number taken, in progress) · 6 ERP unreachable or ERP error.\n\
Human output goes to stdout, diagnostics to stderr. NO_COLOR is respected.";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Configure ERP companies (integrations).
    #[command(subcommand)]
    Integration(IntegrationCommand),

    /// Copy the reference data promotions need (groups, terms, tax, ...) from the ERP.
    ///
    /// Every kind the integration's ERP offers is synced; each is a full snapshot. Records the
    /// ERP no longer returns are kept, inactive.
    Sync(SyncArgs),

    /// Create, list and show CRM accounts.
    #[command(subcommand)]
    Account(AccountCommand),

    /// An account's ship-to addresses: add, list, remove, import.
    #[command(subcommand)]
    ShipTo(crate::commands::ship_to::ShipToCommand),

    /// An account's contacts: add, list, remove, import.
    #[command(subcommand)]
    Contact(crate::commands::contact::ContactCommand),

    /// Create the ERP customer for an account, exactly once.
    ///
    /// Sage 300 needs --category (customer group) and --tax-group; Sage 100 needs --salesperson
    /// and --tax-schedule. The customer number must not exist in the ERP yet.
    Promote(PromoteArgs),

    /// Show a promoted account's customer, read live from the ERP.
    ErpDetails(ErpDetailsArgs),

    /// Bind an account to a customer the ERP already has (instead of creating one).
    ///
    /// Reads the customer live (absent: exit 4; bound to another account: exit 5), writes the
    /// binding (marked linked, not created) and logs it; when the integration has a CRM-id
    /// field, writes the account id into the ERP customer.
    Link(LinkArgs),

    /// Remove an account's binding; the ERP customer is not touched (the log keeps it). The
    /// account can then be promoted or linked again.
    Unlink(UnlinkArgs),

    /// Propose ERP customers (from the customer index) for every account that has no binding,
    /// with a score and the reasons; --apply links the unambiguous ones.
    ///
    /// Needs `crm2sage sync --only customer` first.
    Match(MatchArgs),

    /// Check every binding against the ERP, live: ok, missing, inactive, on_hold, changed.
    /// Exit 0 when all are ok, 5 otherwise (6 when the ERP could not be read).
    Reconcile(ReconcileArgs),

    /// Show the promotion log (every attempt, refused, failed or successful).
    Log(LogArgs),

    /// Settle promotions a crash or an unknown ERP outcome left in flight.
    ///
    /// Each free `creating` promotion is looked up in the ERP: a matching customer is adopted,
    /// a missing one is created, a customer that is not the account's goes to needs_review.
    /// Promotions held by a running process are left alone. Up to --concurrency promotions are
    /// settled at once.
    Recover(RecoverArgs),

    /// Move the data between databases (docs/deployment.md).
    #[command(subcommand)]
    Db(DbCommand),

    /// Run the built-in Sage simulator with demo data until interrupted.
    Simulate(SimulateArgs),

    /// Run the whole workflow against a built-in Sage simulator in a temporary directory.
    Demo(DemoArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    /// Sage 300 (Web API).
    Sage300,
    /// Sage 100 (SData).
    Sage100,
}

impl KindArg {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KindArg::Sage300 => "sage300",
            KindArg::Sage100 => "sage100",
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum IntegrationCommand {
    /// Add an integration: one ERP company.
    Add(IntegrationAddArgs),
    /// List integrations, by name, a page at a time.
    List(IntegrationListArgs),
    /// Change an integration's connection settings (URL, user, password variable, CRM id
    /// field, timeout, trusted CA). Its name, kind and company stay.
    Set(IntegrationSetArgs),
    /// Show one integration.
    Show {
        /// Integration name.
        name: String,
    },
    /// Make an integration the default (used when a command names none).
    SetDefault {
        /// Integration name.
        name: String,
    },
    /// Check the ERP answers and accepts the credentials.
    Test {
        /// Integration name.
        name: String,
    },
    /// Remove an integration (refused once it has promotions).
    Remove {
        /// Integration name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct IntegrationAddArgs {
    /// Unique name: letters, digits, '-' and '_', 1-40.
    pub(crate) name: String,
    /// Which ERP.
    #[arg(long, value_enum)]
    pub(crate) kind: KindArg,
    /// Base URL: Sage 300 Web API root (https://host/Sage300WebApi) or Sage 100 SData root
    /// (https://host/sdata/MasApp/MasContract).
    #[arg(long)]
    pub(crate) url: String,
    /// ERP company code (Sage 300 org ID such as SAMLTD; Sage 100 company such as ABC).
    #[arg(long)]
    pub(crate) company: String,
    /// ERP user name.
    #[arg(long)]
    pub(crate) user: String,
    /// Name of the environment variable holding the password (only the name is stored).
    #[arg(long, value_name = "VAR")]
    pub(crate) password_env: String,
    /// Sage 100: default AR division (00-99) [default: 00].
    #[arg(long, value_name = "DD")]
    pub(crate) division: Option<String>,
    /// Sage 100: customer-name length of this installation: 30, or 50 for Sage 100 2022+.
    #[arg(long, value_name = "30|50")]
    pub(crate) customer_name_max: Option<u32>,
    /// ERP field that receives the CRM account id on every customer created (Sage 300
    /// optional field code; Sage 100 UDF_ column). Lets `recover` recognise our customers.
    #[arg(long, value_name = "NAME")]
    pub(crate) crm_id_field: Option<String>,
    /// Allow plain http:// to a host that is not loopback (credentials travel unencrypted).
    #[arg(long)]
    pub(crate) allow_insecure_http: bool,
    /// Make this the default integration.
    #[arg(long)]
    pub(crate) default: bool,
    /// Longest wait for one ERP request, in seconds, 1-600 [default: 60, enough for an
    /// on-prem IIS whose cold application pool answers its first requests after 20-45 s].
    #[arg(long, value_name = "SECONDS")]
    pub(crate) timeout: Option<String>,
    /// PEM file with the private CA certificate(s) that signed the ERP's HTTPS certificate,
    /// trusted for this integration in addition to the system's roots (at most 1 MiB; no
    /// private key).
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct IntegrationSetArgs {
    /// Integration name.
    pub(crate) name: String,
    /// New base URL.
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// New ERP user name.
    #[arg(long)]
    pub(crate) user: Option<String>,
    /// New name of the environment variable holding the password (only the name is stored).
    #[arg(long, value_name = "VAR")]
    pub(crate) password_env: Option<String>,
    /// New ERP field that receives the CRM account id.
    #[arg(long, value_name = "NAME")]
    pub(crate) crm_id_field: Option<String>,
    /// Allow plain http:// to a host that is not loopback from now on.
    #[arg(long)]
    pub(crate) allow_insecure_http: bool,
    /// New longest wait for one ERP request, in seconds, 1-600.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) timeout: Option<String>,
    /// Trust the CA certificate(s) in this PEM file instead of the ones set before.
    #[arg(long, value_name = "PEM", conflicts_with = "no_ca_file")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Trust no private CA any more (only the system's roots).
    #[arg(long)]
    pub(crate) no_ca_file: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Integration name [default: the default integration].
    #[arg(long)]
    pub(crate) integration: Option<String>,
    /// Only these kinds: category, currency, language, terms, tax, division, salesperson,
    /// ship-method; and `customer`, the ERP's customer list for the duplicate guard and
    /// `match` (synced only when named here).
    #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
    pub(crate) only: Vec<String>,
    /// With `--only customer`: list every customer (and drop those the ERP no longer has),
    /// not only those changed since the last customer sync.
    #[arg(long)]
    pub(crate) full: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LinkArgs {
    /// Account id.
    pub(crate) account: String,
    /// The ERP customer's number (Sage 100: DD-NNNN, or NNNN in the default division).
    #[arg(long)]
    pub(crate) customer_no: String,
    /// Integration name [default: the default integration].
    #[arg(long)]
    pub(crate) integration: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct UnlinkArgs {
    /// Account id.
    pub(crate) account: String,
    /// Integration name [default: the default integration].
    #[arg(long)]
    pub(crate) integration: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MatchArgs {
    /// Integration name [default: the default integration].
    #[arg(long)]
    pub(crate) integration: Option<String>,
    /// Link each account that has exactly one candidate at or above --min-score and no rival.
    #[arg(long)]
    pub(crate) apply: bool,
    /// The lowest score proposed (0 to 1): name 0.6, e-mail 0.3, phone 0.25, postal code 0.15
    /// (with another reason), added up to at most 1.
    #[arg(long, default_value_t = crm2sage_domain::DEFAULT_MIN_SCORE, value_name = "S")]
    pub(crate) min_score: f64,
    /// Also list the accounts without any candidate.
    #[arg(long)]
    pub(crate) all: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReconcileArgs {
    /// Integration name [default: the default integration].
    #[arg(long)]
    pub(crate) integration: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Create an account (every invalid field is reported at once).
    New(Box<AccountNewArgs>),
    /// List accounts.
    List(AccountListArgs),
    /// Show an account, its bindings (Integration key, External UID) and promotions.
    Show {
        /// Account id.
        id: String,
    },
    /// Change an account's details: only the fields given change, an empty value clears an
    /// optional one (every invalid field is reported at once). A promoted account changes here
    /// only; the ERP is not touched.
    Update(Box<AccountUpdateArgs>),
    /// Create or update the account with this CRM reference: absent → created, the same
    /// details → unchanged, other details → updated (safe to repeat).
    Upsert(Box<AccountNewArgs>),
    /// Import accounts from a CSV file (header row required; see docs/cli.md), streamed in
    /// chunks. Each row is an upsert by its reference (created, updated or unchanged), so
    /// importing a file again is safe; each bad row is reported with its line number and every
    /// invalid field.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Also write one line per row (line, reference, outcome, error kind, message) to this
        /// file: CSV for `.csv`, JSON lines for `.jsonl` / `.ndjson`.
        #[arg(long, value_name = "FILE", value_parser = crate::report::report_path)]
        report: Option<crate::report::ReportPath>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AccountNewArgs {
    /// Account name (1-60).
    #[arg(long)]
    pub(crate) name: String,
    /// Billing address line 1.
    #[arg(long)]
    pub(crate) line1: String,
    /// Billing address line 2.
    #[arg(long)]
    pub(crate) line2: Option<String>,
    /// Billing address line 3.
    #[arg(long)]
    pub(crate) line3: Option<String>,
    /// City.
    #[arg(long)]
    pub(crate) city: String,
    /// State or province.
    #[arg(long)]
    pub(crate) state: Option<String>,
    /// Postal or ZIP code.
    #[arg(long)]
    pub(crate) postal_code: Option<String>,
    /// Country: ISO 3166 alpha-2 (US) or alpha-3 (USA).
    #[arg(long)]
    pub(crate) country: String,
    /// Telephone.
    #[arg(long)]
    pub(crate) phone: Option<String>,
    /// Email.
    #[arg(long)]
    pub(crate) email: Option<String>,
    /// Website.
    #[arg(long)]
    pub(crate) website: Option<String>,
    /// ISO 4217 currency (checked against synced currencies at promotion).
    #[arg(long)]
    pub(crate) currency: Option<String>,
    /// Language code, e.g. ENG (checked against synced languages at promotion).
    #[arg(long)]
    pub(crate) language: Option<String>,
    /// Payment terms code (checked against synced terms at promotion).
    #[arg(long)]
    pub(crate) terms: Option<String>,
    /// The CRM's own key for the account (unique; batch files may refer to it).
    #[arg(long)]
    pub(crate) reference: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct AccountUpdateArgs {
    /// Account id (see `crm2sage account list`).
    pub(crate) id: String,
    /// Account name (1-60).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Billing address line 1.
    #[arg(long)]
    pub(crate) line1: Option<String>,
    /// Billing address line 2.
    #[arg(long)]
    pub(crate) line2: Option<String>,
    /// Billing address line 3.
    #[arg(long)]
    pub(crate) line3: Option<String>,
    /// City.
    #[arg(long)]
    pub(crate) city: Option<String>,
    /// State or province.
    #[arg(long)]
    pub(crate) state: Option<String>,
    /// Postal or ZIP code.
    #[arg(long)]
    pub(crate) postal_code: Option<String>,
    /// Country: ISO 3166 alpha-2 (US) or alpha-3 (USA).
    #[arg(long)]
    pub(crate) country: Option<String>,
    /// Telephone.
    #[arg(long)]
    pub(crate) phone: Option<String>,
    /// Email.
    #[arg(long)]
    pub(crate) email: Option<String>,
    /// Website.
    #[arg(long)]
    pub(crate) website: Option<String>,
    /// ISO 4217 currency.
    #[arg(long)]
    pub(crate) currency: Option<String>,
    /// Language code, e.g. ENG.
    #[arg(long)]
    pub(crate) language: Option<String>,
    /// Payment terms code.
    #[arg(long)]
    pub(crate) terms: Option<String>,
    /// The CRM's own key for the account (unique).
    #[arg(long)]
    pub(crate) reference: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct AccountListArgs {
    /// Only accounts promoted to at least one integration.
    #[arg(long, conflicts_with = "pending")]
    pub(crate) promoted: bool,
    /// Only accounts not promoted yet.
    #[arg(long)]
    pub(crate) pending: bool,
    /// Only the first N accounts (a note on stderr gives the --after that continues).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: Option<u64>,
    /// Start after this account id (accounts are listed by id, oldest first).
    #[arg(long, value_name = "ID")]
    pub(crate) after: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct IntegrationListArgs {
    /// Only the first N integrations (a note on stderr gives the --after that continues).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: Option<u64>,
    /// Start after this integration name (integrations are listed by name).
    #[arg(long, value_name = "NAME")]
    pub(crate) after: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PromoteArgs {
    /// Account id (see `crm2sage account list`).
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    pub(crate) account: Option<String>,
    /// ERP customer number to create (Sage 300: up to 12; Sage 100: up to 20 letters/digits).
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    pub(crate) customer_no: Option<String>,
    /// Promote every row of a CSV file instead (see docs/cli.md for its columns); the other
    /// flags then give defaults for columns a row leaves empty.
    #[arg(long, value_name = "FILE.csv")]
    pub(crate) batch: Option<PathBuf>,
    /// With --batch: how many promotions may be under way at once.
    #[arg(long, default_value_t = 8, requires = "batch", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: u16,
    /// With --batch: write one line per row (line, reference, outcome, error kind, message) to
    /// FILE, as CSV (.csv) or JSON lines (.jsonl, .ndjson).
    #[arg(long, value_name = "FILE", requires = "batch", value_parser = crate::report::report_path)]
    pub(crate) report: Option<crate::report::ReportPath>,
    /// Integration name [default: the default integration].
    #[arg(long)]
    pub(crate) integration: Option<String>,
    /// Sage 300 customer group (required) / Sage 100 customer type.
    #[arg(long)]
    pub(crate) category: Option<String>,
    /// Sage 300 tax group (required for Sage 300).
    #[arg(long)]
    pub(crate) tax_group: Option<String>,
    /// Payment terms [default: the account's, then the group's].
    #[arg(long)]
    pub(crate) terms: Option<String>,
    /// Sage 100 AR division [default: the integration's].
    #[arg(long, value_name = "DD")]
    pub(crate) division: Option<String>,
    /// Sage 100 salesperson, DD-NNNN or NNNN (required for Sage 100).
    #[arg(long)]
    pub(crate) salesperson: Option<String>,
    /// Sage 100 ship method.
    #[arg(long)]
    pub(crate) ship_method: Option<String>,
    /// Sage 100 tax schedule (required for Sage 100).
    #[arg(long)]
    pub(crate) tax_schedule: Option<String>,
    /// Also promote the account's ship-to addresses, after the customer (each exactly once;
    /// an account already promoted gets its ship-tos promoted).
    #[arg(long)]
    pub(crate) with_ship_tos: bool,
    /// Also promote the account's contacts, after the customer and its ship-tos.
    #[arg(long)]
    pub(crate) with_contacts: bool,
    /// Create the customer even if the ERP may already have the account: the duplicate guard
    /// is skipped (the log says so). With --dry-run the guard still looks and lists what it
    /// found instead of refusing.
    #[arg(long)]
    pub(crate) allow_duplicate: bool,
    /// Make every check (the live customer-number check and the duplicate guard included) and
    /// print the exact payload that would be sent; write nothing to the database or the ERP.
    #[arg(long, conflicts_with_all = ["with_ship_tos", "with_contacts"])]
    pub(crate) dry_run: bool,
}

impl PromoteArgs {
    /// The kinds of party `--with-ship-tos` / `--with-contacts` ask for.
    pub(crate) fn party_kinds(&self) -> Vec<crm2sage_domain::PartyKind> {
        let mut kinds = Vec::new();
        if self.with_ship_tos {
            kinds.push(crm2sage_domain::PartyKind::ShipTo);
        }
        if self.with_contacts {
            kinds.push(crm2sage_domain::PartyKind::Contact);
        }
        kinds
    }
}

#[derive(Debug, Args)]
pub(crate) struct RecoverArgs {
    /// How many promotions are settled at once (a hanging ERP call holds up only its own).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: u16,
}

#[derive(Debug, Args)]
pub(crate) struct ErpDetailsArgs {
    /// Account id.
    pub(crate) account: String,
    /// Integration name [default: the default integration].
    #[arg(long)]
    pub(crate) integration: Option<String>,
    /// The date the aging is computed as of [default: today, UTC].
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) as_of: Option<String>,
    /// How many of the latest documents (and orders) to show.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) documents: usize,
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Only this account's entries.
    pub(crate) account: Option<String>,
    /// Only the first N entries (a note on stderr gives the --after that continues).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: Option<u64>,
    /// Start after this log position (the `#` column of the table).
    #[arg(long, value_name = "N")]
    pub(crate) after: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Copy a SQLite database into an empty PostgreSQL one: every integration, account,
    /// ship-to, contact, reference record, sync run, promotion, binding and log entry, ids
    /// kept; the rows of
    /// each table are counted on both sides at the end.
    ///
    /// Stop every crm2sage process using either database first. The target must be empty
    /// (its schema is created); the SQLite file is only read.
    Copy(DbCopyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DbCopyArgs {
    /// The SQLite database file to copy from.
    #[arg(long, value_name = "PATH")]
    pub(crate) from: std::path::PathBuf,
    /// The PostgreSQL URL to copy into [default: --db / CRM2SAGE_DB, when that is a
    /// postgres:// URL]. A password here is visible to other users of the machine: prefer
    /// CRM2SAGE_DB or PGPASSWORD.
    #[arg(long, value_name = "URL")]
    pub(crate) to: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// Which Sage to simulate.
    #[arg(long, value_enum, default_value = "sage300")]
    pub(crate) kind: KindArg,
    /// Address to listen on [default: 127.0.0.1:8300, or :8100 for Sage 100].
    #[arg(long)]
    pub(crate) listen: Option<SocketAddr>,
    /// Delay every response by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub(crate) latency_ms: u64,
    /// Records per list page.
    #[arg(long, default_value_t = 100)]
    pub(crate) page_size: usize,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Which Sage to run the demo against.
    #[arg(long, value_enum, default_value = "sage300")]
    pub(crate) kind: KindArg,
}
