"""The shipped scenarios as a table: names, durations, one-line descriptions."""

from __future__ import annotations

from vstack_sim.scenario.shipped import _one_line, _short_duration, shipped_table


def test_every_shipped_scenario_has_a_row_with_its_duration():
    rows = {r["name"]: r for r in shipped_table()}
    assert {"seed", "baseline", "all-ec", "all-replication", "flash-crowd", "rack-failure"} <= set(rows)
    assert rows["baseline"]["duration_s"] == 14 * 86400 and rows["flash-crowd"]["duration_s"] == 2 * 86400
    assert all(r["description"] and "\n" not in r["description"] for r in rows.values())


def test_one_line_takes_the_first_clause_and_cuts_at_a_word():
    assert _one_line("First part; second part. Third.") == "First part"
    assert _one_line("A sentence. Another one.") == "A sentence"
    long = _one_line("word " * 40, limit=20)
    assert len(long) <= 20 and long.endswith("…") and "  " not in long


def test_short_duration_drops_trailing_zeros():
    assert (_short_duration(14 * 86400), _short_duration(30 * 3600), _short_duration(5400),
            _short_duration(90), _short_duration(12)) == ("14 d", "1.25 d", "1.5 h", "1.5 min", "12 s")
