"""Benchmark of the streaming CSV export against 1 000 000 users, next to PostgreSQL's own
``COPY … TO STDOUT`` of the same rows in the same run.

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``, a COPY seed of the users
into one organization (bench/users.py), gunicorn (``manage.py serve``, one sync worker, so the
worker's memory is the export's), a real admin token, a small warm-up export, then, alternating,
``--rounds`` times each:

* ``GET /api/admin/export/users?format=csv&organizationId=…`` read to the end by python-requests
  (1 MiB chunks), rows counted from the CRLF record ends;
* the same GET read by curl to /dev/null (rows checked from the byte count: the header, the
  rendered COPY's bytes and one CR per record);
* ``COPY (SELECT <the same columns, raw> … ORDER BY created_at DESC, id DESC) TO STDOUT (FORMAT
  csv)`` read to the end by psycopg 3 in this process (the plain COPY a DBA would run);
* the same COPY with the values rendered as the export renders them (ISO timestamps, true/false),
  which is the statement the export runs;

and one ``format=json`` export. The worker's memory: VmRSS after the warm-up (when its VmHWM,
the kernel's high-water mark, is reset), and VmHWM after every export; the growth is their
difference.

    .venv/bin/python bench/exports.py                # --users 1000000 by default

Raw output goes to bench/results/exports-<UTC timestamp>/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import statistics
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
    start_platform,
)
from bench.users import seed_users  # noqa: E402
from exports.columns import USERS  # noqa: E402

REPRODUCE = ".venv/bin/python bench/exports.py"
TABLE = '"organizations_user"'


def copy_sql(rendered: bool) -> str:
    """COPY of the export's rows and columns: raw, or rendered as the export renders them."""
    refs = [f'{TABLE}."{column.field}"' for column in USERS.columns]
    select = ", ".join(
        column.csv_sql(ref) if rendered else ref for column, ref in zip(USERS.columns, refs, strict=True)
    )
    return (
        f'COPY (SELECT {select} FROM {TABLE} WHERE {TABLE}."organization_id" = %s '
        f'ORDER BY {TABLE}."created_at" DESC, {TABLE}."id" DESC) TO STDOUT (FORMAT csv)'
    )


