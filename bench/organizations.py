"""Benchmark of the organizations list and read paths against 100 000 organizations.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``, a COPY seed, gunicorn
(2 sync workers), a real admin token from the token endpoint, then wrk on five URLs (page 1,
page 5000, a cursor page equally deep, one organization through the API, the same row through a
bare Django view), single-threaded latencies of the same URLs, and an in-process profile of the
detail path (bench/profile_detail.py). Every server it starts is stopped on the way out.

    .venv/bin/python bench/organizations.py            # or: make bench-orgs

Raw output goes to bench/results/organizations-<UTC timestamp>/.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ on the path, not the repository root that holds porta/.
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402 - needs the path set above
import requests  # noqa: E402

from bench.common import argument_parser, stop_cleanly_on_signals  # noqa: E402
from porta.core.ids import uuid7  # noqa: E402
from testing.servers import free_port, postgres, redis, wait_for_port  # noqa: E402

REPRODUCE = ".venv/bin/python bench/organizations.py"
ADMIN_EMAIL = "bench-admin@example.com"
WRK_THREADS = 2
WRK_CONNECTIONS = 16
# Upstream Node implementation on a comparable 2-core machine (figures given with the brief).
NODE_REFERENCE = {"page1": 1300.0, "detail": 2200.0}
MAX_CURSOR_PAGES = 200
CURSOR_STEP = 1000  # the API's LIMIT_MAX


@dataclass
class Endpoint:
    key: str
    label: str
    path: str
    authenticated: bool = True


@dataclass
class WrkResult:
    requests_per_second: float
    latency_avg_ms: float
    latency_p50_ms: float
    latency_p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _run(command: list[str], env: dict[str, str], timeout: float, log: Path) -> None:
    with log.open("ab") as fh:
        subprocess.run(command, cwd=REPO, env=env, check=True, timeout=timeout, stdout=fh, stderr=fh)


# -- seeding -------------------------------------------------------------------------------------

COPY_SQL = (
    "COPY organizations_organization (id, name, slug, status, is_super_admin, default_locale, "
    "default_login_methods, two_factor_policy, created_at, updated_at) FROM STDIN"
)


def seed_organizations(dsn: str, count: int) -> tuple[list, float]:
    """COPY ``count`` organizations with uuid7 ids and distinct created_at one second apart.

    Returns the ids in insertion order and the seconds taken (row generation included, since a
    real import pays it too); then VACUUM ANALYZE, so the planner has statistics and the
    visibility map lets count(*) and keyset scans run index-only, as on a settled table.
    """
    base = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=count + 60)
    login_methods = '["password", "magic_link"]'
    ids = []
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
            for i in range(count):
                pk = uuid7()
                ids.append(pk)
                created = base + dt.timedelta(seconds=i)
                copy.write_row(
                    (pk, f"Organization {i:06d}", f"bench-org-{i:06d}", "active", False, "en",
                     login_methods, "optional", created, created)
                )  # fmt: skip
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) organizations_organization")
    return ids, elapsed


# -- servers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, log: Path, workers: int, threads: int) -> Iterator[str]:
    """``manage.py serve``: Porta's production server, in its own process group so the master and
    its workers are stopped together."""
    with log.open("ab") as fh:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "serve",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{port}",
            ],  # fmt: skip
            cwd=REPO,
            env=env,
            stdout=fh,
            stderr=fh,
            start_new_session=True,
        )
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


# -- API helpers ---------------------------------------------------------------------------------


@dataclass
class Platform:
    """A migrated, initialised Porta on throwaway PostgreSQL and Redis, ready for `gunicorn`."""

    dsn: str
    env: dict[str, str]
    port: int
    password: str


def start_platform(
    stack: contextlib.ExitStack, log: Path, settings_module: str = "bench.bench_settings"
) -> Platform:
    """Start PostgreSQL and Redis (closed with `stack`), migrate and run porta_init."""
    pg = stack.enter_context(postgres())
    rd = stack.enter_context(redis())
    data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="porta-bench-"))
    static_root = Path(data_dir, "static")
    static_root.mkdir()  # stands in for collectstatic's output; WhiteNoise warns if it is missing
    port = free_port()
    password = secrets.token_urlsafe(18)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTA_", "DJANGO_"))}
    env.update(
        {
            "PORTA_ENV": "development",
            "PORTA_ENV_FILE": os.devnull,  # no .env from the checkout leaks into the figures
            "PORTA_DATA_DIR": data_dir,
            "PORTA_STATIC_ROOT": str(static_root),
            "DATABASE_URL": pg.url,
            "REDIS_URL": rd.url,
            "PORTA_SECRET_KEY": secrets.token_urlsafe(50),
            "PORTA_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "PORTA_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PORTA_ACCESS_TOKEN_TTL": "3600",  # outlives the whole run
            "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
    )
    _log(f"PostgreSQL {pg.url}, Redis {rd.url}; migrating and running porta_init")
    _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, 600, log)
    # A generated password may start with "-": hence the = form.
    _run([sys.executable, "manage.py", "porta_init", "--admin-email", ADMIN_EMAIL,
          f"--admin-password={password}"], env, 300, log)  # fmt: skip
    return Platform(dsn=pg.url, env=env, port=port, password=password)


def insert_organization(dsn: str, name: str, slug: str):
    """One active organization, written directly (the benchmarks measure other things)."""
    organization_id = uuid7()
    with psycopg.connect(dsn) as conn:
        now = dt.datetime.now(dt.UTC)
        conn.execute(
            "INSERT INTO organizations_organization (id, name, slug, status, is_super_admin, "
            "default_locale, default_login_methods, two_factor_policy, created_at, updated_at) "
            "VALUES (%s, %s, %s, 'active', false, 'en', '[\"password\"]', 'optional', %s, %s)",
            (organization_id, name, slug, now, now),
        )
    return organization_id


def admin_token(base: str, password: str) -> str:
    response = requests.post(
        f"{base}/porta-admin/auth/token",
        data={
            "grant_type": "password",
            "client_id": "porta-cli",
            "username": ADMIN_EMAIL,
            "password": password,
        },
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def deep_cursor(session: requests.Session, base: str, skip: int) -> tuple[str, int]:
    """The nextCursor after ``skip`` rows, found by following cursors 1000 rows at a time."""
    skipped, cursor = 0, ""
    for requests_made in range(MAX_CURSOR_PAGES):
        if skipped >= skip:
            return cursor, requests_made
        params = {"limit": str(min(CURSOR_STEP, skip - skipped))}
        if cursor:
            params["cursor"] = cursor
        response = session.get(f"{base}/api/admin/organizations", params=params, timeout=60)
        response.raise_for_status()
        body = response.json()
        skipped += len(body["data"])
        cursor = body["pagination"]["nextCursor"]
        if not cursor:
            raise RuntimeError(f"the list ended after {skipped} rows, before {skip}")
    raise RuntimeError(f"no cursor {skip} rows deep after {MAX_CURSOR_PAGES} pages")


# -- wrk -----------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    latency = re.search(r"Latency\s+(\S+)\s+\S+\s+\S+", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if not (latency and p50 and p99 and rps and total):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        latency_avg_ms=_ms(latency.group(1)),
        latency_p50_ms=_ms(p50.group(1)),
        latency_p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=errors.group(1).strip() if errors else "",
    )


def run_wrk(url: str, script: Path | None, duration: int) -> str:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{duration}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    completed = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=duration + 60, check=True
    )
    return completed.stdout


# -- single-threaded latency ----------------------------------------------------------------------


def sequential_latency(session: requests.Session, url: str, calls: int, headers: dict) -> dict[str, float]:
    for _ in range(20):
        session.get(url, headers=headers, timeout=30).raise_for_status()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        response = session.get(url, headers=headers, timeout=30)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p95_ms": samples[int(0.95 * (len(samples) - 1))],
        "mean_ms": statistics.fmean(samples),
        "calls": calls,
    }


# -- report --------------------------------------------------------------------------------------


def render_table(
    endpoints: list[Endpoint],
    wrk: dict[str, WrkResult],
    latency: dict[str, dict[str, float]],
    reference: dict[str, float],
) -> str:
    header = (
        f"{'endpoint':<44} {'req/s':>8} {'avg ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'seq med':>8} {'seq p95':>8} {'Node req/s':>10}"
    )
    lines = [header, "-" * len(header)]
    for endpoint in endpoints:
        w, s = wrk[endpoint.key], latency[endpoint.key]
        node = f"{reference[endpoint.key]:.0f}" if endpoint.key in reference else "-"
        lines.append(
            f"{endpoint.label:<44} {w.requests_per_second:>8.0f} {w.latency_avg_ms:>8.2f} "
            f"{w.latency_p50_ms:>8.2f} {w.latency_p99_ms:>8.2f} {w.non_2xx:>7} "
            f"{s['median_ms']:>8.2f} {s['p95_ms']:>8.2f} {node:>10}"
        )
    return "\n".join(lines)


def code_state() -> str:
    """The commit measured, and whether the working tree differed from it."""

    def git(*args: str) -> str:
        completed = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return completed.stdout.strip()

    changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line]
    suffix = f" + uncommitted changes in {len(changed)} tracked files" if changed else ""
    return f"{git('rev-parse', '--short', 'HEAD') or 'unknown'}{suffix}"


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--organizations", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured wrk load per URL")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured wrk load per URL")
    parser.add_argument("--calls", type=int, default=200, help="single-threaded calls per URL")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="above 1, gunicorn's gthread worker")
    parser.add_argument(
        "--settings",
        default="bench.bench_settings",
        help="settings module, to compare a variant (it must keep ROOT_URLCONF = 'bench.bench_urls')",
    )
    parser.add_argument("--profile-requests", type=int, default=2000, help="0 skips the profile")
    args = parser.parse_args()
    if args.organizations < 1000 or args.organizations % 20:
        parser.error("--organizations must be a multiple of 20, at least 1000")

    run_started = time.perf_counter()
    load_at_start = os.getloadavg()
    if load_at_start[0] > 0.5:
        _log(f"warning: load average {load_at_start[0]:.2f} at start: other processes share the CPUs")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"organizations-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    server_log = out / "servers.log"
    _log(f"raw output in {out.relative_to(REPO)}")

    with contextlib.ExitStack() as stack:
        platform = start_platform(stack, server_log, args.settings)
        env, port, password = platform.env, platform.port, platform.password

        _log(f"seeding {args.organizations} organizations with COPY")
        ids, seed_seconds = seed_organizations(platform.dsn, args.organizations)
        seed_rate = args.organizations / seed_seconds
        _log(f"seeded in {seed_seconds:.2f} s ({seed_rate:,.0f} rows/s), VACUUM ANALYZE done")
        detail_id = ids[len(ids) // 2]

        with gunicorn(env, port, server_log, args.workers, args.threads) as base:
            token = admin_token(base, password)
            auth = {"Authorization": f"Bearer {token}"}
            session = requests.Session()
            session.headers.update(auth)

            first = session.get(
                f"{base}/api/admin/organizations", params={"page": 1, "pageSize": 20}, timeout=60
            )
            first.raise_for_status()
            total = first.json()["pagination"]["total"]
            deep_page = (total - 1) // 20  # the last full page: as deep as a 20-row page gets
            skip = (deep_page - 1) * 20
            _log(f"{total} organizations listed; following cursors {skip} rows deep")
            cursor_started = time.perf_counter()
            cursor, cursor_requests = deep_cursor(session, base, skip)
            cursor_seconds = time.perf_counter() - cursor_started
            offset_path = f"/api/admin/organizations?page={deep_page}&pageSize=20"
            cursor_path = f"/api/admin/organizations?limit=20&cursor={cursor}"
            same_rows = [r["id"] for r in session.get(base + offset_path, timeout=60).json()["data"]] == [
                r["id"] for r in session.get(base + cursor_path, timeout=60).json()["data"]
            ]

            endpoints = [
                Endpoint(
                    "page1", "(a) list page=1 pageSize=20", "/api/admin/organizations?page=1&pageSize=20"
                ),
                Endpoint("offset", f"(b) list page={deep_page} pageSize=20 (offset)", offset_path),
                Endpoint("cursor", f"(c) list limit=20, cursor {skip} rows deep", cursor_path),
                Endpoint(
                    "detail", "(d) GET /organizations/{id} (JWT)", f"/api/admin/organizations/{detail_id}"
                ),
                Endpoint(
                    "bare", "(e) bare Django view, same row (no auth)", f"/bench/bare/{detail_id}", False
                ),
            ]
            for endpoint in endpoints:
                response = requests.get(base + endpoint.path, headers=auth if endpoint.authenticated else {},
                                        timeout=60)  # fmt: skip
                if response.status_code != 200:
                    raise RuntimeError(
                        f"{endpoint.path} answered {response.status_code}: {response.text[:300]}"
                    )

            lua = out / "auth.lua"
            lua.write_text(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
            wrk_results: dict[str, WrkResult] = {}
            for endpoint in endpoints:
                url = base + endpoint.path
                script = lua if endpoint.authenticated else None
                _log(f"wrk {endpoint.label}: {args.warmup} s warm-up, {args.duration} s measured")
                run_wrk(url, script, args.warmup)
                raw = run_wrk(url, script, args.duration)
                (out / f"wrk-{endpoint.key}.txt").write_text(raw)
                wrk_results[endpoint.key] = parse_wrk(raw)

            load_after_wrk = os.getloadavg()
            _log(f"single-threaded latency: {args.calls} calls per URL")
            plain = requests.Session()
            latencies = {
                e.key: sequential_latency(plain, base + e.path, args.calls, auth if e.authenticated else {})
                for e in endpoints
            }

        profile_output = ""
        if args.profile_requests:
            _log(
                f"profiling GET /api/admin/organizations/{{id}} in-process, {args.profile_requests} requests"
            )
            completed = subprocess.run(
                [sys.executable, "bench/profile_detail.py", "--path", f"/api/admin/organizations/{detail_id}",
                 "--requests", str(args.profile_requests), "--out", str(out)],
                cwd=REPO,
                env={**env, "BENCH_ACCESS_TOKEN": token},
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )  # fmt: skip
            profile_output = completed.stdout + completed.stderr
            if completed.returncode != 0:
                raise RuntimeError(f"the profile failed:\n{profile_output}")

    total_seconds = time.perf_counter() - run_started
    table = render_table(endpoints, wrk_results, latencies, NODE_REFERENCE)
    summary = "\n".join(
        [
            f"Porta organizations benchmark, {stamp}, {os.cpu_count()} CPUs, "
            f"gunicorn {args.workers} workers x {args.threads} threads (manage.py serve), "
            f"settings {args.settings}, PORTA_ENV=development, DEBUG off, code {code_state()}",
            f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{args.duration}s after a {args.warmup} s warm-up "
            f"per URL; 'seq' = {args.calls} sequential calls from python-requests (one at a time)",
            f"seed: {args.organizations} organizations by COPY in {seed_seconds:.2f} s "
            f"= {seed_rate:,.0f} rows/s",
            f"deep cursor found in {cursor_requests} requests ({cursor_seconds:.1f} s); offset page "
            f"{deep_page} and the cursor page return the same rows: {'yes' if same_rows else 'NO'}",
            f"load average (1 min) at start {load_at_start[0]:.2f} (above ~0.5 means other work "
            f"shared the CPUs), after the load tests {load_after_wrk[0]:.2f}",
            "",
            table,
            "",
            "Node reference (upstream, 2 cores): ~2200 req/s for one organization, "
            "~1300 req/s for a 20-row page",
            f"total run time: {total_seconds:.0f} s",
            f"reproduce: {REPRODUCE}",
        ]
    )
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {
                "seed_rows_per_second": seed_rate,
                "wrk": {k: vars(v) for k, v in wrk_results.items()},
                "sequential": latencies,
                "paths": {e.key: e.path for e in endpoints},
                "total_seconds": total_seconds,
            },
            indent=2,
        )
    )
    if profile_output:
        print(profile_output)
    print(summary)
    print(f"raw output: {out.relative_to(REPO)}  (command: {shlex.join(sys.argv)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
