"""The Reed-Solomon codec: layout, byte identity with reedsolo, decoding, checksums, input validation."""

from __future__ import annotations

import dataclasses
import pickle
import threading
from itertools import combinations

import google_crc32c
import numpy as np
import pytest
import reedsolo

from vstack_sim.system.codec import (
    ErasureCoder,
    Fragment,
    FragmentManager,
    InsufficientFragmentsError,
    fragment_size,
    gf,
)
from vstack_sim.system.codec.checksum import crc32c_hex

MiB = 2**20


def random_bytes(size: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


def crc_hex(data) -> str:
    return f"{google_crc32c.value(bytes(data)):08x}"


def pairs_of(fragments, indices):
    return [(i, fragments[i]) for i in indices]


def as_read_from_disk(fragment: Fragment, data=None) -> Fragment:
    """A fragment rebuilt from stored bytes and stored metadata (checksum kept as stored)."""
    return Fragment(
        index=fragment.index,
        data=bytes(fragment.data) if data is None else data,
        checksum=fragment.checksum,
        chunk_size=fragment.chunk_size,
        chunk_checksum=fragment.chunk_checksum,
    )


def rot(fragment: Fragment, position: int = 0) -> Fragment:
    data = bytearray(fragment.data)
    data[position] ^= 0x40
    return as_read_from_disk(fragment, bytes(data))


# -- layout and byte identity ---------------------------------------------------


@pytest.mark.parametrize("k, m", [(3, 2), (6, 3), (1, 0), (1, 2), (10, 4)])
def test_fragments_are_reedsolo_codewords_column_by_column(k, m):
    chunk = random_bytes(1000 + k // 2, seed=k * 31 + m)  # not a multiple of k for most k
    fragments = ErasureCoder(k, m).encode_chunk(chunk)
    size = fragment_size(len(chunk), k)
    padded = chunk + bytes(k * size - len(chunk))
    shards = [padded[j * size : (j + 1) * size] for j in range(k)]
    rs = reedsolo.RSCodec(m, nsize=k + m)
    for i in range(size):
        message = bytes(shard[i] for shard in shards)
        codeword = bytes(rs.encode(message))
        assert codeword[:k] == message  # reedsolo's layout: message first, then m parity bytes
        assert bytes(f.data[i] for f in fragments) == codeword


@pytest.mark.parametrize("k, m", [(3, 2), (6, 3), (1, 0), (1, 2), (10, 4)])
def test_numpy_backend_is_byte_identical_to_the_reedsolo_backend(k, m):
    for seed, size in enumerate([0, 1, k + 1, 5 * k - 1, 3000]):
        chunk = random_bytes(size, seed)
        fast = ErasureCoder(k, m).encode_chunk(chunk)
        reference = ErasureCoder(k, m, backend="reedsolo").encode_chunk(chunk)
        assert fast == reference


def test_parity_matrix_is_reedsolo_parity_of_unit_vectors():
    for k, m in [(3, 2), (5, 5), (20, 7)]:
        rs = reedsolo.RSCodec(m, nsize=k + m)
        for j in range(k):
            unit = bytes(1 if i == j else 0 for i in range(k))
            parity = bytes(rs.encode(unit))[k:]
            assert tuple(row[j] for row in gf.parity_matrix(k, m)) == tuple(parity)


def test_codeword_bytes_xor_to_zero():
    # The fact the decoder's XOR shortcut rests on: alpha^0 = 1 is a root of every codeword.
    fragments = ErasureCoder(6, 3).encode_chunk(random_bytes(600, 3))
    acc = np.zeros(fragments[0].size, dtype=np.uint8)
    for f in fragments:
        acc ^= np.frombuffer(f.data, dtype=np.uint8)
    assert not acc.any()


def test_systematic_layout_and_zero_padding():
    chunk = random_bytes(10, 5)
    fragments = ErasureCoder(3, 2).encode_chunk(chunk)
    assert [bytes(f.data) for f in fragments[:3]] == [chunk[0:4], chunk[4:8], chunk[8:10] + b"\0\0"]
    assert [f.index for f in fragments] == [0, 1, 2, 3, 4]


def test_fragment_metadata():
    chunk = random_bytes(12345, 6)
    fragments = ErasureCoder(3, 2).encode_chunk(chunk)
    assert len(fragments) == 5
    for f in fragments:
        assert f.size == len(f.data) == 4115
        assert f.checksum == crc_hex(f.data)
        assert f.chunk_size == 12345
        assert f.chunk_checksum == crc_hex(chunk)
        assert len(f.checksum) == 8 and f.checksum == f.checksum.lower()
        assert f.verify()


def test_fragments_are_immutable_and_read_only():
    f = ErasureCoder(3, 2).encode_chunk(random_bytes(100, 7))[3]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.index = 1  # type: ignore[misc]
    assert f.data.readonly
    with pytest.raises(TypeError):
        f.data[0] = 1  # type: ignore[index]


def test_mutable_input_is_copied_so_fragments_do_not_change_afterwards():
    buffer = bytearray(random_bytes(300, 8))
    original = bytes(buffer)
    fragments = ErasureCoder(3, 2).encode_chunk(buffer)
    buffer[:] = bytes(len(buffer))
    assert all(f.verify() for f in fragments)
    assert FragmentManager(ErasureCoder(3, 2)).reconstruct_chunk(pairs_of(fragments, [0, 1, 2])) == original


def test_constructor_keeps_the_stored_checksum():
    f = ErasureCoder(3, 2).encode_chunk(random_bytes(100, 9))[1]
    stale = Fragment(index=1, data=bytes(len(f.data)), checksum=f.checksum, chunk_size=100,
                     chunk_checksum=f.chunk_checksum)
    assert stale.checksum == f.checksum
    assert not stale.verify()
    assert as_read_from_disk(f).verify()


# -- decoding -------------------------------------------------------------------


def test_decode_with_all_fragments_and_with_any_three_or_four_of_five():
    coder = ErasureCoder(3, 2)
    manager = FragmentManager(coder)
    chunk = random_bytes(100_001, 10)
    fragments = coder.encode_chunk(chunk)
    assert manager.reconstruct_chunk(pairs_of(fragments, range(5))) == chunk
    for count in (3, 4):
        for indices in combinations(range(5), count):
            got = manager.reconstruct_chunk([(i, as_read_from_disk(fragments[i])) for i in indices])
            assert got == chunk, indices


def test_decode_returns_bytes_truncated_to_chunk_size():
    chunk = random_bytes(7, 11)
    fragments = ErasureCoder(3, 2).encode_chunk(chunk)
    got = FragmentManager(ErasureCoder(3, 2)).reconstruct_chunk(pairs_of(fragments, [2, 3, 4]))
    assert type(got) is bytes and got == chunk


def test_too_few_fragments_error_says_how_many_and_needed():
    coder = ErasureCoder(3, 2)
    fragments = coder.encode_chunk(random_bytes(99, 12))
    with pytest.raises(InsufficientFragmentsError) as err:
        FragmentManager(coder).reconstruct_chunk(pairs_of(fragments, [1, 4]))
    assert isinstance(err.value, ValueError)
    assert "2 valid fragment(s), need 3" in str(err.value)
    assert (err.value.valid, err.value.needed, err.value.corrupt) == (2, 3, ())
    with pytest.raises(InsufficientFragmentsError, match="0 valid fragments, need 3"):
        FragmentManager(coder).reconstruct_chunk([])


def test_rotted_fragment_is_detected_and_skipped():
    coder = ErasureCoder(3, 2)
    chunk = random_bytes(5000, 13)
    fragments = coder.encode_chunk(chunk)
    rotten = rot(fragments[0], position=1234)
    assert not rotten.verify()
    pairs = [(0, rotten)] + pairs_of(fragments, [1, 3, 4])
    assert FragmentManager(coder).reconstruct_chunk(pairs) == chunk


def test_too_few_valid_fragments_names_the_corrupt_index():
    coder = ErasureCoder(3, 2)
    fragments = coder.encode_chunk(random_bytes(5000, 14))
    pairs = [(0, fragments[0]), (2, rot(fragments[2], 17)), (4, fragments[4])]
    with pytest.raises(InsufficientFragmentsError) as err:
        FragmentManager(coder).reconstruct_chunk(pairs)
    message = str(err.value)
    assert "2 valid fragment(s), need 3" in message
    assert "corrupt fragment indices: [2]" in message
    assert err.value.corrupt == (2,)


def test_rot_in_padding_is_detected_too():
    coder = ErasureCoder(3, 2)
    chunk = random_bytes(10, 15)
    fragments = coder.encode_chunk(chunk)
    pairs = [(2, rot(fragments[2], position=3))] + pairs_of(fragments, [0, 1, 3])
    assert FragmentManager(coder).reconstruct_chunk(pairs) == chunk


def test_all_data_present_but_one_from_another_chunk_with_forged_metadata_falls_back_to_parity():
    coder = ErasureCoder(3, 2)
    a, b = random_bytes(3000, 16), random_bytes(3000, 17)
    fa, fb = coder.encode_chunk(a), coder.encode_chunk(b)
    # Fragment 1 of chunk b, relabelled as chunk a: its own checksum is right, so only
    # the chunk checksum can catch it.
    forged = Fragment(1, fb[1].data, fb[1].checksum, fa[1].chunk_size, fa[1].chunk_checksum)
    assert forged.verify()
    manager = FragmentManager(coder)
    assert manager.reconstruct_chunk([(0, fa[0]), (1, forged), (2, fa[2]), (3, fa[3])]) == a
    with pytest.raises(InsufficientFragmentsError, match="no 3 of them decode to the chunk checksum"):
        manager.reconstruct_chunk([(0, fa[0]), (1, forged), (2, fa[2])])


def test_fragments_of_two_chunks_of_the_same_size_are_refused():
    coder = ErasureCoder(3, 2)
    fa = coder.encode_chunk(random_bytes(3000, 18))
    fb = coder.encode_chunk(random_bytes(3000, 19))
    with pytest.raises(ValueError, match="fragments of different chunks"):
        FragmentManager(coder).reconstruct_chunk([(0, fa[0]), (1, fb[1]), (2, fa[2])])


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda f: [(0, f[0]), (0, f[0]), (1, f[1])], "duplicate fragment index 0"),
        (lambda f: [(0, f[0]), (1, f[2]), (3, f[3])], "pair index 1 disagrees with fragment.index 2"),
        (lambda f: [(0, f[0]), (1, f[1]), (5, dataclasses.replace(f[4], index=5))], "index 5 out of range"),
        (lambda f: [(0, f[0]), (1, f[1]), (2, dataclasses.replace(f[2], data=bytes(f[2].data)[:-1]))],
         "has 33 bytes, expected 34"),
        (lambda f: [(0, f[0]), (1, f[1]), (2, dataclasses.replace(f[2], chunk_size=99))], "has 34 bytes, expected 33"),
        (lambda f: [(0, f[0]), (1, f[1]), (2, dataclasses.replace(f[2], chunk_checksum="00000000"))],
         "fragments of different chunks"),
        (lambda f: [(0, f[0]), (1, bytes(f[1].data))], r"expected \(index, Fragment\) pairs"),
    ],
)
def test_malformed_inputs_raise_value_error(build, match):
    coder = ErasureCoder(3, 2)
    fragments = coder.encode_chunk(random_bytes(100, 20))
    with pytest.raises(ValueError, match=match):
        FragmentManager(coder).reconstruct_chunk(build(fragments))


