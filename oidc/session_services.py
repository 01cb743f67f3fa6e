"""Writes of login sessions: start (token endpoint), revoke, extend, purge.

A session is revoked in one transaction with its refresh tokens and its audit entry. Its access
tokens fail on the next request anywhere: authentication reads ``Session.revoked_at`` from
PostgreSQL on every request (authn.authentication), in the query it makes anyway, so no
revocation rests on Redis and none comes back when Redis loses its data.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from oidc.models import RefreshToken, Session
from oidc.session_selectors import active_q
from porta.core.context import Actor
from porta.core.errors import Conflict

#: Checks a precondition (the request's If-Match) on the locked row; raises to refuse the write.
Precondition = Callable[[Session], None]

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
        expires_at=now + datetime.timedelta(seconds=settings.PORTA_SESSION_LIFESPAN),
    )


def _locked(session: Session, precondition: Precondition | None) -> Session:
    locked = Session.objects.select_for_update().get(pk=session.pk)
    if precondition is not None:
        precondition(locked)
    return locked


def _revoke(sessions: list[Session], now: datetime.datetime) -> int:
    """Revoke ``sessions`` (locked, active) and their refresh tokens."""
    ids = [s.id for s in sessions]
    Session.objects.filter(pk__in=ids).update(revoked_at=now)
    revoked_tokens = RefreshToken.objects.filter(session_id__in=ids, revoked_at__isnull=True).update(
        revoked_at=now
    )
    for session in sessions:
        session.revoked_at = now
    return revoked_tokens


@transaction.atomic
def session_revoke(*, actor: Actor, session: Session, precondition: Precondition | None = None) -> Session:
    """Revoke one session. Revoking a revoked session changes nothing and is not an error (the
    DELETE is idempotent, as Ory's disableSession); an expired session is revoked all the same,
    so its remaining refresh tokens are spent."""
    session = _locked(session, precondition)
    if session.revoked_at is not None:
        return session
    now = timezone.now()
    revoked_tokens = _revoke([session], now)
    audit.record(
        event_type="session.revoked",
        actor=actor,
        organization_id=session.organization_id,
        target_type="session",
        target_id=session.id,
        changes={"revokedAt": {"before": None, "after": now}},
        metadata={
            "userId": str(session.user_id),
            "clientId": str(session.client_id),
            "revokedRefreshTokens": revoked_tokens,
        },
    )
    return session


@transaction.atomic
def session_extend(*, actor: Actor, session: Session, precondition: Precondition | None = None) -> Session:
    """Ory's extendSession: the session now expires ``PORTA_SESSION_LIFESPAN`` from now (never
    later). A revoked or expired session cannot be brought back: 409."""
    session = _locked(session, precondition)
    now = timezone.now()
    if session.revoked_at is not None:
        raise Conflict("Cannot extend a revoked session")
    if session.expires_at <= now:
        raise Conflict("Cannot extend an expired session")
    before = session.expires_at
    session.expires_at = now + datetime.timedelta(seconds=settings.PORTA_SESSION_LIFESPAN)
    session.save(update_fields=["expires_at"])
    audit.record(
        event_type="session.extended",
        actor=actor,
        organization_id=session.organization_id,
        target_type="session",
        target_id=session.id,
        changes={"expiresAt": {"before": before, "after": session.expires_at}},
        metadata={"userId": str(session.user_id)},
    )
    return session


@transaction.atomic
def user_sessions_revoke(*, actor: Actor, user) -> int:
    """Revoke every active session of ``user``; the number revoked. Audited once for the user
    (the count and the session ids), whether or not there was anything to revoke."""
    now = timezone.now()
    sessions = list(Session.objects.select_for_update().filter(active_q(now), user_id=user.id).order_by("pk"))
    revoked_tokens = _revoke(sessions, now) if sessions else 0
    audit.record(
        event_type="user.sessions.revoked",
        actor=actor,
        organization_id=user.organization_id,
        target_type="user",
        target_id=user.id,
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
