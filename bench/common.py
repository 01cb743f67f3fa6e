"""What every benchmark script shares: clean stops, its command line, and timing in-process."""

from __future__ import annotations

import argparse
import signal
import statistics
import time
from collections.abc import Callable


def _stop_on_signal(signum: int, frame) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds the with-blocks: servers stop


def stop_cleanly_on_signals() -> None:
    """Ctrl-C, kill and a closed terminal all unwind through the scripts' cleanup (servers stop),
    including when a shell started the script in the background with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)


def argument_parser(doc: str | None) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def timed_us(fn: Callable[[], object], calls: int, *, warmup: int = 0) -> list[float]:
    """Microseconds per call of ``fn``, sorted, after ``warmup`` unmeasured calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return samples


def median_p95(sorted_samples: list[float]) -> tuple[float, float]:
    return statistics.median(sorted_samples), sorted_samples[int(0.95 * (len(sorted_samples) - 1))]
