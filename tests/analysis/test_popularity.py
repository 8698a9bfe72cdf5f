"""Zipf top shares over a finite catalog, and the exponent that gives a measured share."""

from __future__ import annotations

import numpy as np
import pytest

from vstack_sim.analysis.popularity import zipf_alpha_for_top_share, zipf_partial_sum, zipf_top_share
from vstack_sim.model.catalog import zipf_weights


@pytest.mark.parametrize("m", [1, 7, 4096, 4097, 5000, 123_457])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.94, 1.0, 1.0 + 1e-12, 1.13, 2.0, 7.0])
def test_partial_sums_are_the_direct_sums(m, alpha):
    direct = float(np.sum(np.arange(1, m + 1, dtype=np.float64) ** -alpha))
    assert zipf_partial_sum(m, alpha) == pytest.approx(direct, rel=1e-12)


def test_top_share_is_the_catalogs_own_zipf_weights():
    # The model's popularity (model/catalog.py): the top 100 of 1,000 at alpha 1 draw H(100) / H(1000).
    assert zipf_top_share(1000, 1.0, 0.1) == pytest.approx(zipf_weights(1000, 1.0)[:100].sum(), rel=1e-12)
    assert zipf_top_share(1000, 1.0, 0.1) == pytest.approx(0.6930, abs=1e-4)
    assert zipf_top_share(1000, 0.0, 0.1) == pytest.approx(0.1)    # alpha 0: every video alike


def test_youtube_2006_figure_top_10_percent_draw_79_percent():
    # 5.1 M videos, top 10 % drew 79 % of plays: alpha 0.939 (0.94 within 0.01); at 1,000 videos 1.133.
    big = zipf_alpha_for_top_share(5_100_000, 0.1, 0.79)
    small = zipf_alpha_for_top_share(1000, 0.1, 0.79)
    assert big == pytest.approx(0.94, abs=0.01) and big == pytest.approx(0.9391, abs=1e-4)
    assert small == pytest.approx(1.13, abs=0.01) and small == pytest.approx(1.1331, abs=1e-4)
    assert zipf_top_share(5_100_000, big, 0.1) == pytest.approx(0.79, abs=1e-8)
    assert zipf_top_share(1000, small, 0.1) == pytest.approx(0.79, abs=1e-8)


def test_a_smaller_catalog_needs_a_steeper_law():
    alphas = [zipf_alpha_for_top_share(n, 0.1, 0.79) for n in (300, 1000, 12_320, 5_100_000)]
    assert alphas == sorted(alphas, reverse=True)


@pytest.mark.parametrize("args, message", [
    ((1000, 0.1, 0.05), "share must be in \\[0.1, 1\\)"),
    ((1000, 0.1, 1.0), "share must be in"),
    ((1000, 1.0, 0.5), "share must be in"),
    ((0, 0.1, 0.5), "n must be >= 1"),
    ((1000, 0.0, 0.5), "top_fraction must be in"),
])
def test_impossible_shares_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        zipf_alpha_for_top_share(*args)


def test_the_shipped_scenarios_table_in_model_md_is_true():
    from pathlib import Path

    from vstack_sim.scenario.catalog_source import load_videos_csv
    from vstack_sim.scenario.files import load_scenario

    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "model.md").read_text()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "Alpha for 79" in line)      # the table's header
    end = next(i for i in range(start, len(lines)) if not lines[i].strip().startswith("|"))
    rows = [line.split("|")[1:-1] for line in lines[start:end] if line.strip().startswith("| `")]
    named = {cells[0].strip().strip("`"): [c.strip() for c in cells[1:5]] for cells in rows}
    assert set(named) == {p.stem for p in (root / "scenarios").glob("*.yaml")}   # every shipped scenario
    for name, (videos, alpha, share, needed) in named.items():
        cfg = load_scenario(root / "scenarios" / f"{name}.yaml")
        assert f"{cfg.catalog.videos:,}" == videos, name
        if cfg.catalog.source is not None:
            views = np.sort(load_videos_csv(cfg.catalog.source).views)[::-1]
            got = views[: round(0.1 * len(views))].sum() / views.sum()
        else:
            assert float(alpha) == cfg.catalog.zipf_alpha, name
            got = zipf_top_share(cfg.catalog.videos, cfg.catalog.zipf_alpha, 0.1)
            assert f"{zipf_alpha_for_top_share(cfg.catalog.videos, 0.1, 0.79):.3f}" == needed, name
        assert f"{100 * got:.1f} %" == share, name
