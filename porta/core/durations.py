"""Durations in request bodies (contract §1.1): ``"90s"``, ``"30m"``, ``"1h30m"``, ``"168h"``, ``"7d"``.

Units d, h, m, s in that order, each at most once; the whole must be positive. Zero, negative or
unparsable values are refused (a 400 through ``DurationField``)."""

from __future__ import annotations

import datetime
import re

from rest_framework import serializers

_DURATION = re.compile(r"(?:(\d{1,9})d)?(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?")
#: Longest accepted duration: ten years (also keeps the arithmetic far from datetime's limits).
MAX_DURATION = datetime.timedelta(days=3660)


def parse_duration(value: str) -> datetime.timedelta:
    """``parse_duration("1h30m") == timedelta(minutes=90)``; ValueError for anything else."""
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or not value.strip() or not any(match.groups()):
        raise ValueError(f"Invalid duration {value!r}: use e.g. 90s, 30m, 1h30m, 168h or 7d")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    duration = datetime.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= datetime.timedelta(0):
        raise ValueError("Duration must be positive")
    if duration > MAX_DURATION:
        raise ValueError("Duration is too long")
    return duration


def format_duration(value: datetime.timedelta) -> str:
    """The wire form of a duration, in hours at most (as the settings show them):
    ``format_duration(timedelta(days=7)) == "168h"``, ``timedelta(seconds=5400)`` → ``"1h30m"``."""
    total = int(value.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n)
    return text or "0s"


class DurationField(serializers.CharField):
    """A duration string in, a ``timedelta`` out; invalid values are a 400 naming the field."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
