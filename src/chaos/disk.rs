//! The data directory's disk for the full-disk phase: a tmpfs mounted for the run (root, or
//! CAP_SYS_ADMIN), shrunk to what it holds plus a margin to make it full, grown back to
//! give the space back, and unmounted by its guard however the run ends. `mount`,
//! `umount` and `df` do the work (util-linux and coreutils), so no unsafe code is needed.

use super::ChaosError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs, unmounted on drop.
#[derive(Debug)]
pub struct Tmpfs {
    dir: PathBuf,
    size_kib: u64,
    mounted: bool,
}

/// Runs a command and returns its stdout, or an error naming the command and what it said.
fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {}: {} ({})",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim(),
            out.status
        ))
    }
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_kib` KiB at `dir` (which must exist).
    ///
    /// # Errors
    /// [`ChaosError::Mount`] naming why (not root, no mount command, ...).
    pub fn mount(dir: &Path, size_kib: u64) -> Result<Tmpfs, ChaosError> {
        let dir_s = dir.display().to_string();
        let size = format!("size={size_kib}k");
        run("mount", &["-t", "tmpfs", "-o", &size, "tmpfs", &dir_s]).map_err(|why| {
            ChaosError::Mount(format!(
                "cannot mount a tmpfs at {dir_s} for the gateway's data directory (the \
                 full-disk phase needs root or CAP_SYS_ADMIN; --skip-full-disk runs without \
                 it): {why}"
            ))
        })?;
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
            size_kib,
            mounted: true,
        })
    }

    /// The mount point.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// KiB in use on it (`df`).
    ///
    /// # Errors
    /// [`ChaosError::Disk`] if `df` fails or says something unexpected.
    pub fn used_kib(&self) -> Result<u64, ChaosError> {
        let dir = self.dir.display().to_string();
        let out = run("df", &["-P", "-k", &dir]).map_err(ChaosError::Disk)?;
        // POSIX format: a header line, then "fs 1024-blocks used available capacity mount".
        out.lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().nth(2))
            .and_then(|u| u.parse().ok())
            .ok_or_else(|| ChaosError::Disk(format!("df -P -k {dir}: unexpected output {out:?}")))
    }

    /// Makes the disk full: shrinks it to what it holds plus `margin_kib`. Returns the new
    /// size in KiB.
    ///
    /// # Errors
    /// [`ChaosError::Disk`] if the remount fails.
    pub fn fill(&self, margin_kib: u64) -> Result<u64, ChaosError> {
        let size = self.used_kib()? + margin_kib;
        self.resize(size)?;
        Ok(size)
    }

    /// Gives the space back: the size it was mounted with.
    ///
    /// # Errors
    /// [`ChaosError::Disk`] if the remount fails.
    pub fn free(&self) -> Result<(), ChaosError> {
        self.resize(self.size_kib)
    }

    fn resize(&self, size_kib: u64) -> Result<(), ChaosError> {
        let dir = self.dir.display().to_string();
        let opts = format!("remount,size={size_kib}k");
        run("mount", &["-o", &opts, &dir])
            .map(drop)
            .map_err(ChaosError::Disk)
    }

    /// Unmounts it (retried for a moment while a killed gateway's files are still being
    /// closed, then lazily).
    ///
    /// # Errors
    /// [`ChaosError::Disk`] if even the lazy unmount fails.
    pub fn unmount(&mut self) -> Result<(), ChaosError> {
        if !self.mounted {
            return Ok(());
        }
        let dir = self.dir.display().to_string();
        for _ in 0..50 {
            if run("umount", &[&dir]).is_ok() {
                self.mounted = false;
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        run("umount", &["-l", &dir]).map_err(ChaosError::Disk)?;
        self.mounted = false;
        Ok(())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Err(e) = self.unmount() {
            eprintln!("smsgate chaos: {e}");
        }
    }
}
