"""Analytic durability against the issue's published numbers: the exact chain's loss probability within a
mission (parallel and serial repair) and the Backblaze calculator's rows, to the digits they are printed with."""

import math

import numpy as np
import pytest
from scipy import special

from vstack_sim.analysis import durability as d
from vstack_sim.analysis import theory


def sig4(x: float) -> str:
    return f"{x:.3e}"   # four significant figures, as the sources print them


# -- the chain -----------------------------------------------------------------

MTTF_D, MTTR_D, YEAR_D = 3650.0, 1.0, 365.0


@pytest.mark.parametrize("n, repair, expected", [
    (5, "parallel", "2.239e-07"),   # RS(3,2): 5 slots, 2 tolerated
    (3, "parallel", "2.240e-08"),   # 3 replicas
    (5, "serial", "4.469e-07"),
    (3, "serial", "4.474e-08"),
])
def test_loss_within_a_year_matches_the_issue_to_four_figures(n, repair, expected):
    p = d.loss_probability(n, 2, 1.0 / MTTF_D, 1.0 / MTTR_D, YEAR_D, repair)
    assert sig4(p) == expected


def test_rs32_at_fifty_years_mttf_and_one_day_mttr():
    # the issue's speed benchmark target: node MTTF 50 y, MTTR 1 d, one year, parallel repair
    assert sig4(d.loss_probability(5, 2, 1.0 / (50 * 365.0), 1.0, 365.0)) == "1.793e-09"


def test_loss_in_a_mission_is_not_mission_over_mttdl():
    lam, mu = 1.0 / MTTF_D, 1.0 / MTTR_D
    m = d.mttdl(5, 2, lam, mu)
    year = d.loss_probability(5, 2, lam, mu, YEAR_D)
    assert year < YEAR_D / m and year == pytest.approx(YEAR_D / m, rel=0.01)    # close once T >> MTTR
    day = d.loss_probability(5, 2, lam, mu, 1.0)
    assert day < 0.5 / m                # the chain has to leave "all up" first: far below T / MTTDL
    assert d.loss_probability(5, 2, lam, mu, 0.0) == 0.0


def test_the_loss_probability_integrates_to_the_mttdl():
    # E[T] = integral of P(not lost by t): the transient solution and the linear solve agree
    lam, mu = 1.0, 10.0
    m = d.mttdl(5, 2, lam, mu, "serial")
    t = np.linspace(0.0, 40 * m, 4001)
    survive = [1.0 - d.loss_probability(5, 2, lam, mu, x, "serial") for x in t]
    assert np.trapezoid(survive, t) == pytest.approx(m, rel=1e-4)


def test_serial_and_parallel_repair_differ_only_with_two_or_more_failed_slots():
    lam, mu = 1.0 / 100, 1.0
    assert d.mttdl(4, 1, lam, mu, "serial") == d.mttdl(4, 1, lam, mu, "parallel")
    assert d.mttdl(5, 2, lam, mu, "serial") < d.mttdl(5, 2, lam, mu, "parallel")
    # no redundancy: the first failure loses data, exponential with rate n lambda
    assert d.mttdl(3, 0, lam, mu) == pytest.approx(100 / 3)
    assert d.loss_probability(3, 0, lam, mu, 10.0) == pytest.approx(-math.expm1(-0.3))


def test_the_chain_keeps_its_theory_module_names():
    assert theory.mttdl is d.mttdl and theory.ttdl_std is d.ttdl_std and theory.stripe_mttdl is d.stripe_mttdl
    # the ratios the MTTDL theory check states (docs: 7.45 and 9.03 at MTTF/MTTR 10 and 30)
    assert d.mttdl(3, 2, 0.1, 1.0) / d.mttdl(5, 2, 0.1, 1.0) == pytest.approx(7.45, abs=0.005)
    assert d.mttdl(3, 2, 1 / 30, 1.0) / d.mttdl(5, 2, 1 / 30, 1.0) == pytest.approx(9.03, abs=0.005)


