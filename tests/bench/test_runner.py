"""The benchmark runner (``make bench``) always runs to the end: a benchmark that fails is a row
of the table, the others still run, and the exit status says it. In the smoke run (what CI
runs) timings are not judged, but failures and correctness checks are. The benchmarks
themselves are run by CI's smoke step, not here."""

import sys
import types

import pytest

import bench
from bench.__main__ import discover, main


def row(name, ok=True, **extra):
    return {"name": name, "value": 1.0, "unit": "s", "target": "< 1", "ok": ok, **extra}


@pytest.fixture
def benchmarks(monkeypatch):
    """``benchmarks(name=run, …)`` puts benchmark modules with those ``run`` functions in
    place, as if they were files of ``bench/``."""
    monkeypatch.setenv("BENCH_SMOKE", "")  # restored after the test: main() sets it

    def _install(**runs):
        for name, run in runs.items():
            module = types.ModuleType(f"bench.{name}")
            module.run = run
            monkeypatch.setitem(sys.modules, f"bench.{name}", module)

    return _install


def broken():
    raise RuntimeError("the schema refused a row")


def test_a_failing_benchmark_is_reported_and_the_others_still_run(benchmarks, capsys):
    benchmarks(t_broken=broken, t_fine=lambda: [row("fast enough")])

    status = main(["t_broken", "t_fine"])

    table = capsys.readouterr().out
    assert status == 1
    assert "failed: RuntimeError: the schema refused a row" in table
    assert "fast enough" in table


def test_a_missed_timing_fails_a_real_run_but_not_the_smoke_run(benchmarks, monkeypatch):
    benchmarks(t_slow=lambda: [row("too slow", ok=False)])

    assert main(["t_slow"]) == 1
    assert main(["--smoke", "t_slow"]) == 0
    assert bench.smoke()  # and the benchmarks' child processes see it too


def test_the_smoke_run_still_fails_on_a_wrong_answer(benchmarks):
    benchmarks(t_wrong=lambda: [row("answers equal to the scan's", ok=False, exact=True)])

    assert main(["--smoke", "t_wrong"]) == 1


def test_every_benchmark_module_is_found():
    assert {"csv_import", "notice_delivery", "phash_index", "zip_import"} <= set(discover())
    assert not any(name.startswith("_") for name in discover())
