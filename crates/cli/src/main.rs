//! The `crm2sage` command-line tool. (Filled in by the CLI issue.)

fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
