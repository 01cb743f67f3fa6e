"""Benchmark of admin API authentication: what verifying a credential costs per request, and what
it does to ``GET /organizations/{id}`` throughput, with a JWT, with an admin API key, and through
the bare Django view.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``, a small COPY seed, gunicorn
(2 sync workers), a real admin token from the token endpoint and a real ``porta_pat_`` key minted
through the API; then wrk and sequential latencies on three URLs; then, with the servers stopped,
each step of token verification timed alone in-process against the same database and Redis.
Servers, seeding, wrk and the report helpers are bench/organizations.py's. Every server it starts
is stopped on the way out.

    .venv/bin/python bench/auth.py

Raw output goes to bench/results/auth-<UTC timestamp>/.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ on the path, not the repository root that holds porta/.
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from bench import organizations as orgbench  # noqa: E402
from bench.common import argument_parser, median_p95, stop_cleanly_on_signals, timed_us  # noqa: E402
from testing.servers import free_port, postgres, redis  # noqa: E402

REPRODUCE = ".venv/bin/python bench/auth.py"


def _environment(pg_url: str, redis_url: str, data_dir: str, port: int) -> dict[str, str]:
    """bench/organizations.py's environment: Porta's settings with the bare view, nothing leaking in."""
    static_root = Path(data_dir, "static")
    static_root.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTA_", "DJANGO_"))}
    env.update(
        {
            "PORTA_ENV": "development",
            "PORTA_ENV_FILE": os.devnull,
            "PORTA_DATA_DIR": data_dir,
            "PORTA_STATIC_ROOT": str(static_root),
            "DATABASE_URL": pg_url,
            "REDIS_URL": redis_url,
            "PORTA_SECRET_KEY": secrets.token_urlsafe(50),
            "PORTA_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "PORTA_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PORTA_ACCESS_TOKEN_TTL": "3600",
            "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


# -- in-process: each verification step alone ------------------------------------------------------


def _timed(fn: Callable[[], object], calls: int) -> dict[str, float]:
    # warm-up: connections, query plans, interpreter caches
    median, p95 = median_p95(timed_us(fn, calls, warmup=min(50, calls)))
    return {"median_us": median, "p95_us": p95}


def measure_steps(env: dict[str, str], token: str, api_key: str, calls: int) -> list[tuple[str, dict]]:
    """Each step of ``BearerAuthentication`` timed alone, in this process, on the run's database
    and Redis (the servers' processes are gone; their data stays)."""
    os.environ.update(env)
    import django

    django.setup()
    import jwt

    import keys.tokens
    from apikeys import selectors as key_selectors
    from applications.models import Application
    from authn import authentication
    from keys.keyring import keyring
    from organizations.selectors import user_standing
    from porta.core import versions
    from porta.core.tokens import keyed_hash
    from rbac.admin_roles import ADMIN_APP_SLUG
    from rbac.selectors import admin_authorization, forget_resolutions, resolve

    claims = jwt.decode(token, options={"verify_signature": False})
    user_id = uuid.UUID(claims["sub"])
    app_id = Application.objects.get(slug=ADMIN_APP_SLUG).id
    audience = authentication.admin_api_audience()
    keys_stamp, principals_stamp = versions.read(versions.KEYS, versions.PRINCIPALS)
    ring = keyring(keys_stamp, versioned=True)

    def verify_cold():
        keys.tokens._verified.clear()
        keys.tokens.verify_access_token(token, issuer=None, audience=audience, ring=ring)

    def verify_remembered():
        keys.tokens.verify_access_token(token, issuer=None, audience=audience, ring=ring)

    def resolve_cold():
        forget_resolutions()
        resolve(user_id, app_id)

    def authorization_cached():
        authentication._authorization(user_id, principals_stamp)

    def key_cold():
        key_selectors.forget_lookups()
        key_selectors.active_key(api_key, stamps)

    stamps = versions.read(key_selectors.API_KEYS_STAMP, versions.PRINCIPALS)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("version stamps, one Redis MGET (3 names)", lambda: versions.read("a", "b", "c")),
        ("ES256 signature verify, cold (not remembered)", verify_cold),
        ("JWT remembered path (verify_access_token)", verify_remembered),
    ]
    steps += [
        ("user standing (1 PK query)", lambda: user_standing(user_id)),
        ("token standing: user, session, signing key (1 query, every JWT request)",
         lambda: authentication.token_standing(
             user_id, session_id=uuid.UUID(claims["sid"]), kid=jwt.get_unverified_header(token)["kid"])),
        ("admin authorization, uncached (roles query)", lambda: admin_authorization(user_id)),
        ("admin authorization, cached (per process)", authorization_cached),
        ("rbac.selectors.resolve, uncached", resolve_cold),
        ("rbac.selectors.resolve, cached", lambda: resolve(user_id, app_id)),
        ("keyed hash of an API key (HMAC-SHA256)", lambda: keyed_hash(api_key)),
        ("API key lookup, cold (hash + indexed query)", key_cold),
        ("API key lookup, cached (per process)", lambda: key_selectors.active_key(api_key, stamps)),
        ("whole JWT authentication (principal_from_access_token)",
         lambda: authentication.principal_from_access_token(token)),
        ("whole API key authentication (principal_from_api_key)",
         lambda: authentication.principal_from_api_key(api_key)),
    ]  # fmt: skip
    results = [(label, _timed(fn, calls)) for label, fn in steps]
    from django.db import connection

    connection.close()
    return results