def test_reconstruct_fragment_rebuilds_every_index_exactly():
    for k, m in [(3, 2), (6, 3), (1, 2), (4, 1)]:
        coder = ErasureCoder(k, m)
        manager = FragmentManager(coder)
        chunk = random_bytes(1001, k * 10 + m)
        fragments = coder.encode_chunk(chunk)
        for lost in range(k + m):
            survivors = [i for i in range(k + m) if i != lost]
            for indices in (survivors, survivors[-k:]):
                rebuilt = manager.reconstruct_fragment(pairs_of(fragments, indices), lost)
                assert rebuilt == fragments[lost]
                assert rebuilt.checksum == fragments[lost].checksum and rebuilt.verify()
                assert (rebuilt.chunk_size, rebuilt.chunk_checksum) == (1001, fragments[0].chunk_checksum)
    with pytest.raises(ValueError, match="index must be an int in"):
        FragmentManager(ErasureCoder(3, 2)).reconstruct_fragment(pairs_of(fragments, range(3)), 5)


def test_reedsolo_backend_decodes_too():
    coder = ErasureCoder(3, 2, backend="reedsolo")
    chunk = random_bytes(301, 21)
    fragments = coder.encode_chunk(chunk)
    manager = FragmentManager(coder)
    for indices in combinations(range(5), 3):
        assert manager.reconstruct_chunk(pairs_of(fragments, indices)) == chunk
    assert manager.reconstruct_fragment(pairs_of(fragments, [0, 3, 4]), 2) == fragments[2]


