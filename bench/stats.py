"""Benchmark of /stats/overview and /stats/organization/{orgId} against 1 000 000 users.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``, a COPY seed of the users
into one organization (``bench/users.py``'s ``seed_users``; the stats triggers fire on the COPY,
so its rate includes them), then a set-based UPDATE giving 30 % of them a last login within 30
days (the UPDATE trigger), a COPY of login audit entries spread over 30 days, and one fold of the
deltas. Reference: counting the same numbers straight from the tables, with SQL, in the same run.
Then gunicorn (``manage.py serve``) with ``PORTA_STATS_CACHE_TTL=0`` (every request computes its
report) and, second, with the default cache lifetime; sequential latencies of both endpoints
(python-requests, one call at a time). PostgreSQL's own counters show that the measured requests
made no sequential scan of the users or audit tables.

    .venv/bin/python bench/stats.py                  # --users 1000000 by default

Raw output goes to bench/results/stats-<UTC timestamp>/.
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
from bench.users import seed_users  # noqa: E402
from porta.core.ids import uuid7  # noqa: E402

REPRODUCE = ".venv/bin/python bench/stats.py"
AUDIT_COPY_SQL = (
    "COPY audit_auditentry (id, created_at, event_type, actor_type, actor_id, actor_label, "
    "organization_id, target_type, target_id, metadata, user_agent, request_id) FROM STDIN"
)
# What the tallies answer, counted from the rows (the SQLite path's queries, as SQL).
DIRECT_SQL = """
    SELECT status, count(*),
        count(*) FILTER (WHERE created_at >= now() - interval '7 days'),
        count(*) FILTER (WHERE created_at >= now() - interval '30 days'),
        count(*) FILTER (WHERE last_login >= now() - interval '30 days')
    FROM organizations_user GROUP BY status;
    SELECT event_type, count(*) FROM audit_auditentry
    WHERE event_type IN ('user.login', 'user.login.failed') AND created_at >= now() - interval '30 days'
    GROUP BY event_type
