"""The one door for every secret a person types: passwords at the token endpoint and the Django
admin login, and recovery codes on the recovery page.

Every check is held to the same rules, so no entrance is softer than another: failure counters
per client IP and per account (``PORTA_LOGIN_IP_LIMIT`` / the live ``login_rate_limit`` per
``PORTA_LOGIN_WINDOW``, shared by all entrances), auto-lockout after the live ``max_failed_logins``
wrong passwords (ended by the next login attempt once the live ``lockout_duration`` has passed),
a ``user.login.failed`` audit entry for each failed check against an existing account
(``user.locked`` when it locks), and the ``porta_login_failures_total`` and
``porta_throttled_requests_total`` metrics. Callers translate the typed refusals into their own
answer (an OAuth error, an admin form error, a page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from organizations.models import Organization, User, UserStatus
from organizations.user_services import AUDITED, auto_lock_expired, user_auto_lock, user_lockout_expire
from porta.core import liveconfig, ratelimit
from porta.core.context import Actor, current_request_context
from porta.core.metrics import LOGIN_FAILURES, THROTTLED_REQUESTS
from porta.core.tokens import new_secret

#: Where a check came from, as metrics and audit entries name it.
TOKEN_ENDPOINT, DJANGO_ADMIN, RECOVERY = "token_endpoint", "django_admin", "recovery"

# A valid hash of a random string, checked when the account does not exist, so the response
# time does not tell whether an account exists.
_dummy_hash: str | None = None


class LoginRefused(Exception):
    """A check that did not let the person in; ``message`` is safe to show them."""

    reason = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoginThrottled(LoginRefused):
    """Too many recent failures from this IP (``scope == "ip"``) or for this account."""

    reason = "throttled"

    def __init__(self, message: str, *, scope: str, retry_after: int) -> None:
        super().__init__(message)
        self.scope, self.retry_after = scope, retry_after


class InvalidCredentials(LoginRefused):
    reason = "invalid_credentials"


class AccountLocked(LoginRefused):
    reason = "locked"


class AccountInactive(LoginRefused):
    reason = "inactive"


@dataclass(frozen=True, slots=True)
class _Counter:
    key: str
    limit: int
    scope: str
    phrase: str


def _counters(organization_id, email: str, ip: str | None) -> list[_Counter]:
    """The failure counters an attempt is held to: its client IP and the account it names (by
    e-mail, whether or not it exists, so the throttle does not reveal which accounts do)."""
    account = f"{organization_id}:{email.strip().lower()}"
    return [
        _Counter(
            f"login-fail:ip:{ip or 'unknown'}", settings.PORTA_LOGIN_IP_LIMIT, "ip", "from this address"
        ),
        _Counter(
            f"login-fail:account:{account}", liveconfig.get("login_rate_limit"), "account", "for this account"
        ),
    ]


def _check_throttle(counters: list[_Counter]) -> None:
    for counter in counters:
        if ratelimit.peek_failures(counter.key) >= counter.limit:
            THROTTLED_REQUESTS.labels(scope="login").inc()
            raise LoginThrottled(
                f"Too many failed login attempts {counter.phrase}. Try again later.",
                scope=counter.scope,
                retry_after=settings.PORTA_LOGIN_WINDOW,
            )


def _count_failure(counters: list[_Counter], *, channel: str, reason: str) -> None:
    for counter in counters:
        ratelimit.hit(counter.key, limit=counter.limit, window=settings.PORTA_LOGIN_WINDOW)
    LOGIN_FAILURES.labels(channel=channel, reason=reason).inc()


def _audit_failure(user: User, *, channel: str, reason: str) -> None:
    AUDITED.record(
        "user.login.failed",
        actor=Actor(type="user", id=user.id, label=user.email),
        row=user,
        metadata={
            "reason": reason,
            "channel": channel,
            "accountStatus": user.status,
            "failedLoginCount": user.failed_login_count,
        },
    )


@transaction.atomic
def _register_failure(user: User, *, channel: str, reason: str) -> None:
    """Audit a failed check against an existing account. A wrong password on an active account
    counts towards the lock; at the live ``max_failed_logins`` the account locks (auto_lockout)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if reason != "invalid_password" or user.status != UserStatus.ACTIVE:
        _audit_failure(user, channel=channel, reason=reason)
        return
    user.failed_login_count += 1
    user.save(update_fields=["failed_login_count"])
    if settings.PORTA_AUTO_LOCKOUT and user.failed_login_count >= liveconfig.get("max_failed_logins"):
        user = user_auto_lock(user=user, channel=channel)
    _audit_failure(user, channel=channel, reason=reason)


