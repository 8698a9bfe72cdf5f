"""Background I/O: one slot's W chunk-sized requests, pipelined and interleaved with reads.

With ``catalog.chunk_weight`` W, a simulated chunk stands for W chunks that
share its placement. Rebuilding one of its slots, or converting it, moves W
slots' worth of bytes. It never goes out as one W-sized request: that would
hold a disk for W service times, and every read behind it would wait. It goes
out as W rounds of chunk-sized requests, one object after another, as a real
rebuild does:

* **read** round i: one request per source (1 replica or k fragments),
  submitted when round i-1's reads have finished;
* **move** round i: once read, the bytes cross the job's stream (and are
  decoded or encoded), after round i-1's bytes;
* **write** round i: the requests to the target(s), submitted when round i's
  bytes arrive.

Round i+1's reads enter the disk queues only when round i's reads have
finished, and when round i+1-DEPTH has been written: a job holds at most
DEPTH rounds in flight, a bounded buffer, so a slow target throttles its
sources instead of collecting a queue of writes. A view's read that arrived in
the meantime is served first: it waits behind at most one read (on a source)
or DEPTH writes (on a target) of each job, never behind W requests. The three
stages overlap, a pipeline as in HDFS and Ceph recovery. With DEPTH = 3 an
uncontended job takes exactly sum(stages) + (W - 1) x max(stages), because a
buffer of three rounds never starves the slowest stage.

The queues are next-free-time queues, so a request's finish time is known
when it joins its queue: when it is submitted, unless the I/O scheduler holds
it (:mod:`.io_arbiter`), and then the round goes on when the last one joins.
A round therefore costs two events: one to submit the next round's reads,
one to submit this round's writes, plus one when the buffer is full. With
W = 1 the events are exactly those of a single-request job: reads now, the
write when the bytes arrive, done when the write finishes.
"""

from __future__ import annotations

import math
from typing import Callable

DEPTH = 3
"""Rounds a job may have in flight (read, not yet written)."""


class BackgroundJob:
    """W rounds of read -> move -> write for one slot (repair) or one chunk (conversion).

    ``read(t, then)`` submits one round's reads at ``t`` and calls ``then(first_start, finish)``
    once they have joined their queues; ``move(t) -> arrival`` gives when the bytes of a round,
    ready at ``t``, have crossed the stream; ``write(t, then)`` submits one round's writes at
    ``t`` and calls ``then(finish)``. The continuations run inline unless the I/O scheduler
    holds a request (:mod:`.io_arbiter`);
    ``done(first_start, end)`` is called once, when the last write has finished.
    ``check(t) -> bool`` is asked before each round's reads after the first: False
    stops the job for good (``done`` is never called), so that its owner can
    queue it again; the owner may also change what ``read`` reads from.
    ``after_last_write()`` is called once the last write is submitted and the
    job still runs (say, to hand on streams the job no longer needs).
    """

    __slots__ = ("env", "rounds", "read", "move", "write", "done", "check", "after_last_write", "read_rounds",
                 "issued_writes", "written_rounds", "first_start", "link_free", "end", "alive", "write_ends", "waiting")

    def __init__(self, env, rounds: int, read: Callable, move: Callable, write: Callable, done: Callable,
                 check: Callable | None = None, after_last_write: Callable | None = None):
        if rounds < 1:
            raise ValueError(f"rounds: must be >= 1, got {rounds}")
        self.env = env
        self.rounds = int(rounds)
        self.read, self.move, self.write, self.done, self.check = read, move, write, done, check
        self.after_last_write = after_last_write
        self.read_rounds = 0
        self.issued_writes = 0            # write rounds handed to ``write`` (the I/O scheduler may hold them)
        self.written_rounds = 0           # write rounds in their disks' queues
        self.first_start = math.inf
        self.link_free = -math.inf        # when the stream has carried the previous round's bytes
        self.end = -math.inf              # latest finish of the writes submitted so far
        self.alive = True
        self.write_ends = [0.0] * DEPTH   # finish of write round j at j % DEPTH
        self.waiting = 0                  # the write round whose submission the next read waits for

    def start(self) -> "BackgroundJob":
        self._read_round()
        return self

    def cancel(self) -> None:
        """The job is abandoned (its target failed, its chunk was lost or converted): nothing more happens."""
        self.alive = False

    def _read_round(self) -> None:
        self.read(self.env.now, self._read_in)

    def _read_in(self, begin: float, ready: float) -> None:
        """The round's reads have joined their queues (at once, unless the I/O scheduler held one)."""
        if not self.alive:
            return
        env = self.env
        if begin < self.first_start:
            self.first_start = begin
        self.read_rounds += 1
        arrive = self.move(ready if ready > self.link_free else self.link_free)
        self.link_free = arrive
        if self.read_rounds < self.rounds:
            env.timeout(ready - env.now).callbacks.append(self._reads_done)
        env.timeout(arrive - env.now).callbacks.append(self._write_round)

    def _reads_done(self, _event) -> None:
        """This round is read: read the next one now, or once the buffer has room."""
        if not self.alive:
            return
        j = self.read_rounds + 1 - DEPTH        # the write round the next read waits for
        if j >= 1:
            if self.written_rounds < j:
                self.waiting = j                # resumed when write j is submitted
                return
            end = self.write_ends[j % DEPTH]
            if end > self.env.now:
                self.env.timeout(end - self.env.now).callbacks.append(self._next_read)
                return
        self._next_read(None)

    def _next_read(self, _event) -> None:
        if not self.alive:
            return
        if self.check is not None and not self.check(self.env.now):
            self.alive = False
            return
        self._read_round()

    def _write_round(self, _event) -> None:
        if not self.alive:
            return
        self.issued_writes += 1
        self.write(self.env.now, self._written)

    def _written(self, finish: float) -> None:
        """The round's writes have joined their queues (at once, unless the I/O scheduler held one)."""
        env = self.env
        if finish > self.end:
            self.end = finish
        self.written_rounds += 1
        self.write_ends[self.written_rounds % DEPTH] = finish
        if self.waiting == self.written_rounds:
            self.waiting = 0
            env.timeout(finish - env.now).callbacks.append(self._next_read)
        if self.written_rounds == self.rounds and self.alive:
            end = self.end
            env.timeout(end - env.now).callbacks.append(lambda _e: self.alive and self.done(self.first_start, end))
            if self.after_last_write is not None:
                self.after_last_write()
