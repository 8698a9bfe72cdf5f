"""The constrained answer (issue 25): the cheapest option whose intervals' worse ends meet every constraint,
uncertain options apart, ties within the cost intervals, none meeting, and constraints parsed without eval."""

from __future__ import annotations

import pandas as pd
import pytest

from vstack_sim.analysis.stats import Interval
from vstack_sim.experiments.constraints import Constraint, cheapest_meeting, choose, parse_constraint
from vstack_sim.experiments.intervals import Group

P99 = "reads.latency_ms.all.p99"
SAVED = "storage_mean_savings_percent"
COST = "cost.total_dollars"
WANT = [f"{P99}<=60", f"{SAVED}>=35"]


def option(p99, saved, cost):
    """(mean, lo, hi) triples of one option."""
    return {P99: p99, SAVED: saved, COST: cost}


def test_one_clear_winner_is_the_cheapest_meeting_option():
    choice = cheapest_meeting({
        "all-rep": option((20, 18, 22), (0, 0, 0), (30, 29, 31)),           # fails the savings
        "adaptive": option((50, 45, 55), (40, 38, 42), (12, 11, 13)),
        "all-ec": option((90, 85, 95), (50, 49, 51), (9, 8, 10)),            # cheaper, fails the p99
        "lazy": option((40, 38, 42), (36, 35.5, 37), (15, 14, 16)),
    }, WANT)
    assert choice.best == "adaptive" and choice.meeting == ["adaptive", "lazy"] and choice.ties == []
    assert set(choice.failing) == {"all-rep", "all-ec"} and not choice.uncertain
    assert choice.sentence() == (
        "The cheapest option with reads.latency_ms.all.p99 <= 60 and storage_mean_savings_percent >= 35: "
        "adaptive at $12.00 [$11.00, $13.00] (reads.latency_ms.all.p99 50.00 ms [45.00 ms, 55.00 ms]; "
        "storage_mean_savings_percent 40.00 % [38.00 %, 42.00 %]).")


def test_a_cheaper_option_whose_worse_end_misses_is_excluded_and_reported_uncertain():
    choice = cheapest_meeting({
        "threshold": option((55, 48, 62), (40, 39, 41), (8, 7.5, 8.5)),      # mean meets, upper bound 62 > 60
        "adaptive": option((50, 45, 55), (40, 38, 42), (12, 11, 13)),
        "frugal": option((50, 45, 55), (36, 34, 38), (7, 6.5, 7.5)),         # savings' lower bound 34 < 35
    }, WANT)
    assert choice.best == "adaptive"
    assert list(choice.uncertain) == ["frugal", "threshold"]                 # cheapest first
    assert choice.uncertain["threshold"] == [Constraint(P99, "<=", 60.0)]
    assert choice.uncertain["frugal"] == [Constraint(SAVED, ">=", 35.0)]
    text = choice.sentence()
    assert text.startswith("The cheapest option with ") and ": adaptive at $12.00" in text
    assert ("uncertain (an interval straddles a bound): frugal at $7.00 [$6.50, $7.50] "
            "(storage_mean_savings_percent 36.00 % [34.00 %, 38.00 %]), threshold at $8.00") in text


def test_an_interval_entirely_beyond_the_bound_fails_and_one_at_the_bound_meets():
    c = parse_constraint(f"{P99} <= 60")
    assert c.judge(55, 50, 60) == "meets" and c.judge(65, 61, 70) == "fails" and c.judge(58, 50, 66) == "uncertain"
    s = parse_constraint(f"{SAVED}>=35")
    assert s.judge(40, 35, 45) == "meets" and s.judge(30, 25, 34.9) == "fails" and s.judge(36, 34, 38) == "uncertain"


def test_a_tie_within_the_cost_intervals_is_said():
    choice = cheapest_meeting({
        "adaptive": option((50, 45, 55), (40, 38, 42), (10, 9, 11)),
        "lazy": option((45, 40, 50), (38, 37, 39), (10.8, 10.5, 11.1)),     # overlaps [9, 11]
        "eager": option((30, 28, 32), (36, 35, 37), (14, 13, 15)),          # does not
    }, WANT)
    assert choice.best == "adaptive" and choice.ties == ["lazy"]
    assert "; tied within the intervals with lazy at $10.80 [$10.50, $11.10]." in choice.sentence()


