//! Where the parts of a multipart upload are kept, and how the object is put together.
//!
//! S3 clients cut a file into parts of one size (the last one shorter). The first part
//! to arrive fixes that size, the upload's slot size L, in the file `slot`. A part of
//! exactly L bytes is written straight into the upload's `data` file at (N−1)·L, so
//! that completing an upload of such parts costs a rename, not a copy of the object:
//! the copy used to cost this server more CPU than receiving the bytes (TLS, MD5 and
//! the write together). Any other part, or a second attempt at a part whose slot is
//! taken, goes to a file of its own, and a completion that does not fit the layout is
//! put together by copying, as before.
//!
//! Files of an upload folder: `slot`; `data`; `part-NNNNN` (a part in a file of its
//! own); `part-NNNNN.claim` (the part's slot in `data` was handed out; kept once the
//! part is complete, so that complete bytes are never written over); `part-NNNNN.md5`
//! (the part is complete: its MD5 in hex). Which of the part's two homes is current
//! changes under [`COMMIT`] only, so a reader never sees one home with the other's MD5.
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Serialises the switches between a part's two homes (and their reading).
static COMMIT: Mutex<()> = Mutex::new(());

/// Beyond this end offset a part is not written into `data` (a sparse file is free, but
/// not without limit: ext4 stops at 16 TiB).
const MAX_SLOT_END: u64 = 1 << 40;

/// One complete part, as listed.
#[derive(Clone)]
pub(super) struct PartInfo {
    pub number: i32,
    pub size: u64,
    pub md5_hex: String,
    pub modified: SystemTime,
    own_file: bool,
}

/// Where one attempt at a part writes its bytes.
pub(super) enum Target {
    /// Into `data` at `offset`, exactly `len` bytes.
    Slot { offset: u64, len: u64 },
    /// Into a new file of its own, renamed over `part-NNNNN` when complete.
    Own { tmp: PathBuf },
}

/// A multipart upload's folder.
pub(super) struct Upload {
    dir: PathBuf,
}

fn part_name(n: i32) -> String {
    format!("part-{n:05}")
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    COMMIT.lock().unwrap_or_else(|e| e.into_inner())
}