"""
SCANS_SQL = (
    "SELECT relname, seq_scan FROM pg_stat_user_tables "
    "WHERE relname IN ('organizations_user', 'audit_auditentry') ORDER BY relname"
)


def seed_logins(dsn: str, organization_id, user_ids: list, count: int) -> float:
    """COPY ``count`` login audit entries (one in ten failed) spread over the last 30 days."""
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur, cur.copy(AUDIT_COPY_SQL) as copy:
            for i in range(count):
                user_id = user_ids[(i * 7919) % len(user_ids)]
                event = "user.login.failed" if i % 10 == 0 else "user.login"
                at = now - dt.timedelta(seconds=(i * 2_592_000) // count)
                copy.write_row(
                    (uuid7(), at, event, "user", user_id, "bench", organization_id, "user", str(user_id),
                     "{}", "", "")
                )  # fmt: skip
        conn.commit()
    return time.perf_counter() - started


def manage(env: dict[str, str], code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env, capture_output=True,
        text=True, check=True, timeout=600,
    )  # fmt: skip
    return completed.stdout.strip().splitlines()[-1]


def seq_scans(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return dict(conn.execute(SCANS_SQL).fetchall())


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--logins", type=int, default=200_000, help="login audit entries to seed")
    parser.add_argument("--calls", type=int, default=200, help="sequential calls per URL")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    run_started = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"stats-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    server_log = out / "servers.log"
    _log(f"raw output in {out.relative_to(REPO)}")
    figures: dict[str, object] = {}

    with contextlib.ExitStack() as stack:
        platform = start_platform(stack, server_log)
        env, port, password, dsn = platform.env, platform.port, platform.password, platform.dsn
        organization_id = insert_organization(dsn, "Bench stats", "bench-stats")
        _log(f"seeding {args.users:,} users with COPY (the stats triggers fire on it)")
        ids, seed_seconds = seed_users(dsn, organization_id, args.users)
        figures["seed_rows_per_second"] = args.users / seed_seconds
        active = int(args.users * 0.3)
        with psycopg.connect(dsn) as conn:
            started = time.perf_counter()
            conn.execute(
                "UPDATE organizations_user SET last_login = now() - (random() * interval '29 days') "
                "WHERE id IN (SELECT id FROM organizations_user WHERE organization_id = %s LIMIT %s)",
                (organization_id, active),
            )
            conn.commit()
            figures["update_last_login_seconds"] = time.perf_counter() - started
        _log(f"seeding {args.logins:,} login audit entries with COPY")
        figures["login_seed_seconds"] = seed_logins(dsn, organization_id, ids, args.logins)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) organizations_user")
            conn.execute("VACUUM (ANALYZE) audit_auditentry")
            figures["deltas_before_fold"] = conn.execute("SELECT count(*) FROM stats_tallydelta").fetchone()[
                0
            ]
        started = time.perf_counter()
        manage(env, "from stats.services import tallies_compact; print(tallies_compact())")
        figures["fold_seconds_incl_django_start"] = time.perf_counter() - started
        with psycopg.connect(dsn, autocommit=True) as conn:
            figures["tally_rows"] = conn.execute("SELECT count(*) FROM stats_tally").fetchone()[0]
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                for statement in DIRECT_SQL.split(";"):
                    conn.execute(statement).fetchall()
                timings.append((time.perf_counter() - started) * 1000)
            figures["direct_count_ms"] = sorted(timings)[len(timings) // 2]

        urls = {
            "overview": "/api/admin/stats/overview",
            "organization": f"/api/admin/stats/organization/{organization_id}",
        }
        latencies: dict[str, dict] = {}
        scans: dict[str, dict] = {}
        for mode, ttl in (("uncached", "0"), ("cached", "15")):
            with gunicorn({**env, "PORTA_STATS_CACHE_TTL": ttl}, port, server_log, args.workers, 1) as base:
                token = admin_token(base, password)
                auth = {"Authorization": f"Bearer {token}"}
                session = requests.Session()
                body = session.get(base + urls["overview"], headers=auth, timeout=60).json()
                figures[f"overview_body_{mode}"] = body
                before = seq_scans(dsn)
                for key, path in urls.items():
                    latencies[f"{key} {mode}"] = sequential_latency(session, base + path, args.calls, auth)
                after = seq_scans(dsn)
                scans[mode] = {table: after[table] - before[table] for table in after}

    users = figures["overview_body_uncached"]["users"]
    if users["total"] != args.users + 1:  # + the admin porta_init created
        raise RuntimeError(f"overview counted {users['total']} users, expected {args.users + 1}")
    total_seconds = time.perf_counter() - run_started
    logins_30d = figures["overview_body_uncached"]["loginActivity"]["last30d"]
    lines = [
        f"Porta stats benchmark, {stamp}, {os.cpu_count()} CPUs, gunicorn {args.workers} workers "
        f"(manage.py serve), PORTA_ENV=development, DEBUG off, code {code_state()}",
        f"seed: {args.users:,} users by COPY with the stats triggers = "
        f"{figures['seed_rows_per_second']:,.0f} rows/s; last_login UPDATE of {active:,} users "
        f"{figures['update_last_login_seconds']:.1f} s; {args.logins:,} login audit entries by COPY "
        f"{figures['login_seed_seconds']:.1f} s",
        f"tallies: {figures['deltas_before_fold']:,} delta rows before the fold, "
        f"{figures['tally_rows']:,} tally rows after it",
        f"reference: counting the same numbers from the tables with SQL: {figures['direct_count_ms']:.0f} ms",
        f"overview: users {users['total']:,} (new 30 d {users['newLast30d']:,}, active 30 d "
        f"{users['activeLast30d']:,}), logins 30 d {logins_30d}",
        f"{'request (' + str(args.calls) + ' sequential calls)':<44} {'median ms':>10} {'p95 ms':>8}",
    ]
    for key, lat in latencies.items():
        lines.append(f"{key:<44} {lat['median_ms']:>10.2f} {lat['p95_ms']:>8.2f}")
    lines += [
        f"sequential scans during the measured requests: uncached {scans['uncached']}, "
        f"cached {scans['cached']}",
        f"total run time: {total_seconds:.0f} s",
        f"reproduce: {REPRODUCE} --users {args.users}",
    ]
    summary = "\n".join(lines)
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps({"figures": figures, "latencies": latencies, "seq_scans": scans}, indent=2, default=str)
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
