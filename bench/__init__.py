"""The benchmarks run by ``make bench``; see ``bench/__main__.py`` and docs/benchmarks.md.

Smoke mode (``python -m bench --smoke``, or ``BENCH_SMOKE=1``) runs every benchmark once
through the same code with tiny sizes, in seconds, so that none can rot unnoticed: CI runs it.
Timings are printed but not judged; a crash fails, and so does a row marked ``exact`` (a
correctness check, such as "answers equal to the scan's") that misses its target.
"""

import os


def smoke() -> bool:
    """Whether this run is the quick smoke run."""
    return os.environ.get("BENCH_SMOKE", "").strip() not in ("", "0")


def sized(full, tiny):
    """``full`` in a real run, ``tiny`` in the smoke run."""
    return tiny if smoke() else full
