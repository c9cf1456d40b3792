//! The `smsgate` binary: reads the command line and hands it to [`smsgate::cli`].

/// mimalloc instead of glibc's malloc: sled allocates on every write and the gateway's
/// threads free what others allocated, and glibc's arena locks and chunk handling took a
/// third of the verifier's thread (docs/performance.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    smsgate::cli::main()
}
