//! Accounts errors and their one mapping to `Status`.

use partner_kernel::error::{KernelError, Refusal};
use tonic::{Code, Status};

use crate::password::HashingError;

/// What can go wrong in the accounts domain.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// No such partner, or not one the caller may see.
    #[error("partner not found")]
    PartnerNotFound,
    /// No such user, or not one the caller may see.
    #[error("user not found")]
    UserNotFound,
    /// The login name belongs to another user.
    #[error("username taken")]
    UsernameTaken,
    /// The partner is not in a state the verb applies to.
    #[error("partner is {state}")]
    PartnerStateConflict {
        /// The partner's current state.
        state: &'static str,
    },
    /// The master user cannot be disabled, nor given roles (it holds every permission).
    #[error("the master user cannot be changed this way")]
    MasterUserImmutable,
    /// The user acted on holds a permission the caller lacks, or is the
    /// partner's master and the caller is not.
    #[error("the target user outranks the caller")]
    TargetOutranksCaller,
    /// The user is not in a state the verb applies to.
    #[error("user is {state}")]
    UserStateConflict {
        /// The user's current state.
        state: &'static str,
    },
    /// No such role, or not one of the caller's partner.
    #[error("role not found")]
    RoleNotFound,
    /// Another custom role of the partner has this name.
    #[error("role name taken")]
    RoleNameTaken,
    /// Built-in roles cannot be changed or deleted.
    #[error("built-in roles are read-only")]
    SystemRoleReadOnly,
    /// The role still has members and deletion was not forced.
    #[error("role has {members} members")]
    RoleHasMembers {
        /// How many users hold the role.
        members: u64,
    },
    /// A per-partner or per-user cap on roles was reached.
    #[error("at most {limit} allowed")]
    RoleLimitReached {
        /// The cap.
        limit: u64,
    },
    /// No such invitation token, or one addressed to another partner: the two
    /// look the same so that a token cannot be probed.
    #[error("invitation not found")]
    InvitationNotFound,
    /// The invitation's expiry has passed.
    #[error("invitation expired")]
    InvitationExpired,
    /// The invitation was accepted before.
    #[error("invitation already used")]
    InvitationAlreadyUsed,
    /// The invitation was revoked.
    #[error("invitation revoked")]
    InvitationRevoked,
    /// The caller may not invite to this program.
    #[error("may not invite to {program}")]
    InvitationNotAllowed {
        /// The program asked for.
        program: &'static str,
    },
    /// The partner is in the program already.
    #[error("program {program} already joined")]
    ProgramAlreadyJoined {
        /// The program.
        program: &'static str,
    },
    /// The partner's account may not join programs.
    #[error("not eligible: {0:?}")]
    Ineligible(Ineligibility),
    /// No ACTIVE link from the caller to that reseller (or no link at all, or
    /// another distributor's reseller: all look the same).
    #[error("reseller not found")]
    ResellerNotFound,
    /// The link is not in a state the verb applies to.
    #[error("reseller link is {state}")]
    ResellerStateConflict {
        /// The link's current state.
        state: &'static str,
    },
    /// The sales-platform id was issued before (to this or another partner).
    #[error("sales-platform id taken")]
    SalesPlatformIdTaken,
    /// The partner holds as many sales-platform ids as it may.
    #[error("at most {limit} sales-platform ids")]
    SalesPlatformLimitReached {
        /// The cap.
        limit: u64,
    },
    /// Hashing the password failed, or its queue is full.
    #[error(transparent)]
    Hashing(#[from] crate::password::HashingError),
    /// A shared mechanism failed.
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

/// Why a partner's account may not join a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligibility {
    /// It owes the vendor money.
    InArrears,
    /// It is an enterprise master or sub account.
    EnterpriseMember,
    /// It holds a credit account.
    HoldsCreditAccount,
    /// It is already linked to a different distributor (RESELLER only).
    LinkedToAnotherDistributor,
}

impl Ineligibility {
    fn refusal(self) -> Refusal {
        let (reason, message) = match self {
            Self::InArrears => ("ACCOUNT_IN_ARREARS", "the account is in arrears"),
            Self::EnterpriseMember => (
                "ENTERPRISE_ACCOUNT_MEMBER",
                "the account is an enterprise master or sub account",
            ),
            Self::HoldsCreditAccount => {
                ("HOLDS_CREDIT_ACCOUNT", "the account has a credit account")
            }
            Self::LinkedToAnotherDistributor => (
                "LINKED_TO_ANOTHER_DISTRIBUTOR",
                "the partner already belongs to another distributor",
            ),
        };
        Refusal::new(Code::FailedPrecondition, reason, message)
    }
}

impl From<sea_orm::DbErr> for AccountsError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Kernel(KernelError::Database(e))
    }
}

