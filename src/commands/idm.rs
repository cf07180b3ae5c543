//! `cec idm list-users|list-groups|list-roles|list-workspaces|list-acls` (docs/compatibility.md §7.6).
//!
//! Every list is complete (paged, `api::idm`). On a terminal: a legend and a table; piped:
//! tab-separated rows in the table's columns; `--json`: one object per line (keys in the
//! README and each command's help). `list-acls --delete` lists, asks, then deletes each
//! ACL: exit 6 when only some could be deleted.

use serde_json::{json, Value};

use crate::api::idm::{self, Acl, Role, User, Workspace};
use crate::auth::GlobalArgs;
use crate::cli::IdmCmd;
use crate::error::{Error, Result};
use crate::output::{self, listing::count, Align, Table};

pub fn run(globals: &GlobalArgs, cmd: &IdmCmd) -> Result<()> {
    let client = crate::auth::connect(globals)?;
    match cmd {
        IdmCmd::ListUsers { json } => users(&idm::users(&client)?, *json),
        IdmCmd::ListGroups { json } => groups(&idm::groups(&client)?, *json),
        IdmCmd::ListRoles { json } => roles(&idm::roles(&client)?, *json),
        IdmCmd::ListWorkspaces { json } => workspaces(&idm::workspaces(&client)?, *json),
        IdmCmd::ListAcls {
            nodes,
            delete,
            force,
            json,
        } => {
            let acls = idm::acls(&client, nodes)?;
            if *json {
                output::print_json_lines(&acls.iter().map(acl_json).collect::<Vec<_>>());
            } else {
                print_acls(&acls);
            }
            if *delete {
                delete_acls(&client, &acls, *force)?;
            }
            Ok(())
        }
    }
}

fn users(list: &[User], json: bool) -> Result<()> {
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|u| {
                json!({"login": u.login, "uuid": u.uuid, "display_name": u.attribute("displayName"),
                    "email": u.attribute("email"), "profile": u.attribute("profile"),
                    "group_path": u.group_path})
            })
            .collect();
        output::print_json_lines(&v);
        return Ok(());
    }
    let mut t = Table::new(&["Login", "Display name", "Profile", "Group path", "Uuid"]);
    for u in list {
        t.row(vec![
            u.login.clone(),
            u.attribute("displayName").unwrap_or_default().into(),
            u.attribute("profile").unwrap_or_default().into(),
            u.group_path.clone(),
            u.uuid.clone(),
        ]);
    }
    output::print_listing(
        &format!("Found {}:", count(list.len(), "user", "users")),
        &t,
    );
    Ok(())
}

fn groups(list: &[User], json: bool) -> Result<()> {
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|g| json!({"uuid": g.uuid, "label": g.group_label, "group_path": g.group_path}))
            .collect();
        output::print_json_lines(&v);
        return Ok(());
    }
    let mut t = Table::new(&["Label", "Group path", "Uuid"]);
    for g in list {
        t.row(vec![
            g.group_label.clone(),
            g.group_path.clone(),
            g.uuid.clone(),
        ]);
    }
    output::print_listing(
        &format!("Found {}:", count(list.len(), "group", "groups")),
        &t,
    );
    Ok(())
}

fn roles(list: &[Role], json: bool) -> Result<()> {
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|r| json!({"uuid": r.uuid, "label": r.label, "type": r.kind()}))
            .collect();
        output::print_json_lines(&v);
        return Ok(());
    }
    let mut t = Table::new(&["Label", "Type", "Uuid"]);
    for r in list {
        let kind = match r.kind() {
            "group" => "Group role",
            "user" => "User role",
            "team" => "Team",
            _ => "",
        };
        t.row(vec![r.label.clone(), kind.into(), r.uuid.clone()]);
    }
    output::print_listing(
        &format!("Found {}:", count(list.len(), "role", "roles")),
        &t,
    );
    Ok(())
}

fn workspaces(list: &[Workspace], json: bool) -> Result<()> {
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|w| {
                json!({"uuid": w.uuid, "slug": w.slug, "label": w.label,
                    "description": w.description, "scope": w.scope})
            })
            .collect();
        output::print_json_lines(&v);
        return Ok(());
    }
    let mut t = Table::new(&["Label", "Slug", "Scope", "Uuid", "Description"]);
    for w in list {
        t.row(vec![
            w.label.clone(),
            w.slug.clone(),
            w.scope.clone(),
            w.uuid.clone(),
            w.description.clone(),
        ]);
    }
    output::print_listing(
        &format!("Found {}:", count(list.len(), "workspace", "workspaces")),
        &t,
    );
    Ok(())
}

fn acl_json(a: &Acl) -> Value {
    json!({"id": a.id, "node_uuid": a.node_id, "role_id": a.role_id,
        "action": a.action_name(), "value": a.action_value(), "workspace_id": a.workspace_id})
}

/// The reference's ACL table: node, role, action, workspace (left aligned, not wrapped).
fn print_acls(acls: &[Acl]) {
    let mut t = Table::new(&["Uuid", "Role ID", "Action Name", "WS ID"]);
    t.align = Align::Left;
    t.wrap = false;
    for a in acls {
        t.row(vec![
            a.node_id.clone(),
            a.role_id.clone(),
            a.action_name().to_string(),
            a.workspace_id.clone(),
        ]);
    }
    output::print_listing(&format!("Found {}:", count(acls.len(), "ACL", "ACLs")), &t);
}

/// Confirm, then delete each ACL; the outcome is in the exit code (1 none, 6 some).
fn delete_acls(client: &crate::api::Client, acls: &[Acl], force: bool) -> Result<()> {
    if acls.is_empty() {
        errln!("No ACL to delete");
        return Ok(());
    }
    let what = count(acls.len(), "ACL", "ACLs");
    output::confirm::confirm(
        "idm list-acls",
        force,
        &format!("Delete these {what}?"),
        "nothing was deleted",
    )?;
    let mut failed: Vec<String> = Vec::new();
    for a in acls {
        match idm::delete_acl(client, a) {
            Ok(()) => errln!("Removed ACL {}", a.id),
            Err(e) => {
                errln!("Could not delete ACL {}: {}", a.id, e.message);
                failed.push(a.id.clone());
            }
        }
    }
    let done = acls.len() - failed.len();
    if failed.is_empty() {
        errln!("Deleted {what}");
        return Ok(());
    }
    let msg = format!(
        "{} of {} ACLs could not be deleted (first: {})",
        failed.len(),
        acls.len(),
        failed[0]
    );
    if done == 0 {
        Err(Error::failure(msg))
    } else {
        Err(Error::partial(msg))
    }
}
