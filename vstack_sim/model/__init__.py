"""The simulated world: a SimPy clock around the real redundancy manager and codec.

Layers, bottom up: ``streams`` (random numbers), ``catalog`` (videos and
popularity), ``state`` (per-chunk and per-slot NumPy arrays), ``cluster``
(nodes and their FIFO disk queues), ``placement`` (where copies go),
``records`` (event tables); then the things that happen in time:
``failures``, ``repair``, ``workload`` and ``reads``, ``migration``, with
``payloads`` carrying real bytes when asked. ``world`` ties them together.
"""