impl Upload {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The slot size, fixed by the first part to arrive (`len`) if none is yet.
    fn slot_size(&self, len: u64) -> io::Result<u64> {
        // Written aside, then linked: a link never replaces a file, and readers never
        // see the file before its number.
        let tmp = self.path(&format!("slot.tmp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&tmp, len.to_string())?;
        let linked = std::fs::hard_link(&tmp, self.path("slot"));
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(len),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => self.read_slot_size(),
            Err(e) => Err(e),
        }
    }

    fn read_slot_size(&self) -> io::Result<u64> {
        std::fs::read_to_string(self.path("slot"))?
            .trim()
            .parse()
            .map_err(|_| io::Error::other("bad slot file"))
    }

    /// Where an attempt at part `n` of `len` bytes (when announced) goes.
    pub fn target(&self, n: i32, len: Option<u64>) -> io::Result<Target> {
        let own = || Target::Own {
            tmp: self.path(&format!(
                "{}.tmp-{}",
                part_name(n),
                uuid::Uuid::new_v4().simple()
            )),
        };
        let Some(len) = len.filter(|&l| l > 0) else {
            return Ok(own());
        };
        let slot = self.slot_size(len)?;
        let offset = (n as u64 - 1).saturating_mul(slot);
        if len != slot || offset.saturating_add(slot) > MAX_SLOT_END {
            return Ok(own());
        }
        let claim = self.path(&format!("{}.claim", part_name(n)));
        match OpenOptions::new().write(true).create_new(true).open(claim) {
            Ok(_) => Ok(Target::Slot { offset, len }),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(own()),
            Err(e) => Err(e),
        }
    }

    /// Open the file an attempt writes to, placed at its first byte.
    pub fn open(&self, t: &Target) -> io::Result<File> {
        match t {
            Target::Own { tmp } => File::create(tmp),
            Target::Slot { offset, .. } => {
                let mut f = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(self.path("data"))?;
                f.seek(SeekFrom::Start(*offset))?;
                Ok(f)
            }
        }
    }

    /// The most bytes an attempt may write.
    pub fn limit(t: &Target) -> u64 {
        match t {
            Target::Slot { len, .. } => *len,
            Target::Own { .. } => u64::MAX,
        }
    }

    /// Undo a failed attempt: its slot can be handed out again (nothing complete was
    /// ever in it), its own file goes.
    pub fn release(&self, n: i32, t: &Target) {
        match t {
            Target::Own { tmp } => {
                let _ = std::fs::remove_file(tmp);
            }
            Target::Slot { .. } => {
                let _ = std::fs::remove_file(self.path(&format!("{}.claim", part_name(n))));
            }
        }
    }

    /// Make a complete attempt the part's current content.
    pub fn commit(&self, n: i32, t: &Target, md5_hex: &str) -> io::Result<()> {
        let name = part_name(n);
        let _g = lock();
        let md5 = self.path(&format!("{name}.md5"));
        let _ = std::fs::remove_file(&md5);
        match t {
            Target::Own { tmp } => std::fs::rename(tmp, self.path(&name))?,
            Target::Slot { .. } => match std::fs::remove_file(self.path(&name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            },
        }
        super::write_atomic(&md5, md5_hex.as_bytes())
    }

    /// The complete parts, by number.
    pub fn parts(&self) -> io::Result<Vec<PartInfo>> {
        let _g = lock();
        let mut parts = Vec::new();
        let mut slot = None;
        for ent in std::fs::read_dir(&self.dir)? {
            let name = ent?.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".md5") else {
                continue;
            };
            let Some(number) = stem.strip_prefix("part-").and_then(|s| s.parse().ok()) else {
                continue;
            };
            let md = std::fs::metadata(self.path(&name))?;
            let md5_hex = std::fs::read_to_string(self.path(&name))?.trim().to_owned();
            let (size, own_file) = match std::fs::metadata(self.path(stem)) {
                Ok(m) => (m.len(), true),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let s = match slot {
                        Some(s) => s,
                        None => *slot.insert(self.read_slot_size()?),
                    };
                    (s, false)
                }
                Err(e) => return Err(e),
            };
            parts.push(PartInfo {
                number,
                size,
                md5_hex,
                modified: md.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                own_file,
            });
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// Put the object together from `chosen` (ascending, checked by the caller) and
    /// return the file that holds it: `data` itself when the parts are already in
    /// order there, else `staging`, filled by copying.
    pub fn assemble(&self, chosen: &[PartInfo], staging: &Path) -> io::Result<PathBuf> {
        let _g = lock();
        let (last, rest) = chosen
            .split_last()
            .ok_or_else(|| io::Error::other("no parts"))?;
        let in_place = rest
            .iter()
            .enumerate()
            .all(|(i, p)| p.number == i as i32 + 1 && !p.own_file)
            && last.number == chosen.len() as i32;
        if in_place {
            let slot = if rest.is_empty() {
                last.size
            } else {
                rest[0].size
            };
            let start = slot * rest.len() as u64;
            let data = self.path("data");
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&data)?;
            if last.own_file {
                f.set_len(start)?;
                f.seek(SeekFrom::Start(start))?;
                io::copy(&mut File::open(self.path(&part_name(last.number)))?, &mut f)?;
            } else {
                f.set_len(start + last.size)?;
            }
            return Ok(data);
        }
        let mut out = File::create(staging)?;
        for p in chosen {
            if p.own_file {
                io::copy(&mut File::open(self.path(&part_name(p.number)))?, &mut out)?;
            } else {
                let mut data = File::open(self.path("data"))?;
                data.seek(SeekFrom::Start((p.number as u64 - 1) * p.size))?;
                let n = io::copy(&mut data.take(p.size), &mut out)?;
                if n != p.size {
                    return Err(io::Error::other("a part's bytes are missing"));
                }
            }
        }
        out.flush()?;
        Ok(staging.to_owned())
    }
}
