"""Random service times through simulate(): an M/G/1 queue, and the slowest of k at zero load.

* M/G/1: one node, one disk, one slot, Poisson reads of a small replicated chunk. The
  service time is a lognormal positioning time (CV 1) plus the fixed transfer; E[S] and
  E[S^2] come from the configured distribution. The NIC never queues (the disk's transfer
  alone takes longer than the NIC's), so the mean latency is Pollaczek-Khinchine's mean
  sojourn plus the fixed NIC, client-link and network terms, within 3 %.
* Slowest of k: one viewer reads a long RS(3,2) video chunk after chunk, so every read finds
  idle disks. Its mean latency is E[max of k positioning times] (numerically integrated) plus
  the fixed terms, within 4 standard errors of the sample mean.
"""

import math

import numpy as np
import pytest

from tests.builders import config
from vstack_sim.analysis.theory import expected_max, mg1_mean_sojourn
from vstack_sim.model.devices import PositioningTimes
from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.schema import Config
from vstack_sim.validation.queue_checks import CLIENT_BW, DISK_BW, MEAN_POS, NET_LAT, NIC_BW, mg1_scenario
from vstack_sim.validation.queue_checks import MG1_CHUNK as CHUNK
from vstack_sim.validation.queue_checks import mg1_device as device


@pytest.mark.parametrize("rho,reads", [(0.5, 300_000), (0.8, 1_000_000)])
def test_mean_read_latency_with_lognormal_service_matches_mg1(rho, reads):
    transfer = CHUNK / DISK_BW
    pos = PositioningTimes("lognormal", MEAN_POS, 1.0, np.random.default_rng(0))
    m1, m2 = pos.moments()
    es = m1 + transfer
    es2 = m2 + 2 * m1 * transfer + transfer ** 2
    assert CHUNK / NIC_BW < transfer                      # the NIC is faster than the disk: it never queues
    rate = rho / es
    cfg = Config.model_validate(mg1_scenario(rate, reads / rate, 5))   # the setup check-model runs (one source)
    s = simulate(cfg).summary
    assert s["reads"]["count"] > 0.97 * reads
    fixed = CHUNK / NIC_BW + CHUNK / CLIENT_BW + NET_LAT
    expected_ms = (mg1_mean_sojourn(rate, es, es2) + fixed) * 1000.0
    assert s["reads"]["latency_ms"]["all"]["mean"] == pytest.approx(expected_ms, rel=0.03)


@pytest.mark.parametrize("kind,cv", [("lognormal", 1.0), ("gamma", 0.4)])
def test_zero_load_ec_read_is_the_slowest_of_k_service_times(kind, cv):
    k, chunks = 3, 20_000
    chunk = 3 * 2**20
    frag = chunk // k
    cfg = config({
        "run": {"duration": "2h", "seed": 9},
        "catalog": {"videos": 1, "chunks_per_video": chunks, "hot_fraction": 0.0, "chunk_size": chunk},
        "cluster": {"nodes": 5, "racks": 5, "node_capacity": "1TB", **device(kind, cv)},
        "redundancy": {"policy": "erasure_coding", "data_shards": k, "parity_shards": 2},
        "workload": {"scheduled_views": [{"at": 1.0, "video": 0}]},
        "outputs": {"reads_table_sample": 0},
    })
    r = simulate(cfg)
    lat = r.reads["latency_ms"].to_numpy() / 1000.0
    assert len(lat) == chunks and set(r.reads["kind"]) == {"erasure_coding"}
    pos = PositioningTimes(kind, MEAN_POS, cv, np.random.default_rng(0))
    fixed = frag / DISK_BW + frag / NIC_BW + k * frag / CLIENT_BW + NET_LAT
    expected = expected_max(pos.cdf, k, pos.upper()) + fixed
    se = lat.std(ddof=1) / math.sqrt(len(lat))
    assert abs(lat.mean() - expected) < 4 * se
    # The integral itself: k = 1 gives back the mean, and the maximum of 3 is well above it.
    assert expected_max(pos.cdf, 1, pos.upper()) == pytest.approx(MEAN_POS, rel=1e-4)
    assert expected - fixed > 1.2 * MEAN_POS
