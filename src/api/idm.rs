//! Identity management (docs/protocol.md §3.11): users, groups, roles, workspaces and the
//! ACLs of nodes, every page of each; ACL deletion. Administrator rights are needed: a 403
//! becomes "this needs an administrator account" (exit 3, [`admin_needed`]).
//!
//! Paging ([`search_all`]): `Offset`/`Limit` (int64 strings) from 0 by [`PAGE_SIZE`] until
//! a page is empty, brings nothing new (a server that ignores `Offset`), or is short while
//! the `Total` the server gives (if any) is reached. A short page with a larger `Total` is
//! followed (a server that caps the page size); a `Total` smaller than what was seen is not
//! trusted while pages are full. Items are de-duplicated by id; at most [`MAX_ITEMS`].

use std::collections::{BTreeMap, HashSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Client;
use crate::error::{Error, Exit, Result};

/// Items asked per page.
pub const PAGE_SIZE: usize = 1000;

/// Upper bound of one listing: past it the server is taken as broken (bounded memory).
pub const MAX_ITEMS: usize = 2_000_000;

/// Whether `e` is the server's 403 (refused: not an administrator).
fn is_forbidden(e: &Error) -> bool {
    e.exit == Exit::Auth && e.status_code() == Some(403)
}

/// Turn a refusal (403) of an administration call into one clear line (exit 3); other
/// errors get `what` as context.
pub fn admin_needed(e: Error, what: &str) -> Error {
    if is_forbidden(&e) {
        Error::auth(format!(
            "{what}: this needs an administrator account (the server answered {})",
            e.message
        ))
    } else {
        e.context(what)
    }
}

/// A search result that has an id (for de-duplication across pages).
pub trait Item: DeserializeOwned {
    fn id(&self) -> &str;
}

/// Every item under `key` of the pages of `POST path` with `query` (see the module doc).
/// `page_keys` are every list a page may hold (their lengths make the page size).
pub fn search_all<T: Item>(
    client: &Client,
    path: &str,
    query: &Value,
    key: &str,
    page_keys: &[&str],
    what: &str,
) -> Result<Vec<T>> {
    let mut out: Vec<T> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut offset = 0usize;
    loop {
        let mut body = query.clone();
        body["Offset"] = json!(offset.to_string());
        body["Limit"] = json!(PAGE_SIZE.to_string());
        let page: Value = client
            .post_json_idempotent(path, &body)
            .map_err(|e| admin_needed(e, what))?;
        let mut n = 0;
        for k in page_keys {
            n += list_of(&page, k, what)?.len();
        }
        let mut new = 0;
        for v in list_of(&page, key, what)? {
            let item: T = serde_json::from_value(v.clone()).map_err(|e| bad_reply(what, &e))?;
            let id = match item.id() {
                "" => v.to_string(),
                id => id.to_string(),
            };
            if seen.insert(id) {
                out.push(item);
                new += 1;
            }
        }
        if out.len() > MAX_ITEMS {
            return Err(Error::failure(format!(
                "{what}: the server sent more than {MAX_ITEMS} items, giving up"
            )));
        }
        let total = page.get("Total").and_then(Value::as_u64).unwrap_or(0) as usize;
        offset += n;
        let short = n < PAGE_SIZE && total <= offset;
        if n == 0 || new == 0 || short {
            return Ok(out);
        }
    }
}

/// The array `key` of a page (absent or null = empty).
fn list_of<'a>(page: &'a Value, key: &str, what: &str) -> Result<&'a [Value]> {
    match page.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(Error::failure(format!(
            "{what}: unexpected server response ({key} is not a list)"
        ))),
    }
}

fn bad_reply(what: &str, e: &serde_json::Error) -> Error {
    Error::failure(format!("{what}: unexpected server response: {e}"))
}

// ------------------------------------------------------------------------ users, groups

/// An `idmUser`: a user, or a group (`group_label`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    #[serde(rename = "Uuid", default)]
    pub uuid: String,
    #[serde(rename = "Login", default)]
    pub login: String,
    #[serde(rename = "GroupPath", default)]
    pub group_path: String,
    #[serde(rename = "GroupLabel", default)]
    pub group_label: String,
    /// String values (`displayName`, `email`, `profile`, ...); others are ignored.
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, Value>,
}

impl User {
    /// A string attribute, `None` when absent or empty.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

impl Item for User {
    fn id(&self) -> &str {
        &self.uuid
    }
}

/// Every user (`POST /a/user`, users only).
pub fn users(client: &Client) -> Result<Vec<User>> {
    let q = json!({"Queries": [{"Login": "*", "NodeType": "USER"}]});
    search_all(
        client,
        "/a/user",
        &q,
        "Users",
        &["Users", "Groups"],
        "cannot list users",
    )
}

/// Every group (`POST /a/user`, groups only).
pub fn groups(client: &Client) -> Result<Vec<User>> {
    let q = json!({"Queries": [{"Login": "*", "NodeType": "GROUP"}]});
    search_all(
        client,
        "/a/user",
        &q,
        "Groups",
        &["Users", "Groups"],
        "cannot list groups",
    )
}

// ------------------------------------------------------------------------ roles

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Role {
    #[serde(rename = "Uuid", default)]
    pub uuid: String,
    #[serde(rename = "Label", default)]
    pub label: String,
    #[serde(rename = "GroupRole", default)]
    pub group_role: bool,
    #[serde(rename = "UserRole", default)]
    pub user_role: bool,
    #[serde(rename = "IsTeam", default)]
    pub is_team: bool,
}

impl Role {
    /// `group`, `user`, `team` or `role` (any other role, e.g. `ADMINS`).
    pub fn kind(&self) -> &'static str {
        if self.group_role {
            "group"
        } else if self.user_role {
            "user"
        } else if self.is_team {
            "team"
        } else {
            "role"
        }
    }
}

