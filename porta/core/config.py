"""Typed reads of Porta's environment, each with its rule: the one place a variable is validated.

``porta/settings.py`` reads every variable through an :class:`Env`. A value that breaks its rule
raises :class:`ConfigurationError` naming the variable and what is wrong, while the settings load,
before anything listens or connects. The entry points (``manage.py``, ``porta``, the WSGI module)
call :func:`load_settings_or_exit`, which turns that into one line on stderr and a non-zero exit,
so a typo in a key is a refused start, not a 500 on the first token request.

An empty value counts as unset (``REDIS_URL=`` in an env file means "no Redis").
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import ipaddress
import os
import re
import sys
from collections.abc import Iterable, Mapping
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

#: Values of deploy/porta.env.example that must be replaced (``CHANGE-ME``, ``change_me``…).
_PLACEHOLDER = re.compile(r"change[-_ ]?me", re.IGNORECASE)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_HOST_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
#: Longest accepted time span: ten years, as for durations in request bodies.
_MAX_SECONDS = 3660 * 24 * 3600
#: gunicorn's "App failed to load": its arbiter stops instead of re-spawning the worker forever.
WSGI_EXIT_STATUS = 4


class ConfigurationError(ImproperlyConfigured):
    """A variable breaks its rule; ``str()`` is ``"NAME: what is wrong"``."""

    def __init__(self, name: str, problem: str):
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


def load_settings_or_exit(exit_status: int = 2, argv: list[str] | None = None) -> None:
    """Load Django's settings now; a configuration error is one line on stderr and ``exit_status``.

    Django would otherwise load them lazily, deep inside a command or the first request, and show
    the error as a traceback (or, for ``manage.py``, hide it behind a list of commands). ``argv``
    (a command line) is searched for ``--settings``/``--pythonpath`` first, as Django does."""
    from django.conf import settings

    if argv is not None:
        _apply_default_options(argv)
    try:
        settings.INSTALLED_APPS  # noqa: B018 - the attribute access is what loads the settings
    except ConfigurationError as exc:
        sys.stderr.write(f"porta: configuration error: {exc}\n")
        sys.stderr.flush()
        raise SystemExit(exit_status) from None


def _apply_default_options(argv: list[str]) -> None:
    """``manage.py --settings=…``: the choice must be made before the settings are loaded."""
    from django.core.management.base import CommandParser, handle_default_options

    parser = CommandParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--settings")
    parser.add_argument("--pythonpath")
    parser.add_argument("args", nargs="*")
    options, _ = parser.parse_known_args(argv[1:])
    handle_default_options(options)


def decode_kek(item: str) -> bytes:
    """A key-encryption key: exactly 32 bytes in URL-safe base64 (padding optional)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", item):
        raise ValueError("must be 32 bytes of URL-safe base64 (found characters outside A-Z a-z 0-9 - _)")
    try:
        key = base64.urlsafe_b64decode(item + "=" * (-len(item.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be 32 bytes of URL-safe base64 (it is not valid base64)") from exc
    if len(key) != 32:
        raise ValueError(f"must be 32 bytes of URL-safe base64 (got {len(key)} bytes)")
    return key


def parse_bind(value: str) -> tuple[str, int] | None:
    """``host:port`` or ``[v6]:port`` → ``(host, port)``; ``unix:/path`` → ``None``."""
    if value.startswith("unix:"):
        if len(value) == len("unix:"):
            raise ValueError("unix: needs a socket path, e.g. unix:/run/porta.sock")
        return None
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]*):(\d{1,5})", value)
    if match is None:
        raise ValueError(f"must be HOST:PORT, [IPv6]:PORT or unix:PATH (got {value!r})")
    host = match.group(1) or match.group(3) or ""
    port = int(match.group(2) or match.group(4))
    if match.group(1):
        _ip(match.group(1), version=6)
    elif host and not (_is_ip(host) or _HOST_NAME.fullmatch(host)):
        raise ValueError(f"{host!r} is neither an IP address nor a host name")
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be between 1 and 65535 (got {port})")
    return host, port


def url_for_bind(bind: str) -> str:
    """The URL a browser on this machine reaches a server bound to ``bind`` at.

    A wildcard address (``0.0.0.0``, ``::``) listens everywhere but is not a place to go, so it
    becomes ``localhost``; a Unix socket sits behind a proxy whose address cannot be known."""
    address = parse_bind(bind)
    if address is None:
        return "http://localhost"
    host, port = address
    if host in {"", "0.0.0.0", "::"}:
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ip(text: str, *, version: int) -> None:
    try:
        if ipaddress.ip_address(text).version == version:
            return
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not an IPv{version} address")


class Env:
    """Reads variables from ``environ`` (``os.environ`` by default), one rule per method.

    The names and ``default=`` keyword follow django-environ's ``Env`` so a plain
    ``env.int("X", default=1)`` is checked too; the keyword-only arguments add the range or rule."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        """The value, or ``None`` when unset or empty; a placeholder from the example is refused."""
        value = self._environ.get(name)
        if value is None or not value.strip():
            return None
        if _PLACEHOLDER.search(value):
            raise ConfigurationError(
                name, "still holds a placeholder from deploy/porta.env.example (CHANGE-ME); set a real value"
            )
        return value

    def is_set(self, name: str) -> bool:
        return self.raw(name) is not None

    def _parse(self, name: str, default, parse):
        value = self.raw(name)
        if value is None:
            return default
        try:
            return parse(value.strip())
        except ValueError as exc:
            raise ConfigurationError(name, str(exc)) from None

    def require(self, names: Iterable[str], *, reason: str) -> None:
        """All of ``names`` must be set; one error names every missing one."""
        missing = [name for name in names if not self.is_set(name)]
        if missing:
            raise ConfigurationError(", ".join(missing), f"required {reason} but not set")

    def str(self, name: str, default: str = "") -> str:
        value = self.raw(name)
        return default if value is None else value

    __call__ = str

    def choice(self, name: str, default: str, *, choices: Iterable[str], upper: bool = False) -> str:
        options = list(choices)

        def parse(value: str) -> str:
            value = value.upper() if upper else value
            if value not in options:
                raise ValueError(f"must be one of {', '.join(options)} (got {value!r})")
            return value

        return self._parse(name, default, parse)

    def bool(self, name: str, default: bool = False) -> bool:
        def parse(value: str) -> bool:
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
            raise ValueError(f"must be true or false (or 1/0, yes/no, on/off), got {value!r}")

        return self._parse(name, default, parse)

    def int(self, name: str, default: int = 0, *, min: int | None = None, max: int | None = None) -> int:
        def parse(value: str) -> int:
            if not re.fullmatch(r"[-+]?\d+", value):
                raise ValueError(f"must be a whole number, got {value!r}")
            return _in_range(int(value), min, max)

        return self._parse(name, default, parse)

    def float(
        self, name: str, default: float = 0.0, *, min: float | None = None, max: float | None = None
    ) -> float:
        def parse(value: str) -> float:
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"must be a number, got {value!r}") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(f"must be a finite number, got {value!r}")
            return _in_range(number, min, max)

        return self._parse(name, default, parse)

    def seconds(self, name: str, default: int, *, min: int = 1, max: int = _MAX_SECONDS) -> int:
        """Seconds as a whole number (``900``) or a duration (``15m``, ``1h30m``, ``30d``)."""
        from porta.core.durations import parse_duration

        def parse(value: str) -> int:
            if re.fullmatch(r"[-+]?\d+", value):
                return _in_range(int(value), min, max, unit=" seconds")
            try:
                seconds = int(parse_duration(value).total_seconds())
            except ValueError:
                example = "90s, 15m, 1h30m or 30d"
                raise ValueError(f"must be seconds or a duration like {example}, got {value!r}") from None
            return _in_range(seconds, min, max, unit=" seconds")

        return self._parse(name, default, parse)

    def duration(self, name: str, default: str) -> str:
        """A duration like ``90d`` or ``2160h``, kept as text (its users parse it)."""
        from porta.core.durations import parse_duration

        def parse(value: str) -> str:
            try:
                parse_duration(value)
            except ValueError:
                raise ValueError(f"must be a duration like 90d, 2160h or 1h30m, got {value!r}") from None
            return value

        return self._parse(name, default, parse)

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        return self._parse(name, list(default or []), _split)

    def url(self, name: str, default: str, *, schemes: Iterable[str], path: bool = True) -> str:
        """A URL with one of ``schemes`` and a host; ``path=False`` also refuses a path."""
        allowed = list(schemes)

        def parse(value: str) -> str:
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 - raises ValueError for a port that is not a number
            except ValueError as exc:
                raise ValueError(f"is not a valid URL ({exc})") from None
            if parts.scheme not in allowed:
                prefixes = " or ".join(f"{scheme}://" for scheme in allowed)
                raise ValueError(f"must start with {prefixes} (scheme {parts.scheme or 'none'})")
            if not parts.hostname:
                raise ValueError(f"has no host (got {value!r})")
            if parts.query or parts.fragment or (not path and parts.path not in {"", "/"}):
                raise ValueError("must be a bare base URL, without path, query or fragment")
            return value

        return self._parse(name, default, parse)

    def database_url(self, name: str) -> str:
        """PostgreSQL (``postgres://user:password@host:port/name``) or SQLite (``sqlite:///path``)."""

        def parse(value: str) -> str:
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 - raises ValueError for a port that is not a number
            except ValueError as exc:
                raise ValueError(f"is not a valid URL ({exc})") from None
            if parts.scheme == "sqlite":
                return value
            if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
                raise ValueError(
                    f"must be a postgres:// (or sqlite://) URL (scheme {parts.scheme or 'none'})"
                )
            if not parts.hostname or not parts.path.strip("/"):
                raise ValueError("must name a host and a database: postgres://USER:PASSWORD@HOST:PORT/NAME")
            return value

        return self._parse(name, "", parse)

    def redis_url(self, name: str) -> str:
        """``redis://``, ``rediss://`` (TLS) or ``unix://``, with an optional database number."""

        def parse(value: str) -> str:
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 - raises ValueError for a port that is not a number
            except ValueError as exc:
                raise ValueError(f"is not a valid URL ({exc})") from None
            if parts.scheme not in {"redis", "rediss", "unix"}:
                raise ValueError(
                    f"must start with redis://, rediss:// or unix:// (scheme {parts.scheme or 'none'})"
                )
            if parts.scheme == "unix":
                if not parts.path:
                    raise ValueError("unix:// needs a socket path, e.g. unix:///run/redis.sock?db=0")
                return value
            if not parts.hostname:
                raise ValueError(f"has no host (got {value!r})")
            database = parts.path.strip("/")
            if database and not database.isdigit():
                raise ValueError(f"the database after the host must be a number, e.g. /0 (got /{database})")
            return value

        return self._parse(name, "", parse)

    def keys(self, name: str) -> list[str]:
        """Key-encryption keys: a comma-separated list, each 32 bytes in URL-safe base64."""

        def parse(value: str) -> list[str]:
            items = _split(value)
            for position, item in enumerate(items, 1):
                try:
                    decode_kek(item)
                except ValueError as exc:
                    where = f"item {position} of {len(items)} " if len(items) > 1 else ""
                    raise ValueError(f"{where}{exc}") from None
            return items

        return self._parse(name, [], parse)

    def secret(self, name: str, *, min_length: int, min_unique: int = 5) -> str:
        """A random secret: at least ``min_length`` characters, not one character repeated."""

        def parse(value: str) -> str:
            if len(value) < min_length:
                raise ValueError(f"must be at least {min_length} random characters (got {len(value)})")
            if len(set(value)) < min_unique:
                raise ValueError(f"must be random (only {len(set(value))} distinct characters)")
            return value

        return self._parse(name, "", parse)

    def secret_list(self, name: str, *, min_length: int, min_unique: int = 5) -> list[str]:
        """Rotatable secrets: a comma-separated list, each random and ``min_length`` long."""

        def parse(value: str) -> list[str]:
            items = list(dict.fromkeys(_split(value)))
            for position, item in enumerate(items, 1):
                if len(item) < min_length or len(set(item)) < min_unique:
                    raise ValueError(
                        f"item {position} of {len(items)} must be at least {min_length} random characters"
                    )
            return items

        return self._parse(name, [], parse)

    def networks(self, name: str) -> list[str]:
        """IP addresses and CIDR networks, comma-separated (``10.0.0.0/8,127.0.0.1``)."""

        def parse(value: str) -> list[str]:
            items = _split(value)
            for item in items:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
            return items

        return self._parse(name, [], parse)

    def hosts(self, name: str) -> list[str]:
        """Host names for Django's ALLOWED_HOSTS (``.example.com`` matches subdomains, ``*`` all)."""

        def parse(value: str) -> list[str]:
            items = _split(value)
            for item in items:
                host = item[1:] if item.startswith(".") else item
                if item != "*" and not (_is_ip(host.strip("[]")) or _HOST_NAME.fullmatch(host)):
                    raise ValueError(f"{item!r} is not a host name (no scheme, port or path)")
            return items

        return self._parse(name, [], parse)

    def host(self, name: str, default: str) -> str:
        """One host name or IP address (no scheme or port)."""

        def parse(value: str) -> str:
            if not (_is_ip(value.strip("[]")) or _HOST_NAME.fullmatch(value)):
                raise ValueError(f"must be a host name or IP address (no scheme or port), got {value!r}")
            return value

        return self._parse(name, default, parse)

    def bind(self, name: str, default: str) -> str:
        def parse(value: str) -> str:
            parse_bind(value)
            return value

        return self._parse(name, default, parse)

    def email(self, name: str, default: str, *, display_name: bool = False) -> str:
        """An e-mail address; ``display_name=True`` also accepts ``Name <address>``."""
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        def parse(value: str) -> str:
            shown, address = parseaddr(value) if display_name else ("", value)
            try:
                validate_email(address)
            except ValidationError:
                form = "an e-mail address or Name <address>" if display_name else "an e-mail address"
                raise ValueError(f"must be {form}, got {value!r}") from None
            return value

        return self._parse(name, default, parse)

    def dotted_path(self, name: str, default: str) -> str:
        """``package.module.Class`` whose module can be imported (it is not imported here)."""

        def parse(value: str) -> str:
            module, _, attribute = value.rpartition(".")
            if not module or not attribute.isidentifier():
                raise ValueError(f"must be a dotted path like package.module.Class, got {value!r}")
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                raise ValueError(f"module {module!r} cannot be imported")
            return value

        return self._parse(name, default, parse)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _in_range(number, low, high, unit: str = ""):
    if low is not None and number < low:
        raise ValueError(f"must be at least {low}{unit} (got {number})")
    if high is not None and number > high:
        raise ValueError(f"must be at most {high}{unit} (got {number})")
    return number
