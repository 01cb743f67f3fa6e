"""Benchmark of the users list, search and batch-create paths against 1 000 000 users in one
organization.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``, a COPY seed of the users
into one organization (rate reported), gunicorn (``manage.py serve``), a real admin token from
the token endpoint, then sequential latencies (python-requests, one call at a time) of list page
1, a cursor page deep in the list, and a search by email prefix, and finally the throughput of
batch create with 1 000-item batches carrying bcrypt hashes. Every server it starts is stopped
on the way out (the helpers of bench/organizations.py).

    .venv/bin/python bench/users.py                  # --users 1000000 by default

Raw output goes to bench/results/users-<UTC timestamp>/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bcrypt  # noqa: E402
import psycopg  # noqa: E402
import requests  # noqa: E402

from bench.common import argument_parser, stop_cleanly_on_signals  # noqa: E402
from bench.organizations import (  # noqa: E402
    _log,
    admin_token,
    code_state,
    gunicorn,
    insert_organization,
    sequential_latency,
    start_platform,
)
from porta.core.ids import uuid7  # noqa: E402

REPRODUCE = ".venv/bin/python bench/users.py"
ADMIN_EMAIL = "bench-admin@example.com"
GIVEN = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
FAMILY = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Lee",
)

COPY_SQL = (
    "COPY organizations_user (id, organization_id, email, email_verified, given_name, family_name, "
    "status, status_reason, failed_login_count, password, phone_number_verified, created_at, updated_at) "
    "FROM STDIN"
)


def seed_users(dsn: str, organization_id, count: int) -> tuple[list, float]:
    """COPY ``count`` users into one organization, created_at one millisecond apart; then VACUUM
    ANALYZE. Returns the ids in insertion order and the seconds of the COPY."""
    base = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=count // 1000 + 3600)
    ids = []
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
            for i in range(count):
                pk = uuid7()
                ids.append(pk)
                created = base + dt.timedelta(milliseconds=i)
                copy.write_row(
                    (pk, organization_id, f"user{i:07d}@bench.example", False, GIVEN[i % 10],
                     FAMILY[(i // 10) % 10], "active", "", 0, "!unusable", False, created, created)
                )  # fmt: skip
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) organizations_user")
    return ids, elapsed


def signed_cursor(env: dict[str, str], values: dict) -> str:
    """A cursor exactly as the API would issue it for the row ``values`` names (signed with the
    run's secret), so a page 900 000 rows deep is one request instead of 900."""
    code = (
        "import json,sys; from porta.api.pagination import encode_cursor; "
        f"print(encode_cursor(json.loads({json.dumps(json.dumps(values))})))"
    )
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env, capture_output=True,
        text=True, check=True, timeout=120,
    )  # fmt: skip
    return completed.stdout.strip().splitlines()[-1]


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=100, help="sequential calls per URL")
    parser.add_argument("--batches", type=int, default=10, help="1 000-item batches to create")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    run_started = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"users-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    server_log = out / "servers.log"
    _log(f"raw output in {out.relative_to(REPO)}")

    with contextlib.ExitStack() as stack:
        platform = start_platform(stack, server_log)
        env, port, password = platform.env, platform.port, platform.password
        organization_id = insert_organization(platform.dsn, "Bench users", "bench-users")
        _log(f"seeding {args.users} users with COPY")
        ids, seed_seconds = seed_users(platform.dsn, organization_id, args.users)
        seed_rate = args.users / seed_seconds
        _log(f"seeded in {seed_seconds:.1f} s ({seed_rate:,.0f} rows/s)")

        # The row 90 % of the way down the default order (createdAt desc): a deep cursor page.
        deep_index = args.users - int(args.users * 0.9)
        with psycopg.connect(platform.dsn) as conn:
            created = conn.execute(
                "SELECT created_at FROM organizations_user WHERE id = %s", (ids[deep_index],)
            ).fetchone()[0]
        cursor = signed_cursor(
            env, {"s": "createdAt", "d": True, "v": created.isoformat(), "i": str(ids[deep_index])}
        )
        users_path = f"/api/admin/organizations/{organization_id}/users"
        prefix = f"user{args.users // 2:07d}"[:-3]
        urls = {
            "page1": ("list page=1 pageSize=20", f"{users_path}?page=1&pageSize=20"),
            "cursor": (f"list limit=20, cursor {int(args.users * 0.9):,} rows deep",
                       f"{users_path}?limit=20&cursor={cursor}"),
            "search": (
                f"search={prefix} (email prefix, 1 000 matches)",
                f"{users_path}?search={prefix}&pageSize=20",
            ),
        }  # fmt: skip
        with gunicorn(env, port, server_log, args.workers, 1) as base:
            token = admin_token(base, password)
            auth = {"Authorization": f"Bearer {token}"}
            session = requests.Session()
            first_calls = {}
            for key, (_, path) in urls.items():
                started = time.perf_counter()
                response = session.get(base + path, headers=auth, timeout=120)
                first_calls[key] = (time.perf_counter() - started) * 1000
                if response.status_code != 200 or not response.json()["data"]:
                    raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
            latencies = {key: sequential_latency(session, base + path, args.calls, auth)
                         for key, (_, path) in urls.items()}  # fmt: skip

            _log(f"batch create: {args.batches} batches of 1 000 users with bcrypt hashes")
            hashes = [
                bcrypt.hashpw(f"pw-{n}".encode(), bcrypt.gensalt(rounds=10)).decode() for n in range(10)
            ]
            batch_seconds = 0.0
            created_count = 0
            for b in range(args.batches):
                items = [{"email": f"batch{b:03d}-{n:04d}@bench.example", "givenName": "Batch",
                          "passwordHash": hashes[n % 10]} for n in range(1000)]  # fmt: skip
                started = time.perf_counter()
                response = session.post(
                    f"{base}{users_path}/batch", json={"users": items}, headers=auth, timeout=300
                )
                batch_seconds += time.perf_counter() - started
                response.raise_for_status()
                created_count += sum(1 for r in response.json()["results"] if "id" in r)
            batch_rate = created_count / batch_seconds

    total_seconds = time.perf_counter() - run_started
    lines = [
        f"Porta users benchmark, {stamp}, {os.cpu_count()} CPUs, gunicorn {args.workers} workers "
        f"(manage.py serve), PORTA_ENV=development, DEBUG off, code {code_state()}",
        f"seed: {args.users:,} users in one organization by COPY in {seed_seconds:.1f} s "
        f"= {seed_rate:,.0f} rows/s",
        f"{'request':<44} {'first ms':>9} {'seq med ms':>11} {'seq p95 ms':>11}",
    ]
    for key, (label, _) in urls.items():
        lat = latencies[key]
        lines.append(f"{label:<44} {first_calls[key]:>9.1f} {lat['median_ms']:>11.2f} {lat['p95_ms']:>11.2f}")
    lines += [
        f"batch create: {created_count:,} users in {args.batches} batches of 1 000 (bcrypt hashes) in "
        f"{batch_seconds:.2f} s = {batch_rate:,.0f} users/s",
        f"total run time: {total_seconds:.0f} s",
        f"reproduce: {REPRODUCE} --users {args.users}",
    ]
    summary = "\n".join(lines)
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {"seed_rows_per_second": seed_rate, "first_call_ms": first_calls, "sequential": latencies,
             "batch_users_per_second": batch_rate, "total_seconds": total_seconds},
            indent=2,
        )
    )  # fmt: skip
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