impl Item for Role {
    fn id(&self) -> &str {
        &self.uuid
    }
}

/// Every role (`POST /a/role`).
pub fn roles(client: &Client) -> Result<Vec<Role>> {
    search_all(
        client,
        "/a/role",
        &json!({}),
        "Roles",
        &["Roles"],
        "cannot list roles",
    )
}

// ------------------------------------------------------------------------ workspaces

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Workspace {
    /// Upper case in `idmWorkspace`.
    #[serde(rename = "UUID", default)]
    pub uuid: String,
    #[serde(rename = "Slug", default)]
    pub slug: String,
    #[serde(rename = "Label", default)]
    pub label: String,
    #[serde(rename = "Description", default)]
    pub description: String,
    /// `ADMIN`, `ROOM` (a cell), `LINK`; absent = `ANY`.
    #[serde(rename = "Scope", default)]
    pub scope: String,
}

impl Item for Workspace {
    fn id(&self) -> &str {
        &self.uuid
    }
}

/// Every workspace and cell (`POST /a/workspace`).
pub fn workspaces(client: &Client) -> Result<Vec<Workspace>> {
    search_all(
        client,
        "/a/workspace",
        &json!({}),
        "Workspaces",
        &["Workspaces"],
        "cannot list workspaces",
    )
}

// ------------------------------------------------------------------------ ACLs

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct AclAction {
    #[serde(rename = "Name", default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(rename = "Value", default, skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// An `idmACL`, sent back as is to delete it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Acl {
    #[serde(rename = "ID", default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(rename = "NodeID", default, skip_serializing_if = "String::is_empty")]
    pub node_id: String,
    #[serde(rename = "RoleID", default, skip_serializing_if = "String::is_empty")]
    pub role_id: String,
    #[serde(
        rename = "WorkspaceID",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub workspace_id: String,
    #[serde(rename = "Action", default, skip_serializing_if = "Option::is_none")]
    pub action: Option<AclAction>,
}

impl Acl {
    pub fn action_name(&self) -> &str {
        self.action.as_ref().map_or("", |a| a.name.as_str())
    }
    pub fn action_value(&self) -> &str {
        self.action.as_ref().map_or("", |a| a.value.as_str())
    }
}

impl Item for Acl {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Every ACL of the nodes `node_ids` (`POST /a/acl`). ACLs of other nodes (a server that
/// ignores the query) are dropped: they were not asked for, and must never be deleted.
pub fn acls(client: &Client, node_ids: &[String]) -> Result<Vec<Acl>> {
    let q = json!({"Queries": [{"NodeIDs": node_ids}]});
    let all: Vec<Acl> = search_all(client, "/a/acl", &q, "ACLs", &["ACLs"], "cannot list ACLs")?;
    Ok(all
        .into_iter()
        .filter(|a| node_ids.contains(&a.node_id))
        .collect())
}

#[derive(Debug, Default, Deserialize)]
struct DeleteResponse {
    #[serde(rename = "Success", default)]
    success: bool,
}

/// Delete one ACL (`POST /a/acl/bulk/delete` with the ACL as returned). The server
/// deletes every ACL matching its node, role, workspace and action, so an ACL without a
/// node or an action is refused here (it would match far more than itself).
pub fn delete_acl(client: &Client, acl: &Acl) -> Result<()> {
    if acl.node_id.is_empty() || acl.role_id.is_empty() || acl.action_name().is_empty() {
        return Err(Error::failure(format!(
            "ACL {} has no node, role or action: not deleted (it would match other ACLs)",
            acl.id
        )));
    }
    let what = format!("cannot delete ACL {}", acl.id);
    let r: DeleteResponse = client
        .post_json("/a/acl/bulk/delete", acl)
        .map_err(|e| admin_needed(e, &what))?;
    if !r.success {
        return Err(Error::failure(format!(
            "{what}: the server did not confirm it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_round_trip_omits_empty_fields() {
        let a: Acl = serde_json::from_str(
            r#"{"ID":"7","NodeID":"n","RoleID":"r","Action":{"Name":"read","Value":"1"}}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"ID":"7","NodeID":"n","RoleID":"r","Action":{"Name":"read","Value":"1"}}"#
        );
        assert_eq!(a.action_name(), "read");
    }

    #[test]
    fn role_kinds() {
        let r: Role = serde_json::from_str(r#"{"Uuid":"x","GroupRole":true}"#).unwrap();
        assert_eq!(r.kind(), "group");
        let r: Role = serde_json::from_str(r#"{"Uuid":"ADMINS"}"#).unwrap();
        assert_eq!(r.kind(), "role");
    }

    #[test]
    fn forbidden_only_for_403() {
        let e = Error::status(403, "", "POST /a/user: 403 Forbidden: no");
        assert!(admin_needed(e, "x")
            .message
            .contains("needs an administrator account"));
        let e = Error::status(401, "", "POST /a/user: 401 Unauthorized (check the token)");
        assert!(!admin_needed(e, "x").message.contains("administrator"));
    }
}
