//! `crm2sage-bench`: crm2sage's benchmarks (issue 12), one JSON object per run on stdout.
//!
//! - `promote --accounts N --latency-ms L --concurrency C`: promotions per second through
//!   [`Crm2Sage::promote`](crm2sage::Crm2Sage::promote) against a simulator with latency
//!   `L`, next to a bare reqwest loop making the same lookup and create requests.
//! - `overhead --accounts N --concurrency C`: the same at `L = 0`, next to the same requests plus
//!   the same number of durable SQLite commits made with a bare rusqlite connection.
//! - `sync --records N --page-size P --latency-ms L`: records per second through
//!   [`Crm2Sage::sync`](crm2sage::Crm2Sage::sync) of `N` customer groups, next to fetching
//!   the same pages with reqwest, and the peak RSS of this process.
//! - `list --accounts N`: the real `crm2sage --json account list` over `N` accounts, in its own
//!   process: its peak RSS and accounts per second.
//! - `commits --count N`: the cost of one durable commit (WAL, `synchronous=FULL`) on this disk.
//! - `import --rows N`: `crm2sage account import` of an `N`-row file (the CLI binary, in a child
//!   process, so its peak RSS is its own), next to a bare `csv` + `rusqlite` loop.
//! - `batch --rows N --latency-ms L --concurrency C`: `crm2sage promote --batch` of an `N`-row
//!   file (rows by account reference; the CLI binary in a child process), next to the bare
//!   promote baseline; its peak RSS and database bytes per promoted account.
//!
//! Every promotion benchmark (`promote`, `overhead`, `batch`, `workers`) promotes one account
//! template many times, which the duplicate guard (issue 21) would refuse: ours run with
//! `allow_duplicate` (`--allow-duplicate`), which skips the guard, so both sides make the same
//! two ERP requests (lookup by number, create). A guarded promotion makes one more (the lookup
//! by name). `promote`, `overhead` and `batch` give ours and the baseline a simulator each,
//! started alike.
//! - `match --accounts N --customers M`: the real `crm2sage --json match` (in a child process)
//!   over `N` unbound accounts, about half of them matching one of the `M` customers of the
//!   index: accounts per second and its peak RSS (issue 21).
//! - `customers --customers N --page-size P --latency-ms L`: the real `crm2sage --json sync
//!   --only customer` (in a child process) of `N` seeded customers, next to fetching the same
//!   pages with reqwest; its peak RSS (issue 21).
//! - `promote --store postgres …`: the same promotions over the PostgreSQL store (server from
//!   `CRM2SAGE_BENCH_POSTGRES`, a schema of the run's own), next to a bare tokio-postgres loop
//!   making the same requests and the same two durable commits per promotion.
//! - `workers --processes P --accounts N --latency-ms L --concurrency C`: promotion throughput of
//!   P worker processes sharing one PostgreSQL database, against one worker.
//!
//! The simulator runs in a child process (the hidden `serve` subcommand of this binary), so its
//! memory and its allocations are not counted as ours; it shares the machine's cores, though.
//! Progress and diagnostics go to stderr. `docs/performance.md` has the figures.

mod baseline;
mod batch;
mod child;
mod customers;
mod import;
mod list;
mod matching;
mod ours;
mod pg;
mod sim;
mod stats;
mod workers;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;

