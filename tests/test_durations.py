"""Duration strings of contract §1.1."""

from __future__ import annotations

import datetime

import pytest

from porta.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", datetime.timedelta(seconds=90)),
        ("30m", datetime.timedelta(minutes=30)),
        ("1h30m", datetime.timedelta(hours=1, minutes=30)),
        ("168h", datetime.timedelta(hours=168)),
        ("7d", datetime.timedelta(days=7)),
        ("1d2h3m4s", datetime.timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_valid_durations_parse_to_timedeltas(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0s", "0h0m", "0d"])
def test_a_zero_duration_is_refused(text):
    with pytest.raises(ValueError, match="positive"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["-1h", "-30m"])
def test_a_negative_duration_is_refused(text):
    with pytest.raises(ValueError, match="Invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["", " ", "1", "h", "1x", "1.5h", "30m1h", "1h 30m", "one hour", "1hh"])
def test_an_unparsable_duration_is_refused(text):
    with pytest.raises(ValueError, match="Invalid duration"):
        parse_duration(text)


def test_a_duration_beyond_ten_years_is_refused():
    with pytest.raises(ValueError, match="too long"):
        parse_duration("999999999d")


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (datetime.timedelta(days=7), "168h"),
        (datetime.timedelta(hours=17520), "17520h"),
        (datetime.timedelta(minutes=90), "1h30m"),
        (datetime.timedelta(seconds=90), "1m30s"),
        (datetime.timedelta(hours=1, seconds=5), "1h5s"),
        (datetime.timedelta(0), "0s"),
    ],
)
def test_a_duration_is_written_in_hours_minutes_and_seconds(duration, text):
    assert format_duration(duration) == text


@pytest.mark.parametrize("text", ["90s", "1h30m", "168h", "7d", "1d2h3m4s"])
def test_a_written_duration_parses_back_to_itself(text):
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)
