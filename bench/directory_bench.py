"""Citizen directory: our code against the floor (sqlite3 by hand) on one SQLite file.

(a) Screen-pop lookup: ``Directory.citizens_by_number`` on a directory of 1,000,000 citizens
    (``seed_demo``) vs the same indexed SELECT through the ``sqlite3`` module on a connection
    kept open: p50/p99 and the ratio (goal <= 2).
(b) CSV import: ``import_file`` of 1,000,000 lines (parsing, checks, rejects file, upsert) vs
    a raw loader (``csv.reader`` + ``executemany`` of the same rows, 5,000 per transaction)
    into an identical fresh database; ratio (goal <= 2). Then the same file again: the
    nightly refresh, where every line is compared and nothing written.

Everything lives in a temporary directory, removed at the end.
"""

from __future__ import annotations

import csv
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from cti.db import Database
from screenpop.csv_rows import COLUMNS
from screenpop.directory import Directory, search_key
from screenpop.import_citizens import import_file
from screenpop.seed import FIRST_F, FIRST_M, LAST, STREETS, seed_demo

CITIZENS = 1_000_000
IMPORT_ROWS = 1_000_000
LOOKUPS = 5_000
BATCH = 5_000

RAW_LOOKUP = """
SELECT c.id, c.civility, c.last_name, c.first_name, c.address, c.postal_code, c.city,
       c.email, c.language, own.e164
FROM phone_numbers AS p
JOIN citizens AS c ON c.id = p.citizen_id
JOIN phone_numbers AS own ON own.citizen_id = c.id
WHERE p.e164 = ?
ORDER BY c.last_name, c.first_name, c.id, own.id
"""


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99)]


def _timed(call: Callable[[str], object], numbers: list[str]) -> list[float]:
    samples = []
    for number in numbers:
        start = time.perf_counter()
        call(number)
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def _lookup(workdir: Path) -> Iterator[str]:
    path = workdir / "directory.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    start = time.perf_counter()
    seed_demo(db, citizens=CITIZENS, seed=7)
    yield f"seed_demo: {CITIZENS:,} citizens in {time.perf_counter() - start:.1f} s"
    raw = sqlite3.connect(path)
    known = [
        r[0]
        for r in raw.execute("SELECT e164 FROM phone_numbers ORDER BY random() LIMIT ?", (LOOKUPS,))
    ]
    rng = random.Random(3)
    misses = [f"+336{rng.randrange(10**8):08d}" for _ in range(LOOKUPS // 10)]
    numbers = known + misses
    rng.shuffle(numbers)
    directory = Directory(db)

    def by_hand(number: str) -> object:
        return raw.execute(RAW_LOOKUP, (number,)).fetchall()

    for warm in numbers[:200]:  # caches, statement compilation, page cache
        directory.citizens_by_number(warm)
        by_hand(warm)
    ours = _percentiles(_timed(directory.citizens_by_number, numbers))
    floor = _percentiles(_timed(by_hand, numbers))
    yield (
        f"lookup ({len(numbers):,} numbers, 10 % unknown): "
        f"Directory p50 {ours[0]:.0f} µs p99 {ours[1]:.0f} µs | "
        f"sqlite3 p50 {floor[0]:.0f} µs p99 {floor[1]:.0f} µs | "
        f"ratio p50 {ours[0] / floor[0]:.2f} p99 {ours[1] / floor[1]:.2f} (goal <= 2)"
    )
    raw.close()
    db.close()


def _write_csv(path: Path) -> None:
    rng = random.Random(11)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(COLUMNS)
        for n in range(IMPORT_ROWS):
            female = rng.random() < 0.5
            mobile = f"0{rng.choice('67')}{rng.randrange(10**8):08d}"
            spaced = " ".join(mobile[i : i + 2] for i in range(0, 10, 2))
            out.writerow(
                [
                    f"R{n:07d}",
                    "Mme" if female else "M.",
                    rng.choice(LAST),
                    rng.choice(FIRST_F if female else FIRST_M),
                    spaced,
                    f"01{rng.randrange(10**8):08d}" if rng.random() < 0.2 else "",
                    f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                    "45000",
                    "Villeneuve-sur-Loire",
                    "",
                    "fr",
                ]
            )


def _raw_load(csv_path: Path, db_path: Path) -> None:
    """The floor: the same rows, no checks, straight executemany (ids known in advance)."""
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-65536")
    now = datetime.now(UTC).isoformat(" ")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        citizens: list[tuple[object, ...]] = []
        phones: list[tuple[object, ...]] = []
        for cid, r in enumerate(reader, start=1):
            civility = "madame" if r[1] == "Mme" else "monsieur"
            citizens.append(
                (cid, r[0], civility, r[2], r[3], search_key(r[2], r[3]), r[6], r[7], r[8])
                + (None, r[10], now, now)
            )
            for raw in (r[4], r[5]):
                if raw:
                    phones.append((cid, "+33" + raw.replace(" ", "")[1:]))
            if len(citizens) >= BATCH:
                _raw_batch(conn, citizens, phones)
        _raw_batch(conn, citizens, phones)
    conn.close()


def _raw_batch(
    conn: sqlite3.Connection, citizens: list[tuple[object, ...]], phones: list[tuple[object, ...]]
) -> None:
    with conn:
        conn.executemany(
            "INSERT INTO citizens (id, external_ref, civility, last_name, first_name, search_name,"
            " address, postal_code, city, email, language, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            citizens,
        )
        conn.executemany("INSERT INTO phone_numbers (citizen_id, e164) VALUES (?, ?)", phones)
    citizens.clear()
    phones.clear()


def _import(workdir: Path) -> Iterator[str]:
    source = workdir / "citizens.csv"
    start = time.perf_counter()
    _write_csv(source)
    yield f"CSV written: {IMPORT_ROWS:,} lines in {time.perf_counter() - start:.1f} s"
    ours_db = Database(f"sqlite:///{workdir / 'import.db'}")
    ours_db.migrate()
    start = time.perf_counter()
    report = import_file(ours_db, source, workdir / "rejects.csv", progress=False)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    again = import_file(ours_db, source, workdir / "rejects.csv", progress=False)
    reimport = time.perf_counter() - start
    ours_db.close()
    floor_db = Database(f"sqlite:///{workdir / 'raw.db'}")
    floor_db.migrate()
    floor_db.close()
    start = time.perf_counter()
    _raw_load(source, workdir / "raw.db")
    floor = time.perf_counter() - start
    yield (
        f"import ({report.created:,} created, {report.rejected} refused): "
        f"import_citizens {ours:.1f} s ({IMPORT_ROWS / ours:,.0f} lines/s) | "
        f"raw executemany {floor:.1f} s | ratio {ours / floor:.2f} (goal <= 2)"
    )
    yield (
        f"re-import of the same file (idempotent upsert): {reimport:.1f} s, "
        f"{again.created} created, {again.updated} updated, {again.unchanged:,} unchanged"
    )


def run() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="directory-bench-") as tmp:
        workdir = Path(tmp)
        yield from _lookup(workdir)
        yield from _import(workdir)
