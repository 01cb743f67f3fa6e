"""Benchmark of reading a live setting (``porta.core.liveconfig.get``): what a token issuance, a
failed login or an admin write pays to honour ``/api/admin/config`` instead of a constant.

One run starts a throwaway PostgreSQL and Redis, migrates, sets one override through the service,
and times in-process, one thread:

- (a) the usual read: within ``PORTA_CONFIG_CHECK_INTERVAL`` of the last check (memory only);
- (b) a read that checks the version stamp (interval 0: one Redis GET per read);
- (c) a read that reloads the overrides from PostgreSQL on every call (the copy dropped each time),
  the cost the cache avoids;
- (d) ``settings.PORTA_ACCESS_TOKEN_TTL``, the constant it replaced, for comparison.

    .venv/bin/python bench/liveconfig.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import argument_parser, median_p95, stop_cleanly_on_signals, timed_us  # noqa: E402
from testing.servers import postgres, redis  # noqa: E402


def main() -> None:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--calls", type=int, default=20_000, help="timed calls per case (default 20000)")
    args = parser.parse_args()
    with postgres() as pg, redis() as rd:
        os.environ.update(
            PORTA_ENV="development",
            DATABASE_URL=pg.url,
            REDIS_URL=rd.url,
            PORTA_SECRET_KEY="bench-" + "k3y!" * 13,
            PORTA_KEY_ENCRYPTION_KEY="A" * 43 + "=",
            PORTA_PUBLIC_URL="http://127.0.0.1:8000",
            DJANGO_SETTINGS_MODULE="porta.settings",
        )
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from porta.core import liveconfig
        from porta.core.context import Actor
        from systemconfig.services import config_set

        call_command("migrate", verbosity=0)
        config_set(actor=Actor.system("bench"), key="access_token_ttl", value=1200)
        read = lambda: liveconfig.get("access_token_ttl")  # noqa: E731
        assert read() == 1200

        cases = []
        settings.PORTA_CONFIG_CHECK_INTERVAL = 1.0
        cases.append(("(a) live value, within the check interval", timed_us(read, args.calls, warmup=100)))
        settings.PORTA_CONFIG_CHECK_INTERVAL = 0.0
        cases.append(("(b) live value, stamp checked in Redis", timed_us(read, args.calls, warmup=100)))

        def reload() -> None:
            liveconfig.forget()
            read()

        cases.append(
            ("(c) live value, reloaded from PostgreSQL", timed_us(reload, args.calls // 10, warmup=10))
        )
        constant = lambda: settings.PORTA_ACCESS_TOKEN_TTL  # noqa: E731
        cases.append(("(d) settings constant (before)", timed_us(constant, args.calls, warmup=100)))

    print(f"liveconfig.get benchmark, {time.strftime('%Y-%m-%d %H:%M:%S')}, load {os.getloadavg()[0]:.2f}")
    print(f"{'case':<45} {'calls':>7} {'med µs':>8} {'p95 µs':>8} {'calls/s':>11}")
    for label, samples in cases:
        median, p95 = median_p95(samples)
        rate = len(samples) / (sum(samples) / 1e6)
        print(f"{label:<45} {len(samples):>7} {median:>8.2f} {p95:>8.2f} {rate:>11,.0f}")
    print(f"reproduce: .venv/bin/python bench/liveconfig.py --calls {args.calls}")


if __name__ == "__main__":
    main()
