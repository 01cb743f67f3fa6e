"""Invitations: inviting a user to an organization (the e-mail carries a one-time token),
accepting one, and the roles and claim values an inviter attaches to one.

This app sits above users (organizations), roles (rbac) and claims (applications), which it
orchestrates; none of them imports it. The ``Invitation`` rows stay in organizations' tables.

Pre-assignments (upstream §8: ``roles[{applicationId, roleId}]``, ``claims[{applicationId,
claimDefinitionId, value}]``) are checked when the invitation is made — the roles exist in their
application, the inviter may grant them (no self-escalation), each value fits its claim's type —
and applied when the invitee accepts through ``/<orgSlug>/auth/accept-invite/<token>``, in the
transaction that spends the token. A role or claim deleted in between is skipped, and said so.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from applications.models import ClaimDefinition
from applications.services import claims as claim_services
from audit import services as audit
from courier.services import message_enqueue
from organizations import user_services
from organizations.models import Invitation, Organization, User, UserStatus
from organizations.services import organization_accepting_members
from porta.core import liveconfig, onetime
from porta.core.context import Actor
from porta.core.errors import NotFound, ValidationFailed
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.grants import ensure_can_grant_roles
from rbac.models import Role
from rbac.selectors import AdminAuthorization
from rbac.services import assignments as assignment_services
from recovery.services import password_problems


class InvitationUnavailable(Exception):
    """The token names no usable invitation; ``status`` is 404 (unknown) or 410 (spent, expired)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field: [message]})


def pre_assignments(
    *, authorization: AdminAuthorization, roles: list[dict[str, Any]], claims: list[dict[str, Any]]
) -> dict[str, Any]:
    """Check what an invitation will grant and return it in its stored form."""
    role_ids: list[str] = []
    if roles:
        wanted = {(item["applicationId"], item["roleId"]) for item in roles}
        found = {
            (r.application_id, r.id): r
            for r in Role.objects.select_related("application").filter(pk__in=[rid for _, rid in wanted])
        }
        missing = sorted(str(role_id) for app_id, role_id in wanted if (app_id, role_id) not in found)
        if missing:
            raise _invalid("roles", f"Not roles of the named application: {', '.join(missing)}")
        admin_slugs = [r.slug for r in found.values() if r.application.slug == ADMIN_APP_SLUG]
        if admin_slugs:
            ensure_can_grant_roles(authorization, admin_slugs)
        role_ids = sorted(str(rid) for _, rid in wanted)
    checked_claims: list[dict[str, Any]] = []
    if claims:
        ids = [item["claimDefinitionId"] for item in claims]
        definitions = {c.id: c for c in ClaimDefinition.objects.filter(pk__in=ids)}
        seen: set[uuid.UUID] = set()
        for item in claims:
            claim = definitions.get(item["claimDefinitionId"])
            if claim is None or claim.application_id != item["applicationId"]:
                raise _invalid("claims", f"Not a claim of the named application: {item['claimDefinitionId']}")
            if claim.id in seen:
                raise _invalid("claims", f"Claim '{claim.name}' is given twice")
            seen.add(claim.id)
            if (problem := claim_services.value_problem(claim.claim_type, item["value"])) is not None:
                raise _invalid("claims", f"Invalid value for claim '{claim.name}': {problem}")
            checked_claims.append({"claimId": str(claim.id), "value": item["value"]})
    return {"roleIds": role_ids, "claims": checked_claims} if role_ids or checked_claims else {}


@transaction.atomic
def user_invite(
    *,
    actor: Actor,
    organization: Organization,
    email: str,
    given_name: str | None = None,
    family_name: str | None = None,
    locale: str | None = None,
    personal_message: str | None = None,
    pre_assignments: dict[str, Any] | None = None,
) -> tuple[User, bool, Invitation]:
    """Create the user if missing, invalidate earlier open invitations, issue a 7-day token and
    e-mail it (through courier). ``pre_assignments`` (checked by :func:`pre_assignments`) are
    applied when the invitee accepts.
    Returns (user, created, invitation). A suspended or archived organization invites nobody
    (422), not even an existing user."""
    if organization_accepting_members(organization.id) is None:
        raise NotFound("Organization not found")
    user = User.objects.filter(organization=organization, email__iexact=email).first()
    created = user is None
    if created:
        fields = {k: v for k, v in {"given_name": given_name, "family_name": family_name}.items() if v}
        if locale:
            fields["locale"] = locale
        user = user_services.user_create(actor=actor, organization=organization, email=email, **fields)
    now = timezone.now()
    Invitation.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    ttl = timedelta(seconds=liveconfig.get("invitation_ttl"))
    new = onetime.issue(ttl)
    token = new.token
    invitation = Invitation.objects.create(
        organization=organization,
        user=user,
        token_hash=new.token_hash,
        expires_at=new.expires_at,
        pre_assignments=pre_assignments or {},
    )
    context = invitation_context(organization, user, token, personal_message=personal_message)
    message_enqueue(
        actor=actor,
        organization_id=organization.id,
        recipient=user.email,
        template="invitation",
        context=context,
    )
    audit.record(
        event_type="user.invited",
        actor=actor,
        organization_id=user.organization_id,
        target_type="user",
        target_id=user.id,
        metadata={
            "invitationId": str(invitation.id),
            "created": created,
            "preAssignments": invitation.pre_assignments,
        },
    )
    return user, created, invitation


