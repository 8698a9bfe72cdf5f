"""Event records: append-only columns that become pandas DataFrames at the end.

Columns are ``array.array`` buffers (8 bytes a value, ~40 ns an append), so
millions of records cost neither Python objects nor time. Text columns are
stored as small integer codes with their labels and become pandas
categoricals, written to CSV as their labels. A table's DataFrame views its
buffers instead of copying them (a table is framed once, at the end of a run),
so the frames cost nothing on top of the records. A column of a few integers
a row (a repair's source nodes) is kept flat, the integers in one buffer and a
count per row, and becomes space-separated text only in the frame: made as
the run went, millions of short strings (~70 bytes a row) were held all run
long among its short-lived objects; made at the end, they fill the memory
those left free.
"""

from __future__ import annotations

from array import array

import numpy as np

_TYPECODES = {"f": "d", "i": "q", "b": "b"}


class IdLists:
    """A column of a few integers per row (at most 32,767; each fits in 32 bits), such as the nodes a
    repair read from: 4 bytes an integer and 2 a row, where a row's text cost ~70."""

    def __init__(self):
        self.ids = array("i")
        self.counts = array("h")

    def append(self, ids) -> None:
        self.ids.extend(ids)
        self.counts.append(len(ids))

    def __len__(self) -> int:
        return len(self.counts)

    def texts(self) -> np.ndarray:
        """Each row's integers as text, space-separated (``"12 7 140"``, ``""`` for none), as an object array."""
        it = iter(self.ids)
        return np.fromiter((" ".join([str(next(it)) for _ in range(k)]) for k in self.counts), dtype=object,
                           count=len(self.counts))


class Table:
    """A growing table with typed columns: ``f`` float, ``i`` int, ``b`` bool, ``ids`` a few integers
    per row (:class:`IdLists`: a sequence appended, space-separated text in the frame), or a tuple of
    labels."""

    def __init__(self, name: str, columns: dict[str, str | tuple[str, ...]]):
        self.name = name
        self.columns = columns
        self._labels = {c: t for c, t in columns.items() if isinstance(t, tuple)}
        # Label columns hold int8 codes: a table has far fewer than 128 labels per column.
        self._data = {c: IdLists() if t == "ids" else array("b" if isinstance(t, tuple) else _TYPECODES[t])
                      for c, t in columns.items()}
        self._appenders = [self._data[c].append for c in columns]

    def append(self, *row) -> None:
        for add, value in zip(self._appenders, row, strict=False):
            add(value)

    def appender(self, name: str):
        """The bound ``append`` of one column, for hot loops that fill columns one by one."""
        return self._data[name].append

    def column(self, name: str) -> np.ndarray:
        """A zero-copy view of one column's values (label columns as their codes; an ``ids`` column
        as a new array of its rows' text)."""
        a = self._data[name]
        if isinstance(a, IdLists):
            return a.texts()
        return np.frombuffer(a, dtype=a.typecode) if len(a) else np.zeros(0, dtype=a.typecode)

    def set(self, name: str, row: int, value) -> None:
        self._data[name][row] = value

    def get(self, name: str, row: int):
        return self._data[name][row]

    def __len__(self) -> int:
        first = next(iter(self._data.values()))
        return len(first)

    def to_frame(self, rows: np.ndarray | None = None):
        """The table as a DataFrame (``rows``: only those rows, copied), one column per block.

        The whole table's numeric columns are not copied: the frame's columns are views of the table's
        buffers, which is why a table takes no more rows once framed (``append`` raises ``BufferError``)
        and ``set`` would change the frame. Built from copies and consolidated by pandas, the frame cost
        twice the table at the end of a run (issue 20: the collect phase was the run's peak).
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
