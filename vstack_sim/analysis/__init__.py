"""Pure functions over numbers: confidence intervals and distributions (:mod:`.stats`), theory to check the
simulation against (:mod:`.theory`: birth-death MTTDL, queueing), windowed read-latency statistics
(:mod:`.interference`), Zipf top shares and the exponent that gives a measured one (:mod:`.popularity`), and
the steady state of an output series (:mod:`.steady_state`). It imports only :mod:`vstack_sim.system` below it.
"""