def invitation_context(
    organization: Organization, user_or_email: User | str, token: str, *, personal_message: str | None = None
) -> dict[str, Any]:
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    return {
        "organization_name": organization.name,
        "email": email,
        "invitation_link": f"{settings.PORTA_PUBLIC_URL}/{organization.slug}/auth/accept-invite/{token}",
        "personal_message": personal_message or "",
        "expires_at": (timezone.now() + timedelta(seconds=liveconfig.get("invitation_ttl"))).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
    }


def _usable(token: str, org_slug: str) -> Invitation:
    rows = Invitation.objects.select_related("user", "organization").filter(organization__slug=org_slug)
    invitation = onetime.find(rows, token)
    if invitation is None:
        raise InvitationUnavailable("This invitation link is not valid.", 404)
    if invitation.accepted_at is not None:
        raise InvitationUnavailable("This invitation has already been accepted.", 410)
    if invitation.used_at is not None:
        raise InvitationUnavailable("This invitation has been replaced by a newer one.", 410)
    if invitation.expires_at <= timezone.now():
        raise InvitationUnavailable("This invitation has expired.", 410)
    if invitation.user.status != UserStatus.ACTIVE:
        raise InvitationUnavailable("This account cannot accept invitations right now.", 410)
    return invitation


def invitation_lookup(token: str, org_slug: str) -> Invitation:
    """The open invitation ``token`` names in organization ``org_slug``, or InvitationUnavailable."""
    return _usable(token, org_slug)


def needs_password(user: User) -> bool:
    return not user.has_usable_password()


def invitation_accept(*, token: str, org_slug: str, password: str = "") -> User:
    """Spend the invitation: set the password (required unless the user already has one),
    mark the e-mail verified (the link reached it) and apply the pre-assignments. Raises
    InvitationUnavailable, or ValidationError for the password (the invitation stays open)."""
    with transaction.atomic():
        invitation = _usable(token, org_slug)
        user = invitation.user
        actor = Actor(type="user", id=user.id, label=user.email)
        set_password = bool(password) or needs_password(user)
        if set_password:
            problems = password_problems(password, user)
            if problems:
                raise ValidationError(problems)
        # Spent before anything changes: of two concurrent acceptances only one gets here.
        spent = onetime.spend(Invitation.objects.filter(pk=invitation.pk), also_stamp=["accepted_at"])
        if spent is None:
            raise InvitationUnavailable("This invitation has already been accepted.", 410)
        if set_password:
            user.set_password(password)
        user.email_verified = True
        user.save(update_fields=["password", "email_verified", "updated_at"])
        audit.record(
            event_type="user.invite.accepted",
            actor=actor,
            organization_id=user.organization_id,
            target_type="user",
            target_id=user.id,
            metadata={"invitationId": str(invitation.id), "passwordSet": bool(password)},
        )
        _apply(invitation, user, actor)
    return user


def _apply(invitation: Invitation, user: User, actor: Actor) -> None:
    wanted = invitation.pre_assignments or {}
    if not wanted:
        return
    role_ids = [uuid.UUID(rid) for rid in wanted.get("roleIds", [])]
    existing_roles = list(Role.objects.filter(pk__in=role_ids).values_list("id", flat=True))
    assignment_services.user_roles_assign(actor=actor, authorization=None, user=user, role_ids=existing_roles)
    wanted_claims = wanted.get("claims", [])
    claims = {c.id: c for c in ClaimDefinition.objects.filter(pk__in=[c["claimId"] for c in wanted_claims])}
    applied_claims = []
    for item in wanted_claims:
        claim = claims.get(uuid.UUID(item["claimId"]))
        if claim is not None and claim_services.value_problem(claim.claim_type, item["value"]) is None:
            claim_services.value_set(actor=actor, claim=claim, user=user, value=item["value"])
            applied_claims.append(str(claim.id))
    audit.record(
        event_type="user.invite.pre_assignments_applied",
        actor=actor,
        organization_id=user.organization_id,
        target_type="user",
        target_id=user.id,
        metadata={
            "invitationId": str(invitation.id),
            "roleIds": [str(r) for r in existing_roles],
            "claimIds": applied_claims,
            "skippedRoleIds": sorted(str(r) for r in set(role_ids) - set(existing_roles)),
            "skippedClaimIds": sorted(
                c["claimId"] for c in wanted_claims if c["claimId"] not in applied_claims
            ),
        },
    )
