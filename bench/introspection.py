"""Benchmark of the issuer's token checks: RFC 7662 introspection and userinfo, per second per
core and per call.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init`` (bench/organizations.py's
platform), gunicorn (``manage.py serve``, 2 sync workers), a real access token from the admin
issuer's token endpoint (password grant, ``porta-cli``); then wrk (3 s unmeasured warm-up, then
``--duration`` measured) and sequential python-requests latencies on

  (a) ``POST /porta-admin/auth/introspect`` — the public CLI client introspecting its own token:
      signature, issuer, client, session and user checked (two indexed queries and a Redis read);
  (b) ``GET /porta-admin/auth/userinfo`` — the same checks, then the claims resolver.

The protocol endpoints' rate limits are lifted for the run (PORTA_OIDC_IP_LIMIT and
PORTA_OIDC_CLIENT_LIMIT), so the figures are the endpoints' cost, not the limiter's answer.
Every server it starts is stopped on the way out.

    .venv/bin/python bench/introspection.py

Raw output goes to bench/results/introspection-<UTC timestamp>/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ on the path, not the repository root that holds porta/.
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from bench import organizations as orgbench  # noqa: E402
from bench.common import argument_parser, stop_cleanly_on_signals  # noqa: E402

REPRODUCE = ".venv/bin/python bench/introspection.py"
WORKERS = 2


def _lua(path: Path, method: str, body: str, headers: dict[str, str]) -> Path:
    lines = [f'wrk.method = "{method}"']
    if body:
        lines.append(f'wrk.body = "{body}"')
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _sequential(call, calls: int) -> dict[str, float]:
    for _ in range(20):
        call().raise_for_status()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    samples.sort()
    return {"median_ms": samples[len(samples) // 2], "p95_ms": samples[int(0.95 * (len(samples) - 1))]}


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per URL (10)")
    parser.add_argument("--calls", type=int, default=200, help="sequential calls per URL (200)")
    args = parser.parse_args()
    stop_cleanly_on_signals()
    out = REPO / "bench" / "results" / f"introspection-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    out.mkdir(parents=True, exist_ok=True)
    log = out / "servers.log"
    with contextlib.ExitStack() as stack:
        platform = orgbench.start_platform(stack, log)
        env = {**platform.env, "PORTA_OIDC_IP_LIMIT": "1000000000", "PORTA_OIDC_CLIENT_LIMIT": "1000000000"}
        base = stack.enter_context(orgbench.gunicorn(env, platform.port, log, WORKERS, 1))
        token = orgbench.admin_token(base, platform.password)
        form = urlencode({"token": token, "client_id": "porta-cli"})
        introspect_url, userinfo_url = (
            f"{base}/porta-admin/auth/introspect",
            f"{base}/porta-admin/auth/userinfo",
        )
        session = requests.Session()
        form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        bearer = {"Authorization": f"Bearer {token}"}
        first = session.post(introspect_url, data=form, headers=form_headers, timeout=30)
        assert first.json()["active"] is True, first.text
        cases = {
            "introspect": (
                introspect_url,
                _lua(out / "introspect.lua", "POST", form, form_headers),
                lambda: session.post(introspect_url, data=form, headers=form_headers, timeout=30),
            ),
            "userinfo": (
                userinfo_url,
                _lua(out / "userinfo.lua", "GET", "", bearer),
                lambda: session.get(userinfo_url, headers=bearer, timeout=30),
            ),
        }
        results = {}
        for name, (url, script, call) in cases.items():
            orgbench.run_wrk(url, script, 3)  # warm-up, not measured
            raw = orgbench.run_wrk(url, script, args.duration)
            (out / f"{name}.wrk.txt").write_text(raw)
            wrk = orgbench.parse_wrk(raw)
            results[name] = {**wrk.__dict__, **_sequential(call, args.calls)}
    header = (
        f"{'endpoint':<12} {'req/s':>8} {'per core':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}"
        f" {'seq med':>8} {'seq p95':>8}"
    )
    lines = [header, "-" * len(header)]
    for name, r in results.items():
        lines.append(
            f"{name:<12} {r['requests_per_second']:>8.0f} {r['requests_per_second'] / os.cpu_count():>9.0f} "
            f"{r['latency_p50_ms']:>8.2f} {r['latency_p99_ms']:>8.2f} {r['non_2xx']:>8} "
            f"{r['median_ms']:>8.2f} {r['p95_ms']:>8.2f}"
        )
    report = "\n".join(
        [
            f"Introspection and userinfo, gunicorn {WORKERS} sync workers, "
            f"wrk -t{orgbench.WRK_THREADS} -c{orgbench.WRK_CONNECTIONS} {args.duration}s, "
            f"{os.cpu_count()} cores (wrk, PostgreSQL and Redis share them)",
            f"code: {orgbench.code_state()}",
            *lines,
            f"reproduce: {REPRODUCE} --duration {args.duration} --calls {args.calls}",
        ]
    )
    (out / "report.txt").write_text(report + "\n")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
