"""Every audit event's tag, `subject:action`, in one enum."""

from enum import StrEnum


class Tag(StrEnum):
    USER_CREATED = "user:created"
    EMAIL_VERIFICATION_SENT = "user:verification_sent"
    EMAIL_VERIFIED = "user:email_verified"
    EMAIL_CHANGE_REQUESTED = "user:email_change_requested"
    ACCOUNT_UPDATED = "user:updated"
    PASSWORD_RESET = "user:password_reset"  # noqa: S105 - an event tag, not a password
    TOKEN_CREATED = "token:created"  # noqa: S105 - an event tag, not a password
    PROJECT_CREATED = "project:created"
    MEMBER_ADDED = "project:member_added"
    MEMBER_ROLE_CHANGED = "project:member_role_changed"
    REPORT_CREATED = "report:created"
    REPORT_TRANSITIONED = "report:transitioned"
    REPORT_ASSIGNED = "report:assigned"
    REPORT_CREDIT_CHANGED = "report:credit_changed"
    MESSAGE_POSTED = "message:posted"
    ATTACHMENT_ADDED = "attachment:added"
    COLLABORATOR_ADDED = "collaborator:added"
    COLLABORATOR_REMOVED = "collaborator:removed"
    REPORTER_LINKS_REVOKED = "report:links_revoked"
    REPORT_REMINDED = "report:reminded"
    REPORT_OVERDUE = "report:overdue"
    POLICY_CHANGED = "project:policy_changed"
    PROJECT_SETTINGS_CHANGED = "project:settings_changed"
    PROJECT_KEY_GENERATED = "project:key_generated"
    PROJECT_KEY_UPLOADED = "project:key_uploaded"
    PACKAGER_ADDED = "packager:added"
    PACKAGER_CHANGED = "packager:changed"
    PACKAGER_REMOVED = "packager:removed"
    PACKAGER_REQUESTED = "packager:requested"
    PACKAGER_REQUEST_APPROVED = "packager:request_approved"
    PACKAGER_REQUEST_DECLINED = "packager:request_declined"
    FIX_ADDED = "fix:added"
    FIX_CHANGED = "fix:changed"
    PATCH_ADDED = "patch:added"
    PATCH_CHECKED = "patch:checked"
    PATCH_TESTED = "patch:tested"
    REPRODUCTION_REQUESTED = "reproduction:requested"
    REPRODUCTION_FINISHED = "reproduction:finished"
    FIX_CONFIRMED = "report:fix_confirmed"
    FIX_DISPUTED = "report:fix_disputed"
    CONFIRMATION_TIMED_OUT = "report:confirmation_timed_out"
    ADVISORY_SAVED = "advisory:saved"
    CVE_ASSIGNED = "advisory:cve_assigned"
    ADVISORY_IMPORTED = "advisory:imported"
    RELEASE_CREATED = "release:created"
    RELEASE_CHANGED = "release:changed"
    RELEASE_NOTICES_SENT = "release:notices_sent"
    RELEASE_REPORT_REMOVED = "release:report_removed"
    RELEASE_EMBARGO_BROKEN = "release:embargo_broken"
    PREANNOUNCEMENT_SAVED = "release:preannouncement_saved"
    PREANNOUNCEMENT_APPROVED = "release:preannouncement_approved"
    NOTICE_ACKNOWLEDGED = "release:notice_acknowledged"


class Audience:
    """Who may read an event about a report besides owners of the project."""

    TEAM = "team"  # the project's team only (internal notes, assignment)
    PARTICIPANTS = "participants"  # also the reporter and the report's collaborators
