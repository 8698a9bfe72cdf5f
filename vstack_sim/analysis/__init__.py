"""Pure functions over numbers: confidence intervals and distributions (:mod:`.stats`), theory to check the
simulation against (:mod:`.theory`: birth-death MTTDL, queueing), and windowed read-latency statistics
(:mod:`.interference`). It imports only :mod:`vstack_sim.system` below it.
"""
