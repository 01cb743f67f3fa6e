"""The home-made import-linter contract of `make lint`: no import cycles among the domain apps."""

from testing.import_contracts import _strongly_connected


def test_a_loop_through_three_packages_is_one_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert _strongly_connected(["a", "b", "c", "d"], edges) == [["a", "b", "c"]]


def test_packages_that_only_point_down_have_no_cycle():
    edges = {"a": {"b", "c"}, "b": {"c"}, "c": set()}

    assert _strongly_connected(["a", "b", "c"], edges) == []


def test_two_separate_loops_are_two_cycles():
    edges = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}

    assert _strongly_connected(["a", "b", "c", "d"], edges) == [["a", "b"], ["c", "d"]]
