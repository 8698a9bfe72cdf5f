"""Many runs: sweep files, sweeps over a grid with replications and executors (serial, process pool,
Dask), comparisons with intervals and paired differences, and the sweep report.
"""
