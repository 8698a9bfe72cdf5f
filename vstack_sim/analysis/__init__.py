"""Pure functions over numbers: confidence intervals and distributions (:mod:`.stats`), analytic durability
(:mod:`.durability`: the birth-death chain, the Backblaze model), theory to check the simulation against
(:mod:`.theory`: queueing, cache), windowed read-latency statistics
(:mod:`.interference`), Zipf top shares and the exponent that gives a measured one (:mod:`.popularity`), and
the steady state of an output series (:mod:`.steady_state`). It imports only :mod:`vstack_sim.system` below it.
"""
