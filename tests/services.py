"""Real processes and servers for tests: an SMTP server (aiosmtpd) on loopback and a Celery
worker subprocess that shares the test database and broker with the test process."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RecordingHandler:
    """Accepts every message and keeps it; ``refuse`` maps an address to an SMTP reply."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes = []
        self.refuse: dict[str, str] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.envelopes.append(envelope)
            self.messages.append(message)
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self):
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


def subprocess_database_env() -> dict[str, str]:
    """Environment that points a subprocess at the database this test run created."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"]), "DATABASE_URL": ""}
    auth = ""
    if db.get("USER"):
        auth = quote(db["USER"])
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"])
        auth += "@"
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return {"DATABASE_URL": f"postgres://{auth}{host}{port}/{db['NAME']}"}


def _storage_env() -> dict[str, str]:
    """The worker stores files where the test does (its folder, or its bucket and prefix)."""
    from django.conf import settings

    from .storage import worker_storage_env

    return {"MEDIA_ROOT": str(settings.MEDIA_ROOT), **worker_storage_env(settings)}


class WorkerProcess:
    """``celery -A portal worker`` in a subprocess, sharing the test database and broker."""

    def __init__(
        self,
        broker_env: dict[str, str],
        extra_env: dict[str, str] | None = None,
        log_path: Path | None = None,
        pool: str = "solo",
    ):
        self.pool = pool  # "prefork" where the test needs time limits (solo has none)
        self.env = {
            **os.environ,
            **subprocess_database_env(),
            **broker_env,
            "DEBUG": "1",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "PYTHONUNBUFFERED": "1",
            **_storage_env(),
            **(extra_env or {}),
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0):
        self._log = open(self.log_path, "w+b")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool",
                self.pool,
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--queues",
                self.env["CELERY_QUEUE"],
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: b"ready" in self.log() or self.process.poll() is not None,
            timeout=timeout,
            what="the Celery worker to start",
        )
        if self.process.poll() is not None:
            raise RuntimeError(
                "Celery worker died on start:\n" + self.log().decode(errors="replace")
            )
        return self

    def log(self) -> bytes:
        return self.log_path.read_bytes() if self.log_path and self.log_path.exists() else b""

    def kill(self):
        """SIGKILL, as a crashed machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self):
        # The test is over: nothing waits on a graceful exit, which costs Celery about 4 s.
        self.kill()
        if getattr(self, "_log", None):
            self._log.close()


MOTO_SERVER = ROOT / ".venv-moto" / "bin" / "moto_server"


class BucketServer:
    """moto's standalone S3-compatible server (``.venv-moto``, installed by ``make test``) on a
    free loopback port: the real boto3 client talks HTTP to it."""

    def __init__(self):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 30.0):
        self.process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answering():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_for(answering, timeout=timeout, what="moto_server")
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