/// crm2sage benchmarks: each run prints one JSON object on stdout.
#[derive(Debug, Parser)]
#[command(name = "crm2sage-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Promotion throughput against an ERP with latency L, next to a bare reqwest loop.
    Promote {
        /// Accounts to promote (each run also makes as many baseline customers).
        #[arg(long, default_value_t = 5000)]
        accounts: usize,
        /// Latency the simulator adds to every request, in milliseconds.
        #[arg(long, default_value_t = 20)]
        latency_ms: u64,
        /// Promotions under way at once (and baseline requests in flight).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Directory for the temporary database (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The store: a SQLite file in `--dir`, or a schema of its own on the PostgreSQL server
        /// named by CRM2SAGE_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432/test).
        #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
        store: StoreKind,
    },
    /// Throughput of several worker processes sharing one PostgreSQL database, against one.
    Workers {
        /// Worker processes of the parallel phase.
        #[arg(long, default_value_t = 4)]
        processes: usize,
        /// Accounts each phase promotes (the parallel phase splits them among its workers).
        #[arg(long, default_value_t = 2000)]
        accounts: usize,
        /// Latency the simulator adds to every request, in milliseconds.
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
        /// Promotions under way in each worker (and its pool's connections).
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Our cost per promotion at latency 0, next to the same requests and commits made bare.
    Overhead {
        /// Accounts to promote.
        #[arg(long, default_value_t = 5000)]
        accounts: usize,
        /// Promotions under way at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Directory for the temporary databases (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Sync throughput and peak memory, next to fetching the same pages bare.
    Sync {
        /// Customer groups the simulator serves (on top of the 4 demo groups).
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// The simulator's page size.
        #[arg(long, default_value_t = 1000)]
        page_size: usize,
        /// Latency the simulator adds to every request, in milliseconds.
        #[arg(long, default_value_t = 20)]
        latency_ms: u64,
        /// Directory for the temporary database (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// The cost of one durable SQLite commit (WAL, synchronous=FULL) on this disk.
    Commits {
        /// Commits to make, one after the other.
        #[arg(long, default_value_t = 2000)]
        count: usize,
        /// Directory for the temporary database (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// `crm2sage --json account list` over N accounts: its peak RSS and accounts per second.
    List {
        /// Accounts in the database (filled through the store's bulk insert, not timed).
        #[arg(long, default_value_t = 1_000_000)]
        accounts: usize,
        /// The crm2sage binary (default: the one next to this binary).
        #[arg(long)]
        crm2sage: Option<PathBuf>,
        /// Directory for the temporary database (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// `account import` throughput and peak memory, next to a bare csv + rusqlite loop.
    Import {
        /// Rows in the generated accounts file.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Directory for the file and the databases (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The `crm2sage` binary to run (default: the one next to this binary).
        #[arg(long)]
        cli: Option<PathBuf>,
    },
    /// `promote --batch` of a generated file (rows by account reference) through the CLI in a
    /// child process, next to the bare promote baseline: ratio, peak RSS, database bytes.
    Batch {
        /// Rows in the generated batch file (and accounts imported for it).
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// Latency the simulator adds to every request, in milliseconds.
        #[arg(long, default_value_t = 20)]
        latency_ms: u64,
        /// Promotions under way at once (and baseline requests in flight).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Directory for the files and the database (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The `crm2sage` binary to run (default: the one next to this binary).
        #[arg(long)]
        cli: Option<PathBuf>,
    },
    /// `crm2sage --json match` over N unbound accounts and an M-customer index (the CLI in a
    /// child process): accounts per second and its peak RSS.
    Match {
        /// Accounts imported (about half match a seeded customer).
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        /// Customers seeded into the simulator and synced into the index.
        #[arg(long, default_value_t = 100_000)]
        customers: usize,
        /// Directory for the file and the database (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The `crm2sage` binary to run (default: the one next to this binary).
        #[arg(long)]
        cli: Option<PathBuf>,
    },
    /// `crm2sage --json sync --only customer` of N seeded customers (the CLI in a child
    /// process), next to fetching the same pages bare: ratio and its peak RSS.
    Customers {
        /// Customers seeded into the simulator.
        #[arg(long, default_value_t = 100_000)]
        customers: usize,
        /// The simulator's page size (the adapter asks for 500 a page).
        #[arg(long, default_value_t = 500)]
        page_size: usize,
        /// Latency the simulator adds to every request, in milliseconds.
        #[arg(long, default_value_t = 20)]
        latency_ms: u64,
        /// Directory for the database (default: the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The `crm2sage` binary to run (default: the one next to this binary).
        #[arg(long)]
        cli: Option<PathBuf>,
    },
    /// Runs a Sage 300 simulator and prints its address as one JSON line; stops when stdin
    /// closes. Used by the other subcommands.
    #[command(hide = true)]
    Serve {
        /// Latency added to every request, in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Server page size.
        #[arg(long, default_value_t = 100)]
        page_size: usize,
        /// Generated customer groups on top of the demo data.
        #[arg(long, default_value_t = 0)]
        groups: usize,
        /// Customers seeded on top of the demo data (`S000001`…, `Customer 000001 Ltd`, …).
        #[arg(long, default_value_t = 0)]
        seed_customers: usize,
    },
    /// A worker of `workers`: reads its job on stdin, answers on stdout.
    #[command(hide = true)]
    PgWorker,
}

/// Where `promote` keeps its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL schema.
    Postgres,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let result: Result<Value, String> = match cli.command {
        Command::Serve {
            latency_ms,
            page_size,
            groups,
            seed_customers,
        } => {
            let seed = sim::Seed {
                groups,
                customers: seed_customers,
            };
            return match runtime.block_on(sim::serve(latency_ms, page_size, seed)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            };
        }
        Command::PgWorker => {
            return match runtime.block_on(workers::worker()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            };
        }
        Command::Promote {
            accounts,
            latency_ms,
            concurrency,
            dir,
            store,
        } => sim::Sim::spawn_pair(latency_ms, 100, 0).and_then(|(sim, base)| match store {
            StoreKind::Sqlite => runtime.block_on(ours::promote_bench(
                &sim.info,
                &base.info,
                accounts,
                latency_ms,
                concurrency,
                dir,
            )),
            StoreKind::Postgres => runtime.block_on(pg::promote_bench(
                &sim.info,
                &base.info,
                accounts,
                latency_ms,
                concurrency,
            )),
        }),
        Command::Workers {
            processes,
            accounts,
            latency_ms,
            concurrency,
        } => sim::Sim::spawn(latency_ms, 100, 0).and_then(|sim| {
            runtime.block_on(workers::workers_bench(
                &sim.info,
                accounts,
                latency_ms,
                concurrency,
                processes,
            ))
        }),
        Command::Overhead {
            accounts,
            concurrency,
            dir,
        } => sim::Sim::spawn_pair(0, 100, 0).and_then(|(sim, base)| {
            runtime.block_on(ours::overhead_bench(
                &sim.info,
                &base.info,
                accounts,
                concurrency,
                dir,
            ))
        }),
        Command::Sync {
            records,
            page_size,
            latency_ms,
            dir,
        } => sim::Sim::spawn(latency_ms, page_size, records).and_then(|sim| {
            runtime.block_on(ours::sync_bench(
                &sim.info, records, page_size, latency_ms, dir,
            ))
        }),
        Command::List {
            accounts,
            crm2sage,
            dir,
        } => runtime.block_on(list::list_bench(accounts, crm2sage, dir)),
        Command::Commits { count, dir } => baseline::commit_cost(count, dir.as_deref()),
        Command::Import { rows, dir, cli } => import::import_bench(rows, dir.as_deref(), cli),
        Command::Match {
            accounts,
            customers,
            dir,
            cli,
        } => {
            let seed = sim::Seed {
                groups: 0,
                customers,
            };
            sim::Sim::spawn_seeded(0, 500, seed).and_then(|sim| {
                runtime.block_on(matching::match_bench(
                    &sim.info,
                    accounts,
                    customers,
                    dir.as_deref(),
                    cli,
                ))
            })
        }
        Command::Customers {
            customers,
            page_size,
            latency_ms,
            dir,
            cli,
        } => {
            let seed = sim::Seed {
                groups: 0,
                customers,
            };
            sim::Sim::spawn_seeded(latency_ms, page_size, seed).and_then(|sim| {
                runtime.block_on(customers::customers_bench(
                    &sim.info,
                    customers,
                    page_size,
                    latency_ms,
                    dir.as_deref(),
                    cli,
                ))
            })
        }
        Command::Batch {
            rows,
            latency_ms,
            concurrency,
            dir,
            cli,
        } => sim::Sim::spawn_pair(latency_ms, 100, 0).and_then(|(sim, base)| {
            runtime.block_on(batch::batch_bench(
                &sim.info,
                &base.info,
                rows,
                latency_ms,
                concurrency,
                dir.as_deref(),
                cli,
            ))
        }),
    };
    match result {
        Ok(json) => {
            // The one JSON object of this run: stdout is the benchmark's output by design.
            #[allow(clippy::print_stdout)]
            {
                println!("{json}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    #[allow(clippy::print_stderr)] // diagnostics go to stderr
    {
        eprintln!("crm2sage-bench: {message}");
    }
    ExitCode::FAILURE
}

/// A progress or diagnostic line on stderr.
macro_rules! note {
    ($($arg:tt)*) => {{
        #[allow(clippy::print_stderr)]
        {
            eprintln!("[bench] {}", format_args!($($arg)*));
        }
    }};
}
pub(crate) use note;
