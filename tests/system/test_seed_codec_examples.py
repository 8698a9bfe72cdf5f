"""The seed's codec usage example, run as written, and the seed's storage figures checked."""

from __future__ import annotations

import numpy as np
import pytest

from vstack_sim import ErasureCoder, FragmentManager

MiB = 2**20


TWO_MB_CHUNK = np.random.default_rng(2024).integers(0, 256, 2 * MiB, dtype=np.uint8).tobytes()


@pytest.mark.parametrize("example_chunk", [b"...", TWO_MB_CHUNK], ids=["literal", "2MiB"])
def test_seed_usage_example(example_chunk):
    coder = ErasureCoder(data_shards=3, parity_shards=2)
    chunk_data = example_chunk  # 2MB chunk
    fragments = coder.encode_chunk(chunk_data)  # Returns 5 fragments
    available_fragments = [(0, fragments[0]), (2, fragments[2]), (4, fragments[4])]
    manager = FragmentManager(coder)
    recovered_data = manager.reconstruct_chunk(available_fragments)

    assert len(fragments) == 5
    assert recovered_data == chunk_data


def test_seed_storage_efficiency_figures():
    coder = ErasureCoder(data_shards=3, parity_shards=2)
    fragments = coder.encode_chunk(bytes(2 * MiB))
    sizes = [f.size for f in fragments]
    total = sum(sizes)

    # The seed said "400 KB each ... 5 x 400 KB = 2 MB": both figures are wrong.
    seed_fragment, seed_total = 400_000, 5 * 400_000
    assert seed_total == 2_000_000

    assert sizes == [699_051] * 5  # ceil(2,097,152 / 3), not 400 KB
    assert total == 3_495_255  # 5 x 699,051, not 2 MB
    assert sizes[0] != seed_fragment and total != seed_total
    # What RS(3,2) does cost: 5/3 of the chunk (plus < k bytes of padding), vs 3x for replication.
    assert total / (2 * MiB) == 3_495_255 / 2_097_152
    assert abs(total / (2 * MiB) - 5 / 3) < 1e-6
