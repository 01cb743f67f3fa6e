"""In-process profile of one admin API path, called by bench/organizations.py after its load test.

Requests go straight into Porta's WSGI application (the object gunicorn calls), with the real
token, database and Redis of the benchmark, so the profile holds the whole request: middleware,
DRF, authentication, queries and rendering, and nothing of a test client. It reports:

- the single-process time per request without a profiler (the ceiling one sync worker can reach),
- the SQL statements and Redis commands one request makes,
- a pyinstrument (sampling) breakdown by component, and the hottest functions by own time,
- a cProfile listing for call counts.

The environment (DATABASE_URL, REDIS_URL, secrets, DJANGO_SETTINGS_MODULE, BENCH_ACCESS_TOKEN) is
the benchmark's; run it through bench/organizations.py rather than alone.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import django

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Component:
    label: str
    file: str  # a path fragment of the function's file
    function: str
    depth: int = 0  # indentation in the report: nested components are part of their parent's time
    within: str | None = None  # counted only inside this component (a label)


AUTH = "authentication: principal_from_access_token"
# Inclusive time of these functions, found by walking the sampled call tree. A component that
# sits inside another (depth > 0) is part of that one's share, not an addition to it.
COMPONENTS = [
    Component("whole request (WSGIHandler.__call__)", "django/core/handlers/wsgi.py", "__call__"),
    Component("DRF APIView.dispatch (the view, auth included)", "rest_framework/views.py", "dispatch", 1),
    Component(AUTH, "authn/authentication.py", "principal_from_access_token", 2),
    Component("version stamps (porta.core.versions.read, Redis)", "porta/core/versions.py", "read", 3),
    Component("verify_access_token (JWT)", "keys/tokens.py", "verify_access_token", 3),
    Component("keyring()", "keys/services.py", "keyring", 4),
    Component("jwt.decode (ES256 verify + claims)", "jwt/api_jwt.py", "decode", 4),
    Component("user + organization query", "django/db/models/query.py", "first", 3, within=AUTH),
    Component("admin_authorization (roles query)", "rbac/selectors.py", "admin_authorization", 3),
    Component("get_object (organization query)", "porta/api/viewsets.py", "get_object", 2),
    Component("detail_response (serialize + ETag)", "porta/api/viewsets.py", "detail_response", 2),
    Component("represent (the serializer)", "porta/api/viewsets.py", "represent", 3),
    Component("etag_for", "porta/api/etag.py", "etag_for", 3),
    Component(
        "response rendering (Response.rendered_content)", "rest_framework/response.py", "rendered_content", 1
    ),
    Component("all SQL round trips (CursorWrapper._execute)", "django/db/backends/utils.py", "_execute", 1),
    Component("all SQL compilation (SQLCompiler.as_sql)", "django/db/models/sql/compiler.py", "as_sql", 1),
    Component("all Redis reads (redis Connection.read_response)", "redis/connection.py", "read_response", 1),
    Component("prometheus labels()", "prometheus_client/metrics.py", "labels", 1),
    Component("WhiteNoise autorefresh lookup (find_file)", "whitenoise/", "find_file", 1),
    Component("connection health check (is_usable)", "django/db/backends/postgresql/base.py", "is_usable", 1),
    Component("URL resolving", "django/urls/resolvers.py", "resolve", 1),
    Component("request_finished: close_old_connections", "django/db/__init__.py", "close_old_connections", 1),
]


def _environ(path: str, token: str) -> dict:
    path_info, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "*/*",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _call(application, path: str, token: str) -> str:
    statuses: list[str] = []
    body = application(_environ(path, token), lambda status, headers, exc_info=None: statuses.append(status))
    try:
        b"".join(body)
    finally:
        body.close()  # request_finished: what gunicorn triggers after each response
    return statuses[0]


def _requests(application, path: str, token: str, count: int) -> None:
    for _ in range(count):
        status = _call(application, path, token)
        if not status.startswith("200"):
            raise RuntimeError(f"{path} answered {status}")


def _one_request_io(application, path: str, token: str) -> tuple[list[str], list[str]]:
    """The SQL statements and Redis commands one request sends, as they go on the wire.

    psycopg's cursor is patched rather than Django's execute_wrapper, which would miss the
    ``SELECT 1`` of CONN_HEALTH_CHECKS (Django sends it bypassing its own cursor wrapper).
    """
    import psycopg
    import redis

    statements: list[str] = []
    commands: list[str] = []
    original_execute = psycopg.Cursor.execute
    original_command = redis.Redis.execute_command

    def record_sql(self, query, *args, **kwargs):
        statements.append(query if isinstance(query, str) else repr(query))
        return original_execute(self, query, *args, **kwargs)

    def record_redis(self, *args, **options):
        commands.append(" ".join(str(a) for a in args[:2]))
        return original_command(self, *args, **options)

    psycopg.Cursor.execute = record_sql
    redis.Redis.execute_command = record_redis
    try:
        _call(application, path, token)
    finally:
        psycopg.Cursor.execute = original_execute
        redis.Redis.execute_command = original_command
    return statements, commands


def _per_call_ms(function, count: int) -> float:
    function()
    started = time.perf_counter()
    for _ in range(count):
        function()
    return (time.perf_counter() - started) * 1000 / count


def _internal(module: str, name: str | None = None):
    """A Porta module or function the breakdown times, or None once the code no longer has it."""
    try:
        found = importlib.import_module(module)
        return found if name is None else getattr(found, name)
    except (ImportError, AttributeError):
        return None


def direct_timings(application, path: str, token: str, count: int) -> list[tuple[str, float | str]]:
    """Each step of the detail request timed alone, without any profiler, in ms per call.

    The profiler's own overhead grows with the number of Python calls, so it inflates the ORM and
    DRF against C code (ES256, orjson); these plain timings are the unbiased cost of each step.
    Steps name Porta internals, which move: a step whose function is gone or whose call fails is
    reported as n/a rather than failing the benchmark.
    """
    import jwt
    from django.db import connection

    from organizations.api.serializers import OrganizationSerializer
    from organizations.models import Organization, User
    from porta.api.etag import etag_for
    from porta.api.renderers import dumps
    from porta.core.ids import parse_uuid

    principal_from_access_token = _internal("authn.authentication", "principal_from_access_token")
    admin_api_audience = _internal("authn.authentication", "admin_api_audience")
    verify_access_token = _internal("keys.tokens", "verify_access_token")
    keyring = _internal("keys.keyring", "keyring")
    versions = _internal("porta.core.versions")
    admin_authorization = _internal("rbac.selectors", "admin_authorization")

    org_id = parse_uuid(path.rstrip("/").rsplit("/", 1)[-1])
    bare = f"/bench/bare/{org_id}"
    user_id = parse_uuid(jwt.decode(token, options={"verify_signature": False})["sub"])
    organization = Organization.objects.get(pk=org_id)
    representation = OrganizationSerializer(organization).data
    represent = getattr(OrganizationSerializer, "represent", None)
    org_sql, org_params = Organization.objects.filter(pk=org_id)[:1].query.sql_with_params()

    def raw_org_select() -> None:
        with connection.cursor() as cursor:
            cursor.execute(org_sql, org_params)
            cursor.fetchall()

    def verify() -> None:
        verify_access_token(token, issuer=None, audience=admin_api_audience())

    steps = [
        ("whole request through the WSGI app", lambda: _call(application, path, token)),
        ("  for comparison: the bare Django view on the same row", lambda: _call(application, bare, token)),
        ("connection health check (SELECT 1, CONN_HEALTH_CHECKS)", connection.is_usable),
        ("principal_from_access_token (all of authentication)",
         principal_from_access_token and (lambda: principal_from_access_token(token))),
        ("  version stamps: versions.read(KEYS, PRINCIPALS) (Redis MGET)",
         versions and (lambda: versions.read(versions.KEYS, versions.PRINCIPALS))),
        ("  verify_access_token (keyring() + ES256 + claims)",
         verify_access_token and admin_api_audience and verify),
        ("    keyring() alone (reads its own stamp from Redis)", keyring),
        ("  User.select_related(organization).first()",
         lambda: User.objects.select_related("organization").filter(pk=user_id).first()),
        ("  admin_authorization(user_id), uncached (the roles join)",
         admin_authorization and (lambda: admin_authorization(user_id))),
        ("Organization.objects.filter(pk=...).first()",
         lambda: Organization.objects.filter(pk=org_id).first()),
        ("  the same SELECT as raw SQL (no ORM)", raw_org_select),
        ("OrganizationSerializer.represent(org) (what the view calls)",
         represent and (lambda: represent(organization))),
        ("  DRF's OrganizationSerializer(org).data, for comparison",
         lambda: OrganizationSerializer(organization).data),
        ("etag_for(representation) (sorted orjson + sha256)", lambda: etag_for(representation)),
        ("orjson render of the representation", lambda: dumps(representation)),
    ]  # fmt: skip
    timings: list[tuple[str, float | str]] = []
    for label, function in steps:
        if function is None:
            timings.append((label, "n/a: not in this code"))
            continue
        try:
            timings.append((label, _per_call_ms(function, count)))
        except Exception as exc:  # noqa: BLE001 - an internal's signature changed; say so, go on
            timings.append((label, f"n/a: {type(exc).__name__}: {exc}"[:80]))
    return timings


def _matches(frame, component: Component) -> bool:
    return frame.function == component.function and component.file in (frame.file_path or "")


def component_times(root) -> dict[str, float]:
    """Inclusive seconds per component; a recursive call is not counted twice."""
    totals: dict[str, float] = defaultdict(float)
    stack = [(root, frozenset())]
    while stack:
        frame, active = stack.pop()
        for component in COMPONENTS:
            if (
                component.label not in active
                and (component.within is None or component.within in active)
                and _matches(frame, component)
            ):
                totals[component.label] += frame.time
                active = active | {component.label}
        stack.extend((child, active) for child in frame.children)
    return totals


def own_times(root) -> list[tuple[float, str]]:
    """Seconds spent in each function's own code (not its callees), summed over the tree."""
    totals: dict[str, float] = defaultdict(float)
    stack = [root]
    while stack:
        frame = stack.pop()
        own = frame.time - sum(child.time for child in frame.children if not child.is_synthetic)
        if frame.is_synthetic:
            own = 0.0
        short = (frame.file_path_short or frame.file_path or "?").replace(str(REPO) + "/", "")
        totals[f"{frame.function}  {short}:{frame.line_no}"] += own
        stack.extend(frame.children)
    return sorted(((t, name) for name, t in totals.items()), reverse=True)


