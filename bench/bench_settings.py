"""Porta's own settings with one change: the URLconf adds the bare-Django comparison view."""

from porta.settings import *  # noqa: F403 - the benchmark must run exactly Porta's settings

ROOT_URLCONF = "bench.bench_urls"
