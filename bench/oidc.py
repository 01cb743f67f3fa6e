"""Benchmark of a tenant's OpenID Provider: client_credentials grants per second per core, and the
authorization-code round trip (login page → login → code → token) latency.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``; through the admin API a
tenant organization with a confidential client (client_secret_basic, client_credentials), a
public native client (authorization_code + PKCE S256 on a loopback redirect) and a user. Then, for
1 and for 2 gunicorn sync workers (``manage.py serve``), wrk POSTs client_credentials grants to
``/<org>/auth/token`` (HTTP Basic); grants per second divided by the workers is the per-core
figure (goal ≥ 600: five times Keycloak's published 120 per vCPU). wrk runs on the same CPUs, so
the figures are a floor. Then, with one server of 2 workers, python-requests performs the whole
authorization-code flow as a browser and a CLI would, sequentially, each time with a fresh cookie
jar: GET the login page, POST the form (CSRF token included), read the code from the 302, POST it
with the PKCE verifier to the token endpoint. Every server it starts is stopped on the way out.

The per-IP and per-client limits of the token endpoint and the login throttles are raised for the
run (one IP sends everything); the password hasher is the production one (argon2id).

    .venv/bin/python bench/oidc.py

Raw output goes to bench/results/oidc-<UTC timestamp>/.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ on the path, not the repository root that holds porta/.
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from bench import organizations as orgbench  # noqa: E402
from bench.common import argument_parser, stop_cleanly_on_signals  # noqa: E402
from testing.servers import free_port, postgres, redis  # noqa: E402

REPRODUCE = ".venv/bin/python bench/oidc.py"
GOAL_PER_CORE = 600.0
KEYCLOAK_PER_VCPU = 120.0
TENANT = "bench-tenant"
REDIRECT = "http://127.0.0.1:8765/callback"
USER_EMAIL = "user@bench-tenant.example"


def _environment(pg_url: str, redis_url: str, data_dir: str, port: int) -> dict[str, str]:
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
            # One client on one IP sends everything: lift the limits that would otherwise answer 429.
            "PORTA_OIDC_IP_LIMIT": "100000000",
            "PORTA_OIDC_CLIENT_LIMIT": "100000000",
            "PORTA_LOGIN_IP_LIMIT": "1000000",
            "PORTA_LOGIN_ACCOUNT_LIMIT": "1000000",
            "PORTA_RATE_LIMIT_WRITES": "100000",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


# -- the tenant, through the admin API ---------------------------------------------------------------


def _post(base: str, token: str, path: str, body: dict) -> dict:
    response = requests.post(
        f"{base}/api/admin{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    if response.status_code != 201:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def provision_tenant(base: str, token: str, password: str) -> dict[str, str]:
    organization = _post(base, token, "/organizations", {"name": "Bench Tenant", "slug": TENANT})
    application = _post(base, token, "/applications", {"name": "Bench App", "slug": "bench-app"})
    confidential = _post(
        base, token, "/clients",
        {"organizationId": organization["id"], "applicationId": application["id"],
         "clientName": "Bench service", "clientType": "confidential", "applicationType": "web",
         "redirectUris": ["https://bench.example/cb"],
         "grantTypes": ["client_credentials"], "tokenEndpointAuthMethod": "client_secret_basic"},
    )  # fmt: skip
    public = _post(
        base, token, "/clients",
        {"organizationId": organization["id"], "applicationId": application["id"], "clientName": "Bench CLI",
         "clientType": "public", "applicationType": "native", "redirectUris": [REDIRECT],
         "grantTypes": ["authorization_code", "refresh_token"], "responseTypes": ["code"],
         "tokenEndpointAuthMethod": "none", "requirePkce": True, "scope": "openid profile email"},
    )  # fmt: skip
    _post(
        base, token, f"/organizations/{organization['id']}/users", {"email": USER_EMAIL, "password": password}
    )
    return {
        "service_id": confidential["client"]["clientId"],
        "service_secret": confidential["secret"],
        "cli_id": public["client"]["clientId"],
    }


# -- client_credentials throughput ---------------------------------------------------------------------


def grant_script(out: Path, client_id: str, secret: str) -> Path:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    script = out / "client_credentials.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.body = "grant_type=client_credentials"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "Basic {basic}"\n'
    )
    return script


def check_grant(base: str, client_id: str, secret: str) -> None:
    response = requests.post(
        f"{base}/{TENANT}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )
    if response.status_code != 200 or "access_token" not in response.json():
        raise RuntimeError(f"client_credentials answered {response.status_code}: {response.text[:300]}")


# -- the authorization-code round trip -------------------------------------------------------------------


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def code_round_trip(base: str, client_id: str, password: str) -> dict[str, float]:
    """One sign-in as a fresh browser plus the CLI's token request; milliseconds per step."""
    browser = requests.Session()
    verifier, challenge = pkce()
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid profile",
        "state": secrets.token_urlsafe(8), "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    authorize = f"{base}/{TENANT}/auth/authorize"
    started = time.perf_counter()
    page = browser.get(authorize, params=params, timeout=30)
    shown = time.perf_counter()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or match is None:
        raise RuntimeError(f"login page answered {page.status_code}: {page.text[:300]}")
    login = browser.post(
        page.url,
        data={
            "csrfmiddlewaretoken": match.group(1),
            "action": "login",
            "email": USER_EMAIL,
            "password": password,
        },
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=30,
    )
    logged_in = time.perf_counter()
    location = login.headers.get("Location", "")
    if login.status_code != 302 or not location.startswith(REDIRECT):
        raise RuntimeError(f"login answered {login.status_code} to {location!r}: {login.text[:300]}")
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = requests.post(
        f"{base}/{TENANT}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "client_id": client_id, "code_verifier": verifier},
        timeout=30,
    )  # fmt: skip
    done = time.perf_counter()
    if token.status_code != 200 or "id_token" not in token.json():
        raise RuntimeError(f"code exchange answered {token.status_code}: {token.text[:300]}")
    return {
        "login page": (shown - started) * 1000,
        "login (POST, argon2id)": (logged_in - shown) * 1000,
        "code → tokens": (done - logged_in) * 1000,
        "whole round trip": (done - started) * 1000,
    }


