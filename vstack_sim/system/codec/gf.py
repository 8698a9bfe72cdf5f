"""Arithmetic in GF(2^8) and the systematic Reed-Solomon generator, with reedsolo's conventions.

The field is GF(2)[x] / (x^8 + x^4 + x^3 + x^2 + 1) (primitive polynomial 0x11d), the
generator element is alpha = 2, and the code's generator polynomial has the roots
alpha^0 .. alpha^(m-1) (first consecutive root 0), exactly as ``reedsolo.RSCodec(m,
nsize=k+m)`` builds it. A codeword is the k message symbols followed by the m
remainder symbols of ``msg(x) * x^m mod g(x)``, highest degree first.

Encoding is linear, so the m parity symbols of a codeword are a fixed m x k matrix
applied to the message: :func:`parity_matrix` computes it once, by running the same
polynomial division on unit vectors. Everything here is scalar pure Python; the bulk
work on whole shards lives in :mod:`vstack_sim.system.codec.kernel`.
"""

from __future__ import annotations

from functools import lru_cache

PRIMITIVE = 0x11D
GENERATOR = 2

EXP = [0] * 512
LOG = [0] * 256
_x = 1
for _i in range(255):
    EXP[_i] = _x
    LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= PRIMITIVE
for _i in range(255, 512):
    # Doubled so that mul() can skip the modulo.
    EXP[_i] = EXP[_i - 255]
del _x, _i


def mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return EXP[LOG[a] + LOG[b]]


def inv(a: int) -> int:
    if a == 0:
        raise ZeroDivisionError("0 has no inverse in GF(2^8)")
    return EXP[255 - LOG[a]]


def div(a: int, b: int) -> int:
    return mul(a, inv(b))


def power(a: int, n: int) -> int:
    """a**n for any integer n (negative powers invert)."""
    if a == 0:
        return 0 if n else 1
    return EXP[(LOG[a] * n) % 255]


@lru_cache(maxsize=256)
def mul_row(c: int) -> bytes:
    """The 256-byte table x -> c*x (usable with ``bytes.translate``)."""
    return bytes(mul(c, x) for x in range(256))


def generator_poly(nsym: int) -> list[int]:
    """prod_{i<nsym} (x - alpha^i), highest degree first (reedsolo's ``rs_generator_poly``, fcr=0)."""
    g = [1]
    for i in range(nsym):
        root = power(GENERATOR, i)
        # g * (x + root): in characteristic 2, minus is plus.
        nxt = g + [0]
        for j, coef in enumerate(g):
            nxt[j + 1] ^= mul(coef, root)
        g = nxt
    return g


def encode_parity(message: list[int], nsym: int) -> list[int]:
    """The nsym parity symbols reedsolo appends to ``message`` (synthetic division by the generator)."""
    gen = generator_poly(nsym)
    work = list(message) + [0] * nsym
    for i in range(len(message)):
        coef = work[i]
        if coef:
            for j in range(1, len(gen)):
                work[i + j] ^= mul(gen[j], coef)
    return work[len(message) :]


@lru_cache(maxsize=64)
def parity_matrix(k: int, m: int) -> tuple[tuple[int, ...], ...]:
    """P with parity_r = XOR_j P[r][j] * message_j, r < m, j < k (rows are tuples).

    Column j is the parity of the unit message e_j, i.e. x^(k-1-j+m) mod g(x); the
    remainders for successive powers of x follow from each other by one shift.
    """
    if m == 0:
        return ()
    tail = generator_poly(m)[1:]  # g is monic: x^m = tail (mod g), highest degree first
    columns = [None] * k
    remainder = list(tail)
    for j in range(k - 1, -1, -1):
        columns[j] = remainder
        top = remainder[0]
        remainder = remainder[1:] + [0]
        if top:
            remainder = [a ^ mul(top, b) for a, b in zip(remainder, tail, strict=False)]
    return tuple(tuple(columns[j][r] for j in range(k)) for r in range(m))


def generator_row(k: int, m: int, index: int) -> tuple[int, ...]:
    """Row ``index`` of the systematic generator [I_k ; P]: fragment ``index`` as a combination of the k data shards."""
    if index < k:
        return tuple(1 if j == index else 0 for j in range(k))
    return parity_matrix(k, m)[index - k]


def invert(matrix: list[list[int]]) -> list[list[int]]:
    """Gauss-Jordan inverse of a square matrix over GF(2^8); ValueError if singular."""
    n = len(matrix)
    work = [list(row) + [1 if i == j else 0 for j in range(n)] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if work[r][col]), None)
        if pivot is None:
            raise ValueError("matrix is singular")
        work[col], work[pivot] = work[pivot], work[col]
        scale = inv(work[col][col])
        work[col] = [mul(v, scale) for v in work[col]]
        prow = work[col]
        for r in range(n):
            factor = work[r][col]
            if r != col and factor:
                row = work[r]
                work[r] = [a ^ mul(factor, b) for a, b in zip(row, prow, strict=False)]
    return [row[n:] for row in work]
