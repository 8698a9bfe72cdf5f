"""Viewers: Poisson arrivals, daily cycle, age decay, flash crowds, Zipf choice and watch fractions."""

import numpy as np
import pytest

from tests.builders import config
from vstack_sim.model.simulation import Simulation, simulate

DAY = 86400.0


def viewers(**workload):
    return config({"run": {"duration": "4d", "seed": 5},
                   "catalog": {"videos": 200, "chunks_per_video": 2, "chunk_size": 4096},
                   "cluster": {"nodes": 6, "racks": 3},
                   "workload": {"view_rate": "0.2/s", **workload}})


def test_poisson_view_count_and_zipf_choice():
    r = simulate(viewers())
    views = r.views
    expected = 0.2 * 4 * DAY
    assert abs(len(views) - expected) < 4 * np.sqrt(expected)
    share_top = (views["video_id"] == 0).mean()
    zipf_top = 1.0 / np.sum(1.0 / np.arange(1, 201))
    assert share_top == pytest.approx(zipf_top, abs=0.01)


def test_daily_cycle_peaks_at_the_peak_hour():
    r = simulate(viewers(daily_cycle=0.8, peak_hour=20))
    hour = (r.views["time_s"] // 3600 % 24).astype(int)
    per_hour = np.bincount(hour, minlength=24)
    assert per_hour[19:22].sum() > 3 * per_hour[7:10].sum()


def test_age_decay_halves_the_view_rate_each_half_life():
    r = simulate(viewers(age_decay_half_life="1d"))
    per_day = np.bincount((r.views["time_s"] // DAY).astype(int), minlength=4)
    ratios = per_day[1:] / per_day[:-1]
    assert np.allclose(ratios, 0.5, atol=0.08)


def test_flash_crowd_adds_views_of_its_video_only_inside_its_window():
    r = simulate(viewers(flash_crowds=[{"video": 150, "start": "1d", "duration": "6h", "view_rate": "0.5/s"}]))
    v = r.views[r.views["video_id"] == 150]
    inside = v[(v["time_s"] >= DAY) & (v["time_s"] < DAY + 6 * 3600)]
    assert len(inside) == pytest.approx(0.5 * 6 * 3600, rel=0.05)
    base_share = (1 / 151) / np.sum(1.0 / np.arange(1, 201))      # rank 151 of 200 under Zipf(1)
    assert len(v) - len(inside) < 1.5 * 0.2 * 4 * DAY * base_share  # outside the window: base views only


def test_uniform_watch_fraction_reads_part_of_each_video():
    r = simulate(config({"run": {"duration": "1d"}, "catalog": {"videos": 50, "chunks_per_video": 20,
                                                                 "chunk_size": 4096},
                         "cluster": {"nodes": 6, "racks": 3},
                         "workload": {"view_rate": "0.05/s", "watch_distribution": "uniform"}}))
    watched = r.views["chunks_requested"]
    assert watched.min() >= 1 and watched.max() <= 20
    assert watched.mean() == pytest.approx(10.5, abs=1.0)
    assert r.summary["views"]["bytes_served"] == r.views["bytes_served"].sum() == r.videos["total_bytes_served"].sum()


def test_late_binding_reads_extra_fragments_and_uses_the_first_k():
    base = {"run": {"duration": "6h"}, "catalog": {"videos": 20, "chunks_per_video": 5, "hot_fraction": 0},
            "cluster": {"nodes": 5, "racks": 5, "io_slots": 1}, "workload": {"view_rate": "2/s"}}
    plain, late = simulate(config(base)), simulate(config(base, {"workload": {"late_binding_extra": 1}}))
    assert plain.views["time_s"].equals(late.views["time_s"])
    p99_plain = plain.summary["reads"]["latency_ms"]["all"]["p99"]
    p99_late = late.summary["reads"]["latency_ms"]["all"]["p99"]
    assert p99_late != p99_plain


def test_weibull_time_to_failure_has_the_configured_mean():
    for shape in (0.7, 1.0, 3.0):
        cfg = config({"failures": {"node_mttf": "30d", "ttf_distribution": "weibull", "weibull_shape": shape}})
        clock = Simulation(cfg).build().world.clock
        rng = np.random.default_rng(1)
        draws = np.array([clock.draw("node", rng, first=False) for _ in range(20000)])
        assert draws.mean() == pytest.approx(30 * DAY, rel=0.03)
