//! Who is signed in and what their role lets them see and change. The rules here are the ones
//! the server enforces; the pages use the same rules only to decide which links to show.

use crate::domain::status::Role;
use crate::model::KeyScope;
use serde::{Deserialize, Serialize};

/// The signed-in person, as every page and server function sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_ids: Vec<i64>,
    /// Finance may change platform costs and labour rates when an admin allowed it.
    pub can_edit_costs: bool,
    pub is_demo: bool,
    /// Signed in with a generated password that must be replaced first.
    pub must_change_password: bool,
}

/// What the header shows of the signed-in person: who they are, and how many open alerts they
/// may see (counted beside Alerts in the navigation; 0 for reviewers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderView {
    pub viewer: Viewer,
    pub open_alerts: i64,
}

/// A page of the main navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

const OVERVIEW: NavItem = NavItem {
    href: "/",
    label: "Overview",
};
const KEYS: NavItem = NavItem {
    href: "/keys",
    label: "API keys",
};
const USERS: NavItem = NavItem {
    href: "/users",
    label: "Users",
};
const COSTS: NavItem = NavItem {
    href: "/costs",
    label: "Teams and costs",
};
const AUDIT: NavItem = NavItem {
    href: "/audit",
    label: "Audit log",
};
const WORKFLOWS: NavItem = NavItem {
    href: "/workflows",
    label: "Workflows",
};
const TASKS: NavItem = NavItem {
    href: "/tasks",
    label: "Tasks",
};
const MODELS: NavItem = NavItem {
    href: "/models",
    label: "Models",
};
const REVIEW: NavItem = NavItem {
    href: "/review",
    label: "Review queue",
};
const PRICES: NavItem = NavItem {
    href: "/prices",
    label: "Price book",
};
/// Open alerts the reader may see are counted beside it.
pub const ALERTS: NavItem = NavItem {
    href: "/alerts",
    label: "Alerts",
};
const ACCOUNT: NavItem = NavItem {
    href: "/account",
    label: "Account",
};

