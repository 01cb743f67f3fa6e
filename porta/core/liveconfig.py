"""Live settings: values an administrator changes at run time (``/api/admin/config``) that every
process picks up without a restart.

Each key is a :class:`Definition`: its type, its bounds and its *default*, which is the
environment's value where one exists (``PORTA_ACCESS_TOKEN_TTL`` seeds ``access_token_ttl``), so a
deployment configured through the environment keeps working, and a value set through the API
overrides it until it is reset (set to null). The overrides are rows of the ``systemconfig`` app,
which installs the loader that reads them (:func:`install`); without it every key has its default.

How soon a change is seen, in every process:

- Each process keeps the overrides in memory and checks the ``config`` version stamp in Redis at
  most once per ``PORTA_CONFIG_CHECK_INTERVAL`` seconds (default 1), reloading from the database
  when the stamp moved. The writing process drops its copy on commit. So a change takes effect
  everywhere within ``PORTA_CONFIG_CHECK_INTERVAL`` seconds.
- If Redis cannot be reached the stamp reads as unknown and the process reloads from the database
  at each check instead: the same bound holds during a Redis outage or after a flush.
- A copy is never kept longer than :data:`MAX_AGE` seconds, which bounds staleness even if a
  stamp bump is lost (a writer that could not reach Redis while readers could).
- If the database cannot be reached, a process keeps the values it had (the defaults if it had
  none) and tries again at its next check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction

from porta.core import versions

logger = logging.getLogger("porta.liveconfig")

CONFIG = "config"
#: Longest time a process trusts its copy of the overrides without reading the database.
MAX_AGE = 60.0
INTEGER, BOOLEAN = "integer", "boolean"


@dataclass(frozen=True, slots=True)
class Definition:
    """One live setting. ``default`` is called on each read, so it follows the settings (and a
    test's ``override_settings``)."""

    key: str
    value_type: str
    description: str
    default: Callable[[], Any]
    minimum: int | None = None
    maximum: int | None = None
    unit: str | None = None
    sensitive: bool = False

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be this key's value, or None when it can."""
        if self.value_type == BOOLEAN:
            return None if isinstance(value, bool) else "Must be true or false."
        if isinstance(value, bool) or not isinstance(value, int):
            return "Must be an integer." if self.unit is None else f"Must be an integer ({self.unit})."
        if self.minimum is not None and value < self.minimum:
            return f"Must be at least {self.minimum}."
        if self.maximum is not None and value > self.maximum:
            return f"Must be at most {self.maximum}."
        return None


def _setting(name: str) -> Callable[[], Any]:
    return lambda: getattr(settings, name)


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


_DAY = 24 * 3600
_YEAR = 365 * _DAY
_NO_CONSUMER = " Stored for clients of upstream Porta; this server has no {} yet."

#: The keys of upstream Porta's system_config (reference/porta-upstream.md §11), in its order.
DEFINITIONS: dict[str, Definition] = {
    d.key: d
    for d in (
        Definition("access_token_ttl", INTEGER, "Access token lifetime (capped by the session's).",
                   _setting("PORTA_ACCESS_TOKEN_TTL"), 60, _DAY, "seconds"),
        Definition("id_token_ttl", INTEGER, "ID token lifetime." + _NO_CONSUMER.format("ID tokens"),
                   _constant(3600), 60, _DAY, "seconds"),
        Definition("refresh_token_ttl", INTEGER, "Refresh token lifetime.",
                   _setting("PORTA_REFRESH_TOKEN_TTL"), 60, 10 * _YEAR, "seconds"),
        Definition("authorization_code_ttl", INTEGER,
                   "Authorization code lifetime." + _NO_CONSUMER.format("authorization endpoint"),
                   _constant(600), 10, 3600, "seconds"),
        Definition("session_ttl", INTEGER, "Login session lifetime (new and extended sessions).",
                   _setting("PORTA_SESSION_LIFESPAN"), 60, _YEAR, "seconds"),
        Definition("cookie_secure", BOOLEAN,
                   "Secure flag on cookies." + _NO_CONSUMER.format("live cookie flag (PORTA_SECURE_COOKIES)"),
                   _constant(True)),
        Definition("magic_link_ttl", INTEGER, "Magic link lifetime." + _NO_CONSUMER.format("magic links"),
                   _constant(900), 60, _DAY, "seconds"),
        Definition("magic_link_length", INTEGER,
                   "Magic link token length." + _NO_CONSUMER.format("magic links"),
                   _constant(48), 16, 256, "characters"),
        Definition("password_reset_ttl", INTEGER, "Default lifetime of recovery links and codes.",
                   _constant(3600), 60, 7 * _DAY, "seconds"),
        Definition("invitation_ttl", INTEGER, "Invitation link lifetime.",
                   _constant(7 * _DAY), 3600, 90 * _DAY, "seconds"),
        Definition("login_rate_limit", INTEGER,
                   "Failed logins per account within PORTA_LOGIN_WINDOW before logins are throttled.",
                   _setting("PORTA_LOGIN_ACCOUNT_LIMIT"), 1, 10_000, "attempts"),
        Definition("api_rate_limit", INTEGER,
                   "Admin API writes per client IP within PORTA_RATE_LIMIT_WINDOW.",
                   _setting("PORTA_RATE_LIMIT_WRITES"), 1, 1_000_000, "requests"),
        Definition("max_failed_logins", INTEGER, "Wrong passwords in a row that lock an account.",
                   _setting("PORTA_MAX_FAILED_LOGINS"), 1, 1000, "attempts"),
        Definition("lockout_duration", INTEGER,
                   "How long an automatic lock lasts; 0 keeps it until an administrator unlocks.",
                   _setting("PORTA_LOCKOUT_DURATION"), 0, _YEAR, "seconds"),
        Definition("require_pkce", BOOLEAN, "Whether new clients require PKCE unless told otherwise.",
                   _constant(True)),
        Definition("cors_max_age", INTEGER,
                   "CORS preflight cache lifetime." + _NO_CONSUMER.format("CORS responses"),
                   _constant(86400), 0, 7 * _DAY, "seconds"),
        Definition("audit_retention_days", INTEGER,
                   "Audit entries older than this are deleted by the daily retention task.",
                   _setting("PORTA_AUDIT_RETENTION_DAYS"), 1, 36_500, "days"),
    )
}  # fmt: skip


def define(definition: Definition) -> None:
    """Add a key (an app's own setting, from its ``AppConfig.ready()``)."""
    DEFINITIONS[definition.key] = definition


def undefine(key: str) -> None:
    DEFINITIONS.pop(key, None)


def definition(key: str) -> Definition | None:
    return DEFINITIONS.get(key)


# -- the live values ------------------------------------------------------------------------------

_loader: Callable[[], Mapping[str, Any]] | None = None
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Copy:
    overrides: Mapping[str, Any]
    stamp: str | None
    loaded: float
    checked: float


_copy: _Copy | None = None


def install(loader: Callable[[], Mapping[str, Any]]) -> None:
    """Set where the overrides come from: ``{key: value}`` for every key set through the API."""
    global _loader
    _loader = loader
    forget()


def forget() -> None:
    """Drop this process's copy; the next read loads the overrides again."""
    global _copy
    _copy = None
    transaction.get_connection().porta_config_changed = False


def _overrides() -> Mapping[str, Any]:
    global _copy
    if _loader is None:
        return {}
    connection = transaction.get_connection()
    if getattr(connection, "porta_config_changed", False):
        if connection.in_atomic_block:
            # This transaction changed a value: it reads its own change, which no other request
            # may see (nor keep, should the transaction roll back) before the commit.
            return dict(_loader())
        forget()  # the change was committed or rolled back
    now = time.monotonic()
    copy = _copy
    if copy is not None and now - copy.checked < settings.PORTA_CONFIG_CHECK_INTERVAL:
        return copy.overrides
    (stamp,) = versions.read(CONFIG)
    if copy is not None and stamp is not None and stamp == copy.stamp and now - copy.loaded < MAX_AGE:
        _copy = _Copy(copy.overrides, stamp, copy.loaded, now)
        return copy.overrides
    with _lock:
        try:
            overrides = dict(_loader())
        except DatabaseError as exc:
            # The database is away: keep what this process had (or the defaults) and try again at
            # the next check; the request itself will meet the outage where it needs the database.
            logger.warning("Cannot load live settings, keeping the previous values: %s", exc)
            overrides = dict(copy.overrides) if copy is not None else {}
            _copy = _Copy(overrides, None, copy.loaded if copy is not None else now, now)
            return overrides
        _copy = _Copy(overrides, stamp, now, now)
    return overrides


def get(key: str) -> Any:
    """The live value of ``key``: the administrator's override, else the default."""
    spec = DEFINITIONS[key]
    value = _overrides().get(key)
    if value is None or spec.problem(value) is not None:
        return spec.default()
    return value


def changed() -> None:
    """Call inside the transaction that changed an override. Until it ends, that transaction reads
    the values from the database; after its commit every process reloads them (this one at once,
    the others at their next check); after a rollback nothing of it was ever cached."""

    def after_commit() -> None:
        forget()
        versions.bump(CONFIG)

    transaction.get_connection().porta_config_changed = True
    transaction.on_commit(after_commit)
