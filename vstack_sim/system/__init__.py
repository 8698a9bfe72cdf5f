"""The real V-Stack, no SimPy: the erasure codec (:mod:`.codec`), redundancy modes and policies, the
redundancy manager and its JSON shapes, and the storage ledger.

The bottom layer: it imports nothing else of the package (docs/architecture.md).
"""
