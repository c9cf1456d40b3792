//! The `smsgate` binary: reads the command line and hands it to [`smsgate::cli`].

fn main() -> std::process::ExitCode {
    smsgate::cli::main()
}
