"""Event records: append-only columns that become pandas DataFrames at the end.

Columns are appended to ``array.array`` buffers (8 bytes a value, ~40 ns an
append), so millions of records cost neither Python objects nor time; a
table that grows through ``append`` moves them now and then into memory
mapped for each column (:class:`Buffer`), which grows without leaving holes
in the malloc heap. Text columns are stored as small integer codes with their
labels and become pandas categoricals, written to CSV as their labels. A
table's DataFrame views its columns instead of copying them (a table is
framed once, at the end of a run), so the frames cost nothing on top of the
records. A column of a few integers a row (a repair's source nodes) is kept
flat, the integers in one buffer and a count per row, and becomes
space-separated text only in the frame: made as the run went, millions of
short strings (~70 bytes a row) were held all run long among its short-lived
objects; made at the end, they fill the memory those left free.
"""

from __future__ import annotations

import mmap
from array import array

import numpy as np

_TYPECODES = {"f": "d", "i": "q", "b": "b"}

SPILL_ROWS = 1 << 16
"""Rows a table takes into its ``array.array`` buffers before it moves them into its own memory."""


class Buffer:
    """One column's values: appended to an ``array.array`` (fast), moved every :data:`SPILL_ROWS` rows
    into a NumPy array on memory mapped for it alone, whose capacity doubles as it fills.

    ``array.array`` grows by ``realloc``, ~6 % at a time; a dozen columns growing side by side in the
    malloc heap, among NumPy's temporaries, left as much free space inside the heap as they held (issue
    20: 239 MB with the 5 M-chunk benchmark's repairs), and a heap gives none of it back. A mapping of
    its own is given back whole when it is replaced or freed, and the capacity not yet written costs no
    memory.
    """

    def __init__(self, typecode: str):
        self.stage = array(typecode)
        self.append, self.extend = self.stage.append, self.stage.extend
        self.store: np.ndarray | None = None
        self.stored = 0

    def __len__(self) -> int:
        return self.stored + len(self.stage)

    def spill(self) -> None:
        """Move the buffered values into the store (a larger one when it is full)."""
        staged = len(self.stage)
        if not staged:
            return
        end = self.stored + staged
        if self.store is None or len(self.store) < end:
            capacity = max(2 * end, 4 * SPILL_ROWS)
            store = np.frombuffer(mmap.mmap(-1, capacity * self.stage.itemsize), dtype=self.stage.typecode)
            if self.stored:
                store[:self.stored] = self.store[:self.stored]
            self.store = store
        self.store[self.stored:end] = np.frombuffer(self.stage, dtype=self.stage.typecode)
        self.stored = end
        del self.stage[:]

    def values(self) -> np.ndarray:
        """Every value, a view without a copy: of the store (the buffered values moved there first), or
        of the buffer while nothing was moved."""
        if self.store is not None:
            self.spill()
            return self.store[:self.stored]
        a = self.stage
        return np.frombuffer(a, dtype=a.typecode) if len(a) else np.zeros(0, dtype=a.typecode)

    def __getitem__(self, row: int):
        return self.store[row].item() if row < self.stored else self.stage[row - self.stored]

    def __setitem__(self, row: int, value) -> None:
        if row < self.stored:
            self.store[row] = value
        else:
            self.stage[row - self.stored] = value


def _ints(values: np.ndarray, step: int = SPILL_ROWS):
    """The values as Python ints, a slice at a time (no list of them all)."""
    for i in range(0, len(values), step):
        yield from values[i:i + step].tolist()


class IdLists:
    """A column of a few integers per row (at most 32,767; each fits in 32 bits), such as the nodes a
    repair read from: 4 bytes an integer and 2 a row, where a row's text cost ~70."""

    def __init__(self):
        self.ids = Buffer("i")
        self.counts = Buffer("h")

    def append(self, ids) -> None:
        self.ids.extend(ids)
        self.counts.append(len(ids))

    def __len__(self) -> int:
        return len(self.counts)

    def spill(self) -> None:
        self.ids.spill()
        self.counts.spill()

    def texts(self) -> np.ndarray:
        """Each row's integers as text, space-separated (``"12 7 140"``, ``""`` for none), as an object array."""
        it = _ints(self.ids.values())
        return np.fromiter((" ".join([str(next(it)) for _ in range(k)]) for k in _ints(self.counts.values())),
                           dtype=object, count=len(self.counts))


class Table:
    """A growing table with typed columns: ``f`` float, ``i`` int, ``b`` bool, ``ids`` a few integers
    per row (:class:`IdLists`: a sequence appended, space-separated text in the frame), or a tuple of
    labels."""

    def __init__(self, name: str, columns: dict[str, str | tuple[str, ...]]):
        self.name = name
        self.columns = columns
        self._labels = {c: t for c, t in columns.items() if isinstance(t, tuple)}
        # Label columns hold int8 codes: a table has far fewer than 128 labels per column.
        self._data = {c: IdLists() if t == "ids" else Buffer("b" if isinstance(t, tuple) else _TYPECODES[t])
                      for c, t in columns.items()}
        self._appenders = [self._data[c].append for c in columns]
        self._staged = 0

    def append(self, *row) -> None:
        for add, value in zip(self._appenders, row, strict=False):
            add(value)
        self._staged += 1
        if self._staged == SPILL_ROWS:
            self.spill()

    def spill(self) -> None:
        """Move every column's buffered values into its own memory (:class:`Buffer`)."""
        for a in self._data.values():
            a.spill()
        self._staged = 0

    def appender(self, name: str):
        """The bound ``append`` of one column, for hot loops that fill columns one by one (their values
        stay in the column's ``array.array``: a loop that makes many calls :meth:`spill` now and then)."""
        return self._data[name].append

    def column(self, name: str) -> np.ndarray:
        """A zero-copy view of one column's values (label columns as their codes; an ``ids`` column
        as a new array of its rows' text)."""
        a = self._data[name]
        return a.texts() if isinstance(a, IdLists) else a.values()

    def set(self, name: str, row: int, value) -> None:
        self._data[name][row] = value

    def get(self, name: str, row: int):
        return self._data[name][row]

    def __len__(self) -> int:
        first = next(iter(self._data.values()))
        return len(first)

    def to_frame(self, rows: np.ndarray | None = None):
        """The table as a DataFrame (``rows``: only those rows, copied), one column per block.

        The whole table's numeric columns are not copied: the frame's columns are views of the table's,
        so ``set`` would change the frame, and a table framed while its values are still in its
        ``array.array`` buffers takes no more rows (``append`` raises ``BufferError``; one whose values
        moved into their own memory takes more, the frame keeping its rows). Built from copies and
        consolidated by pandas, the frame cost twice the table at the end of a run (issue 20: the collect
        phase was the run's peak).
        """
        import pandas as pd

        out = {}
        for c, t in self.columns.items():
            values = self.column(c)
            if rows is not None:
                values = values[rows]
            if isinstance(t, tuple):
                # int8 codes, as pandas keeps them for so few labels: no int64 copy on the way
                out[c] = pd.Categorical.from_codes(values, categories=list(t))
            elif t == "b":
                out[c] = values.astype(bool)
            else:
                out[c] = values
        return pd.DataFrame(out, copy=False)   # copy=False: no copy, and no consolidation into 2-D blocks
