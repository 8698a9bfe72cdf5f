"""What a run is: the scenario schema (:mod:`.schema`) and its units, YAML files with ``extends`` and
``--set`` (:mod:`.files`), the shipped scenarios, the up-front limits that need only the config, and the
user's data files (catalog CSV, failure trace). It never imports the model.
"""