@pytest.mark.parametrize("call, name", [
    (lambda: d.mttdl(5, 5, 1.0, 1.0), "tolerated"),
    (lambda: d.mttdl(5, 2, 0.0, 1.0), "lam"),
    (lambda: d.mttdl(5, 2, 1.0, -1.0), "mu"),
    (lambda: d.mttdl(5, 2, 1.0, 1.0, "both"), "repair"),
    (lambda: d.loss_probability(5, 2, 1.0, 1.0, -1.0), "mission"),
    (lambda: d.loss_probability(5, 2, 1.0, 1.0, math.inf), "mission"),
])
def test_bad_chain_arguments_are_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# -- the Backblaze calculator ----------------------------------------------------


def test_backblaze_4_plus_2_at_10_percent_and_one_day():
    # `durability.py 4 2 0.10 1`: the stripe (at least 3 of 6 failed) loses 1.500e-7 a year
    assert sig4(d.annual_loss_probability(4, 2, 0.10, 1.0)) == "1.500e-07"
    # its table's rows are "at least j of the 6 shards failed": a window's probability, and the year's
    assert sig4(d.window_loss_probability(4, 2, 0.10, 1.0)) == "4.109e-10"
    assert sig4(d.window_loss_probability(4, 2, 0.10, 1.0, at_least=4)) == "8.443e-14"
    assert sig4(d.window_loss_probability(4, 2, 0.10, 1.0, at_least=5)) == "9.253e-18"
    assert sig4(d.annual_loss_probability(4, 2, 0.10, 1.0, at_least=4)) == "3.082e-11"
    assert sig4(d.annual_loss_probability(4, 2, 0.10, 1.0, at_least=5)) == "3.377e-15"


def test_backblaze_17_plus_3_vault():
    assert sig4(d.annual_loss_probability(17, 3, 0.00405, 6.5)) == "7.354e-12"
    # the calculator's older version: 56 whole periods a year and p = AFR / 56, which gives 7.416e-12
    periods = int(365 / 6.5)
    window = special.bdtrc(3, 20, 0.00405 / periods)
    assert sig4(-math.expm1(periods * math.log1p(-window))) == "7.416e-12"


def test_backblaze_p_is_not_the_naive_afr_times_window():
    assert d.shard_failure_probability(0.10, 1.0) == pytest.approx(-math.expm1(-0.1 / 365), rel=1e-15)

    def naive(k, m, afr, days):   # p = AFR d / 365 instead of 1 - exp(-AFR d / 365)
        return -math.expm1(365 / days * math.log1p(-special.bdtrc(m, k + m, afr * days / 365)))

    # the 17+3 vault tells them apart at four figures (4+2 at one day only at the fifth: 1.5003 and 1.4997)
    assert sig4(naive(17, 3, 0.00405, 6.5)) == "7.355e-12"
    assert f"{naive(4, 2, 0.10, 1.0):.4e}" == "1.5003e-07"
    assert f"{d.annual_loss_probability(4, 2, 0.10, 1.0):.4e}" == "1.4997e-07"


def test_rs32_against_three_replicas_is_c53_over_c33_to_first_order():
    rs = d.annual_loss_probability(3, 2, 0.02, 1.0)     # RS(3,2): lost when 3 of 5 fail
    rep = d.annual_loss_probability(1, 2, 0.02, 1.0)    # 3 replicas: lost when 3 of 3 fail
    ratio = rs / rep
    assert ratio == pytest.approx(math.comb(5, 3) / math.comb(3, 3), rel=1e-3)
    assert ratio == pytest.approx(9.9992, abs=5e-5)
    # Per byte of user data the ratio is the same 10: every byte lies in exactly one group, and a
    # group's loss does not depend on its shards' size here. RS(3,2) stores 5/3 bytes per byte and
    # replication 3, so for the same raw capacity RS(3,2) holds 3 / (5/3) = 1.8 x the data and
    # expects 1.8 x 10 = 18 x the bytes lost a year.
    per_raw_byte = ratio * (1 / (5 / 3)) / (1 / 3)
    assert per_raw_byte == pytest.approx(17.9985, abs=1e-4)


