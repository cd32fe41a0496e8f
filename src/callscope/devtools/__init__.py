"""Developer tools that never run inside an agent: simulated sessions for tests and demos.

Kept out of :mod:`callscope.collect` so the collector's import path (and the base install)
carries none of it.
"""
