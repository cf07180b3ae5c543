//! Replacing the running executable: a new file written beside it (same file system, so the
//! final rename is atomic), the previous binary kept in the config folder, the rename; and
//! the way back. At every moment the executable's path holds a complete binary.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};
use std::time::Duration;

use super::semver::SemVer;
use crate::config;
use crate::error::{Error, Exit, Result};
use crate::output::interrupt;

const BACKUP_PREFIX: &str = "cec-";
/// Not the reference's `cec-<version>`: the Go client keeps its own backups in the same
/// folder under that name.
const BACKUP_SUFFIX: &str = ".previous";

/// The running executable, symbolic links resolved.
#[derive(Debug)]
pub struct Exe {
    pub path: PathBuf,
    pub dir: PathBuf,
    mode: u32,
}

/// A file being prepared; removed when dropped unless it was moved into place, and
/// removed on Ctrl-C.
#[derive(Debug)]
pub struct Staged {
    pub path: PathBuf,
    placed: bool,
}

/// Staged files to remove if Ctrl-C ends the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Ctrl-C only sets a flag from now on; a watcher thread removes the staged files and
/// exits (a download blocked in a read could not clean up by itself before its time-out).
fn watch_interrupt() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        interrupt::set_graceful(true);
        std::thread::spawn(|| loop {
            if interrupt::interrupted() {
                for p in PENDING.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                    let _ = fs::remove_file(p);
                }
                errln!();
                std::process::exit(130);
            }
            std::thread::sleep(Duration::from_millis(50));
        });
    });
}

impl Staged {
    fn new(path: PathBuf) -> Staged {
        watch_interrupt();
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.clone());
        Staged {
            path,
            placed: false,
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.placed {
            let _ = fs::remove_file(&self.path);
        }
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| p != &self.path);
    }
}

fn random_hex() -> String {
    let mut b = [0u8; 6];
    let _ = getrandom::getrandom(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A failed write: a full disk is said plainly.
pub fn write_error(dir: &Path, what: &str, e: io::Error) -> Error {
    let full = matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT));
    if full {
        Error::failure(format!(
            "not enough space in {} for {what}: free some space and retry; nothing replaced",
            dir.display()
        ))
    } else {
        Error::failure(format!(
            "cannot write {what} in {}: {e}; nothing replaced",
            dir.display()
        ))
    }
}

/// Reserve `len` bytes up front, so that a full disk shows before the download.
pub fn reserve(file: &File, len: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        // 64-bit lengths on 32-bit glibc too.
        #[cfg(target_env = "gnu")]
        use libc::{off64_t as off_t, posix_fallocate64 as posix_fallocate};
        #[cfg(not(target_env = "gnu"))]
        use libc::{off_t, posix_fallocate};
        let len = off_t::try_from(len).map_err(io::Error::other)?;
        // SAFETY: plain syscall on an open descriptor.
        let rc = unsafe { posix_fallocate(file.as_raw_fd(), 0, len) };
        match rc {
            0 | libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS => Ok(()),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, len);
        Ok(())
    }
}

impl Exe {
    pub fn running() -> Result<Exe> {
        let cur = std::env::current_exe()
            .map_err(|e| Error::failure(format!("cannot locate the running cec: {e}")))?;
        let path = fs::canonicalize(&cur).map_err(|e| {
            Error::failure(format!(
                "cannot locate the running cec ({}): {e}",
                cur.display()
            ))
        })?;
        let md = fs::metadata(&path)?;
        let dir = match path.parent() {
            Some(d) if md.is_file() => d.to_path_buf(),
            _ => {
                return Err(Error::failure(format!(
                    "{} is not a regular file: cannot replace it",
                    path.display()
                )))
            }
        };
        Ok(Exe {
            path,
            dir,
            mode: md.permissions().mode() & 0o777,
        })
    }

