"""Benchmark of ``POST /api/admin/import``: how long a manifest of N items holds a web worker, which
is what sets ``PORTA_IMPORT_SYNC_MAX_ITEMS`` (above it a manifest is imported by a job).

One run: throwaway PostgreSQL and Redis, migrations and ``porta_init``, gunicorn (``manage.py
serve``, the job threshold lifted so every size runs in the request), a real admin token, then
for each size a fresh manifest of half organizations and half public clients of those
organizations (every item through its service, validated and audited), imported once as a dry
run and once for real (merge). Reported: wall time per request and items per second.

    .venv/bin/python bench/imports.py                    # --sizes 100,500,2000 by default

Raw output goes to bench/results/imports-<UTC timestamp>/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from bench.common import argument_parser, stop_cleanly_on_signals  # noqa: E402
from bench.organizations import _log, admin_token, code_state, gunicorn, start_platform  # noqa: E402

REPRODUCE = ".venv/bin/python bench/imports.py"


def manifest(run: int, size: int) -> dict:
    organizations = [{"slug": f"bench-{run}-{n:05d}", "name": f"Bench {run} {n}"} for n in range(size // 2)]
    clients = [
        {
            "organizationSlug": org["slug"], "applicationSlug": "bench-app", "clientName": "SPA",
            "clientType": "public", "applicationType": "spa", "redirectUris": ["https://spa.example/cb"],
        }
        for org in organizations
    ]  # fmt: skip
    return {"version": "1.0", "organizations": organizations, "clients": clients}


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--sizes", default="100,500,2000", help="manifest sizes (items)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"imports-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with contextlib.ExitStack() as stack:
        platform = start_platform(stack, out / "servers.log")
        env = {**platform.env, "PORTA_IMPORT_SYNC_MAX_ITEMS": str(max(sizes))}
        with gunicorn(env, platform.port, out / "servers.log", 1, 1) as base:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {admin_token(base, platform.password)}"
            app = {"version": "1.0", "applications": [{"slug": "bench-app", "name": "Bench app"}]}
            session.post(
                f"{base}/api/admin/import", json={"mode": "merge", "manifest": app}
            ).raise_for_status()
            for run, size in enumerate(sizes):
                body = manifest(run, size)
                timings = {}
                for mode in ("dry-run", "merge"):
                    started = time.perf_counter()
                    response = session.post(
                        f"{base}/api/admin/import", json={"mode": mode, "manifest": body}, timeout=600
                    )
                    timings[mode] = time.perf_counter() - started
                    if response.status_code != 200 or response.json()["totals"]["created"] != size:
                        raise RuntimeError(f"{mode} {size}: {response.status_code} {response.text[:300]}")
                rows.append((size, timings["dry-run"], timings["merge"]))
                _log(f"{size} items: dry-run {timings['dry-run']:.2f} s, merge {timings['merge']:.2f} s")

    lines = [
        f"Porta import benchmark, {stamp}, {os.cpu_count()} CPUs, gunicorn 1 worker, {code_state()}",
        "",
        "| items | dry-run (s) | merge (s) | merge items/s |",
        "| ---: | ---: | ---: | ---: |",
        *(f"| {size} | {dry:.2f} | {merge:.2f} | {size / merge:,.0f} |" for size, dry, merge in rows),
        "",
        f"Reproduce: {REPRODUCE} --sizes {args.sizes}",
    ]
    text = "\n".join(lines)
    (out / "summary.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
