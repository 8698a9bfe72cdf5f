"""The ``vstack-sim`` command: :mod:`.main` builds the parser and maps errors to exit codes; one module
per group of subcommands.
"""