    /// A new empty file beside the executable (which proves the folder is writable).
    pub fn stage(&self) -> Result<(File, Staged)> {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "cec".into());
        let staged = Staged::new(self.dir.join(format!(".{name}.new-{}", random_hex())));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o700)
            .open(&staged.path)
        {
            Ok(f) => Ok((f, staged)),
            Err(e) if not_writable(&e) => Err(Error::new(
                Exit::Auth,
                format!(
                    "cannot replace {}: {} is not writable ({e}); installed by root or a \
                     package manager: run with sudo or download it yourself",
                    self.path.display(),
                    self.dir.display()
                ),
            )),
            Err(e) => Err(write_error(&self.dir, "the new binary", e)),
        }
    }

    /// Give the staged file the executable's permissions (before its trial run).
    pub fn set_mode(&self, staged: &Staged) -> Result<()> {
        fs::set_permissions(&staged.path, fs::Permissions::from_mode(self.mode))
            .map_err(|e| write_error(&self.dir, "the new binary", e))
    }

    /// Atomically put the staged file at the executable's path.
    pub fn replace_with(&self, mut staged: Staged) -> Result<()> {
        fs::rename(&staged.path, &self.path).map_err(|e| {
            Error::failure(format!(
                "cannot replace {}: {e}; nothing replaced",
                self.path.display()
            ))
        })?;
        staged.placed = true;
        sync_dir(&self.dir);
        Ok(())
    }
}

fn not_writable(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied || e.raw_os_error() == Some(libc::EROFS)
}

/// Copy `from` into `to` (already open) and flush it to disk.
pub fn copy_into(from: &Path, to: &mut File) -> io::Result<()> {
    let mut src = File::open(from)?;
    io::copy(&mut src, to)?;
    to.flush()?;
    to.sync_all()
}

/// Where the previous binary is kept: the default config folder.
pub fn backup_dir() -> Result<PathBuf> {
    config::default_dir()
}

fn backup_version(name: &str) -> Option<&str> {
    let v = name
        .strip_prefix(BACKUP_PREFIX)?
        .strip_suffix(BACKUP_SUFFIX)?;
    SemVer::parse(v).map(|_| v)
}

/// Copy the executable to `<config>/cec-<version>.previous` (atomically) and remove the
/// older backups.
pub fn keep_backup(exe: &Exe, version: &str) -> Result<PathBuf> {
    let dir = backup_dir()?;
    config::create_dir(&dir)?;
    let name = format!("{BACKUP_PREFIX}{version}{BACKUP_SUFFIX}");
    let dest = dir.join(&name);
    let mut staged = Staged::new(dir.join(format!(".{name}.{}.tmp", random_hex())));
    let what = "a copy of the current binary";
    let res = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o700)
        .open(&staged.path)
        .and_then(|mut f| copy_into(&exe.path, &mut f))
        .and_then(|_| fs::rename(&staged.path, &dest));
    res.map_err(|e| write_error(&dir, what, e))?;
    staged.placed = true;
    sync_dir(&dir);
    for (old, _) in backups(&dir) {
        if old != dest {
            let _ = fs::remove_file(old);
        }
    }
    Ok(dest)
}

/// Backups in `dir`: (path, version), newest first.
fn backups(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found: Vec<(PathBuf, String, std::time::SystemTime)> = Vec::new();
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(v) = backup_version(&name) else {
            continue;
        };
        let Ok(md) = e.metadata() else { continue };
        if md.is_file() {
            let t = md.modified().unwrap_or(std::time::UNIX_EPOCH);
            found.push((e.path(), v.to_string(), t));
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.2));
    found.into_iter().map(|(p, v, _)| (p, v)).collect()
}

/// The most recent backup, if any.
pub fn latest_backup() -> Result<Option<(PathBuf, String)>> {
    Ok(backups(&backup_dir()?).into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names() {
        assert_eq!(backup_version("cec-4.3.1.previous"), Some("4.3.1"));
        assert_eq!(
            backup_version("cec-4.3.2-rc.1.previous"),
            Some("4.3.2-rc.1")
        );
        for other in [
            "cec-4.3.1",
            "cec-.previous",
            "config.json",
            "cec-x.previous",
        ] {
            assert_eq!(backup_version(other), None, "{other}");
        }
    }
}
