"""Fast evaluation of GF(2^8) linear combinations of whole shards with NumPy.

Every Reed-Solomon operation (computing parity, recovering lost shards) is a set of
rows ``out = XOR_j c_j * x_j`` where the x_j are shard-sized byte arrays and the c_j
field constants. NumPy has no GF(2^8) multiply, so a row is evaluated with three
primitives, each a pass over the shard at C/SIMD speed:

* XOR of two arrays (cost unit 1);
* ``xtime`` (multiply by alpha = 2) and ``half`` (multiply by alpha^-1), each four
  elementwise passes, shared by all inputs of a row through Horner's rule over the
  bits of the coefficients:
  ``XOR_j c_j x_j = XOR_b 2^b S_b`` with ``S_b`` the XOR of the inputs whose
  coefficient has bit b set, evaluated as ``(((S_H) * 2 ^ S_{H-1}) * 2 ^ ...) ^ S_0``.
  A coefficient may also be written as ``u * 2^-t`` (u = c * 2^t), which puts its
  bits at negative exponents, evaluated by a second Horner chain of halvings;
* a table lookup (``np.take`` on a 65536-entry uint16 table, two bytes per lookup),
  for a coefficient whose bits would make the Horner chains long.

:func:`plan_row` picks, per row, the cheapest mix (in passes over the shard), also
trying ``d * XOR_j (c_j / d) x_j`` for every constant d (one lookup at the end can
make all the coefficients short); callers cache plans per erasure pattern. Because
the codes here have alpha^0 = 1 as a root, the XOR of all n symbols of a codeword is
0, so a caller can get one unknown shard per pattern by XOR alone (:func:`xor_row`).
A :class:`Program` is the ordered list of rows; :func:`run` evaluates it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vstack_sim.system.codec import gf

# Costs in passes over one shard, measured on the machine kind this was tuned on:
# an elementwise op ~18 us per 700 KB, a 16-bit table lookup ~250 us.
XOR_COST = 1.0
XTIME_COST = 4.0
HALF_COST = 4.0
GATHER_COST = 14.0

_HALF = gf.inv(2)  # 0x8e: x/2 = (x >> 1) ^ (0x8e if x & 1)


@lru_cache(maxsize=256)
def _window_options(c: int) -> tuple[tuple[int, ...], ...]:
    """Ways to write c != 0 as a XOR of powers 2^e: the exponents, one way per shift t = 0..7 (c = (c * 2^t) * 2^-t)."""
    return tuple(
        tuple(b - t for b in range(8) if gf.mul(c, gf.power(2, t)) >> b & 1)
        for t in range(8)
    )


_WINDOWS = [(high, low) for high in range(8) for low in range(8)]  # exponents allowed: [-low, high]


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(terms, choice, window cost, quotient) tables for the vectorised plan search.

    terms[c, w]: fewest powers of 2 expanding c inside window w (inf if none fits);
    choice[c, w]: which shift gives it; quotient[c, d] = c / d.
    """
    lo = np.zeros((256, 8))
    hi = np.zeros((256, 8))
    count = np.zeros((256, 8))
    for c in range(1, 256):
        for t, exps in enumerate(_window_options(c)):
            lo[c, t], hi[c, t], count[c, t] = min(exps), max(exps), len(exps)
    high = np.array([w[0] for w in _WINDOWS])
    low = np.array([w[1] for w in _WINDOWS])
    fits = (lo[:, :, None] >= -low[None, None, :]) & (hi[:, :, None] <= high[None, None, :])
    counts = np.where(fits, count[:, :, None], np.inf)
    choice = counts.argmin(axis=1)
    terms = counts.min(axis=1)
    terms[0, :] = 0
    window_cost = XTIME_COST * high + HALF_COST * low
    logs = np.array(gf.LOG, dtype=np.int64)
    exps = np.array(gf.EXP, dtype=np.int64)
    quotient = exps[(logs[:, None] - logs[None, :]) % 255].astype(np.uint8)
    quotient[0, :] = 0
    return terms, choice, window_cost, quotient


@dataclass(frozen=True, slots=True)
class RowPlan:
    """How to evaluate one output: Horner levels (inputs per exponent), table lookups, a final scale."""

    high: tuple[tuple[int, ...], ...]  # levels for exponents H, H-1, ..., 0
    low: tuple[tuple[int, ...], ...]  # levels for exponents -L, ..., -1
    gathers: tuple[tuple[int, int], ...]  # (input, coefficient)
    cost: float
    xor_all: tuple[int, ...] = ()  # if set: the row is the XOR of these slots, nothing else
    scale: int = 1  # the whole sum is multiplied by this at the end (one table lookup)