def test_threads_do_not_share_work_buffers():
    coder = ErasureCoder(3, 2)
    manager = FragmentManager(coder)
    chunks = [random_bytes(200_000 + i, 40 + i) for i in range(4)]
    failures = []

    def work(chunk):
        for _ in range(5):
            fragments = coder.encode_chunk(chunk)
            if manager.reconstruct_chunk(pairs_of(fragments, [0, 3, 4])) != chunk:
                failures.append(len(chunk))

    threads = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_fragments_pickle_with_their_stored_checksum():
    f = ErasureCoder(3, 2).encode_chunk(random_bytes(100, 23))[4]
    again = pickle.loads(pickle.dumps(f))
    assert again == f and again.verify()
    rotten = pickle.loads(pickle.dumps(rot(f)))
    assert rotten.checksum == f.checksum and not rotten.verify()


def test_reconstruct_chunk_accepts_a_mapping_of_index_to_fragment():
    coder = ErasureCoder(3, 2)
    chunk = random_bytes(500, 24)
    fragments = coder.encode_chunk(chunk)
    assert FragmentManager(coder).reconstruct_chunk({1: fragments[1], 3: fragments[3], 4: fragments[4]}) == chunk


def test_wide_code_decodes_from_a_random_half_of_its_fragments():
    coder = ErasureCoder(100, 100)
    chunk = random_bytes(20_011, 25)
    fragments = coder.encode_chunk(chunk)
    chosen = sorted(np.random.default_rng(26).permutation(200)[:100].tolist())
    assert FragmentManager(coder).reconstruct_chunk(pairs_of(fragments, chosen)) == chunk


