//! Datasources (docs/protocol.md §3.11): the list (`GET /a/config/datasource`, admin
//! only) and the resync job (`PUT /a/jobs/user/datasource-resync`, §3.5).
//!
//! Only the fields shown by `storage list-datasources` are read: the credentials a server
//! may return with a datasource (`ApiKey`, `ApiSecret`, `EncryptionKey`) are never kept.

use serde::Deserialize;

use super::idm::admin_needed;
use super::{jobs, Client};
use crate::error::Result;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DataSource {
    #[serde(rename = "Name", default)]
    pub name: String,
    /// `LOCAL` (the zero value, so absent), `S3`, `AZURE`, `GCS`, ...
    #[serde(rename = "StorageType", default)]
    pub storage_type: Option<String>,
    #[serde(rename = "ObjectsBucket", default)]
    pub bucket: String,
    #[serde(rename = "ObjectsBaseFolder", default)]
    pub base_folder: String,
    #[serde(rename = "VersioningPolicyName", default)]
    pub versioning_policy: String,
    #[serde(rename = "Disabled", default)]
    pub disabled: bool,
    #[serde(rename = "FlatStorage", default)]
    pub flat: bool,
}

impl DataSource {
    pub fn storage(&self) -> &str {
        self.storage_type.as_deref().unwrap_or("LOCAL")
    }
}

#[derive(Debug, Default, Deserialize)]
struct Collection {
    #[serde(rename = "DataSources", default)]
    data_sources: Vec<DataSource>,
}

/// Every datasource, in the server's order (entries without a name are dropped).
pub fn list(client: &Client) -> Result<Vec<DataSource>> {
    let c: Collection = client
        .get_json("/a/config/datasource")
        .map_err(|e| admin_needed(e, "cannot list datasources"))?;
    Ok(c.data_sources
        .into_iter()
        .filter(|d| !d.name.is_empty())
        .collect())
}

/// Start the resync of datasource `name`; returns the job id (wait with [`jobs::wait`]).
pub fn resync(client: &Client, name: &str) -> Result<String> {
    let params = serde_json::json!({ "dsName": name });
    jobs::create_user_job(client, "datasource-resync", &params)
        .map_err(|e| admin_needed(e, &format!("cannot start the resync of {name}")))
}
