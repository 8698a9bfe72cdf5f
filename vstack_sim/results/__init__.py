"""One run's results folder: the runner, atomic folders, the manifest, the tables, the report and its
figures, and ``catalog.sqlite``. It reads what the model hands it and never reaches back down for more.
"""
