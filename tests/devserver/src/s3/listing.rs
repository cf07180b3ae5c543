//! [`ObjectLister`] for the server state: folder children from the node index, as the
//! REST API shows them (workspace permissions, indexing delay).
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{ListedNode, ObjectLister};
use crate::host::Denied;
use crate::state::{now_ms, State, WORKSPACES};

impl ObjectLister for State {
    fn list_children(&self, login: &str, dir: &str) -> Result<Vec<ListedNode>, Denied> {
        if dir.is_empty() {
            let now = SystemTime::now();
            return Ok(WORKSPACES
                .iter()
                .filter(|w| w.allows(login))
                .map(|w| ListedNode {
                    name: w.slug.to_string(),
                    is_dir: true,
                    size: 0,
                    modified: now,
                })
                .collect());
        }
        let r = self.resolve(login, dir)?;
        let g = self.lock();
        let now = now_ms();
        let e = g.visible(&r.key, now).ok_or(Denied::NotFound)?;
        if !e.dir {
            return Err(Denied::NotFound);
        }
        let mut out = Vec::with_capacity(e.dirs.len() + e.files.len());
        for (names, is_dir) in [(&e.dirs, true), (&e.files, false)] {
            for name in names {
                let Some(c) = g.visible(&format!("{}/{}", r.key, name), now) else {
                    continue;
                };
                out.push(ListedNode {
                    name: name.clone(),
                    is_dir,
                    size: if is_dir { 0 } else { c.size },
                    modified: UNIX_EPOCH + Duration::from_secs(c.mtime.max(0) as u64),
                });
            }
        }
        Ok(out)
    }
}
