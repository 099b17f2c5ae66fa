"""`make run` stops: every process of scripts/run.sh (gunicorn and its workers, the Celery worker
and its pool processes, beat) is gone within 15 s of SIGTERM or SIGINT to its process group, as
a process manager or Ctrl-C sends them, whatever the worker was doing.

Each test starts the real script in a session of its own on a free port, with a scratch SQLite
database, broker folder and mail folder (VAR_DIR), and watches /proc for the session's
processes.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.services import ROOT, free_port, wait_for

pytestmark = pytest.mark.worker

STOP_WITHIN = 15.0  # seconds, the promise of docs/operations.md


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent, session) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[3])


def session_processes(sid: int) -> list[int]:
    """Processes of the session still running (a zombie has ended: it only waits to be reaped)."""
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat and stat[2] == sid and stat[0] != "Z":
                alive.append(int(entry))
    return alive


def children(pid: int) -> list[int]:
    return [p for p in session_processes(os.getsid(pid)) if (_stat(p) or ("", 0, 0))[1] == pid]


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory) -> Path:
    """One migrated SQLite database, copied for each run (migrating takes seconds)."""
    folder = tmp_path_factory.mktemp("run-sh-db")
    env = _env(folder)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder / "db.sqlite3"


def _env(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "EMAIL_", "REDIS_", "SQLITE_", "MEDIA_", "CONSENT_"))
    }
    return env | {
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": "",  # the embedded default: SQLite under VAR_DIR, a broker folder
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "2",
    }


class Run:
    """scripts/run.sh in a session of its own."""

    def __init__(self, var_dir: Path, database: Path):
        var_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(database, var_dir / "db.sqlite3")
        self.port = free_port()
        self.log_path = var_dir / "run.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            ["bash", "scripts/run.sh", "127.0.0.1", str(self.port)],
            cwd=ROOT,
            env=_env(var_dir),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.sid = self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
        except urllib.error.HTTPError:
            return True  # it answered (an unhealthy dependency is not this test's business)
        except OSError:
            return False
        return True

    def worker(self) -> int:
        (pid,) = [p for p in children(self.sid) if "celery -A portal worker" in command(p)]
        return pid

    def wait_until_up(self):
        wait_for(self.answers, timeout=40, interval=0.2, what="gunicorn to answer")
        wait_for(lambda: "ready." in self.log(), timeout=40, what="the Celery worker")
        wait_for(lambda: len(children(self.worker())) == 2, timeout=20, what="two pool processes")

    def stop(self, signum, *, forwarded: bool = False) -> float:
        """Send ``signum`` to the whole process group (and, ``forwarded``, once more to run.sh,
        as ``make`` does with the SIGTERM it gets); seconds until every process is gone."""
        start = time.monotonic()
        os.killpg(self.sid, signum)
        if forwarded:
            os.kill(self.sid, signum)
        while session_processes(self.sid) and time.monotonic() - start < STOP_WITHIN + 5:
            time.sleep(0.1)
        return time.monotonic() - start

    def close(self):
        for pid in session_processes(self.sid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


@pytest.fixture
def run(tmp_path, migrated_database):
    started = Run(tmp_path / "var", migrated_database)
    yield started
    started.close()


def waiting_for_the_task_queue(pid: int) -> bool:
    """An idle pool process either reads the pool's shared task queue, holding its lock, or
    waits for that lock (a futex)."""
    try:
        return "futex" in Path(f"/proc/{pid}/wchan").read_text()
    except FileNotFoundError:
        return False


def replace_a_pool_process(run: Run) -> None:
    """A pool process dies, as one does when the kernel's OOM killer or a crashing image decoder
    ends it mid-task; billiard starts another in its place. (The one killed here is the idle
    process waiting for the task queue's lock: like a busy one, it holds no lock of the pool.)"""
    worker = run.worker()
    before = children(worker)
    victim = wait_for(
        lambda: next((p for p in before if waiting_for_the_task_queue(p)), None),
        timeout=10,
        what="a pool process waiting for the task queue",
    )
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: len(set(children(worker)) - set(before)) == 1 and len(children(worker)) == 2,
        timeout=20,
        what="billiard to replace the pool process",
    )
    time.sleep(2.0)  # the new process starts, then waits for work


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_every_process_stops_on_its_own_after_a_pool_process_was_replaced(run, signum):
    run.wait_until_up()
    replace_a_pool_process(run)

    took = run.stop(signum)

    left = {pid: command(pid) for pid in session_processes(run.sid)}
    assert not left, f"still running {took:.1f} s after {signum.name}: {left}\n{run.log()[-3000:]}"
    assert took < STOP_WITHIN
    assert "killed with SIGKILL" not in run.log()  # the worker stopped by itself, not by force


def test_a_worker_deaf_to_sigterm_is_killed_after_the_grace_period(run):
    run.wait_until_up()
    worker = run.worker()
    os.kill(worker, signal.SIGSTOP)  # hung: it cannot act on SIGTERM at all

    took = run.stop(signal.SIGTERM)

    left = {pid: command(pid) for pid in session_processes(run.sid)}
    assert not left, f"still running {took:.1f} s after SIGTERM: {left}\n{run.log()[-3000:]}"
    assert took < STOP_WITHIN
    assert "killed with SIGKILL" in run.log()


def test_a_sigterm_that_make_forwards_does_not_cut_the_grace_short(run):
    """`make run` under a process manager: the group's SIGTERM reaches run.sh twice (make
    forwards its own). That is not a second Ctrl-C: the worker still stops by itself."""
    run.wait_until_up()

    took = run.stop(signal.SIGTERM, forwarded=True)

    left = {pid: command(pid) for pid in session_processes(run.sid)}
    assert not left, f"still running {took:.1f} s after SIGTERM: {left}\n{run.log()[-3000:]}"
    assert took < STOP_WITHIN
    assert "killed with SIGKILL" not in run.log()