# -- the coder's own surface ------------------------------------------------------


def test_coder_properties_and_repr():
    coder = ErasureCoder(data_shards=6, parity_shards=3)
    assert (coder.data_shards, coder.parity_shards, coder.total_shards) == (6, 3, 9)
    assert coder.fragment_size(2 * MiB) == fragment_size(2 * MiB, 6) == 349526
    assert repr(coder) == "ErasureCoder(data_shards=6, parity_shards=3, backend='numpy')"
    assert ErasureCoder().total_shards == 5
    assert ErasureCoder(1, 254).total_shards == 255


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"data_shards": 0}, "data_shards"),
        ({"data_shards": 256, "parity_shards": 0}, "data_shards"),
        ({"data_shards": 2.0}, "data_shards"),
        ({"parity_shards": -1}, "parity_shards"),
        ({"data_shards": 200, "parity_shards": 56}, "parity_shards"),
        ({"backend": "isa-l"}, "backend"),
    ],
)
def test_invalid_coder_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ErasureCoder(**kwargs)


def test_fragment_constructor_validation():
    good = {"index": 0, "data": b"ab", "checksum": crc_hex(b"ab"), "chunk_size": 2, "chunk_checksum": crc_hex(b"ab")}
    assert Fragment(**good).verify()
    for field, bad in [("index", -1), ("chunk_size", -2), ("checksum", "ABCDEF01"), ("chunk_checksum", "123")]:
        with pytest.raises(ValueError, match=field):
            Fragment(**{**good, field: bad})
    with pytest.raises(TypeError, match="bytes-like"):
        Fragment(**{**good, "data": "ab"})


def test_fragment_size_function_is_unchanged():
    assert fragment_size(0, 3) == 0
    assert fragment_size(1, 3) == 1
    assert fragment_size(2 * MiB, 3) == 699_051
    with pytest.raises(ValueError, match="data_shards"):
        fragment_size(10, 0)
    with pytest.raises(ValueError, match="chunk_size"):
        fragment_size(-1, 3)


def test_two_mebibyte_chunk_round_trip_with_two_data_fragments_lost():
    coder = ErasureCoder(3, 2)
    chunk = random_bytes(2 * MiB, 22)
    fragments = coder.encode_chunk(chunk)
    assert [f.size for f in fragments] == [699_051] * 5
    stored = [as_read_from_disk(f) for f in fragments]
    assert FragmentManager(coder).reconstruct_chunk(pairs_of(stored, [0, 3, 4])) == chunk


