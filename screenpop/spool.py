"""Writes the database refused, kept on disk until it takes them.

When the database cannot be reached (PostgreSQL stopped, an SQLite file locked or read-only),
the writer holds what it could not write and keeps it here as well as in memory, so that a
crash or a restart of the product during the outage loses nothing: the next start replays
this file first.

The file is a journal, one JSON object per line, appended to and fsynced by the writer's
thread (never on the event loop):

* ``{"seq": 12, "kind": "calls", "data": {...}, "size": 3}``: a write held, in order;
* ``{"ack": 12}``: every write up to 12 is in the database (writes are replayed in order,
  so one number says it all).

A write made under the router's lease carries its fencing token (``"token": 7``): replayed
later, it is checked against the lease as it was made, not as the replaying process holds it
(``cti.cluster.write_fence``). Writes the lease refused are set aside in a second file,
``ecritures-refusees.jsonl`` (``set_aside``), never replayed, kept for a technician to read.

A write may have reached the database without its ``ack`` (a crash between the two): the
writes are idempotent for that reason (see ``screenpop.directory_writes``). A last line cut
by a crash is ignored: its write had not been acknowledged to anyone either. Once everything
is written the file is emptied.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "ecritures-en-attente.jsonl"
REFUSED_FILE_NAME = "ecritures-refusees.jsonl"


class SpoolError(Exception):
    """The spool file cannot be written or read (directory missing, disk full, rights)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"fichier des écritures en attente {path} : {reason} "
            "(vérifier CTI_SPOOL_DIR, les droits et la place sur le disque)"
        )
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Write:
    """One write for the database, as data (so that it can wait on disk): its ``kind`` names
    the function that applies it, ``data`` its JSON-able arguments (datetimes allowed),
    ``size`` the records it carries (what "pending writes" counts)."""

    kind: str
    data: dict[str, Any]
    size: int = 1
    #: The router's fencing token when it was made (None: no lease, a single process).
    token: int | None = None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(f"cannot keep {type(value).__name__} in the spool")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    return obj


def dumps(seq: int, write: Write) -> str:
    line: dict[str, Any] = {"seq": seq, "kind": write.kind, "data": write.data}
    line["size"] = write.size
    if write.token is not None:
        line["token"] = write.token
    return json.dumps(line, default=_encode, ensure_ascii=False, separators=(",", ":"))


class Spool:
    """The journal of held writes in ``directory``. Not thread-safe: one writer uses it."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME
        self.refused_path = Path(directory) / REFUSED_FILE_NAME
        self._mended = False

    def check(self) -> None:
        """Raise ``SpoolError`` unless the spool can be written (at start-up)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise SpoolError(self.path, exc.strerror or str(exc)) from exc

    def append(self, writes: Sequence[tuple[int, Write]]) -> None:
        """Keep ``writes`` (numbered) for good: on disk when this returns."""
        if not writes:
            return
        text = "".join(dumps(seq, write) + "\n" for seq, write in writes)
        self._add(text, sync=True)

    def ack(self, seq: int) -> None:
        """Every write up to ``seq`` is in the database. Not synced: a lost ack only means
        an idempotent write is replayed once more."""
        self._add(json.dumps({"ack": seq}) + "\n", sync=False)

    def _add(self, text: str, *, sync: bool) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                if not self._mended:  # a line cut by a crash must not swallow the next one
                    self._mended = True
                    if file.tell() > 0 and not self._ends_with_newline():
                        text = "\n" + text
                file.write(text)
                file.flush()
                if sync:
                    os.fsync(file.fileno())
        except OSError as exc:
            raise SpoolError(self.path, exc.strerror or str(exc)) from exc

    def set_aside(self, write: Write, reason: str, at: datetime) -> None:
        """Keep ``write``, refused by the router's lease, where a technician can read it: it
        is never replayed (it would overwrite what the node in charge wrote since)."""
        line = {"refused_at": at, "reason": reason, "kind": write.kind, "token": write.token}
        line |= {"size": write.size, "data": write.data}
        text = json.dumps(line, default=_encode, ensure_ascii=False, separators=(",", ":"))
        try:
            self.refused_path.parent.mkdir(parents=True, exist_ok=True)
            with self.refused_path.open("a", encoding="utf-8") as file:
                file.write(text + "\n")
                file.flush()
                os.fsync(file.fileno())
        except OSError as exc:
            raise SpoolError(self.refused_path, exc.strerror or str(exc)) from exc

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as file:
            file.seek(-1, os.SEEK_END)
            return file.read(1) == b"\n"

    def last_seq(self) -> int:
        """The highest number in the journal (-1 when empty): new writes are numbered after."""
        return max((line.get("seq", line.get("ack", -1)) for line in self._lines()), default=-1)

    def load(self, limit: int | None = None, after: int = -1) -> list[tuple[int, Write]]:
        """The writes not acknowledged (nor numbered ``after`` or less), oldest first, at
        most ``limit``."""
        lines = list(self._lines())
        acked = max((line["ack"] for line in lines if "ack" in line), default=after)
        acked = max(acked, after)
        held: list[tuple[int, Write]] = []
        for line in lines:
            if "seq" in line and line["seq"] > acked:
                write = Write(line["kind"], line["data"], line["size"], line.get("token"))
                held.append((line["seq"], write))
                if limit is not None and len(held) >= limit:
                    break
        return held

    def _lines(self) -> Iterator[dict[str, Any]]:
        try:
            with self.path.open(encoding="utf-8") as file:
                for number, text in enumerate(file, start=1):
                    try:
                        yield json.loads(text, object_hook=_decode)
                    except ValueError:  # the line a crash cut short
                        log.warning("%s, ligne %d illisible : ignorée", self.path, number)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise SpoolError(self.path, exc.strerror or str(exc)) from exc

    def clear(self) -> None:
        """Everything is written: start an empty journal."""
        try:
            with self.path.open("w", encoding="utf-8"):
                pass
        except FileNotFoundError:
            return
        except OSError as exc:
            raise SpoolError(self.path, exc.strerror or str(exc)) from exc
