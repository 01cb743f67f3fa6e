"""Writes of login sessions: start (token endpoint), revoke, extend, purge.

A session is revoked in one transaction with its refresh tokens and its audit entry. Its access
tokens fail on the next request anywhere: authentication reads ``Session.revoked_at`` from
PostgreSQL (authn.authentication), in the query it makes anyway, and keeps a live session's
answer per process only under the SESSIONS stamp that every revocation bumps (a Redis that lost
its data or cannot be reached sends it back to PostgreSQL).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from audit.transitions import Change, StateMachine, Transition, transition
from audit.writes import Audited, Precondition, lock, wire_fields
from oidc.models import RefreshToken, Session
from oidc.session_selectors import active_q
from organizations.user_services import AUDITED as USER_AUDITED
from porta.core import liveconfig, versions
from porta.core.context import Actor
from porta.core.errors import Conflict

#: The session's lifetime as the API shows it.
AUDITED = Audited(
    target_type="session",
    fields=wire_fields("revoked_at", "expires_at"),
    organization=lambda session: session.organization_id,
)
#: A session has no status column: it is revoked once its ``revoked_at`` is set. Revoking a
#: revoked session changes nothing and is not an error (an idempotent DELETE).
SESSION_TRANSITIONS: dict[str, Transition] = {
    "revoke": Transition(frozenset({"active"}), "revoked", "session.revoked"),
}

#: Sessions that expired longer ago than this are deleted by ``sessions_purge``.
PURGE_AFTER = datetime.timedelta(days=7)


def session_start(*, user, client, organization, ip: str | None, user_agent: str) -> Session:
    """A new session for a successful login. Runs inside the login's transaction."""
    now = timezone.now()
    return Session.objects.create(
        user=user,
        client=client,
        organization=organization,
        ip_address=ip or None,
        user_agent=(user_agent or "")[:512],
        created_at=now,
        last_activity_at=now,
        expires_at=now + datetime.timedelta(seconds=liveconfig.get("session_ttl")),
    )


def _revoke(sessions: list[Session], now: datetime.datetime) -> int:
    """Revoke ``sessions`` (locked, active) and their refresh tokens."""
    ids = [s.id for s in sessions]
    Session.objects.filter(pk__in=ids).update(revoked_at=now)
    # Processes keep a live session's standing under this stamp (authn.authentication): bumped
    # now and again once committed, so none re-keeps the old state in between.
    versions.bump(versions.SESSIONS)
    transaction.on_commit(lambda: versions.bump(versions.SESSIONS))
    revoked_tokens = RefreshToken.objects.filter(session_id__in=ids, revoked_at__isnull=True).update(
        revoked_at=now
    )
    for session in sessions:
        session.revoked_at = now
    return revoked_tokens


def _revoke_with_tokens(session: Session, change: Change) -> None:
    change.metadata.update(
        userId=str(session.user_id),
        clientId=str(session.client_id),
        revokedRefreshTokens=_revoke([session], change.now),
    )


SESSION_STATUS = StateMachine(
    noun="session",
    table=SESSION_TRANSITIONS,
    audited=AUDITED,
    field=None,
    state=lambda session: "revoked" if session.revoked_at is not None else "active",
    effect=_revoke_with_tokens,
    idempotent=True,
)


def session_revoke(*, actor: Actor, session: Session, precondition: Precondition | None = None) -> Session:
    """Revoke one session. Revoking a revoked session changes nothing and is not an error (the
    DELETE is idempotent, as Ory's disableSession); an expired session is revoked all the same,
    so its remaining refresh tokens are spent."""
    return transition(SESSION_STATUS, session, "revoke", actor=actor, precondition=precondition)


@transaction.atomic
def session_extend(*, actor: Actor, session: Session, precondition: Precondition | None = None) -> Session:
    """Ory's extendSession: the session now expires ``PORTA_SESSION_LIFESPAN`` from now (never
    later). A revoked or expired session cannot be brought back: 409."""
    session = lock(session, precondition)
    now = timezone.now()
    if session.revoked_at is not None:
        raise Conflict("Cannot extend a revoked session")
    if session.expires_at <= now:
        raise Conflict("Cannot extend an expired session")
    with AUDITED.change(
        "session.extended", actor=actor, row=session, metadata={"userId": str(session.user_id)}
    ):
        session.expires_at = now + datetime.timedelta(seconds=liveconfig.get("session_ttl"))
        session.save(update_fields=["expires_at"])
    return session


@transaction.atomic
def user_sessions_revoke(*, actor: Actor, user) -> int:
    """Revoke every active session of ``user``; the number revoked. Audited once for the user
    (the count and the session ids), whether or not there was anything to revoke."""
    now = timezone.now()
    sessions = list(Session.objects.select_for_update().filter(active_q(now), user_id=user.id).order_by("pk"))
    revoked_tokens = _revoke(sessions, now) if sessions else 0
    USER_AUDITED.record(
        "user.sessions.revoked",
        actor=actor,
        row=user,
        metadata={
            "revoked": len(sessions),
            "sessionIds": [str(s.id) for s in sessions],
            "revokedRefreshTokens": revoked_tokens,
        },
    )
    return len(sessions)


def session_touch(*, session: Session, now: datetime.datetime) -> None:
    """Record activity (a refresh) on a session the caller has locked."""
    Session.objects.filter(pk=session.pk).update(last_activity_at=now)
    session.last_activity_at = now


def sessions_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete sessions that expired more than PURGE_AFTER ago (their refresh tokens go with
    them). Expired sessions carry no rights; the rows are kept a week for investigation."""
    cutoff = (now or timezone.now()) - PURGE_AFTER
    deleted, per_model = Session.objects.filter(expires_at__lt=cutoff).delete()
    return per_model.get(Session._meta.label, 0)
