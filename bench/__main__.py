"""Run the benchmarks: ``make bench`` (all) or ``python -m bench fingerprint …`` (some);
``python -m bench --smoke`` (or ``BENCH_SMOKE=1``) runs them with tiny sizes, as CI does.

Each module in this folder with a ``run() -> list[dict]`` is a benchmark; a row is
``{"name", "value", "unit", "target", "ok"}``, and ``"exact": True`` marks a correctness check
rather than a timing. Results are printed as one table; the exit status is 1 when a row misses
its target or a benchmark fails — a failing benchmark is reported as a row and the others still
run. In the smoke run only failures and exact rows count. Timings here are measured side by
side in one run on a shared, noisy machine: compare ratios within a run, not absolute numbers
across runs.
"""

import importlib
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

import bench

SMOKE_FLAG = "--smoke"


def discover() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
        if not info.name.startswith("_")
    )


def _run_one(name: str) -> list[dict]:
    """The benchmark's rows, or one failed row saying why it stopped."""
    try:
        module = importlib.import_module(f"bench.{name}")
        return list(module.run())
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        first = (str(exc).strip().splitlines() or [""])[-1][:120]
        why = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        return [{"name": f"failed: {why}", "value": "", "unit": "", "target": "runs", "ok": False}]


def counts(row: dict, smoke: bool) -> bool:
    """Whether the row's verdict counts in this run: every row, or in the smoke run only
    failures and correctness checks."""
    return not smoke or row.get("exact", False) or row["name"].startswith("failed:")


def main(argv: list[str]) -> int:
    if SMOKE_FLAG in argv:
        os.environ["BENCH_SMOKE"] = "1"  # read by each benchmark and its child processes
        argv = [arg for arg in argv if arg != SMOKE_FLAG]
    smoke = bench.smoke()
    names = argv or discover()
    rows: list[tuple[str, dict]] = []
    for name in names:
        started = time.monotonic()
        print(f"… {name}{' (smoke)' if smoke else ''}", file=sys.stderr, flush=True)
        rows.extend((name, row) for row in _run_one(name))
        print(f"  {name} took {time.monotonic() - started:.1f} s", file=sys.stderr)
    width = max(len(row["name"]) for _, row in rows)
    if smoke:
        print("\nSmoke run: tiny sizes, timings not judged (ok: '-').")
    print(f"\n{'benchmark':<15} {'measure':<{width}} {'value':>12}  {'target':<14} ok")
    for name, row in rows:
        value = row["value"]
        if isinstance(value, str):
            shown = value
        else:
            shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        verdict = "yes" if row.get("ok", True) else "NO"
        if not counts(row, smoke):
            verdict = "-"
        print(
            f"{name:<15} {row['name']:<{width}} {shown:>12} {row['unit']:<5}"
            f" {row.get('target') or '':<8} {verdict}"
        )
    failed = [row for _, row in rows if counts(row, smoke) and not row.get("ok", True)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
