"""The formulas the docs state, computed: the docs say what the code does (issue 19: docs/model.md was stale)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from tests.builders import config
from vstack_sim.model.catalog import build_catalog
from vstack_sim.model.simulation import simulate
from vstack_sim.model.streams import RandomStreams
from vstack_sim.scenario.schema import Config

ROOT = Path(__file__).resolve().parents[1]
MODEL_MD = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_weibull_mean_the_docs_quote_is_scale_times_gamma():
    mean_h = 87_600 * math.gamma(1 + 1 / 1.12)          # 84,038.09 h
    quoted = f"{mean_h:,.0f} h"
    texts = {"docs/production-scale.md": (ROOT / "docs" / "production-scale.md").read_text(encoding="utf-8"),
             "the failures.disk_mttf docstring": Config.model_fields["failures"].annotation
             .model_fields["disk_mttf"].description}
    for where, text in texts.items():
        found = re.findall(r"Weibull\(1\.12, 87,600 h\)[^.]*?mean of (?:about )?([0-9,]+ h)", flat(text))
        assert found == [quoted], where


def test_one_idle_replicated_read_takes_the_documented_sum():
    assert ("p + S / `disk_bandwidth` + S / `network_bandwidth` + S / `client_bandwidth` + `network_latency`"
            in flat(MODEL_MD))
    cl = {"request_latency": 0.006, "disk_bandwidth": 80e6, "network_bandwidth": 3e9, "client_bandwidth": 2e9,
          "network_latency": 0.0007}
    cfg = config({"run": {"duration": 60}, "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
                  "cluster": {"nodes": 1, "racks": 1, "io_slots": 1, **cl},
                  "redundancy": {"policy": "replication", "replication_factor": 1},
                  "workload": {"scheduled_views": [{"at": 1.0, "video": 0}]}})
    size = cfg.catalog.chunk_size
    documented = (cl["request_latency"] + size / cl["disk_bandwidth"] + size / cl["network_bandwidth"]
                  + size / cl["client_bandwidth"] + cl["network_latency"])
    assert abs(simulate(cfg).reads["latency_ms"].iloc[0] - documented * 1000.0) < 1e-9


def test_lognormal_chunk_counts_have_the_configured_mean_as_the_docs_say():
    assert "lognormal count with that mean and `chunk_count_sigma`" in flat(MODEL_MD)
    cat = config({"catalog": {"videos": 20_000, "chunks_per_video": 40, "chunk_count_distribution": "lognormal",
                              "chunk_count_sigma": 0.8}}).catalog
    counts = build_catalog(cat, 1000, RandomStreams(7).catalog).chunks_per_video.astype(np.float64)
    # Rounded to whole chunks (at least 1), so the mean is 40 up to rounding; 4 standard errors.
    assert abs(counts.mean() - 40) < 4 * counts.std() / math.sqrt(len(counts)) + 0.5
