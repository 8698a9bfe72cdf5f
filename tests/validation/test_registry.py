"""Every quick check of the model passes, and none could pass whatever the model did: each one measured is
judged again against a deliberately wrong expected value and fails."""

from __future__ import annotations

import functools

import pytest

from vstack_sim import validation
from vstack_sim.validation import registry

EXPECTED_NAMES = {
    "mttdl-3rep-parallel", "mttdl-3rep-serial", "mttdl-rs32-parallel", "mttdl-rs32-serial",
    "backblaze-4+2", "backblaze-4+2-ge4", "backblaze-4+2-ge5", "backblaze-17+3",
    "importance-rs32", "importance-3rep", "importance-world-rs32", "xorbas-3rep", "xorbas-rs10-4",
    "md1-rho0.5", "md1-rho0.9", "mg1-rho0.5", "mg1-rho0.8", "storage-physical-bytes", "storage-savings",
}


@functools.cache
def quick_checks() -> dict:
    return {r.name: r for r in validation.run_checks()}


@pytest.fixture(scope="module")
def quick():
    """The quick checks, run once in each worker process (about 20 s)."""
    return quick_checks()


def test_every_check_has_a_unique_name_a_source_and_a_citation():
    specs = validation.specs()
    assert {s.name for s in specs} == EXPECTED_NAMES and len(specs) == len(EXPECTED_NAMES)
    assert all(s.source and s.citation and s.parameters and s.unit for s in specs)
    # the loaded queues are too noisy for 3 % at a quick size: they run in the full size only
    assert {s.name for s in specs if "quick" not in s.sizes} == {"md1-rho0.9", "mg1-rho0.8"}


def test_every_quick_check_passes(quick):
    failed = {n: (r.expected, r.measurement) for n, r in quick.items() if r.passed is False}
    assert failed == {}
    assert validation.all_passed(quick.values())
    assert set(quick) == EXPECTED_NAMES - {"md1-rho0.9", "mg1-rho0.8"}


def wrong(expected: float, name: str) -> float:
    """A wrong expected value: off by far more than the check's noise (exact checks: by one part in 1e3)."""
    if name.startswith(("backblaze", "xorbas", "storage")):
        return expected * 1.001
    return expected * (2.0 if name.startswith(("mttdl", "importance")) else 1.1)


def test_a_wrong_expected_value_fails_every_check_that_measures(quick):
    measured = [r for r in quick.values() if r.measurement is not None]
    assert len(measured) == len(quick) - 1
    spec = {s.name: s for s in validation.specs()}
    for r in measured:
        assert spec[r.name].rule.passes(r.expected, r.measurement), r.name
        assert not spec[r.name].rule.passes(wrong(r.expected, r.name), r.measurement), r.name


def test_serial_repair_in_the_world_is_serial(quick):
    """The RS(3,2) serial check tells the chains apart: the parallel chain's MTTDL fails its rule."""
    serial, parallel = quick["mttdl-rs32-serial"], quick["mttdl-rs32-parallel"]
    rule = validation.Rule(in_interval=True)
    assert rule.passes(serial.expected, serial.measurement)
    assert not rule.passes(parallel.expected, serial.measurement)
    assert serial.parameters["repair"] == "serial" and serial.parameters["seeds"] == 30


def test_serial_repair_of_replicas_is_reported_not_checkable(quick):
    r = quick["mttdl-3rep-serial"]
    assert r.passed is None and r.status == "not checkable" and "parallel only" in r.note
    assert "mttdl-3rep-serial: not checkable" in validation.table([r])


def test_run_spec_judges_against_the_expected_value_it_is_given():
    spec = {s.name: s for s in validation.specs()}["backblaze-4+2"]
    assert validation.run_spec(spec).passed
    bad = validation.run_spec(spec, expected=1.501e-7)          # one unit off in the 4th figure
    assert bad.passed is False and bad.status == "FAIL" and bad.expected == 1.501e-7
    assert "FAIL" in validation.table([bad]) and "0 of 1 checks pass, 1 FAIL" in validation.table([bad])


def test_the_table_names_source_expected_interval_and_verdict(quick):
    text = validation.table([quick["importance-rs32"], quick["storage-physical-bytes"]])
    head, imp, storage = text.splitlines()[:3]
    assert head.split() == ["check", "source", "expected", "simulated", "result"]
    m = quick["importance-rs32"].measurement
    assert imp.startswith("importance-rs32") and "exact transient chain" in imp and "2.239e-07" in imp
    assert f"[{m.lo:.3e}, {m.hi:.3e}]" in imp and imp.endswith("pass")
    assert "181,753,252,500 B" in storage
    assert text.splitlines()[-1] == "2 of 2 checks pass"


def test_select_by_group_and_unknown_names():
    assert [s.name for s in validation.select(["backblaze"])] == [
        "backblaze-4+2", "backblaze-4+2-ge4", "backblaze-4+2-ge5", "backblaze-17+3"]
    assert [s.name for s in validation.select(["md1"], "full")] == ["md1-rho0.5", "md1-rho0.9"]
    assert [s.name for s in validation.select(["md1"])] == ["md1-rho0.5"]
    with pytest.raises(ValueError, match="--only: unknown check 'mttd'"):
        validation.select(["mttd"])
    with pytest.raises(ValueError, match="size"):
        registry.select(None, "huge")
