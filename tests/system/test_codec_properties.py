"""Properties of the codec over random codes, sizes, erasure patterns and corruption (hypothesis).

Chunk contents come from a seeded NumPy generator so that the large sizes given as
explicit examples (2 MiB + 1) stay cheap to describe; hypothesis itself draws small sizes.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.system.test_codec import as_read_from_disk
from vstack_sim.system.codec import ErasureCoder, Fragment, FragmentManager, InsufficientFragmentsError, gf, kernel
from vstack_sim.system.codec.checksum import crc32c_hex

MiB = 2**20
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

codes = st.tuples(st.integers(1, 8), st.integers(0, 5))
sizes = st.integers(0, 300)
seeds = st.integers(0, 2**32 - 1)

_coders: dict[tuple[int, int, str], ErasureCoder] = {}


def coder_for(k: int, m: int, backend: str = "numpy") -> ErasureCoder:
    # Coders are reusable and cache their plans; building one per example would only slow the tests.
    if (k, m, backend) not in _coders:
        _coders[k, m, backend] = ErasureCoder(k, m, backend=backend)
    return _coders[k, m, backend]


def chunk_of(size: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


# A fragment rebuilt from stored bytes and metadata: the same helper as the example tests use.
stored = as_read_from_disk


@SETTINGS
@given(code=codes, size=sizes, seed=seeds, data=st.data())
@example(code=(3, 2), size=0, seed=1, data=None)
@example(code=(3, 2), size=1, seed=2, data=None)
@example(code=(3, 2), size=3 * 1000 + 1, seed=3, data=None)
@example(code=(3, 2), size=2 * MiB + 1, seed=4, data=None)
@example(code=(6, 3), size=2 * MiB + 1, seed=5, data=None)
def test_any_k_fragments_give_the_chunk_back(code, size, seed, data):
    k, m = code
    coder = coder_for(k, m)
    chunk = chunk_of(size, seed)
    fragments = coder.encode_chunk(chunk)
    assert len(fragments) == k + m
    assert all(f.size == -(-size // k) for f in fragments)
    rng = np.random.default_rng(seed)
    count = k if data is None else data.draw(st.integers(k, k + m), label="fragments given")
    chosen = rng.permutation(k + m)[:count] if data is None else data.draw(st.permutations(range(k + m)))[:count]
    pairs = [(int(i), stored(fragments[i])) for i in chosen]
    assert FragmentManager(coder).reconstruct_chunk(pairs) == chunk


@SETTINGS
@given(code=codes, size=sizes, seed=seeds, data=st.data())
def test_random_corruption_never_yields_wrong_bytes(code, size, seed, data):
    k, m = code
    coder = coder_for(k, m)
    chunk = chunk_of(size, seed)
    fragments = coder.encode_chunk(chunk)
    if size == 0:
        return  # nothing to flip
    rotten_indices = data.draw(st.sets(st.integers(0, k + m - 1), max_size=k + m), label="rotten")
    pairs = []
    for f in fragments:
        if f.index in rotten_indices:
            raw = bytearray(f.data)
            for position in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=3)):
                raw[position] ^= data.draw(st.integers(1, 255))
            f = stored(f, bytes(raw))  # same stored checksum, different bytes
        pairs.append((f.index, f))
    order = data.draw(st.permutations(range(len(pairs))))
    pairs = [pairs[i] for i in order]
    try:
        got = FragmentManager(coder).reconstruct_chunk(pairs)
    except InsufficientFragmentsError as err:
        corrupt = {i for i, f in pairs if not f.verify()}
        assert len(pairs) - len(corrupt) < k
        assert set(err.corrupt) == corrupt
    else:
        assert got == chunk


@SETTINGS
@given(code=codes, size=st.integers(1, 200), seeds=st.tuples(seeds, seeds), data=st.data())
def test_mixing_two_chunks_of_one_size_never_yields_wrong_bytes(code, size, seeds, data):
    k, m = code
    coder = coder_for(k, m)
    a, b = chunk_of(size, seeds[0]), chunk_of(size, seeds[1])
    fa, fb = coder.encode_chunk(a), coder.encode_chunk(b)
    forge = data.draw(st.booleans(), label="copy chunk a's metadata onto b's fragments")
    pairs = []
    for i in range(k + m):
        source = data.draw(st.sampled_from(["a", "b", "none"]), label=f"fragment {i}")
        if source == "a":
            pairs.append((i, fa[i]))
        elif source == "b":
            f = fb[i]
            if forge:
                f = Fragment(i, f.data, f.checksum, fa[i].chunk_size, fa[i].chunk_checksum)
            pairs.append((i, f))
    of_a = sum(1 for _, f in pairs if f.chunk_checksum == fa[0].chunk_checksum)
    of_b = len(pairs) - of_a
    try:
        got = FragmentManager(coder).reconstruct_chunk(pairs)
    except ValueError:  # ambiguous, or too few consistent fragments
        return
    # Decoded from the only chunk that k fragments claim (forged ones claim a but cannot decode to it).
    assert (got == a and of_a >= k > of_b) or (got == b and of_b >= k > of_a)
    assert got == a or not forge


@SETTINGS
@given(code=codes, size=sizes, seed=seeds, data=st.data())
def test_reconstruct_fragment_equals_the_encoded_one(code, size, seed, data):
    k, m = code
    coder = coder_for(k, m)
    fragments = coder.encode_chunk(chunk_of(size, seed))
    lost = data.draw(st.integers(0, k + m - 1), label="lost")
    others = [i for i in range(k + m) if i != lost]
    if len(others) < k:
        return
    chosen = data.draw(st.permutations(others))[: data.draw(st.integers(k, len(others)))]
    rebuilt = FragmentManager(coder).reconstruct_fragment([(i, stored(fragments[i])) for i in chosen], lost)
    assert rebuilt == fragments[lost]
    assert rebuilt.checksum == fragments[lost].checksum


@settings(max_examples=25, deadline=None)
@given(code=st.tuples(st.integers(1, 6), st.integers(0, 4)), size=st.integers(0, 40), seed=seeds)
def test_numpy_backend_matches_reedsolo_backend(code, size, seed):
    k, m = code
    chunk = chunk_of(size, seed)
    assert coder_for(k, m).encode_chunk(chunk) == coder_for(k, m, "reedsolo").encode_chunk(chunk)


@SETTINGS
@given(
    coefs=st.lists(st.integers(0, 255), min_size=1, max_size=12),
    size=st.integers(0, 65),
    seed=seeds,
)
def test_kernel_rows_equal_scalar_field_arithmetic(coefs, size, seed):
    # Every plan shape (Horner up and down, table lookups, final scale) on odd and even lengths.
    rng = np.random.default_rng(seed)
    inputs = [rng.integers(0, 256, size, dtype=np.uint8) for _ in coefs]
    plan = kernel.plan_row(dict(enumerate(coefs)))
    out = np.empty(size, dtype=np.uint8)
    scratch = kernel.Scratch()
    scratch.ensure(size)
    kernel.run(kernel.Program(len(inputs), ((0, plan),)), inputs, [out], scratch)
    expected = [0] * size
    for c, x in zip(coefs, inputs, strict=False):
        for i, v in enumerate(x):
            expected[i] ^= gf.mul(c, int(v))
    assert out.tolist() == expected


@SETTINGS
@given(code=st.tuples(st.integers(1, 6), st.integers(1, 4)), size=st.integers(1, 200), seed=seeds, data=st.data())
def test_no_single_byte_edit_ever_yields_a_wrong_rebuilt_fragment(code, size, seed, data):
    # Any byte of any given fragment (its real bytes or its zero padding) edited, with its own CRC
    # recomputed or not: the rebuilt fragment is the encoded one, or nothing is rebuilt.
    k, m = code
    coder = coder_for(k, m)
    fragments = coder.encode_chunk(chunk_of(size, seed))
    lost = data.draw(st.integers(0, k + m - 1), label="lost")
    given_ = [i for i in data.draw(st.permutations(range(k + m))) if i != lost]
    given_ = given_[: data.draw(st.integers(k, len(given_)), label="fragments given")]
    victim = data.draw(st.sampled_from(given_), label="edited fragment")
    f = fragments[victim]
    edited = bytearray(f.data)
    position = data.draw(st.integers(0, len(edited) - 1), label="byte")
    edited[position] ^= data.draw(st.integers(1, 255), label="xor")
    recompute = data.draw(st.booleans(), label="recompute its CRC")
    bad = Fragment(victim, bytes(edited), crc32c_hex(bytes(edited)) if recompute else f.checksum, f.chunk_size,
                   f.chunk_checksum)
    pairs = [(i, bad if i == victim else stored(fragments[i])) for i in given_]
    try:
        rebuilt = FragmentManager(coder).reconstruct_fragment(pairs, lost)
    except InsufficientFragmentsError:
        assert len(given_) == k  # with a spare fragment there is always a clean combination
        return
    assert bytes(rebuilt.data) == bytes(fragments[lost].data)


@SETTINGS
@given(code=st.tuples(st.integers(1, 5), st.integers(1, 4)), size=st.integers(0, 120), seeds=st.tuples(seeds, seeds),
       data=st.data())
def test_fragments_of_another_chunk_among_them_are_skipped_when_k_agree(code, size, seeds, data):
    k, m = code
    coder = coder_for(k, m)
    a, b = chunk_of(size, seeds[0]), chunk_of(size, seeds[1] ^ 1 if seeds[1] == seeds[0] else seeds[1])
    fa, fb = coder.encode_chunk(a), coder.encode_chunk(b)
    order = data.draw(st.permutations(range(k + m)))
    n_a = data.draw(st.integers(k, k + m), label="fragments of a")
    from_a = set(order[:n_a])
    n_b = data.draw(st.integers(0, min(k - 1, k + m - n_a)), label="fragments of b")  # fewer than k: no ambiguity
    from_b = set(order[n_a:n_a + n_b])
    pairs = [(i, stored(fa[i])) for i in sorted(from_a)] + [(i, stored(fb[i])) for i in sorted(from_b)]
    pairs = data.draw(st.permutations(pairs))
    assert FragmentManager(coder).reconstruct_chunk(pairs) == a