def _spend_dummy_check(password: str) -> None:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = make_password(new_secret(16))
    check_password(password, _dummy_hash)


def password_login(
    *, organization: Organization, email: str, password: str, channel: str, ip: str | None = None
) -> User:
    """The active user of ``organization`` whose e-mail and password these are, or a LoginRefused.

    A hash made with older parameters (or an imported bcrypt one) is replaced by one made with
    the preferred hasher, since only now is the plaintext at hand. A locked account answers
    ``AccountLocked`` to the right and to a wrong password alike, or the lock would become an
    oracle for the password."""
    ip = ip if ip is not None else current_request_context().ip
    counters = _counters(organization.id, email, ip)
    _check_throttle(counters)
    user = User.objects.filter(organization=organization, email__iexact=email).first()
    if user is None or not user.has_usable_password():
        _spend_dummy_check(password)
        _count_failure(counters, channel=channel, reason="unknown_user")
        raise InvalidCredentials("Invalid username or password")

    lockout = liveconfig.get("lockout_duration")
    if auto_lock_expired(user, duration=lockout):
        user = user_lockout_expire(user=user, duration=lockout)

    def rehash(raw: str) -> None:
        user.set_password(raw)
        User.objects.filter(pk=user.pk).update(password=user.password)

    if not check_password(password, user.password, setter=rehash):
        _count_failure(counters, channel=channel, reason="invalid_password")
        _register_failure(user, channel=channel, reason="invalid_password")
        if user.status == UserStatus.LOCKED:
            raise AccountLocked("Account is locked")
        raise InvalidCredentials("Invalid username or password")
    if user.status == UserStatus.LOCKED:
        LOGIN_FAILURES.labels(channel=channel, reason="locked").inc()
        _register_failure(user, channel=channel, reason="locked")
        raise AccountLocked("Account is locked")
    if user.status != UserStatus.ACTIVE:
        LOGIN_FAILURES.labels(channel=channel, reason="inactive").inc()
        _register_failure(user, channel=channel, reason="inactive")
        raise AccountInactive("Account is not active")
    User.objects.filter(pk=user.pk).update(failed_login_count=0, last_login=timezone.now())
    return user


def code_check(*, user: User, matches: Callable[[], bool], channel: str, ip: str | None = None) -> bool:
    """Whether a one-time code the person typed for ``user`` is right (``matches`` compares in
    constant time). Held to the same IP and account counters as passwords; a wrong code is
    counted, measured and audited, but does not lock the account: the code's own attempt limit
    ends it, and recovery is how a locked-out person gets back in."""
    ip = ip if ip is not None else current_request_context().ip
    counters = _counters(user.organization_id, user.email, ip)
    _check_throttle(counters)
    if matches():
        return True
    _count_failure(counters, channel=channel, reason="invalid_code")
    _register_failure(user, channel=channel, reason="invalid_code")
    return False


@transaction.atomic
def login_recorded(*, user: User, channel: str) -> None:
    """Audit a successful login at an entrance that starts no session of its own (the token
    endpoint records its ``user.login`` with the session it starts)."""
    AUDITED.record(
        "user.login",
        actor=Actor(type="user", id=user.id, label=user.email),
        row=user,
        metadata={"channel": channel},
    )
