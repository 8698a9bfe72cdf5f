"""One disk slot, Poisson reads of fixed-size chunks: the read path is an M/D/1 queue.

Mean latency through simulate() must match Pollaczek-Khinchine,
1/mu + rho / (2 mu (1 - rho)), plus the fixed network terms, within 3 %.
"""

import pytest

from tests.builders import config
from vstack_sim.analysis.theory import md1_mean_sojourn
from vstack_sim.model.simulation import simulate

S = 2 * 2**20
SERVICE = 0.004 + S / 50e6
# NIC (never queues: one disk, one slot, slower than the NIC), client link, latency
NETWORK = S / 1.25e9 + S / 1.25e8 + 0.0005


@pytest.mark.parametrize("rho,reads", [(0.5, 300_000), (0.9, 1_000_000)])
def test_mean_read_latency_matches_pollaczek_khinchine(rho, reads):
    rate = rho / SERVICE
    cfg = config({
        "run": {"duration": reads / rate, "seed": 11},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 1, "racks": 1, "io_slots": 1},
        "redundancy": {"policy": "replication", "replication_factor": 1},
        "workload": {"view_rate": rate},
        "outputs": {"timeline_interval": "1d", "reads_table_sample": 1000},
    })
    s = simulate(cfg).summary
    assert s["reads"]["count"] > 0.97 * reads
    expected_ms = (md1_mean_sojourn(rate, SERVICE) + NETWORK) * 1000.0
    assert s["reads"]["latency_ms"]["all"]["mean"] == pytest.approx(expected_ms, rel=0.03)