def timed_copy(dsn: str, organization_id, rendered: bool) -> dict[str, float]:
    """Seconds and bytes of reading the COPY to its end (one psycopg read per record, as the
    server does)."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        size = rows = 0
        with cur.copy(copy_sql(rendered), (organization_id,)) as copy:
            for record in copy:
                size += len(record)
                rows += 1
        return {"seconds": time.perf_counter() - started, "bytes": size, "rows": rows}


def timed_export(session: requests.Session, url: str, headers: dict) -> dict[str, float]:
    started = time.perf_counter()
    size = records = 0
    with session.get(url, headers=headers, stream=True, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=1 << 20):
            size += len(chunk)
            records += chunk.count(b"\r\n")
    return {"seconds": time.perf_counter() - started, "bytes": size, "rows": records - 1}  # the header


def timed_export_curl(url: str, headers: dict) -> dict[str, float]:
    """The same download by curl to /dev/null (a client that costs next to nothing, as psql would
    for COPY); the rows are checked afterwards from the byte count."""
    command = ["curl", "-sS", "-o", os.devnull, "-w", "%{http_code} %{size_download}", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    seconds = time.perf_counter() - started
    status, size = completed.stdout.split()
    if status != "200":
        raise RuntimeError(f"curl got {status}: {completed.stderr}")
    return {"seconds": seconds, "bytes": int(size), "rows": -1}


def worker_pid(master_port: int) -> int:
    """The one gunicorn worker: the process listening on the port that is not the master."""
    candidates = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
            if b"serve" in cmdline and f"127.0.0.1:{master_port}".encode() in cmdline:
                ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
                candidates.append((int(entry.name), ppid))
    pids = {pid for pid, _ in candidates}
    workers = [pid for pid, ppid in candidates if ppid in pids]
    if len(workers) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {workers} among {candidates}")
    return workers[0]


def reset_peak(pid: int) -> None:
    """Start the kernel's high-water mark (VmHWM) afresh from the current RSS (clear_refs 5), so
    the peak read later is the exports' own, not the worker's start-up."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each measurement")
    args = parser.parse_args()

    run_started = time.perf_counter()
    load_start = os.getloadavg()[0]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"exports-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    server_log = out / "servers.log"
    _log(f"raw output in {out.relative_to(REPO)}")

    with contextlib.ExitStack() as stack:
        platform = start_platform(stack, server_log)
        organization_id = insert_organization(platform.dsn, "Bench exports", "bench-exports")
        _log(f"seeding {args.users} users with COPY")
        _, seed_seconds = seed_users(platform.dsn, organization_id, args.users)
        _log(f"seeded in {seed_seconds:.1f} s")
        export_path = f"/api/admin/export/users?organizationId={organization_id}"
        with gunicorn(platform.env, platform.port, server_log, 1, 1) as base:
            token = admin_token(base, platform.password)
            auth = {"Authorization": f"Bearer {token}"}
            session = requests.Session()
            warm = session.get(f"{base}{export_path}&format=csv&search=user0000001", headers=auth, timeout=60)
            warm.raise_for_status()
            pid = worker_pid(platform.port)
            reset_peak(pid)
            baseline = memory_kib(pid)
            _log(f"worker {pid}: {baseline}")
            samples: dict[str, list[dict[str, float]]] = {
                "export": [], "export_curl": [], "copy": [], "copy_rendered": []
            }  # fmt: skip
            peaks = []
            for n in range(args.rounds):
                _log(f"round {n + 1}/{args.rounds}")
                samples["export"].append(timed_export(session, f"{base}{export_path}&format=csv", auth))
                peaks.append(memory_kib(pid)["VmHWM"])
                samples["export_curl"].append(timed_export_curl(f"{base}{export_path}&format=csv", auth))
                samples["copy"].append(timed_copy(platform.dsn, organization_id, rendered=False))
                samples["copy_rendered"].append(timed_copy(platform.dsn, organization_id, rendered=True))
            json_export = timed_export(session, f"{base}{export_path}&format=json", auth)
            json_export["rows"] = args.users  # one object per row; no CRLF to count
            final = memory_kib(pid)

    # curl's download is the header, the rendered COPY's bytes, and a CR more per record.
    header_bytes = len(",".join(USERS.header)) + 2
    for run in samples["export_curl"]:
        run["rows"] = run["bytes"] - header_bytes - samples["copy_rendered"][0]["bytes"]
    for name, runs in samples.items():
        for run in runs:
            if run["rows"] != args.users:
                raise RuntimeError(f"{name} gave {run['rows']} rows, expected {args.users}")

    def rate(runs: list[dict[str, float]]) -> float:
        return statistics.median(args.users / run["seconds"] for run in runs)

    curl_rate = rate(samples["export_curl"])
    export_rate, copy_rate, rendered_rate = (
        rate(samples["export"]),
        rate(samples["copy"]),
        rate(samples["copy_rendered"]),
    )
    json_rate = args.users / json_export["seconds"]

    def seconds_of(name: str) -> str:
        return ", ".join(f"{run['seconds']:.2f}" for run in samples[name])

    growth_mib = (final["VmHWM"] - baseline["VmRSS"]) / 1024
    total_seconds = time.perf_counter() - run_started
    mib = samples["export"][0]["bytes"] / 2**20
    lines = [
        f"Porta exports benchmark, {stamp}, {os.cpu_count()} CPUs, gunicorn 1 sync worker "
        f"(manage.py serve), PORTA_ENV=development, DEBUG off, code {code_state()}",
        f"{args.users:,} users in one organization; CSV of {len(USERS.columns)} columns, {mib:,.0f} MiB; "
        f"median of {args.rounds} alternating rounds",
        f"{'path':<58} {'rows/s':>11} {'vs COPY':>8}",
        f"{'GET /api/admin/export/users?format=csv (HTTP, to the end)':<58} {export_rate:>11,.0f} "
        f"{export_rate / copy_rate:>7.2f}x",
        f"{'the same GET read by curl to /dev/null':<58} {curl_rate:>11,.0f} {curl_rate / copy_rate:>7.2f}x",
        f"{'COPY (SELECT raw columns) TO STDOUT, psycopg':<58} {copy_rate:>11,.0f} {1:>7.2f}x",
        f"{'COPY (SELECT rendered as the export) TO STDOUT, psycopg':<58} {rendered_rate:>11,.0f} "
        f"{rendered_rate / copy_rate:>7.2f}x",
        f"{'GET /api/admin/export/users?format=json (one run)':<58} "
        f"{json_rate:>11,.0f} {json_rate / copy_rate:>7.2f}x",
        f"export runs (s): {seconds_of('export')}; COPY runs (s): {seconds_of('copy')}",
        f"worker RSS: {baseline['VmRSS'] / 1024:.1f} MiB after warm-up, peak {final['VmHWM'] / 1024:.1f} MiB "
        f"after {args.rounds + 1} full exports (growth {growth_mib:.1f} MiB); peak after each CSV export: "
        + ", ".join(f"{p / 1024:.1f}" for p in peaks)
        + " MiB",
        f"load average (1 min) at start and end: {load_start:.1f}, {os.getloadavg()[0]:.1f}",
        f"total run time: {total_seconds:.0f} s",
        f"reproduce: {REPRODUCE} --users {args.users} --rounds {args.rounds}",
    ]
    summary = "\n".join(lines)
    (out / "summary.txt").write_text(summary + "\n")
    (out / "results.json").write_text(
        json.dumps(
            {"samples": samples, "json_export": json_export, "baseline_kib": baseline, "final_kib": final,
             "peaks_kib": peaks, "export_rows_per_second": export_rate,
             "curl_rows_per_second": curl_rate, "copy_rows_per_second": copy_rate,
             "copy_rendered_rows_per_second": rendered_rate, "rss_growth_mib": growth_mib},
            indent=2,
        )
    )  # fmt: skip
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
