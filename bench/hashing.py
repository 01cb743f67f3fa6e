"""Benchmark of password hashing: argon2id hashes per second, one thread and with the batch pool,
and the wall time of a 200-user batch with plaintext passwords through the real API.

One run:

1. In-process, with Porta's hasher (``porta.core.hashers.PortaArgon2PasswordHasher``, argon2id m=19 MiB,
   t=2, p=1) and, for comparison, Django's stock Argon2 parameters (m=100 MiB, t=2, p=8, what Porta
   used before): hashes/s on one thread (``make_password`` in a loop) and with
   ``porta.core.hashers.hash_passwords`` (a thread pool with one thread per CPU).
2. Throwaway PostgreSQL and Redis, migrations and ``porta_init``, gunicorn (``manage.py serve``,
   2 sync workers, its 120 s timeout), a real admin token, then ``POST .../users/batch`` with 200
   users carrying plaintext passwords (the contract's limit), one batch alone and then two
   batches at once (each sync worker busy with one); every user is checked to be created.

    .venv/bin/python bench/hashing.py

Raw output goes to bench/results/hashing-<UTC timestamp>/. Every server it starts is stopped on
the way out (the helpers of bench/organizations.py).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import django  # noqa: E402
import psycopg  # noqa: E402
import requests  # noqa: E402
from django.conf import settings  # noqa: E402

from bench.common import argument_parser, stop_cleanly_on_signals  # noqa: E402
from bench.organizations import (  # noqa: E402
    _log,
    admin_token,
    code_state,
    gunicorn,
    insert_organization,
    start_platform,
)

REPRODUCE = ".venv/bin/python bench/hashing.py"
PORTA_HASHER = "porta.core.hashers.PortaArgon2PasswordHasher"
STOCK_HASHER = "django.contrib.auth.hashers.Argon2PasswordHasher"


def hash_rates(hasher: str, single_count: int, pool_count: int) -> dict[str, float]:
    """Hashes/s of ``hasher`` on one thread and through the batch pool (in this process)."""
    from django.contrib.auth.hashers import get_hashers, make_password

    from porta.core import hashers

    settings.PASSWORD_HASHERS = [hasher]
    get_hashers.cache_clear()
    make_password("warm-up")
    started = time.perf_counter()
    for n in range(single_count):
        make_password(f"password-{n}")
    single = single_count / (time.perf_counter() - started)
    passwords = [f"password-{n}" for n in range(pool_count)]
    started = time.perf_counter()
    hashers.hash_passwords(passwords)
    pooled = pool_count / (time.perf_counter() - started)
    return {"single_per_s": single, "pool_per_s": pooled, "threads": hashers.hashing_threads()}


def post_batch(base: str, path: str, token: str, prefix: str, size: int) -> tuple[float, int, int]:
    """Seconds for one batch of ``size`` plaintext-password users, its status and users created."""
    items = [
        {"email": f"{prefix}-{n:04d}@bench.example", "password": f"long-enough-{n}"} for n in range(size)
    ]
    started = time.perf_counter()
    response = requests.post(
        base + path, json={"users": items}, headers={"Authorization": f"Bearer {token}"}, timeout=600
    )
    seconds = time.perf_counter() - started
    created = sum(1 for r in response.json()["results"] if "id" in r) if response.ok else 0
    return seconds, response.status_code, created


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--single", type=int, default=40, help="hashes timed on one thread")
    parser.add_argument("--pool", type=int, default=200, help="hashes timed through the pool")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    run_started = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"hashing-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    server_log = out / "servers.log"
    _log(f"raw output in {out.relative_to(REPO)}; load average at start {os.getloadavg()[0]:.2f}")

    settings.configure(PASSWORD_HASHERS=[PORTA_HASHER], USE_TZ=True)
    django.setup()
    _log("hashing in-process: Porta's parameters")
    porta_rates = hash_rates(PORTA_HASHER, args.single, args.pool)
    _log("hashing in-process: Django's stock Argon2 parameters")
    stock_rates = hash_rates(STOCK_HASHER, max(5, args.single // 4), max(10, args.pool // 4))

    with contextlib.ExitStack() as stack:
        platform = start_platform(stack, server_log)
        env, port, password = platform.env, platform.port, platform.password
        organization_id = insert_organization(platform.dsn, "Bench hashing", "bench-hashing")
        path = f"/api/admin/organizations/{organization_id}/users/batch"
        with gunicorn(env, port, server_log, args.workers, 1) as base:
            token = admin_token(base, password)
            _log(f"one batch of {args.batch_size} users with plaintext passwords")
            alone = post_batch(base, path, token, "alone", args.batch_size)
            _log(f"two batches of {args.batch_size} at once")
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                both = list(
                    pool.map(lambda p: post_batch(base, path, token, p, args.batch_size), ["left", "right"])
                )
        with psycopg.connect(platform.dsn) as conn:
            stored = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE password LIKE %s) "
                "FROM organizations_user WHERE organization_id = %s",
                ("argon2$argon2id$v=19$m=19456,t=2,p=1$%", organization_id),
            ).fetchone()

    total_seconds = time.perf_counter() - run_started
    lines = [
        f"Porta hashing benchmark, {stamp}, {os.cpu_count()} CPUs, pool of {porta_rates['threads']} threads, "
        f"gunicorn {args.workers} sync workers (timeout 120 s), code {code_state()}",
        f"{'argon2id parameters':<40} {'1 thread h/s':>13} {'pool h/s':>9} {'ms/hash':>8}",
    ]
    for label, rates in (
        ("Porta: m=19 MiB, t=2, p=1 (OWASP)", porta_rates),
        ("Django stock: m=100 MiB, t=2, p=8", stock_rates),
    ):
        lines.append(
            f"{label:<40} {rates['single_per_s']:>13.1f} {rates['pool_per_s']:>9.1f} "
            f"{1000 / rates['single_per_s']:>8.1f}"
        )
    lines += [
        f"batch of {args.batch_size} with plaintext passwords, alone: {alone[0]:.2f} s "
        f"(HTTP {alone[1]}, {alone[2]} created)",
        "two such batches at once: " + ", ".join(f"{s:.2f} s (HTTP {c}, {n} created)" for s, c, n in both),
        f"stored users: {stored[0]}, of them argon2id m=19456,t=2,p=1: {stored[1]}",
        f"total run time: {total_seconds:.0f} s",
        f"reproduce: {REPRODUCE}",
    ]
    summary = "\n".join(lines)
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {"porta": porta_rates, "django_stock": stock_rates, "batch_alone": alone,
             "batches_together": both, "stored": stored, "total_seconds": total_seconds},
            indent=2,
        )
    )  # fmt: skip
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