impl From<AccountsError> for Status {
    fn from(e: AccountsError) -> Status {
        let refusal = match e {
            AccountsError::PartnerNotFound => {
                Refusal::new(Code::NotFound, "PARTNER_NOT_FOUND", "partner not found")
            }
            AccountsError::UserNotFound => {
                Refusal::new(Code::NotFound, "USER_NOT_FOUND", "user not found")
            }
            AccountsError::UsernameTaken => Refusal::new(
                Code::AlreadyExists,
                "USERNAME_TAKEN",
                "the username is taken",
            ),
            AccountsError::PartnerStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                "PARTNER_STATE_CONFLICT",
                format!("not allowed while the partner is {state}"),
            )
            .with("state", state),
            AccountsError::MasterUserImmutable => Refusal::new(
                Code::FailedPrecondition,
                "MASTER_USER_IMMUTABLE",
                "the master user cannot be disabled and holds every permission already",
            ),
            AccountsError::TargetOutranksCaller => Refusal::new(
                Code::PermissionDenied,
                "TARGET_OUTRANKS_CALLER",
                "the user holds permissions the caller lacks, or is the master",
            ),
            AccountsError::RoleNotFound => {
                Refusal::new(Code::NotFound, "ROLE_NOT_FOUND", "role not found")
            }
            AccountsError::RoleNameTaken => Refusal::new(
                Code::AlreadyExists,
                "ROLE_NAME_TAKEN",
                "another role of the partner has this name",
            ),
            AccountsError::SystemRoleReadOnly => Refusal::new(
                Code::FailedPrecondition,
                "SYSTEM_ROLE_READ_ONLY",
                "built-in roles cannot be changed or deleted",
            ),
            AccountsError::RoleHasMembers { members } => Refusal::new(
                Code::FailedPrecondition,
                "ROLE_HAS_MEMBERS",
                format!("the role has {members} members; unassign them or delete with force"),
            )
            .with("members", members.to_string()),
            AccountsError::RoleLimitReached { limit } => Refusal::new(
                Code::FailedPrecondition,
                "ROLE_LIMIT_REACHED",
                format!("at most {limit} allowed"),
            )
            .with("limit", limit.to_string()),
            AccountsError::UserStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                "USER_STATE_CONFLICT",
                format!("not allowed while the user is {state}"),
            )
            .with("state", state),
            AccountsError::InvitationNotFound => Refusal::new(
                Code::NotFound,
                "INVITATION_NOT_FOUND",
                "no invitation with this token for the caller",
            ),
            AccountsError::InvitationExpired => Refusal::new(
                Code::FailedPrecondition,
                "INVITATION_EXPIRED",
                "the invitation has expired",
            ),
            AccountsError::InvitationAlreadyUsed => Refusal::new(
                Code::FailedPrecondition,
                "INVITATION_ALREADY_USED",
                "the invitation was already accepted",
            ),
            AccountsError::InvitationRevoked => Refusal::new(
                Code::FailedPrecondition,
                "INVITATION_REVOKED",
                "the invitation was revoked",
            ),
            AccountsError::InvitationNotAllowed { program } => Refusal::new(
                Code::PermissionDenied,
                "INVITATION_NOT_ALLOWED",
                format!("the caller may not invite to {program}"),
            )
            .with("program", program),
            AccountsError::ProgramAlreadyJoined { program } => Refusal::new(
                Code::AlreadyExists,
                "PROGRAM_ALREADY_JOINED",
                format!("the partner is already in {program}"),
            )
            .with("program", program),
            AccountsError::Ineligible(why) => why.refusal(),
            AccountsError::ResellerNotFound => {
                Refusal::new(Code::NotFound, "RESELLER_NOT_FOUND", "reseller not found")
            }
            AccountsError::ResellerStateConflict { state } => Refusal::new(
                Code::FailedPrecondition,
                "RESELLER_STATE_CONFLICT",
                format!("not allowed while the reseller link is {state}"),
            )
            .with("state", state),
            AccountsError::SalesPlatformIdTaken => Refusal::new(
                Code::AlreadyExists,
                "SALES_PLATFORM_ID_TAKEN",
                "this sales-platform id was issued before",
            ),
            AccountsError::SalesPlatformLimitReached { limit } => Refusal::new(
                Code::FailedPrecondition,
                "SALES_PLATFORM_LIMIT_REACHED",
                format!("a partner holds at most {limit} sales-platform ids"),
            )
            .with("limit", limit.to_string()),
            AccountsError::Hashing(HashingError::Busy { retry_after }) => Refusal::new(
                Code::ResourceExhausted,
                "HASHING_BUSY",
                "too many sign-ins and password changes at once; try again shortly",
            )
            .retry_after(retry_after),
            AccountsError::Hashing(HashingError::Failed(detail)) => Refusal::internal(&detail),
            AccountsError::Kernel(k) => Refusal::from(k),
        };
        refusal.into()
    }
}
