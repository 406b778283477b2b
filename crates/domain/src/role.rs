//! Roles and permissions. Access is default-deny: a role can do exactly what
//! `Role::permissions` lists, nothing else.

use crate::labels::label_enum;

label_enum! {
    Role, "role" {
        Administrator = "administrator" | "admin",
        RiskManager = "risk_manager" | "tprm_analyst" | "analyst",
        AcceptanceAuthority = "acceptance_authority" | "risk_acceptance_authority",
        RelationshipOwner = "relationship_owner" | "business_owner" | "owner",
        Auditor = "auditor",
        VendorContact = "vendor_contact",
    }
}

label_enum! {
    /// What a request may need. Every route declares exactly one.
    Permission, "permission" {
        /// No sign-in needed (health check, sign-in page, static assets).
        Public = "public",
        /// Any signed-in person: own profile, own sessions, sign-out.
        SignedIn = "signed_in",
        DashboardView = "dashboard_view",
        VendorRead = "vendor_read",
        VendorWrite = "vendor_write",
        VendorImport = "vendor_import",
        VendorExport = "vendor_export",
        PolicyRead = "policy_read",
        PolicyManage = "policy_manage",
        UserManage = "user_manage",
        AuditRead = "audit_read",
        TokenManage = "token_manage",
        AssessmentRead = "assessment_read",
        /// Plan, send, review and complete assessments; decide findings.
        AssessmentManage = "assessment_manage",
        /// See the risk register, accepted risks, remediation plans and
        /// contracts.
        RiskRead = "risk_read",
        /// Record, score and treat risks; send remediation requests; verify
        /// vendors' answers; keep contracts and their clause checklists.
        RiskManage = "risk_manage",
        /// Record a risk acceptance. Which levels a role may accept is the
        /// risk policy's decision, checked on every acceptance.
        RiskAccept = "risk_accept",
        /// Reached with a vendor-portal link only: the handler checks the
        /// link, which opens one assessment and nothing else.
        PortalLink = "portal_link",
        /// Key operations on customer-held keys: crypto-shredding a
        /// terminated vendor's data.
        KeyManage = "key_manage",
    }
}

impl Role {
    /// The permissions this role holds. `Public` and `SignedIn` are implied for
    /// every signed-in role and not listed.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Administrator => &[
                DashboardView,
                VendorRead,
                VendorWrite,
                VendorImport,
                VendorExport,
                PolicyRead,
                PolicyManage,
                UserManage,
                AuditRead,
                TokenManage,
                AssessmentRead,
                AssessmentManage,
                RiskRead,
                RiskManage,
                KeyManage,
            ],
            Role::RiskManager => &[
                DashboardView,
                VendorRead,
                VendorWrite,
                VendorImport,
                VendorExport,
                PolicyRead,
                TokenManage,
                AssessmentRead,
                AssessmentManage,
                RiskRead,
                RiskManage,
                RiskAccept,
            ],
            // Accepts risks; changes nothing else.
            Role::AcceptanceAuthority => &[
                DashboardView,
                VendorRead,
                VendorExport,
                PolicyRead,
                TokenManage,
                AssessmentRead,
                RiskRead,
                RiskAccept,
            ],
            // Row-level limit (only their own vendors) is applied by the store
            // through `Role::sees_only_own_vendors`.
            Role::RelationshipOwner => &[DashboardView, VendorRead, VendorWrite, TokenManage],
            Role::Auditor => &[
                DashboardView,
                VendorRead,
                VendorExport,
                PolicyRead,
                AuditRead,
                TokenManage,
                AssessmentRead,
                RiskRead,
            ],
            // Outside people reach Mamori through scoped, expiring links only.
            Role::VendorContact => &[],
        }
    }

    pub fn allows(self, needed: Permission) -> bool {
        match needed {
            Permission::Public | Permission::SignedIn | Permission::PortalLink => true,
            other => self.permissions().contains(&other),
        }
    }

    /// Relationship owners see and edit only vendors they own.
    pub fn sees_only_own_vendors(self) -> bool {
        matches!(self, Role::RelationshipOwner)
    }

    /// Whether a person in this role may be the relationship owner of a vendor
    /// and may edit vendors at all (used for the owner picker).
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::VendorContact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditors_change_nothing() {
        for p in Role::Auditor.permissions() {
            assert!(
                !matches!(
                    p,
                    Permission::VendorWrite
                        | Permission::VendorImport
                        | Permission::PolicyManage
                        | Permission::UserManage
                ),
                "auditor must be read-only, has {p}"
            );
        }
    }

    #[test]
    fn vendor_contacts_hold_no_staff_permission() {
        assert!(Role::VendorContact.permissions().is_empty());
        assert!(!Role::VendorContact.allows(Permission::VendorRead));
        assert!(Role::VendorContact.allows(Permission::SignedIn));
    }

    #[test]
    fn only_administrators_manage_users_and_policy() {
        for role in Role::ALL {
            let admin = *role == Role::Administrator;
            assert_eq!(role.allows(Permission::UserManage), admin);
            assert_eq!(role.allows(Permission::PolicyManage), admin);
        }
    }
}
