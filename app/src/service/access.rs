//! The server-side half of access (the role rules the pages also need live in
//! `crate::views::access`): what a viewer sees of the catalogue, and where sign-in may send a
//! browser next. Every feature's service may use it; it uses none of them.

use crate::db::{Db, DbError, identity, workflow};
use crate::model::{Team, Workflow};
use crate::views::access::Viewer;

/// The workflows `viewer` sees, and every team: workflows are named `team:slug` and linked by
/// their handle among these only, and a task may be booked to a team the viewer does not see.
pub(crate) async fn seen_by(
    db: &Db,
    viewer: &Viewer,
) -> Result<(Vec<Workflow>, Vec<Team>), DbError> {
    let mut workflows = workflow::list_workflows(db).await?;
    workflows.retain(|w| viewer.sees_team(w.team_id));
    Ok((workflows, identity::list_teams(db).await?))
}

/// Where a browser that asked for `next` goes after sign-in: the path (with query and
/// fragment) `next` names on this site, written out normalised, or `None` when it is anything
/// else. `next` is resolved against the site's origin the way a browser resolves a `Location`
/// and must stay on it, so the forms browsers quietly rewrite (`//host`, backslashes for
/// slashes, tabs and newlines dropped, `/..//host`) are refused rather than followed. Control
/// characters are refused outright: nothing that reaches a header can fail to be one.
pub fn local_path(next: &str) -> Option<String> {
    const SITE: &str = "http://finishline.invalid/";
    if !next.starts_with('/') || next.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let site = url::Url::parse(SITE).ok()?;
    let resolved = site.join(next).ok()?;
    if resolved.origin() != site.origin() || resolved.path().starts_with("//") {
        return None;
    }
    let mut path = resolved.path().to_owned();
    if let Some(query) = resolved.query() {
        path.push('?');
        path.push_str(query);
    }
    if let Some(fragment) = resolved.fragment() {
        path.push('#');
        path.push_str(fragment);
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path("/?days=90").as_deref(), Some("/?days=90"));
        assert_eq!(
            local_path("/workflows/support-triage?trend=model#costs").as_deref(),
            Some("/workflows/support-triage?trend=model#costs")
        );
        assert_eq!(local_path("/a/../keys").as_deref(), Some("/keys"));
        assert_eq!(local_path("/a b").as_deref(), Some("/a%20b"));
        assert_eq!(
            local_path("/%2F%2Fevil.example").as_deref(),
            Some("/%2F%2Fevil.example"),
            "an encoded slash stays a path on this site"
        );
        for hostile in [
            "",
            "evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "//evil.example/",
            "///evil.example/",
            "/\\evil.example/",
            "\\/evil.example/",
            "/\\/evil.example/",
            "/\tevil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/\x00/evil.example",
            "/\x01",
            "/\x7f",
            "/\u{85}/evil.example",
            "/./evil.example/../",
            "/..//evil.example",
            "/.//evil.example",
            "/%2e%2e//evil.example",
            " //evil.example",
            "\t//evil.example",
        ] {
            let followed = local_path(hostile);
            assert!(
                followed.as_deref().is_none_or(|path| {
                    path.starts_with('/')
                        && !path.starts_with("//")
                        && !path.contains("evil.example")
                }),
                "{hostile:?} was followed to {followed:?}"
            );
        }
    }
}
