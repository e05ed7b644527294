//! The durable state SNMPv3 DES privacy needs: a boots epoch that no two runs ever share.
//!
//! A DES salt is the sender's engineBoots followed by a 32-bit counter (RFC 3414 §8.1.1.1),
//! and the same salt must never encrypt two messages under one key. The counter restarts at
//! every run, so each run takes a new epoch, written to disk *before* any DES message is sent:
//! async-snmp's `DesSaltState` asks for exactly that, an atomic create-if-absent on the first
//! run and an atomic compare-and-set from the previous epoch on every later one. Two runs at
//! once (cron and a user) are serialised by a lock file and take different epochs.
//!
//! The file holds one decimal number and no secret; it lives in `$XDG_STATE_HOME/opskit/`
//! when that is set, else beside the catalog. A directory made for it is made 0700, and no
//! file of it is ever opened through a symbolic link (`O_NOFOLLOW`; the temporary file also
//! `O_EXCL`): a link planted at a predictable name must not make a run write elsewhere.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use async_snmp::{DesSaltState, PersistedDesSaltState};
use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, ErrorKind, Result};

/// The file name of the state, in its directory.
const FILE_NAME: &str = "snmp-des-state";

/// Where the DES state lives for a catalog at `catalog`: `$XDG_STATE_HOME/opskit/snmp-des-state`
/// when `$XDG_STATE_HOME` is an absolute path, else `snmp-des-state` beside the catalog.
pub fn state_path(catalog: &Path) -> PathBuf {
    match std::env::var_os("XDG_STATE_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir.join("opskit").join(FILE_NAME),
        _ => catalog
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(FILE_NAME),
    }
}

/// Takes this run's DES epoch from the state file at `path` (creating it on first use) and
/// returns the sender state every DES client of this run must share.
pub fn take_epoch(path: &Path) -> Result<DesSaltState> {
    let fail = |what: &str, e: io::Error| {
        Error::with_source(
            ErrorKind::Fatal,
            format!("DES privacy state {}: {what}", path.display()),
            e,
        )
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| fail("creating its directory", e))?;
    }
    let lock_path = path.with_file_name(format!("{FILE_NAME}.lock"));
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&lock_path)
        .map_err(|e| fail("opening its lock", e))?;
    // Held until this function returns: the read, the check and the write are one step for
    // every other opskit process.
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| fail("locking", io::Error::from(errno)))?;

    let previous = read(path).map_err(|e| fail("reading", e))?;
    let persist = |next: &PersistedDesSaltState| -> io::Result<()> {
        // Compare: the file must still hold what was read (it does, under the lock; this also
        // catches a writer that ignores the lock).
        if read(path)? != previous {
            return Err(io::Error::other("changed by another process"));
        }
        write_atomically(path, next.engine_boots())
    };
    let state = match previous {
        None => DesSaltState::install(persist),
        Some(boots) => {
            let previous = PersistedDesSaltState::new(boots).map_err(|e| {
                Error::with_source(
                    ErrorKind::Fatal,
                    format!("DES privacy state {}", path.display()),
                    e,
                )
            })?;
            DesSaltState::restart(previous, persist)
        }
    };
    state.map_err(|e| {
        Error::with_source(
            ErrorKind::Fatal,
            format!("DES privacy state {}", path.display()),
            e,
        )
    })
}

/// The epoch in the file, or `None` when there is no file yet.
fn read(path: &Path) -> io::Result<Option<u32>> {
    match fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| io::Error::other(format!("not a number: {:?}", text.trim()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the file with `boots` so that a crash leaves either the old or the new number,
/// never a torn one, and the new one is on disk before any salt of its epoch is used.
fn write_atomically(path: &Path, boots: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_file_name(format!(".{FILE_NAME}.{}", std::process::id()));
    let create = || {
        OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
    };
    let result = (|| {
        let mut file = match create() {
            // Left by a crashed run of the same pid, or planted: the name is removed (a link
            // itself, never what it points to) and made afresh, exclusively.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_file(&tmp)?;
                create()?
            }
            other => other?,
        };
        writeln!(file, "{boots}")?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_takes_a_new_epoch_and_the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/snmp-des-state");
        let first = take_epoch(&path).unwrap();
        assert_eq!(first.engine_boots(), 1);
        assert_eq!(fs::read_to_string(&path).unwrap(), "1\n");
        let second = take_epoch(&path).unwrap();
        assert_eq!(second.engine_boots(), 2);
        assert_eq!(fs::read_to_string(&path).unwrap(), "2\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }

    #[test]
    fn concurrent_runs_never_share_an_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snmp-des-state");
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || take_epoch(&path).unwrap().engine_boots())
            })
            .collect();
        let mut epochs: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        epochs.sort_unstable();
        assert_eq!(epochs, (1..=8).collect::<Vec<_>>());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snmp-des-state");
        fs::write(&path, "garbage").unwrap();
        let err = take_epoch(&path).unwrap_err().to_string();
        assert!(err.contains("not a number"), "{err}");
        fs::write(&path, "0\n").unwrap();
        assert!(take_epoch(&path).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "0\n");
    }

    #[test]
    fn planted_symlinks_are_never_followed() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("state");
        let path = state_dir.join(FILE_NAME);
        let target = dir.path().join("precious");
        fs::write(&target, "precious\n").unwrap();
        // A first run creates the directory, private.
        take_epoch(&path).unwrap();
        let mode = fs::metadata(&state_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // Someone plants symbolic links where the temporary file and the lock will be opened.
        let tmp = state_dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
        symlink(&target, &tmp).unwrap();
        let lock = state_dir.join(format!("{FILE_NAME}.lock"));
        fs::remove_file(&lock).unwrap();
        let lock_target = dir.path().join("lock-target");
        symlink(&lock_target, &lock).unwrap();
        let second = take_epoch(&path);
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious\n");
        assert!(!lock_target.exists(), "the lock's symlink was followed");
        // The planted lock is refused; nothing was written through it.
        assert!(second.is_err());
        // Without the planted lock, the planted temporary name is replaced, not followed.
        fs::remove_file(&lock).unwrap();
        assert_eq!(take_epoch(&path).unwrap().engine_boots(), 2);
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious\n");
        assert_eq!(fs::read_to_string(&path).unwrap(), "2\n");
    }

    #[test]
    fn the_state_lives_beside_the_catalog_unless_xdg_state_home_says_otherwise() {
        // Only the fallback is checked here: the environment is shared by parallel tests.
        if std::env::var_os("XDG_STATE_HOME").is_none() {
            assert_eq!(
                state_path(Path::new("/var/lib/opskit/catalog.db")),
                Path::new("/var/lib/opskit/snmp-des-state")
            );
            assert_eq!(
                state_path(Path::new("catalog.db")),
                Path::new("./snmp-des-state")
            );
        }
    }
}
