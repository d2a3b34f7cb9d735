"""Who may read and act on a letter (predicates; the queryset form is queries.visible_letters).

Reading:
- Staff of the department now holding the letter (`letter.department`), within their
  jurisdiction when the letter is bound to a station (a letter without a station is the whole
  department's). New letters are held by the letters office (settings.LETTER_TRIAGE_DEPARTMENT,
  信访) until triage, misconduct reports by police inspection (LETTER_MISCONDUCT_DEPARTMENT,
  督察) for good.
- Supervisors (监督员) of the letters office oversee every letter except misconduct reports
  (督办: they answer for the bureau's reply figures), within their jurisdiction.
- Misconduct reports (12389) are read by police inspection staff only: they never leave that
  department (transfer and merging refuse), and the oversight above excludes them.
- The writer reads their own letters; whoever holds a letter's follow-up code reads that one
  letter (anonymous reporters, writers without an account).

Acting: staff of the holding department with a role for the step (the *_ROLES tuples).
Existing roles only (accounts.models.Role): triage is done by the holding office's window
clerks (受理员) and supervisors, replies are drafted by clerks, reviewers and approvers and
approved by approvers (审批人 = the department's leaders), never by their own drafter.
"""

from __future__ import annotations

import hashlib
import hmac

import rules
from django.conf import settings

from servicehall.accounts import rules as account_rules

from .flows import Channel

# Receive a hotline call (96123) or a 12389 call on the caller's behalf.
HOTLINE_ROLES = ("dispatcher", "window_clerk")
# Triage a new letter (分办), import a CSV from an outside platform.
TRIAGE_ROLES = ("window_clerk", "supervisor")
# Claim, draft, submit, send, transfer.
HANDLER_ROLES = ("window_clerk", "reviewer", "approver")
# Approve or return a draft reply (领导审核).
LEADER_ROLES = ("approver",)
# Designate the handler, publish or unpublish a reply, merge duplicates.
MANAGER_ROLES = ("approver", "supervisor")
TRANSFER_ROLES = (*HANDLER_ROLES, "supervisor")
MERGE_ROLES = ("window_clerk", *MANAGER_ROLES)
OVERSIGHT_ROLE = "supervisor"


def holding_department_code(channel: str) -> str:
    """The department that holds a new letter of `channel` until triage."""
    if channel == Channel.MISCONDUCT:
        return settings.LETTER_MISCONDUCT_DEPARTMENT
    return settings.LETTER_TRIAGE_DEPARTMENT


def _profile(user):
    if not account_rules.is_staff_member(user):
        return None
    return user.staff_profile_or_none


def _in_jurisdiction(user, letter) -> bool:
    return letter.station_id is None or account_rules.in_jurisdiction(user, letter)


@rules.predicate
def is_department_staff(user, letter) -> bool:
    """Staff of the department holding the letter, within its jurisdiction."""
    profile = _profile(user)
    if letter is None or profile is None or profile.department_id is None:
        return False
    return profile.department_id == letter.department_id and _in_jurisdiction(user, letter)


@rules.predicate
def oversees(user, letter) -> bool:
    """A letters-office supervisor, for any letter but a misconduct report."""
    profile = _profile(user)
    if letter is None or profile is None or letter.channel == Channel.MISCONDUCT:
        return False
    return (
        profile.department is not None
        and profile.department.code == settings.LETTER_TRIAGE_DEPARTMENT
        and user.has_role(OVERSIGHT_ROLE)
        and _in_jurisdiction(user, letter)
    )


@rules.predicate
def is_writer(user, letter) -> bool:
    return bool(
        letter is not None
        and letter.writer_id is not None
        and account_rules.is_authenticated(user)
        and letter.writer_id == user.pk
    )


can_read = is_department_staff | oversees | is_writer


def can_handle(user, letter, roles: tuple[str, ...] = ()) -> bool:
    """Staff of the holding department, in its jurisdiction, holding one of `roles`."""
    return bool(is_department_staff(user, letter) and (not roles or user.has_role(*roles)))


def code_hash(code: str | None) -> str | None:
    """The stored form of a follow-up code, after forgiving typing (case, dashes, spaces,
    0/1/8 typed for O/I/B), or None when it cannot be a code."""
    text = "".join((code or "").split()).replace("-", "").upper()
    text = text.translate(str.maketrans("018", "OIB"))
    if len(text) != 16 or not text.isalnum():
        return None
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def holds_code(letter, code: str | None) -> bool:
    digest = code_hash(code)
    stored = letter.follow_up_code_hash if letter is not None else None
    return bool(digest and stored and hmac.compare_digest(digest, stored))


def acts_as_writer(user, letter, code: str | None = None) -> bool:
    """The writer (signed in), or whoever holds the letter's follow-up code."""
    return holds_code(letter, code) or (not letter.anonymous and is_writer(user, letter))


rules.add_perm("letters.view_letter", can_read)
