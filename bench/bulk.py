"""Benchmark of a filtered bulk status change over 1 000 000 users in one organization, on a real
Celery worker, audit included.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``, a COPY seed of the users
(``bench/users.py`` ``seed_users``), gunicorn (``manage.py serve``) and one Celery worker (solo
pool, Redis as the broker), a real admin token, then ``POST /api/admin/bulk/users/status`` with
``{"filter": {"status": "active"}, "action": "suspend"}``: the wall time from the POST until
``GET /jobs/{id}`` says ``succeeded`` (queueing, the count, every chunk's UPDATE, the audit INSERT
of one entry per user and the checkpoint), the job's own run time (started → finished), and rows/s
of both. The database is then checked: every user suspended, exactly one ``user.suspended`` entry
per user naming the job. Every process it starts is stopped on the way out.

    .venv/bin/python bench/bulk.py                   # --users 1000000 by default

Raw output goes to bench/results/bulk-<UTC timestamp>/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
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
    start_platform,
)
from bench.users import seed_users  # noqa: E402

REPRODUCE = ".venv/bin/python bench/bulk.py"


@contextlib.contextmanager
def celery_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """One ``celery -A porta worker`` (solo pool), stopped by its PID on the way out."""
    with log.open("ab") as fh:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "porta", "worker", "--pool", "solo",
             "--loglevel", "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=REPO, env=env, stdout=fh, stderr=fh,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_for_job(session: requests.Session, base: str, job_id: str, auth: dict, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = session.get(f"{base}/api/admin/jobs/{job_id}", headers=auth, timeout=30).json()
        if job["status"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def _seconds(job: dict) -> float:
    started = dt.datetime.fromisoformat(job["startedAt"].replace("Z", "+00:00"))
    finished = dt.datetime.fromisoformat(job["finishedAt"].replace("Z", "+00:00"))
    return (finished - started).total_seconds()


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=1000, help="PORTA_BULK_CHUNK_SIZE of the worker")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the job")
    args = parser.parse_args()

    run_started = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"bulk-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    server_log = out / "servers.log"
    _log(f"raw output in {out.relative_to(REPO)}")

    with contextlib.ExitStack() as stack:
        platform = start_platform(stack, server_log)
        env = {**platform.env, "PORTA_BULK_CHUNK_SIZE": str(args.chunk)}
        organization_id = insert_organization(platform.dsn, "Bench bulk", "bench-bulk")
        _log(f"seeding {args.users} users with COPY")
        _, seed_seconds = seed_users(platform.dsn, organization_id, args.users)
        _log(f"seeded in {seed_seconds:.1f} s ({args.users / seed_seconds:,.0f} rows/s)")

        stack.enter_context(celery_worker(env, out / "worker.log"))
        base = stack.enter_context(gunicorn(env, platform.port, server_log, 1, 1))
        token = admin_token(base, platform.password)
        auth = {"Authorization": f"Bearer {token}"}
        session = requests.Session()

        body = {
            "organizationId": str(organization_id),
            "filter": {"status": "active"},
            "action": "suspend",
            "reason": "bench",
        }
        _log("POST /api/admin/bulk/users/status (filter status=active, suspend)")
        started = time.perf_counter()
        response = session.post(f"{base}/api/admin/bulk/users/status", json=body, headers=auth, timeout=60)
        if response.status_code != 202:
            raise RuntimeError(f"bulk answered {response.status_code}: {response.text[:300]}")
        job_id = response.json()["jobId"]
        job = wait_for_job(session, base, job_id, auth, args.timeout)
        wall = time.perf_counter() - started
        if job["status"] != "succeeded":
            raise RuntimeError(f"job {job_id} ended {job['status']}: {job.get('error')}")
        run_seconds = _seconds(job)
        changed = job["result"]["succeeded"]

        with psycopg.connect(platform.dsn) as conn:
            suspended = conn.execute(
                "SELECT count(*) FROM organizations_user WHERE organization_id = %s AND status = 'suspended'",
                (organization_id,),
            ).fetchone()[0]
            entries, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT target_id) FROM audit_auditentry "
                "WHERE event_type = 'user.suspended' AND metadata->>'jobId' = %s",
                (job_id,),
            ).fetchone()
    if not (changed == suspended == entries == distinct == args.users):
        raise RuntimeError(
            f"mismatch: job {changed}, suspended {suspended}, entries {entries}, distinct {distinct}"
        )

    total_seconds = time.perf_counter() - run_started
    lines = [
        f"Porta bulk status benchmark, {stamp}, {os.cpu_count()} CPUs, 1 Celery worker (solo pool) and "
        f"gunicorn 1 worker, PORTA_ENV=development, DEBUG off, chunk {args.chunk}, code {code_state()}",
        f"seed: {args.users:,} active users in one organization by COPY in {seed_seconds:.1f} s",
        f"filtered bulk suspend (filter status=active) of {changed:,} users, one audit entry each:",
        f"  wall time, POST to job succeeded: {wall:.1f} s = {changed / wall:,.0f} rows/s",
        f"  job run time (startedAt to finishedAt): {run_seconds:.1f} s "
        f"= {changed / run_seconds:,.0f} rows/s",
        f"  checked: {suspended:,} users suspended, {entries:,} user.suspended entries for "
        f"{distinct:,} distinct users naming the job",
        f"total run time: {total_seconds:.0f} s",
        f"reproduce: {REPRODUCE} --users {args.users} --chunk {args.chunk}",
    ]
    summary = "\n".join(lines)
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {"users": args.users, "chunk": args.chunk, "seed_seconds": seed_seconds, "wall_seconds": wall,
             "job_seconds": run_seconds, "rows_per_second_wall": changed / wall,
             "rows_per_second_job": changed / run_seconds, "job": job},
            indent=2,
        )
    )  # fmt: skip
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