def test_one_run_per_option_judges_the_value_itself():
    nan = float("nan")
    a = {P99: (59, nan, nan), SAVED: Interval(40, nan, nan, 1, "t"), COST: (5, nan, nan)}
    b = {P99: {"mean": 61, "lo": nan, "hi": nan}, SAVED: (40, nan, nan), COST: (4, nan, nan)}
    choice = cheapest_meeting({"a": a, "b": b}, WANT)
    assert choice.best == "a" and choice.failing == {"b": [Constraint(P99, "<=", 60.0)]}
    assert "a at $5.00 (reads.latency_ms.all.p99 59.00 ms; storage_mean_savings_percent 40.00 %)" in choice.sentence()


def test_none_meeting_names_the_closest():
    choice = cheapest_meeting({
        "all-ec": option((90, 85, 95), (50, 49, 51), (9, 8, 10)),
        "adaptive": option((65, 62, 68), (40, 38, 42), (12, 11, 13)),  # upper bound 8 ms beyond: least short
        "all-rep": option((20, 18, 22), (0, 0, 0), (30, 29, 31)),
    }, WANT)
    assert choice.best is None and choice.closest == "adaptive"
    assert choice.sentence() == (
        "No option meets reads.latency_ms.all.p99 <= 60 and storage_mean_savings_percent >= 35 (closest: adaptive, "
        "reads.latency_ms.all.p99 65.00 ms [62.00 ms, 68.00 ms]; storage_mean_savings_percent 40.00 % "
        "[38.00 %, 42.00 %]).")


def test_options_without_a_value_are_not_judged_and_an_unknown_metric_is_an_error():
    choice = cheapest_meeting({"a": option((50, 45, 55), (40, 38, 42), (12, 11, 13)),
                               "old": {P99: (50, 45, 55), SAVED: (40, 38, 42)}}, WANT)   # no cost recorded
    assert choice.best == "a" and choice.missing == {"old": [COST]}
    assert choice.sentence().endswith("; not judged: old (no cost.total_dollars).")
    with pytest.raises(ValueError, match=r"reads.latency_ms.al.p99 <= 60: no option has reads.latency_ms.al.p99"):
        cheapest_meeting({"a": option((50, 45, 55), (40, 38, 42), (12, 11, 13))}, ["reads.latency_ms.al.p99<=60"])


@pytest.mark.parametrize("text,message", [
    ("p99<60", "bad constraint 'p99<60': write METRIC<=VALUE or METRIC>=VALUE"),
    ("p99==60", "bad constraint 'p99==60': write METRIC<=VALUE"),
    ("<=60", "bad constraint '<=60'"),
    ("p99<=sixty", "bad constraint 'p99<=sixty': 'sixty' is not a number"),
    ("p99<=nan", "'nan' is not a number"),
    ("p99<=1e999", "'1e999' is not a finite number"),
    ("p99<=__import__('os').getcwd()", "is not a number"),
    ("p99 <= 60 >= 3", "bad constraint"),
])
def test_bad_constraints_are_value_errors_naming_them(text, message):
    with pytest.raises(ValueError) as info:
        parse_constraint(text)
    assert message in str(info.value)


def test_constraints_parse_with_spaces_and_signs():
    assert parse_constraint(" storage_mean_savings_percent >= -1.5e1 ") == Constraint(SAVED, ">=", -15.0)
    assert str(parse_constraint(f"{P99}<=60.0")) == f"{P99} <= 60"


def test_choose_reads_the_groups_of_a_comparison():
    def group(label, p99, cost):
        return Group(label, pd.DataFrame({P99: p99, SAVED: [40.0, 40.5, 41.0], COST: cost}))

    choice = choose([group("a", [50.0, 52.0, 51.0], [10.0, 10.2, 10.1]),
                     group("b", [70.0, 72.0, 71.0], [5.0, 5.1, 5.2])], WANT)
    assert choice.best == "a" and choice.failing == {"b": [Constraint(P99, "<=", 60.0)]}
