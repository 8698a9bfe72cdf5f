"""Pure functions over numbers: confidence intervals and distributions (:mod:`.stats`), theory to check the
simulation against (:mod:`.theory`: birth-death MTTDL, queueing), windowed read-latency statistics
(:mod:`.interference`), and Zipf top shares and the exponent that gives a measured one (:mod:`.popularity`).
It imports only :mod:`vstack_sim.system` below it.
"""
