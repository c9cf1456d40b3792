//! The `smsgate` binary: reads the command line and hands it to [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