@pytest.mark.parametrize("call, name", [
    (lambda: d.annual_loss_probability(0, 2, 0.1, 1.0), "data_shards"),
    (lambda: d.annual_loss_probability(4, -1, 0.1, 1.0), "parity_shards"),
    (lambda: d.annual_loss_probability(4, 2, -1.0, 1.0), "afr"),
    (lambda: d.annual_loss_probability(4, 2, 0.1, 0.0), "window_days"),
    (lambda: d.annual_loss_probability(4, 2, 0.1, 1.0, at_least=7), "at_least"),
])
def test_bad_backblaze_arguments_are_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# -- nines and clusters ----------------------------------------------------------


def test_nines_and_a_cluster_of_independent_stripes():
    assert d.nines(1e-7) == pytest.approx(7.0) and d.nines(0.0) == math.inf
    assert str(d.nines(1.0)) == "0.0"     # not -0.0 in the printed figures
    assert d.finite_nines(0.0) is None and d.finite_nines(1e-3) == pytest.approx(3.0)   # JSON has no inf
    # 1 - (1 - 1e-15)^1e6 in plain floats is 1.11e-9 (1 - 1e-15 rounds); log1p/expm1 keep 1e-9
    assert d.cluster_loss_probability(1e-15, 10**6) == pytest.approx(1e-9, rel=1e-6)
    assert d.cluster_loss_probability(1.0, 3) == 1.0
    assert d.cluster_loss_probability(0.5, 2) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="stripes"):
        d.cluster_loss_probability(0.1, 0)
    with pytest.raises(ValueError, match="p:"):
        d.nines(1.5)


def test_the_chain_over_the_calculator_is_m_plus_1_parallel_and_m_plus_1_factorial_serial():
    # to first order in p: the calculator needs the m + 1 failures inside one fixed window, while in the
    # chain each failure opens its own repair interval (the figure `vstack-sim durability` states)
    for m in (1, 2, 3):
        calculator = d.annual_loss_probability(4, m, 0.02, 1.0)
        for repair, factor in (("parallel", m + 1), ("serial", math.factorial(m + 1))):
            chain = d.loss_probability(4 + m, m, 0.02 / 365, 1.0, 365.0, repair)
            assert chain / calculator == pytest.approx(factor, rel=0.01)


def test_the_package_facade_names_the_module_durability():
    import vstack_sim
    from vstack_sim import durability

    assert durability is d and vstack_sim.durability is d and "durability" in dir(vstack_sim)


def test_the_figures_docs_model_md_quotes_are_computed():
    from pathlib import Path

    text = " ".join((Path(__file__).resolve().parents[2] / "docs" / "model.md").read_text(encoding="utf-8").split())
    calculator = d.annual_loss_probability(4, 2, 0.02, 1.0)
    parallel = d.loss_probability(6, 2, 0.02 / 365, 1.0, 365.0) / calculator
    serial = d.loss_probability(6, 2, 0.02 / 365, 1.0, 365.0, "serial") / calculator
    assert f"({parallel:.2f} and {serial:.2f} for RS(4,2) at AFR 2 % and 1 day)" in text
    ratio = d.annual_loss_probability(3, 2, 0.02, 1.0) / d.annual_loss_probability(1, 2, 0.02, 1.0)
    assert f"({ratio:.4f} at AFR 2 % and 1 day in the calculator)" in text
    assert f"loses about {round(ratio * 1.8)} times the bytes" in text
    chain = [f"{d.loss_probability(n, 2, 1 / 3650, 1.0, 365.0, r):.3e}".replace("e-0", "e-")
             for r in ("parallel", "serial") for n in (5, 3)]
    assert (f"it is {chain[0]} ({chain[1]} for 3 replicas), and with serial repair {chain[2]} ({chain[3]})"
            in text)