def plan_row(coefs: dict[int, int], candidates: int = 4) -> RowPlan:
    """Cheapest plan found for ``XOR_slot coefs[slot] * x_slot`` (zero coefficients ignored).

    Searches every window of exponents and every final scale d (evaluating
    ``d * XOR_j (c_j / d) x_j``) with table arithmetic, then builds the best few
    exactly and keeps the cheapest.
    """
    terms_list = [(slot, c) for slot, c in sorted(coefs.items()) if c]
    if not terms_list:
        return RowPlan((), (), (), 0.0)
    terms, choice, window_cost, quotient = _tables()
    slots = [slot for slot, _ in terms_list]
    cs = np.array([c for _, c in terms_list], dtype=np.intp)
    # A final scale saves a few passes on short rows; on long rows it is noise and the search is costly.
    scales = np.arange(1, 256) if len(terms_list) <= 16 else np.ones(1, dtype=np.intp)
    scaled = quotient[cs[:, None], scales[None, :]]  # (inputs, scales): c_j / d
    per_input = np.minimum(terms[scaled], GATHER_COST)  # (inputs, scales, windows)
    estimate = per_input.sum(axis=0) + window_cost[None, :] + np.where(scales == 1, 0.0, GATHER_COST)[:, None]
    flat = np.argsort(estimate, axis=None, kind="stable")[:candidates]
    best: RowPlan | None = None
    for pick in flat:
        d_index, window = divmod(int(pick), len(_WINDOWS))
        d = int(scales[d_index])
        assign = []
        for slot, j in zip(slots, range(len(slots)), strict=False):
            c = int(scaled[j, d_index])
            if terms[c, window] * XOR_COST < GATHER_COST:
                assign.append((slot, c, _window_options(c)[int(choice[c, window])]))
            else:
                assign.append((slot, c, None))
        plan = _build_plan(assign, d)
        if best is None or plan.cost < best.cost:
            best = plan
    return best


def _build_plan(assign, scale: int = 1) -> RowPlan:
    exps_all = [e for _, _, exps in assign if exps for e in exps]
    top = max((e for e in exps_all if e >= 0), default=-1)
    bottom = min((e for e in exps_all if e < 0), default=0)
    high = [[] for _ in range(top + 1)]
    low = [[] for _ in range(-bottom)]
    gathers = []
    terms = 0
    for slot, c, exps in assign:
        if exps is None:
            gathers.append((slot, c))
            continue
        for e in exps:
            terms += 1
            if e >= 0:
                high[top - e].append(slot)
            else:
                low[e - bottom].append(slot)
    parts = (top >= 0) + bool(low) + len(gathers)
    cost = (
        XTIME_COST * max(top, 0)
        + HALF_COST * len(low)
        + GATHER_COST * (len(gathers) + (scale != 1))
        + XOR_COST * (terms + max(parts - 1, 0))
    )
    return RowPlan(tuple(map(tuple, high)), tuple(map(tuple, low)), tuple(gathers), cost, scale=scale)


def xor_row(slots) -> RowPlan:
    slots = tuple(slots)
    return RowPlan((), (), (), XOR_COST * max(len(slots) - 1, 1), xor_all=slots)


@dataclass(frozen=True, slots=True)
class Program:
    """Rows to evaluate, in order, as (output position, plan).

    Slots number the inputs first, then the outputs, so a row may read an output
    computed before it (the XOR-of-everything row does).
    """

    n_inputs: int
    steps: tuple[tuple[int, RowPlan], ...]

    @property
    def cost(self) -> float:
        return sum(plan.cost for _, plan in self.steps)


@lru_cache(maxsize=256)
def _table16(c: int) -> np.ndarray:
    """uint16 -> uint16 table multiplying both bytes of a little-endian pair by c."""
    t8 = np.frombuffer(gf.mul_row(c), dtype=np.uint8)
    pairs = np.arange(65536, dtype=np.uint32)
    table = t8[pairs & 0xFF].astype(np.uint16) | (t8[pairs >> 8].astype(np.uint16) << 8)
    table.flags.writeable = False
    return table