def pyinstrument_report(application, path: str, token: str, count: int, out: Path) -> list[str]:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return ["pyinstrument is not installed (.venv/bin/pip install pyinstrument): no sampled breakdown."]
    profiler = Profiler()
    profiler.start()
    _requests(application, path, token, count)
    profiler.stop()
    (out / "profile-detail-pyinstrument.txt").write_text(
        profiler.output_text(unicode=True, show_all=False, color=False)
    )
    (out / "profile-detail-pyinstrument.html").write_text(profiler.output_html())
    session = profiler.last_session
    root = session.root_frame(trim_stem=False)
    totals = component_times(root)
    whole = totals[COMPONENTS[0].label] or root.time
    lines = [
        f"Share of request time by component (pyinstrument, {session.sample_count} samples, "
        f"{1000 * whole / count:.2f} ms/req under the profiler; nested rows are part of the row above):",
    ]
    for component in COMPONENTS:
        seconds = totals.get(component.label, 0.0)
        lines.append(
            f"  {'  ' * component.depth}{component.label:<{60 - 2 * component.depth}} "
            f"{100 * seconds / whole:5.1f} %  {1000 * seconds / count:6.3f} ms/req"
        )
    outside = whole - totals.get(COMPONENTS[1].label, 0.0)
    lines.append(f"  {'outside the view (middleware, handler, WSGI)':<60} {100 * outside / whole:5.1f} %")
    lines += ["", "Hottest functions by own time (pyinstrument):"]
    lines += [f"  {100 * seconds / whole:5.1f} %  {name}" for seconds, name in own_times(root)[:20]]
    return lines


