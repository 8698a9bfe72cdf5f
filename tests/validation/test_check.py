"""The rules a check is judged by, and a check's record."""

from __future__ import annotations

import math

import pytest

from vstack_sim.validation.check import CheckSpec, Measurement, Rule, run_spec, significant


def test_in_interval():
    m = Measurement(1.0, 0.9, 1.1)
    assert Rule(in_interval=True).passes(1.05, m) and not Rule(in_interval=True).passes(1.2, m)
    assert not Rule(in_interval=True).passes(1.0, Measurement(1.0))          # no interval: cannot pass


def test_relative_exact_and_significant_figures():
    assert Rule(rel=0.03).passes(100.0, Measurement(102.9)) and not Rule(rel=0.03).passes(100.0, Measurement(103.1))
    assert Rule(rel=0).passes(10.0, Measurement(10.0)) and not Rule(rel=0).passes(10.0, Measurement(10.000001))
    assert significant(1.49996e-7, 4) == "1.500e-07"
    assert Rule(sig_figs=4).passes(1.500e-7, Measurement(1.49996e-7))
    assert not Rule(sig_figs=4).passes(1.500e-7, Measurement(1.5006e-7))
    assert not Rule(rel=0.5).passes(1.0, Measurement(math.nan))


def test_relative_error_bound():
    rule = Rule(in_interval=True, max_relative_error=0.10)
    assert rule.passes(1.0, Measurement(1.0, 0.9, 1.1, relative_error=0.05))
    assert not rule.passes(1.0, Measurement(1.0, 0.5, 1.5, relative_error=0.2))
    assert rule.text() == "expected inside the interval; relative error <= 10%"


def test_a_check_that_cannot_be_made_is_neither_pass_nor_fail():
    spec = CheckSpec("x", "src", "cite", {"a": 1}, 1.0, "u", Rule(rel=0), None, "no way to express it")
    r = run_spec(spec, "full")
    assert r.passed is None and r.status == "not checkable" and r.note == "no way to express it"
    assert r.as_dict()["value"] is None and r.as_dict()["size"] == "full"
    with pytest.raises(ValueError, match="size"):
        run_spec(spec, "medium")


def test_the_measurements_parameters_join_the_checks():
    spec = CheckSpec("x", "src", "cite", {"a": 1}, 2.0, "u", Rule(rel=0.1),
                     lambda size: Measurement(2.1, parameters={"seeds": 3 if size == "quick" else 30}))
    assert run_spec(spec).parameters == {"a": 1, "seeds": 3} and run_spec(spec).passed
    assert run_spec(spec, "full").parameters["seeds"] == 30
    assert run_spec(spec, expected=3.0).passed is False
