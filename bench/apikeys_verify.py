"""Benchmark of issued API key verification: ``POST /api/admin/api-keys/verify`` for a valid, an
unknown and a malformed key next to ``GET /health/alive`` in the same run, and single-process
verifications per second.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``, gunicorn (``manage.py
serve``, 2 sync workers); an organization, an issued key (through the API, as a client gets one)
and an organization-scoped admin API key (``porta_pat_``, role porta-org-admin) as the verifying
backend's credential. Then wrk on each URL (health, valid, unknown, malformed, health again; the
health figure is the mean of both runs, so drift in the machine's load shows and is averaged), and
200 sequential calls each. With the servers stopped, ``issuedkeys.verification`` is timed
in-process on the same database and Redis: verifications per second in one process, per kind.

"Unknown" is a well-formed key with a valid checksum (minted under the server's pepper) that was
never stored: the most expensive unknown key, since it passes the checksum and is looked up.

    .venv/bin/python bench/apikeys_verify.py        # needs wrk (apt-get install wrk)

Raw output goes to bench/results/apikeys-verify-<UTC timestamp>/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ on the path, not the repository root that holds porta/.
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from bench import organizations as orgbench  # noqa: E402
from bench.auth import _environment  # noqa: E402
from bench.common import argument_parser, stop_cleanly_on_signals  # noqa: E402
from testing.servers import free_port, postgres, redis  # noqa: E402

REPRODUCE = ".venv/bin/python bench/apikeys_verify.py"
VERIFY = "/api/admin/api-keys/verify"
GOAL = 0.7  # verify throughput relative to /health/alive


def _post(base: str, path: str, token: str, body: dict) -> dict:
    response = requests.post(
        f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    if response.status_code >= 300:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def _wrk_script(out: Path, name: str, credential: str | None, caller: str) -> Path | None:
    if credential is None:
        return None
    script = out / f"{name}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps({'credential': credential}))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {caller}"\n'
    )
    return script


def _sequential(session: requests.Session, url: str, calls: int, body: dict | None, headers: dict) -> dict:
    def call():
        if body is None:
            return session.get(url, headers=headers, timeout=30)
        return session.post(url, json=body, headers=headers, timeout=30)

    for _ in range(20):
        call().raise_for_status()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p99_ms": samples[int(0.99 * (len(samples) - 1))],
        "calls": calls,
    }


def _per_second(fn: Callable[[], object], seconds: float) -> float:
    for _ in range(200):  # warm-up: connections, caches, query plans
        fn()
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(100):
            fn()
        calls += 100
    return calls / elapsed


def measure_in_process(valid: str, unknown: str, caller: str, seconds: float) -> list[tuple[str, float]]:
    """Verifications per second in this one process (Django set up on the run's database and
    Redis; the servers are gone, their data stays)."""
    from django.db import connection

    from authn.authentication import principal_from_api_key
    from issuedkeys import credentials, verification

    batch = [valid] * 100
    measured: list[tuple[str, Callable[[], object], int]] = [
        ("credentials.parse (format + checksum), valid key", lambda: credentials.parse(valid), 1),
        ("verify, valid key (cached row, stamp MGET)", lambda: verification.verify(valid), 1),
        ("verify, unknown key (cached absence, stamp MGET)", lambda: verification.verify(unknown), 1),
        ("verify, malformed key (no I/O)", lambda: verification.verify("not-a-key"), 1),
        ("verify_many, 100 valid keys per call (keys/s)", lambda: verification.verify_many(batch), 100),
        ("caller's authentication (porta_pat_, cached standing)", lambda: principal_from_api_key(caller), 1),
    ]
    results = [(label, per_call * _per_second(fn, seconds)) for label, fn, per_call in measured]
    connection.close()
    return results


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured wrk load per URL")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured wrk load per URL")
    parser.add_argument("--calls", type=int, default=200, help="sequential HTTP calls per URL")
    parser.add_argument("--seconds", type=float, default=3.0, help="in-process seconds per measurement")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    run_started = time.perf_counter()
    load_at_start = os.getloadavg()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"apikeys-verify-{stamp}"
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
        # This process shares the servers' settings (and so their pepper): it mints the unknown key.
        os.environ.update(env)
        import django

        django.setup()
        from issuedkeys import credentials

        unknown = credentials.mint().plaintext

        with orgbench.gunicorn(env, port, server_log, args.workers, 1) as base:
            token = orgbench.admin_token(base, password)
            organization = _post(base, "/api/admin/organizations", token, {"name": "Bench Org"})
            issued = _post(
                base, f"/api/admin/organizations/{organization['id']}/api-keys", token, {"name": "bench"}
            )
            valid = issued["secret"]
            caller = _post(
                base,
                "/api/admin/api-keys",
                token,
                {"name": "backend", "organizationId": organization["id"], "roles": ["porta-org-admin"]},
            )["secret"]
            runs = [
                ("health", "GET /health/alive", "/health/alive", None),
                ("valid", "POST /api-keys/verify, valid key", VERIFY, valid),
                ("unknown", "POST /api-keys/verify, unknown key", VERIFY, unknown),
                ("malformed", "POST /api-keys/verify, malformed key", VERIFY, "not-a-key"),
                ("health2", "GET /health/alive (again)", "/health/alive", None),
            ]
            expected = {"valid": True, "unknown": "NOT_FOUND", "malformed": "INVALID_FORMAT"}
            for key, _, path, credential in runs:
                if credential is None:
                    continue
                answer = _post(base, path, caller, {"credential": credential})
                got = True if answer["isValid"] else answer["errorCode"]
                if got != expected[key]:
                    raise RuntimeError(f"{key}: expected {expected[key]}, got {answer}")
            wrk = {}
            for key, label, path, credential in runs:
                script = _wrk_script(out, key, credential, caller)
                orgbench._log(f"wrk {label}: {args.warmup} s warm-up, {args.duration} s measured")
                orgbench.run_wrk(base + path, script, args.warmup)
                raw = orgbench.run_wrk(base + path, script, args.duration)
                (out / f"wrk-{key}.txt").write_text(raw)
                wrk[key] = orgbench.parse_wrk(raw)
            load_after_wrk = os.getloadavg()
            session = requests.Session()
            sequential = {}
            for key, _, path, credential in runs[:4]:
                headers = {"Authorization": f"Bearer {caller}"} if credential else {}
                body = None if credential is None else {"credential": credential}
                sequential[key] = _sequential(session, base + path, args.calls, body, headers)

        orgbench._log(f"timing verification in-process, {args.seconds} s per measurement")
        in_process = measure_in_process(valid, unknown, caller, args.seconds)

    health_rps = (wrk["health"].requests_per_second + wrk["health2"].requests_per_second) / 2
    header = (
        f"{'endpoint':<40} {'req/s':>8} {'× health':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}"
        f" {'seq p50':>8} {'seq p99':>8}"
    )
    lines = [header, "-" * len(header)]
    for key, label, _, _ in runs:
        w = wrk[key]
        s = sequential.get(key if key != "health2" else "health")
        lines.append(
            f"{label:<40} {w.requests_per_second:>8.0f} {w.requests_per_second / health_rps:>9.2f} "
            f"{w.latency_p50_ms:>8.2f} {w.latency_p99_ms:>8.2f} {w.non_2xx:>8} "
            f"{s['median_ms']:>8.2f} {s['p99_ms']:>8.2f}"
        )
    verdicts = [
        f"goal verify ≥ {GOAL}× health ({health_rps:.0f} req/s, mean of both health runs): "
        + ", ".join(
            f"{key} {wrk[key].requests_per_second / health_rps:.2f}× "
            f"{'met' if wrk[key].requests_per_second >= GOAL * health_rps else 'NOT met'}"
            for key in ("valid", "unknown", "malformed")
        )
    ]
    process_lines = [f"{'single process':<52} {'per second':>12}", "-" * 65]
    process_lines += [f"{label:<52} {rate:>12,.0f}" for label, rate in in_process]
    summary = "\n".join(
        [
            f"Porta issued API key verification benchmark, {stamp}, {os.cpu_count()} CPUs, gunicorn "
            f"{args.workers} sync workers (manage.py serve), PORTA_ENV=development, DEBUG off, "
            f"code {orgbench.code_state()}",
            f"wrk -t{orgbench.WRK_THREADS} -c{orgbench.WRK_CONNECTIONS} -d{args.duration}s after a "
            f"{args.warmup} s warm-up per URL; 'seq' = {args.calls} sequential calls from python-requests; "
            "the caller is a porta_pat_ admin API key",
            f"load average (1 min) at start {load_at_start[0]:.2f} (above ~0.5: other work shared the "
            f"CPUs), after the load tests {load_after_wrk[0]:.2f}",
            "",
            "\n".join(lines),
            "",
            *verdicts,
            "",
            "\n".join(process_lines),
            "",
            f"total run time: {time.perf_counter() - run_started:.0f} s",
            f"reproduce: {REPRODUCE}",
        ]
    )
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {
                "wrk": {k: vars(v) for k, v in wrk.items()},
                "sequential": sequential,
                "in_process_per_second": dict(in_process),
            },
            indent=2,
        )
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
