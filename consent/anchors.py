"""The consent ledger's anchor log: each chain's head, written outside the database.

Triggers keep the ledger append-only against the application and anyone using it, but whoever
holds the database's keys can switch them off, delete a chain's newest entries and set its head
back: the chain would still verify. So each change, once committed (where its receipt goes),
appends one JSON line to a file outside the database (``CONSENT_ANCHOR_LOG``)::

    {"at":"2027-01-01T10:00:00.123456+00:00","chain":"<ref>","head_hash":"<hex>","length":3}

The file is opened in append mode, the line written in one ``write`` under an exclusive lock
(web processes and workers share it), then flushed to disk (``fsync``). ``verify_ledger`` reads
it back: every chain's longest anchored length must be in the database with the same hash. A
failure to write is logged and does not undo the change (a missing anchor leaves an older one
standing; the chain is still checked against it).
"""

import fcntl
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def log_path() -> Path | None:
    """The anchor log this process writes, or None when anchoring is switched off."""
    configured = settings.CONSENT_ANCHOR_LOG
    return Path(configured) if configured else None


def record(*, chain: str, length: int, head_hash: str) -> None:
    """Append the head (chain, length, hash) to the anchor log. Called after commit."""
    path = log_path()
    if path is None:
        return
    line = json.dumps(
        {
            "at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "chain": chain,
            "head_hash": head_hash,
            "length": length,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)  # also releases the lock
    except OSError:
        logger.exception(
            "Consent ledger head not anchored in %s: chain %s, length %s, head %s",
            path,
            chain,
            length,
            head_hash,
        )


@dataclass(frozen=True)
class Anchor:
    length: int
    head_hash: str
    at: str = ""  # when it was written


@dataclass
class AnchorSet:
    """The longest anchored head of each chain, from one or more logs."""

    paths: list[Path]
    heads: dict[str, Anchor] = field(default_factory=dict)
    lines: int = 0
    unreadable: int = 0  # lines that are not an anchor (a torn last line after a crash, …)
    conflicts: set[str] = field(default_factory=set)  # chains anchored twice, differently

    def add(self, chain: str, anchor: Anchor) -> None:
        known = self.heads.get(chain)
        if known is None or anchor.length > known.length:
            self.heads[chain] = anchor
        elif anchor.length == known.length and anchor.head_hash != known.head_hash:
            self.conflicts.add(chain)


def read(paths: Iterable[Path]) -> AnchorSet:
    """Read anchor logs (those that exist). Lines may be out of order: two processes commit
    changes to one chain in order but may write their anchors the other way round."""
    paths = list(paths)
    anchors = AnchorSet(paths=[p for p in paths if p.is_file()])
    for path in anchors.paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            for line in log:
                if not line.strip():
                    continue
                anchors.lines += 1
                try:
                    item = json.loads(line)
                    chain, length, head = item["chain"], item["length"], item["head_hash"]
                    if not (isinstance(length, int) and isinstance(head, str) and len(head) == 64):
                        raise ValueError(line)
                except (ValueError, KeyError, TypeError):
                    anchors.unreadable += 1
                    continue
                anchors.add(str(chain), Anchor(length, head, str(item.get("at", ""))))
    return anchors
