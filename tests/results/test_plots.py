"""Figures: one per function, labelled axes, deterministic PNGs, empty tables handled."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from tests.conftest import make_fake_result
from vstack_sim.results import plots


def png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    plots.save_figure(fig, buf)
    return buf.getvalue()


def test_backend_is_agg_when_nothing_chose_one():
    assert matplotlib.get_backend().lower() == "agg"


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_every_figure_has_labelled_axes_with_units(name, fake_result):
    fig = plots.FIGURES[name](fake_result)
    assert isinstance(fig, Figure)
    ax = fig.axes[-1]
    assert ax.get_xlabel() and ax.get_ylabel()
    assert fig.get_suptitle().endswith("fake")
    assert tuple(fig.get_size_inches()) [0] == plots.FIGSIZE[0] and fig.dpi == plots.DPI


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_png_is_byte_identical_and_has_no_software_tag(name, fake_result):
    a = png_bytes(plots.FIGURES[name](fake_result))
    b = png_bytes(plots.FIGURES[name](make_fake_result()))
    assert a == b
    assert a.startswith(b"\x89PNG")
    assert b"matplotlib" not in a.lower()


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_empty_tables_draw_a_no_data_figure(name, fake_result):
    empty = {k: df.iloc[0:0] for k, df in fake_result.tables.items()}
    fake_result.tables = empty
    fig = plots.FIGURES[name](fake_result)
    png_bytes(fig)  # renders without error


def test_storage_by_mode_matches_the_summary(fake_result):
    fig = plots.storage_by_mode(fake_result)
    texts = [t.get_text() for t in fig.axes[0].texts]
    start = fake_result.summary["storage_initial"]["storage_savings_percent"]
    end = fake_result.summary["storage"]["storage_savings_percent"]
    assert texts[0].endswith("0.00 % saved")  # all replication
    assert texts[1].endswith(f"{start:.2f} % saved")
    assert texts[2].endswith(f"{end:.2f} % saved")
    assert texts[3].endswith("44.44 % saved")  # all RS(3,2): 5 x ceil(S/3) vs 3 x S


def test_read_latency_cdf_has_one_curve_per_kind_and_leaves_failed_out(fake_result):
    fig = plots.read_latency_cdf(fake_result)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    reads = fake_result.tables["reads"]
    for kind, label in plots.KIND_LABELS.items():
        n = int((reads["kind"] == kind).sum())
        if kind != "cache":                       # the fake run has no cache (next test)
            assert f"{label} (n={n:,})" in labels
    assert not any("failed" in label for label in labels)


def test_read_latency_cdf_draws_cache_hits_as_a_kind_of_their_own(fake_result):
    reads = fake_result.tables["reads"]
    hits = reads.index[reads["kind"] == "replication"][:5]
    reads.loc[hits, "kind"], reads.loc[hits, "latency_ms"] = "cache", 2.18
    fake_result.summary["reads"]["latency_ms"]["cache"] = {"count": 5, "p50": 2.18, "p99": 2.18}
    ax = plots.read_latency_cdf(fake_result).axes[0]
    (hit,) = [line for line in ax.get_lines() if line.get_label() == "cache hit (n=5)"]
    assert set(hit.get_xdata()) == {2.18}


def test_ecdf_ends_at_one(fake_result):
    fig = plots.recovery_times(fake_result)
    line = fig.axes[0].get_lines()[0]
    assert line.get_ydata()[-1] == 1.0
    assert line.get_xdata()[0] == pytest.approx(1.5)  # 5400 s in hours


def test_node_timeline_draws_down_spans_until_up_or_replaced(fake_result):
    fig = plots.node_timeline(fake_result)
    spans = [c for c in fig.axes[0].collections]
    assert len(spans) == 2  # node 2 and node 4
    # node 2: down at 3600 s, replaced at 18000 s -> 4 h, in days
    paths = spans[0].get_paths()[0].vertices
    assert paths[:, 0].min() == pytest.approx(3600 / 86400)
    assert paths[:, 0].max() == pytest.approx(18000 / 86400)


def test_repair_traffic_bins_keep_every_byte_and_the_burst_panel_shows_the_exact_peak(fake_result):
    fig = plots.repair_traffic(fake_result)
    top, bottom = fig.axes
    x = top.get_lines()[0].get_xdata() * 86400.0                 # days -> s; bins of duration / 400
    rate = top.get_lines()[0].get_ydata() * 1e6
    width = fake_result.config.run.duration / 400
    repairs = fake_result.tables["repairs"]
    assert len(x) == 400 and (rate * width).sum() == pytest.approx(repairs["bytes_read"].sum())
    # Jobs move their bytes evenly over [start, end]; all three overlap from 4700 s to 5000 s.
    peak = sum(b / (e - s)
               for s, e, b in zip(repairs["start_s"], repairs["end_s"], repairs["bytes_read"], strict=False))
    assert max(bottom.get_lines()[0].get_ydata()) * 1e6 == pytest.approx(peak)
    assert f"peak {peak / 1e6:,.0f} MB/s" in bottom.texts[0].get_text()


def test_a_26_second_1_gb_s_burst_is_not_hidden(fake_result):
    import pandas as pd

    jobs = 26
    fake_result.tables = dict(fake_result.tables, repairs=pd.DataFrame({
        "chunk_id": range(jobs), "slot": 0, "mode": "replication", "failure_id": 0, "target_node": 1,
        "start_s": 86400.0 + np.arange(jobs), "end_s": 86401.0 + np.arange(jobs), "bytes_read": 10**9,
        "bytes_written": 10**9}))
    bottom = plots.repair_traffic(fake_result).axes[1]
    assert max(bottom.get_lines()[0].get_ydata()) == pytest.approx(1000.0)     # MB/s
    assert "seconds" in bottom.get_xlabel()


def test_recovery_times_draws_a_single_failure_in_the_cli_unit(fake_result):
    fig = plots.recovery_times(fake_result)          # one declared failure, 5400 s: the CLI says 1.50 h
    ax = fig.axes[0]
    assert ax.get_xlabel() == "recovery time (hours)"
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(dots) == 1 and list(dots[0].get_xdata()) == [1.5]
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] > 1.5
    fast = fake_result.tables["failures"].assign(recovery_time_s=[1000.0, np.nan])
    fake_result.tables = dict(fake_result.tables, failures=fast)
    assert plots.recovery_times(fake_result).axes[0].get_xlabel() == "recovery time (minutes)"


def test_storage_savings_axis_starts_at_zero_and_states_the_change(fake_result):
    bottom = plots.storage_over_time(fake_result).axes[1]
    assert bottom.get_ylim()[0] == 0
    savings = fake_result.tables["storage_timeline"]["storage_savings_percent"]
    assert f"({savings.iloc[-1] - savings.iloc[0]:+.2f} points)" in bottom.texts[0].get_text()


def test_node_timeline_has_a_legend_and_replacements_unlike_bars(fake_result):
    ax = plots.node_timeline(fake_result).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["down", "declared dead (repair starts)", "replaced by an empty node"]
    markers = {line.get_marker() for line in ax.get_lines() if len(line.get_xdata())}
    assert markers == {"x", "D"}


def test_startup_latency_caption_matches_its_curves(fake_result):
    labels = [line.get_label() for line in plots.startup_latency(fake_result).axes[0].get_lines()]
    assert labels[0].startswith("all views") and all(label.startswith("first chunk, ") for label in labels[1:])
    assert "all views" in plots.startup_latency.__doc__.splitlines()[0]


def test_popularity_is_log_log_and_sorted(fake_result):
    fig = plots.popularity(fake_result)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    y = ax.get_lines()[1].get_ydata()
    assert list(y) == sorted(y, reverse=True)


def test_migrations_count_by_direction(fake_result):
    fig = plots.migrations_over_time(fake_result)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["to replication (1)"]


def test_works_on_a_folder_read_back(tmp_path, fake_result):
    from vstack_sim.results.store import load_result, write_data

    write_data(tmp_path, fake_result.config, fake_result.summary, fake_result.tables, {})
    loaded = load_result(tmp_path)
    for name, draw in plots.FIGURES.items():
        assert png_bytes(draw(loaded)) == png_bytes(draw(fake_result)), name


def test_latency_axis_is_log_only_for_a_wide_spread(fake_result):
    reads = fake_result.tables["reads"]
    ok = reads["latency_ms"].notna()
    for values, scale in ((np.geomspace(1, 1000, ok.sum()), "log"), (np.full(ok.sum(), 35.0), "linear")):
        changed = reads.copy()
        changed.loc[ok, "latency_ms"] = values
        fake_result.tables = dict(fake_result.tables, reads=changed)
        assert plots.read_latency_cdf(fake_result).axes[0].get_xscale() == scale


def test_recovery_split_draws_detection_and_repair_even_for_a_single_failure(fake_result):
    failures = fake_result.tables["failures"]
    assert int(failures["declared"].sum()) == 1
    fig = plots.recovery_split(fake_result)
    bars = [p for p in fig.axes[0].patches]
    assert len(bars) == 2                                   # detection, then repair
    assert bars[0].get_width() == 900.0 / 3600 and bars[1].get_x() == 900.0 / 3600
    assert bars[1].get_width() == (9000.0 - 4500.0) / 3600


def test_reduced_redundancy_plots_the_timeline_counts(fake_result):
    fig = plots.reduced_redundancy(fake_result)
    line = fig.axes[0].get_lines()[0]
    tl = fake_result.tables["storage_timeline"]
    assert list(line.get_ydata()) == list(tl["degraded_chunks"] + tl["unavailable_chunks"])


def test_read_latency_shows_the_tail_on_a_log_survival_axis_with_the_exact_quantiles(fake_result):
    fig = plots.read_latency_cdf(fake_result)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "fraction of reads at least this slow"
    exact = fake_result.summary["reads"]["latency_ms"]
    dots = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.get_lines() if line.get_marker() == "o"]
    for kind in set(plots.KIND_LABELS) - {"cache"}:   # the fake run has no cache
        assert (exact[kind]["p99"], pytest.approx(0.01)) in [(x, pytest.approx(y)) for x, y in dots]
    # A sampled table says the curves are a sample, and each label gives the kind's reads in the whole run.
    fake_result.summary["reads"]["count"] = 6000
    fake_result.summary["reads"]["latency_ms"]["degraded"]["count"] = 286
    sampled = plots.read_latency_cdf(fake_result)
    n = int((fake_result.tables["reads"]["kind"] == "degraded").sum())
    assert f"degraded EC (n={n:,} of 286)" in [line.get_label() for line in sampled.axes[0].get_lines()]
    assert "curves from a sample" in sampled._suptitle.get_text()


def test_read_p99_windows_hold_1000_reads_and_the_longest_rebuild_is_drawn_up_close(fake_result):
    from vstack_sim.results.plots.latency import MIN_READS_PER_WINDOW, p99_window

    reads = fake_result.tables["reads"]
    window = p99_window(fake_result, reads)
    assert len(reads) * window / fake_result.config.run.duration >= MIN_READS_PER_WINDOW
    assert len(reads) * (window - 60) / fake_result.config.run.duration < MIN_READS_PER_WINDOW
    fig = plots.read_p99_over_time(fake_result)
    top, close = fig.axes[:2]
    assert [t.get_text() for t in top.get_legend().get_texts()][1:] == ["rebuild", "failure"]
    assert close.get_ylabel() == "read latency (ms)" and any(p.get_label() == "rebuild" for p in close.patches)


def test_every_figure_for_runs_with_and_without_failures_captions_legends_and_empty_figures():
    from tests.builders import config, fail
    from vstack_sim.model.simulation import simulate
    from vstack_sim.results.plots.relevance import left_out
    from vstack_sim.results.report import _figure_caption

    base = {"run": {"duration": 2 * 86400}, "catalog": {"videos": 20, "chunks_per_video": 3, "chunk_size": "1MiB"},
            "cluster": {"nodes": 8, "racks": 4}, "workload": {"view_rate": "0.05/s"}}
    quiet = simulate(config(base))
    failing = simulate(config(base, {"failures": {"scheduled": [fail(3600.0 * k, k) for k in range(1, 6)],
                                                  "detection_timeout": "10min"}}))
    assert {n for n in plots.FIGURES if left_out(n, quiet)} == {
        "recovery_times", "recovery_split", "reduced_redundancy", "repair_traffic", "node_timeline",
        "migrations_over_time"}
    assert {n for n in plots.FIGURES if left_out(n, failing)} == {"migrations_over_time"}
    for run in (quiet, failing):
        for name, draw in plots.FIGURES.items():
            fig = draw(run)                                   # every figure draws, with or without content
            caption = _figure_caption(name)
            assert caption.endswith((".", ")")) and "\n" not in caption, name
            for ax in fig.axes:
                legend = ax.get_legend()
                if legend is None:
                    continue
                drawn = {h.get_label() for h in ax.get_lines() + ax.patches + ax.collections + ax.containers}
                if name != "node_timeline":    # its legend uses proxy handles, checked below
                    assert {t.get_text() for t in legend.get_texts()} <= drawn, name
    legend = plots.node_timeline(failing).axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["down", "declared dead (repair starts)",
                                                          "replaced by an empty node"]
    # one unit for recovery times across the report's figures
    split_unit = plots.recovery_split(failing).axes[0].get_xlabel().rsplit("(", 1)[1]
    assert plots.recovery_times(failing).axes[0].get_xlabel().rsplit("(", 1)[1] == split_unit