# -- a scenario's figures ----------------------------------------------------------

DAY = 86400.0


def chain_scenario(policy: str = "erasure_coding", **failures):
    from tests.builders import config

    return config({
        "run": {"duration": "365d"},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0.0},
        "cluster": {"nodes": 8, "racks": 1},
        "redundancy": {"policy": policy},
        "failures": {"node_mttf": "3650d", "permanent_fraction": 1.0, "detection_timeout": 0,
                     "replacement_delay": 0, **failures},
        "repair": {"streams_per_node": 0, "bandwidth": 0, "time_model": "exponential", "mttr": "1d"},
    })


def test_analytic_for_config_on_the_chain_the_issue_quotes():
    cfg = chain_scenario()
    out = d.analytic_for_config(cfg)
    assert list(out["modes"]) == ["erasure_coding"]
    ec = out["modes"]["erasure_coding"]
    assert (ec["n"], ec["tolerated"], ec["data_shards"], ec["parity_shards"]) == (5, 2, 3, 2)
    assert ec["mttdl_s"] == d.stripe_mttdl(cfg)                     # the same chain as the theory checks'
    assert sig4(ec["mission_loss"]) == "2.239e-07"                   # one year of 365 days
    assert ec["mission_nines"] == pytest.approx(-math.log10(ec["mission_loss"]))
    # the calculator at AFR = 365 d / 3650 d = 10 % and a one-day window
    assert ec["backblaze_annual_loss"] == pytest.approx(d.annual_loss_probability(3, 2, 0.1, 1.0), rel=1e-12)
    assert (out["mttr_s"], out["mission_s"], out["repair"]) == (DAY, 365 * DAY, "parallel")
    assert out["slot_mttf_s"] == pytest.approx(3650 * DAY)
    rep = d.analytic_for_config(chain_scenario("replication"), repair="serial")["modes"]["replication"]
    assert (rep["n"], rep["data_shards"], rep["parity_shards"]) == (3, 1, 2)
    assert sig4(rep["mission_loss"]) == "4.474e-08"


def test_analytic_for_config_covers_every_mode_the_policy_can_assign_and_every_destroying_failure():
    from tests.builders import config

    cfg = config({"failures": {"node_mttf": "100d", "permanent_fraction": 0.25, "disk_mttf": "400d",
                               "rack_mttf": "1000d", "rack_permanent": True, "detection_timeout": "1h"},
                  "repair": {"time_model": "exponential", "mttr": "5h"}})
    assert d.slot_hazard(cfg) == pytest.approx(0.25 / (100 * DAY) + 1 / (400 * DAY) + 1 / (1000 * DAY))
    out = d.analytic_for_config(cfg)
    assert set(out["modes"]) == {"replication", "erasure_coding"}   # the default adaptive policy
    assert out["mttr_s"] == 6 * 3600.0                               # detection + repair.mttr
    lam = d.slot_hazard(cfg)
    assert out["modes"]["replication"]["mttdl_s"] == d.mttdl(3, 2, lam, 1 / (6 * 3600.0))


def test_analytic_for_config_without_a_hazard_or_a_repair_time():
    from tests.builders import config

    assert d.analytic_for_config(config({})) is None                 # no random failure destroys data
    io = config({"failures": {"node_mttf": "30d", "permanent_fraction": 1.0}, "repair": {"time_model": "io"}})
    blank = d.analytic_for_config(io)["modes"]["erasure_coding"]
    assert blank["mttdl_s"] is None and blank["backblaze_annual_loss"] is None and blank["n"] == 5
    given = d.analytic_for_config(io, mttr=2 * 3600.0)["modes"]["erasure_coding"]
    assert given["mttdl_s"] == d.mttdl(5, 2, 1 / (30 * DAY), 1 / 7200.0)
    with pytest.raises(ValueError, match="mttr"):
        d.analytic_for_config(io, mttr=0.0)
