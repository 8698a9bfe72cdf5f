"""The V-Stack metadata service over a run's ``catalog.sqlite`` (``vstack-sim serve``).
"""
