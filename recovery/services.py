"""Account recovery: one-time, expiring links and codes, stored only as keyed hashes and audited."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import MinimumLengthValidator, validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from organizations import login_services
from organizations.models import User
from organizations.user_services import AUDITED as USER_AUDITED
from porta.core import liveconfig, onetime
from porta.core.context import Actor
from porta.core.tokens import keyed_hash, matches
from recovery.models import RecoveryKind, RecoveryToken

CODE_DIGITS = 8
#: Wrong codes entered on a code-protected recovery page before it stops working.
MAX_CODE_ATTEMPTS = 5
PASSWORD_MIN, PASSWORD_MAX = 8, 128


class RecoveryUnavailable(Exception):
    """The link is unknown, used, expired or exhausted; ``status`` is the page's HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class IssuedRecovery:
    token: RecoveryToken
    link: str
    code: str | None = None


def recovery_link(user: User, token: str) -> str:
    return f"{settings.PORTA_PUBLIC_URL}/{user.organization.slug}/recovery/{token}"


def _issue(*, actor: Actor, user: User, kind: str, expires_in: datetime.timedelta | None) -> IssuedRecovery:
    new = onetime.issue(expires_in or datetime.timedelta(seconds=liveconfig.get("password_reset_ttl")))
    token = new.token
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}" if kind == RecoveryKind.CODE else None
    with transaction.atomic():
        row = RecoveryToken.objects.create(
            user=user,
            kind=kind,
            token_hash=new.token_hash,
            code_hash=keyed_hash(f"{token}:{code}") if code else "",
            expires_at=new.expires_at,
        )
        USER_AUDITED.record(
            f"recovery.{kind}.created",
            actor=actor,
            row=user,
            metadata={"recoveryId": row.id, "expiresAt": row.expires_at},
        )
    return IssuedRecovery(token=row, link=recovery_link(user, token), code=code)


def recovery_link_create(
    *, actor: Actor, user: User, expires_in: datetime.timedelta | None = None
) -> IssuedRecovery:
    return _issue(actor=actor, user=user, kind=RecoveryKind.LINK, expires_in=expires_in)


def recovery_code_create(
    *, actor: Actor, user: User, expires_in: datetime.timedelta | None = None
) -> IssuedRecovery:
    return _issue(actor=actor, user=user, kind=RecoveryKind.CODE, expires_in=expires_in)


def _usable(token: str, org_slug: str, *, lock: bool = False) -> RecoveryToken:
    rows = RecoveryToken.objects.select_related("user__organization")
    if lock:
        rows = rows.select_for_update(of=("self",))
    row = onetime.find(rows.filter(user__organization__slug=org_slug), token)
    if row is None:
        raise RecoveryUnavailable("This recovery link is not valid.", 404)
    if row.used_at is not None:
        raise RecoveryUnavailable("This recovery link has already been used.", 410)
    if row.expires_at <= timezone.now():
        raise RecoveryUnavailable("This recovery link has expired.", 410)
    if row.failed_attempts >= MAX_CODE_ATTEMPTS:
        raise RecoveryUnavailable("Too many wrong codes: this recovery link no longer works.", 410)
    return row


def recovery_lookup(token: str, org_slug: str) -> RecoveryToken:
    """The usable recovery row ``token`` names in organization ``org_slug``, or RecoveryUnavailable."""
    return _usable(token, org_slug)


def password_problems(password: str, user: User) -> list[str]:
    if len(password) > PASSWORD_MAX:
        return [f"The password must be at most {PASSWORD_MAX} characters."]
    try:
        validate_password(password, user, password_validators=[MinimumLengthValidator(PASSWORD_MIN)])
    except ValidationError as exc:
        return list(exc.messages)
    return []


class WrongCode(Exception):
    pass


def recovery_use(*, token: str, org_slug: str, password: str, code: str | None = None) -> User:
    """Set the user's new password through a recovery link, once. Raises RecoveryUnavailable,
    WrongCode, LoginThrottled (the code is checked by the login service, under its throttles), or
    ValidationError (password policy; the link stays usable)."""
    with transaction.atomic():
        # Locked so that concurrent guesses at a code are checked one after the other against the
        # count of wrong ones (without it, many parallel guesses would all pass the limit check).
        row = _usable(token, org_slug, lock=True)
        user = row.user
        if row.kind == RecoveryKind.CODE and not login_services.code_check(
            user=user,
            matches=lambda: bool(code) and matches(f"{token}:{code.strip()}", row.code_hash),
            channel=login_services.RECOVERY,
        ):
            RecoveryToken.objects.filter(pk=row.pk).update(failed_attempts=F("failed_attempts") + 1)
            wrong = True
        else:
            wrong = False
            problems = password_problems(password, user)
            if problems:
                raise ValidationError(problems)
            # Spent before the password changes: of two concurrent uses only one gets here.
            rows = RecoveryToken.objects.filter(pk=row.pk, failed_attempts__lt=MAX_CODE_ATTEMPTS)
            if onetime.spend(rows) is None:
                raise RecoveryUnavailable("This recovery link has already been used.", 410)
            user.set_password(password)
            user.failed_login_count = 0
            user.save(update_fields=["password", "failed_login_count", "updated_at"])
            USER_AUDITED.record(
                "recovery.used",
                actor=Actor(type="user", id=user.id, label=user.email),
                row=user,
                metadata={"recoveryId": row.id, "kind": row.kind},
            )
    if wrong:  # raised after commit, so the failed attempt is counted
        raise WrongCode
    return user