impl Viewer {
    /// Financial figures: CPST, spend, budgets. Reviewers see none beyond the tasks they grade.
    pub fn reads_finance(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Owner | Role::Finance)
    }

    /// Whether the figures and settings of a workflow of `team_id` are visible. Owners see
    /// their teams' workflows; admins and finance see all.
    pub fn sees_team(&self, team_id: i64) -> bool {
        match self.role {
            Role::Admin | Role::Finance => true,
            Role::Owner => self.team_ids.contains(&team_id),
            Role::Reviewer => false,
        }
    }

    /// Whether every team's workflows are visible (admins and finance), not only the viewer's.
    pub fn sees_every_team(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Finance)
    }

    pub fn manages_users(&self) -> bool {
        self.role == Role::Admin
    }

    /// Labour rates and platform costs: admins, and finance people an admin allowed.
    pub fn edits_costs(&self) -> bool {
        self.role == Role::Admin || (self.role == Role::Finance && self.can_edit_costs)
    }

    /// Workflows, task types, success rules, budgets, thresholds and sampling of a team's
    /// workflows: admins for every team, owners for theirs.
    pub fn defines_success(&self, team_id: i64) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Owner => self.team_ids.contains(&team_id),
            Role::Finance | Role::Reviewer => false,
        }
    }

    /// Whether this viewer defines success for at least some workflows.
    pub fn defines_any_success(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Owner)
    }

    /// Grading sampled tasks: reviewers, and the owners and admins who also grade.
    pub fn grades(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Owner | Role::Reviewer)
    }

    /// Admins grade every workflow's tasks; others the workflows of their teams.
    pub fn grades_every_team(&self) -> bool {
        self.role == Role::Admin
    }

    /// API keys: admins for anything, owners for their teams.
    pub fn manages_keys(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Owner)
    }

    /// Whether a key with these scopes is this viewer's to create, see and revoke. `team_of`
    /// gives a workflow's team. Only admins hold keys that see every workflow (no scope).
    pub fn manages_key_scopes(
        &self,
        scopes: &[KeyScope],
        team_of: impl Fn(i64) -> Option<i64>,
    ) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Owner => {
                !scopes.is_empty()
                    && scopes.iter().all(|scope| match *scope {
                        KeyScope::Team(team) => self.team_ids.contains(&team),
                        KeyScope::Workflow(workflow) => {
                            team_of(workflow).is_some_and(|team| self.team_ids.contains(&team))
                        }
                    })
            }
            Role::Finance | Role::Reviewer => false,
        }
    }

    /// The audit log: admins see every entry, owners the entries about their teams.
    pub fn reads_audit(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Owner)
    }

    /// The pages this viewer's role opens, in navigation order.
    pub fn navigation(&self) -> Vec<NavItem> {
        let mut items = Vec::new();
        if self.reads_finance() {
            items.push(OVERVIEW);
        }
        if self.reads_finance() {
            items.push(WORKFLOWS);
            items.push(ALERTS);
            items.push(TASKS);
            items.push(MODELS);
        }
        if self.role == Role::Reviewer {
            items.insert(0, REVIEW);
        } else if self.grades() {
            items.push(REVIEW);
        }
        if self.reads_finance() {
            items.push(COSTS);
            items.push(PRICES);
        }
        if self.manages_keys() {
            items.push(KEYS);
        }
        if self.manages_users() {
            items.push(USERS);
        }
        if self.reads_audit() {
            items.push(AUDIT);
        }
        items.push(ACCOUNT);
        items
    }

    /// Where signing in leads when no page was asked for.
    pub fn landing(&self) -> &'static str {
        if self.must_change_password {
            ACCOUNT.href
        } else {
            self.navigation()[0].href
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, teams: &[i64]) -> Viewer {
        Viewer {
            user_id: 1,
            email: "someone@example.com".into(),
            name: "Someone".into(),
            role,
            team_ids: teams.to_vec(),
            can_edit_costs: false,
            is_demo: false,
            must_change_password: false,
        }
    }

    #[test]
    fn only_reviewers_are_kept_from_financial_figures() {
        assert!(viewer(Role::Admin, &[]).reads_finance());
        assert!(viewer(Role::Finance, &[]).reads_finance());
        assert!(viewer(Role::Owner, &[1]).reads_finance());
        assert!(!viewer(Role::Reviewer, &[1]).reads_finance());
    }

    #[test]
    fn owners_see_their_teams_and_finance_sees_all() {
        let owner = viewer(Role::Owner, &[1]);
        assert!(owner.sees_team(1));
        assert!(!owner.sees_team(2));
        assert!(viewer(Role::Finance, &[]).sees_team(2));
        assert!(!viewer(Role::Reviewer, &[2]).sees_team(2));
    }

    #[test]
    fn owners_manage_only_keys_inside_their_teams() {
        let owner = viewer(Role::Owner, &[1]);
        let team_of = |workflow: i64| match workflow {
            10 => Some(1),
            20 => Some(2),
            _ => None,
        };
        assert!(owner.manages_key_scopes(&[KeyScope::Team(1)], team_of));
        assert!(owner.manages_key_scopes(&[KeyScope::Workflow(10)], team_of));
        assert!(!owner.manages_key_scopes(&[KeyScope::Workflow(20)], team_of));
        assert!(!owner.manages_key_scopes(&[KeyScope::Team(1), KeyScope::Team(2)], team_of));
        assert!(!owner.manages_key_scopes(&[KeyScope::Workflow(99)], team_of));
        // A key without scopes sees every workflow: only an admin's to hold.
        assert!(!owner.manages_key_scopes(&[], team_of));
        assert!(viewer(Role::Admin, &[]).manages_key_scopes(&[], team_of));
        assert!(!viewer(Role::Finance, &[]).manages_key_scopes(&[KeyScope::Team(1)], team_of));
    }

    #[test]
    fn costs_are_edited_by_admins_and_by_finance_when_allowed() {
        assert!(viewer(Role::Admin, &[]).edits_costs());
        assert!(!viewer(Role::Finance, &[]).edits_costs());
        let mut allowed = viewer(Role::Finance, &[]);
        allowed.can_edit_costs = true;
        assert!(allowed.edits_costs());
        let mut owner = viewer(Role::Owner, &[1]);
        owner.can_edit_costs = true;
        assert!(!owner.edits_costs(), "the permission is for finance people");
    }

    #[test]
    fn each_role_lands_on_its_first_page() {
        let hrefs = |role| {
            viewer(role, &[1])
                .navigation()
                .iter()
                .map(|item| item.href)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            hrefs(Role::Admin),
            [
                "/",
                "/workflows",
                "/alerts",
                "/tasks",
                "/models",
                "/review",
                "/costs",
                "/prices",
                "/keys",
                "/users",
                "/audit",
                "/account"
            ]
        );
        assert_eq!(
            hrefs(Role::Owner),
            [
                "/",
                "/workflows",
                "/alerts",
                "/tasks",
                "/models",
                "/review",
                "/costs",
                "/prices",
                "/keys",
                "/audit",
                "/account"
            ]
        );
        assert_eq!(
            hrefs(Role::Finance),
            [
                "/",
                "/workflows",
                "/alerts",
                "/tasks",
                "/models",
                "/costs",
                "/prices",
                "/account"
            ]
        );
        assert_eq!(hrefs(Role::Reviewer), ["/review", "/account"]);
        let mut fresh = viewer(Role::Finance, &[]);
        fresh.must_change_password = true;
        assert_eq!(fresh.landing(), "/account");
    }

    #[test]
    fn owners_define_success_for_their_teams_and_reviewers_grade() {
        let owner = viewer(Role::Owner, &[1]);
        assert!(owner.defines_success(1));
        assert!(!owner.defines_success(2));
        assert!(viewer(Role::Admin, &[]).defines_success(2));
        assert!(!viewer(Role::Finance, &[]).defines_success(1));
        assert!(viewer(Role::Reviewer, &[1]).grades());
        assert!(!viewer(Role::Finance, &[1]).grades());
        assert!(!viewer(Role::Reviewer, &[1]).grades_every_team());
    }
}