def summarize(samples: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    result = {}
    for step in samples[0]:
        values = sorted(s[step] for s in samples)
        result[step] = {
            "median_ms": statistics.median(values),
            "p95_ms": values[int(0.95 * (len(values) - 1))],
        }
    return result


# -- the run ----------------------------------------------------------------------------------------------


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of measured wrk load per server size"
    )
    parser.add_argument(
        "--warmup", type=int, default=3, help="seconds of unmeasured wrk load per server size"
    )
    parser.add_argument("--round-trips", type=int, default=50, help="sequential authorization-code flows")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="gunicorn worker counts to load"
    )
    args = parser.parse_args()

    run_started = time.perf_counter()
    load_at_start = os.getloadavg()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"oidc-{stamp}"
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

        grants: dict[int, orgbench.WrkResult] = {}
        tenant: dict[str, str] = {}
        for workers in args.workers:
            with orgbench.gunicorn(env, port, server_log, workers, 1) as base:
                if not tenant:
                    tenant = provision_tenant(base, orgbench.admin_token(base, password), password)
                check_grant(base, tenant["service_id"], tenant["service_secret"])
                script = grant_script(out, tenant["service_id"], tenant["service_secret"])
                url = f"{base}/{TENANT}/auth/token"
                orgbench._log(
                    f"wrk client_credentials, {workers} worker(s): {args.warmup} s warm-up, {args.duration} s"
                )
                orgbench.run_wrk(url, script, args.warmup)
                raw = orgbench.run_wrk(url, script, args.duration)
                (out / f"wrk-client-credentials-{workers}.txt").write_text(raw)
                grants[workers] = orgbench.parse_wrk(raw)
        load_after_wrk = os.getloadavg()

        with orgbench.gunicorn(env, port, server_log, max(args.workers), 1) as base:
            orgbench._log(f"{args.round_trips} sequential authorization-code round trips")
            for _ in range(3):
                code_round_trip(base, tenant["cli_id"], password)
            trips = summarize(
                [code_round_trip(base, tenant["cli_id"], password) for _ in range(args.round_trips)]
            )

    header = (
        f"{'client_credentials grants':<34} {'grants/s':>9} {'per core':>9} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7}"
    )
    lines = [header, "-" * len(header)]
    for workers, w in grants.items():
        lines.append(
            f"{f'gunicorn, {workers} sync worker(s)':<34} {w.requests_per_second:>9.0f} "
            f"{w.requests_per_second / workers:>9.0f} {w.latency_p50_ms:>8.2f} {w.latency_p99_ms:>8.2f} "
            f"{w.non_2xx:>7}"
        )
    trip_header = f"{'authorization-code round trip':<34} {'median ms':>10} {'p95 ms':>10}"
    trip_lines = [trip_header, "-" * len(trip_header)]
    trip_lines += [f"{step:<34} {r['median_ms']:>10.1f} {r['p95_ms']:>10.1f}" for step, r in trips.items()]
    best = max(w.requests_per_second / workers for workers, w in grants.items())
    summary = "\n".join(
        [
            f"Porta OIDC benchmark, {stamp}, {os.cpu_count()} CPUs, PORTA_ENV=development, DEBUG off, "
            f"code {orgbench.code_state()}",
            f"wrk -t{orgbench.WRK_THREADS} -c{orgbench.WRK_CONNECTIONS} -d{args.duration}s after a "
            f"{args.warmup} s warm-up, on the same CPUs as the server",
            f"load average (1 min) at start {load_at_start[0]:.2f} (above ~0.5: other work shared the CPUs), "
            f"after the load tests {load_after_wrk[0]:.2f}",
            "",
            "\n".join(lines),
            f"best per core: {best:.0f} grants/s (goal {GOAL_PER_CORE:.0f}; Keycloak publishes "
            f"{KEYCLOAK_PER_VCPU:.0f} per vCPU)",
            "",
            "\n".join(trip_lines),
            f"({args.round_trips} sequential flows, each a fresh browser; "
            f"gunicorn {max(args.workers)} workers)",
            "",
            f"total run time: {time.perf_counter() - run_started:.0f} s",
            f"reproduce: {REPRODUCE}",
        ]
    )
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {"client_credentials": {w: vars(r) for w, r in grants.items()}, "round_trip": trips}, indent=2
        )
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