def render_steps(results: list[tuple[str, dict]]) -> str:
    header = f"{'per-request step':<58} {'median µs':>10} {'p95 µs':>10}"
    lines = [header, "-" * len(header)]
    lines += [f"{label:<58} {r['median_us']:>10.1f} {r['p95_us']:>10.1f}" for label, r in results]
    return "\n".join(lines)


# -- the run ----------------------------------------------------------------------------------------


def mint_api_key(base: str, token: str, organization_id: str) -> str:
    response = requests.post(
        f"{base}/api/admin/api-keys",
        json={"name": "bench", "organizationId": organization_id, "roles": ["porta-super-admin"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["secret"]


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--organizations", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured wrk load per URL")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured wrk load per URL")
    parser.add_argument("--calls", type=int, default=200, help="sequential HTTP calls per URL")
    parser.add_argument("--step-calls", type=int, default=2000, help="in-process calls per step")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    run_started = time.perf_counter()
    load_at_start = os.getloadavg()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"auth-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    server_log = out / "servers.log"
    orgbench._log(f"raw output in {out.relative_to(REPO)}")

    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(postgres())
        rd = stack.enter_context(redis())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="porta-bench-"))
        port = free_port()
        password = secrets.token_urlsafe(18)
        env = _environment(pg.url, rd.url, data_dir, port)
        orgbench._log(f"PostgreSQL {pg.url}, Redis {rd.url}; migrating and running porta_init")
        orgbench._run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, 600, server_log)
        orgbench._run(
            [sys.executable, "manage.py", "porta_init", "--admin-email", orgbench.ADMIN_EMAIL,
             f"--admin-password={password}"],
            env, 300, server_log,
        )  # fmt: skip
        ids, _ = orgbench.seed_organizations(pg.url, args.organizations)
        detail_id = str(ids[len(ids) // 2])

        with orgbench.gunicorn(env, port, server_log, args.workers, 1) as base:
            token = orgbench.admin_token(base, password)
            api_key = mint_api_key(base, token, detail_id)
            detail = f"/api/admin/organizations/{detail_id}"
            endpoints = [
                (orgbench.Endpoint("jwt", "GET /organizations/{id}, JWT", detail), token),
                (orgbench.Endpoint("apikey", "GET /organizations/{id}, porta_pat_ key", detail), api_key),
                (orgbench.Endpoint("bare", "bare Django view, same row (no auth)", f"/bench/bare/{detail_id}",
                                   False), None),
            ]  # fmt: skip
            wrk, latency = {}, {}
            for endpoint, credential in endpoints:
                headers = {"Authorization": f"Bearer {credential}"} if credential else {}
                response = requests.get(base + endpoint.path, headers=headers, timeout=30)
                if response.status_code != 200:
                    raise RuntimeError(
                        f"{endpoint.label} answered {response.status_code}: {response.text[:300]}"
                    )
                script = None
                if credential:
                    script = out / f"{endpoint.key}.lua"
                    script.write_text(f'wrk.headers["Authorization"] = "Bearer {credential}"\n')
                orgbench._log(f"wrk {endpoint.label}: {args.warmup} s warm-up, {args.duration} s measured")
                orgbench.run_wrk(base + endpoint.path, script, args.warmup)
                raw = orgbench.run_wrk(base + endpoint.path, script, args.duration)
                (out / f"wrk-{endpoint.key}.txt").write_text(raw)
                wrk[endpoint.key] = orgbench.parse_wrk(raw)
            load_after_wrk = os.getloadavg()
            session = requests.Session()
            for endpoint, credential in endpoints:
                headers = {"Authorization": f"Bearer {credential}"} if credential else {}
                latency[endpoint.key] = orgbench.sequential_latency(
                    session, base + endpoint.path, args.calls, headers
                )

        orgbench._log(f"timing each verification step in-process, {args.step_calls} calls each")
        steps = measure_steps(env, token, api_key, args.step_calls)

    table = orgbench.render_table([e for e, _ in endpoints], wrk, latency, {})
    summary = "\n".join(
        [
            f"Porta authentication benchmark, {stamp}, {os.cpu_count()} CPUs, gunicorn {args.workers} "
            f"sync workers (manage.py serve), PORTA_ENV=development, DEBUG off, code {orgbench.code_state()}",
            f"wrk -t{orgbench.WRK_THREADS} -c{orgbench.WRK_CONNECTIONS} -d{args.duration}s after a "
            f"{args.warmup} s warm-up per URL; 'seq' = {args.calls} sequential calls from python-requests",
            f"load average (1 min) at start {load_at_start[0]:.2f} (above ~0.5: other work shared the "
            f"CPUs), after the load tests {load_after_wrk[0]:.2f}",
            "",
            render_steps(steps),
            "",
            table.replace("Node req/s", "          "),
            "",
            f"total run time: {time.perf_counter() - run_started:.0f} s",
            f"reproduce: {REPRODUCE}",
        ]
    )
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {"steps": dict(steps), "wrk": {k: vars(v) for k, v in wrk.items()}, "sequential": latency},
            indent=2,
        )
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