def test_codec_benchmark_smoke():
    from vstack_sim.system.codec.bench import OPERATIONS, codec_benchmark, format_codec_table

    rows = codec_benchmark(chunk_size=8192, repeats=1, peers=False)
    for codec in ("vstack_sim numpy", "vstack_sim reedsolo", "replication x3"):
        assert [r["operation"] for r in rows if r["codec"] == codec] == list(OPERATIONS)
    assert not {r["codec"] for r in rows} & {"zfec", "pyeclib"}
    reference = [r for r in rows if r["codec"] == "vstack_sim reedsolo"]
    assert all(r["note"].endswith("extrapolated from 6 KiB") for r in reference)
    for r in rows:
        assert set(r) == {"codec", "operation", "chunk_size", "mb_per_s", "ms_per_chunk", "note"}
        assert r["chunk_size"] == 8192
        assert r["mb_per_s"] > 0
        # ms per chunk and MB/s describe the same rate.
        assert abs(r["ms_per_chunk"] / 1e3 * r["mb_per_s"] * 1e6 - 8192) < 1e-6 * 8192

    lines = format_codec_table(rows).splitlines()
    assert len(lines) == 3 + len(rows)  # title, header, rule, one line per row
    header, body = lines[1], lines[3:]
    assert header.split()[:4] == ["codec", "operation", "MB/s", "ms/chunk"]
    column = header.index("operation")
    assert all(line[column - 2 : column] == "  " and line[column] != " " for line in body)
    assert body[0].startswith("vstack_sim numpy") and "encode" in body[0]


def _codec_errors():
    """One instance of every exception class the codec package defines."""
    from vstack_sim.system.codec import coder, fragment, manager
    from vstack_sim.system.codec.coder import DecodeFailure

    made = {InsufficientFragmentsError: InsufficientFragmentsError("2 of 3 fragments valid", valid=2, needed=3,
                                                                    corrupt=(1, 4)),
            DecodeFailure: DecodeFailure("fragments 0, 3, 4 are not one codeword")}
    defined = {obj for mod in (coder, fragment, manager) for obj in vars(mod).values()
               if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__.startswith("vstack_sim")}
    assert defined == set(made)
    return list(made.values())


@pytest.mark.parametrize("error", _codec_errors(), ids=lambda e: type(e).__name__)
def test_every_codec_error_pickles_and_reraises_from_a_simpy_process_with_its_message(error):
    import simpy

    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error) and vars(again) == vars(error)
    env = simpy.Environment()

    def process():
        yield env.timeout(1)
        raise error

    env.process(process())
    with pytest.raises(type(error)) as info:
        env.run()
    assert str(info.value) == str(error) and vars(info.value) == vars(error)


def test_a_foreign_fragment_among_more_than_k_is_skipped_when_k_agree():
    coder = ErasureCoder(3, 2)
    a, b = random_bytes(3000, 21), random_bytes(3000, 22)
    fa, fb = coder.encode_chunk(a), coder.encode_chunk(b)
    manager = FragmentManager(coder)
    for foreign in range(5):
        pairs = [(i, fb[i] if i == foreign else fa[i]) for i in range(5)]
        pairs = [p for p in pairs if p[0] != (foreign + 1) % 5]  # four fragments: three of a, one of b
        assert manager.reconstruct_chunk(pairs) == a
        lost = (foreign + 1) % 5
        assert manager.reconstruct_fragment(pairs, lost) == fa[lost]


def test_two_chunks_with_k_fragments_each_are_ambiguous():
    coder = ErasureCoder(2, 2)
    fa, fb = coder.encode_chunk(random_bytes(100, 23)), coder.encode_chunk(random_bytes(100, 24))
    with pytest.raises(ValueError, match="ambiguous"):
        FragmentManager(coder).reconstruct_chunk([(0, fa[0]), (1, fa[1]), (2, fb[2]), (3, fb[3])])


def test_edited_padding_with_a_recomputed_crc_never_yields_a_wrong_rebuilt_fragment():
    coder = ErasureCoder(3, 2)
    chunk = random_bytes(10, 25)        # 4-byte fragments: fragment 2 holds 2 bytes and 2 of padding
    fragments = coder.encode_chunk(chunk)
    edited = bytearray(fragments[2].data)
    edited[3] = 0x5A
    forged = Fragment(2, bytes(edited), crc32c_hex(bytes(edited)), fragments[2].chunk_size,
                      fragments[2].chunk_checksum)
    assert forged.verify()
    manager = FragmentManager(coder)
    # with a fallback the rebuilt parity is right; without one nothing is rebuilt
    assert manager.reconstruct_fragment([(0, fragments[0]), (1, fragments[1]), (2, forged), (3, fragments[3])],
                                        4) == fragments[4]
    with pytest.raises(InsufficientFragmentsError):
        manager.reconstruct_fragment([(0, fragments[0]), (1, fragments[1]), (2, forged)], 4)
    assert manager.reconstruct_chunk([(0, fragments[0]), (1, fragments[1]), (2, forged), (4, fragments[4])]) == chunk
