"""Benchmarks: ``inv login``, ``inv push`` and ``inv --list`` against their baselines.

``python -m benchmarks`` (or ``nox -s bench``) starts the local ECR stand-in,
runs every pair of commands alternately after a warm-up, prints the medians
and the ratio of each pair, and writes the table to ``benchmarks/results.md``.

* :mod:`benchmarks.timing` runs commands and times them, in alternation.
* :mod:`benchmarks.workspace` prepares what the commands need: projects,
  token caches, the test image, the extra registries and the engine shim.
* :mod:`benchmarks.pairs` says which commands are compared, with which target.
* :mod:`benchmarks.machine` describes the machine; :mod:`benchmarks.report`
  writes the table.
"""
