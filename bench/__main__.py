"""Run the benchmarks: ``make bench`` (all) or ``python -m bench fingerprint …`` (some).

Each module in this folder with a ``run() -> list[dict]`` is a benchmark; a row is
``{"name", "value", "unit", "target", "ok"}``. Results are printed as one table; the exit status
is 1 when a row misses its target. Timings here are measured side by side in one run on a shared,
noisy machine: compare ratios within a run, not absolute numbers across runs.
"""

import importlib
import pkgutil
import sys
import time
from pathlib import Path

import bench


def discover() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
        if not info.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    names = argv or discover()
    rows: list[tuple[str, dict]] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.monotonic()
        print(f"… {name}", file=sys.stderr, flush=True)
        rows.extend((name, row) for row in module.run())
        print(f"  {name} took {time.monotonic() - started:.1f} s", file=sys.stderr)
    width = max(len(row["name"]) for _, row in rows)
    print(f"\n{'benchmark':<12} {'measure':<{width}} {'value':>12}  {'target':<14} ok")
    for name, row in rows:
        value = row["value"]
        if isinstance(value, str):
            shown = value
        else:
            shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        print(
            f"{name:<12} {row['name']:<{width}} {shown:>12} {row['unit']:<5}"
            f" {row.get('target') or '':<8} {'yes' if row.get('ok', True) else 'NO'}"
        )
    return 0 if all(row.get("ok", True) for _, row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