class Scratch(threading.local):
    """Per-thread work buffers, grown on demand and reused so big shards do not page-fault each call."""

    def __init__(self) -> None:
        self.size = -1

    def ensure(self, size: int) -> None:
        if size <= self.size:
            return
        self.size = size
        self.mask = np.empty(size, dtype=np.uint8)
        self.acc = np.empty(size, dtype=np.uint8)
        self.idx = np.empty(size // 2 + 1, dtype=np.intp)
        self.gathered = np.empty(size // 2 + 1, dtype=np.uint16)


def _xtime(src: np.ndarray, dst: np.ndarray, mask: np.ndarray) -> None:
    """dst = 2 * src (may be the same array)."""
    np.right_shift(src.view(np.int8), 7, out=mask.view(np.int8))  # 0xff where the top bit is set
    np.bitwise_and(mask, 0x1D, out=mask)
    np.add(src, src, out=dst)
    np.bitwise_xor(dst, mask, out=dst)


def _half(buf: np.ndarray, mask: np.ndarray) -> None:
    """buf = buf / 2, in place."""
    np.bitwise_and(buf, 1, out=mask)
    np.multiply(mask, _HALF, out=mask)
    np.right_shift(buf, 1, out=buf)
    np.bitwise_xor(buf, mask, out=buf)


def _accumulate(dst: np.ndarray, src: np.ndarray, started: bool) -> None:
    if started:
        np.bitwise_xor(dst, src, out=dst)
    else:
        np.copyto(dst, src)


def _gather(c: int, x: np.ndarray, out: np.ndarray, started: bool, sc: Scratch) -> None:
    size = x.shape[0]
    pairs = size >> 1
    if pairs:
        np.copyto(sc.idx[:pairs], x[: 2 * pairs].view(np.uint16))
        got = sc.gathered[:pairs]
        np.take(_table16(c), sc.idx[:pairs], out=got, mode="wrap")
        _accumulate(out[: 2 * pairs], got.view(np.uint8), started)
    if size & 1:
        last = gf.mul_row(c)[int(x[-1])]
        out[-1] = (int(out[-1]) ^ last) if started else last


def _horner_high(levels, slots: list[np.ndarray], out: np.ndarray, mask: np.ndarray) -> None:
    """out = XOR_b 2^b S_b for the non-negative exponents (levels[0] is the highest, never empty)."""
    first = levels[0]
    if len(first) >= 2:
        np.bitwise_xor(slots[first[0]], slots[first[1]], out=out)
        for s in first[2:]:
            np.bitwise_xor(out, slots[s], out=out)
        rest = levels[1:]
    elif len(levels) > 1:
        # A lone input on top is doubled straight into out, saving a copy.
        _xtime(slots[first[0]], out, mask)
        for s in levels[1]:
            np.bitwise_xor(out, slots[s], out=out)
        rest = levels[2:]
    else:
        np.copyto(out, slots[first[0]])
        rest = ()
    for level in rest:
        _xtime(out, out, mask)
        for s in level:
            np.bitwise_xor(out, slots[s], out=out)


def run_row(plan: RowPlan, slots: list[np.ndarray], out: np.ndarray, sc: Scratch) -> None:
    """Evaluate one planned row into ``out`` (all arrays uint8 of the same length)."""
    size = out.shape[0]
    mask = sc.mask[:size]
    if plan.xor_all:
        first, *rest = plan.xor_all
        if rest:
            np.bitwise_xor(slots[first], slots[rest[0]], out=out)
            for s in rest[1:]:
                np.bitwise_xor(out, slots[s], out=out)
        else:
            np.copyto(out, slots[first])
        return
    started = False
    if plan.low:
        acc = sc.acc[:size]
        low_started = False
        for level in plan.low:
            for s in level:
                _accumulate(acc, slots[s], low_started)
                low_started = True
            if low_started:
                _half(acc, mask)
    if plan.high:
        _horner_high(plan.high, slots, out, mask)
        started = True
    if plan.low:
        _accumulate(out, sc.acc[:size], started)
        started = True
    for s, c in plan.gathers:
        _gather(c, slots[s], out, started, sc)
        started = True
    if not started:
        out[:] = 0
    elif plan.scale != 1:
        _gather(plan.scale, out, out, False, sc)


def run(program: Program, inputs: list[np.ndarray], outputs: list[np.ndarray], sc: Scratch) -> None:
    """Evaluate ``program`` from ``inputs`` into ``outputs`` (uint8 arrays of one length)."""
    slots = list(inputs) + list(outputs)
    for position, plan in program.steps:
        run_row(plan, slots, outputs[position], sc)