def cprofile_listing(application, path: str, token: str, count: int, out: Path) -> None:
    profile = cProfile.Profile()
    profile.enable()
    _requests(application, path, token, count)
    profile.disable()
    listing = io.StringIO()
    pstats.Stats(profile, stream=listing).sort_stats("tottime").print_stats(40)
    pstats.Stats(profile, stream=listing).sort_stats("cumulative").print_stats(40)
    (out / "profile-detail-cprofile.txt").write_text(listing.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--path", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    token = os.environ["BENCH_ACCESS_TOKEN"]

    django.setup()
    from porta.wsgi import application

    _requests(application, args.path, token, 200)  # warm: connections, keyring, imports, caches
    statements, commands = _one_request_io(application, args.path, token)
    timings = direct_timings(application, args.path, token, args.requests)
    sampled = pyinstrument_report(application, args.path, token, args.requests, args.out)
    cprofile_listing(application, args.path, token, args.requests, args.out)

    request_ms = timings[0][1]

    def timing_line(label: str, value: float | str) -> str:
        if isinstance(value, str):
            return f"  {label:<62} {value}"
        return f"  {label:<62} {value:7.3f} ms  {100 * value / request_ms:5.1f} %"

    lines = [
        f"Profile of GET {args.path}: in-process through the WSGI app (no network), "
        f"{args.requests} calls each",
        f"one request makes {len(statements)} SQL statements and {len(commands)} Redis commands:",
        *(f"  SQL   {sql[:150]}" for sql in statements),
        *(f"  Redis {command}" for command in commands),
        "",
        f"Each step timed alone, no profiler (whole request = {1000 / request_ms:,.0f} req/s "
        "in one process):",
        *(timing_line(label, value) for label, value in timings),
        "",
        *sampled,
        f"files: {args.out}/profile-detail-pyinstrument.{{txt,html}}, profile-detail-cprofile.txt",
    ]
    report = "\n".join(lines)
    (args.out / "profile-detail-summary.txt").write_text(report + "\n")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
