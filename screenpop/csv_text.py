"""An import file's text, however it was saved: its encoding, its separator, its lines, bounded.

A town hall's CSV comes from a spreadsheet or another program, and each saves it its own way:
UTF-8 with or without a byte-order mark, UTF-16 (Excel's « texte Unicode », with or without a
mark), Windows-1252 (Excel's « CSV (séparateur : point-virgule) » on a French Windows). Some
files mix them (lines pasted from another file), hold NUL bytes (a binary file renamed), lines of
megabytes (a cell pasted a thousand times) or a quote never closed. None of these may stop the
import, hang it or fill the memory, and none may lose a line without saying so.

How it reads:

- **Encoding**, from the first bytes and one pass over the file in binary: a byte-order mark
  says UTF-8 or UTF-16; NUL bytes on every other position say UTF-16 without a mark; otherwise
  UTF-8 unless more lines are not UTF-8 than are UTF-8 beyond ASCII, Windows-1252 then. A file
  may mix both (lines pasted from another file): in UTF-8, the bytes that do not decode become
  U+FFFD; in Windows-1252, a value that is UTF-8 (« LefÃ¨vre ») is spotted by
  ``foreign_utf8``. The importer refuses those lines, naming the column.
- **Separator**, from the header line alone: `;` or `,`, whichever it holds more of. Guessing
  from a sample of the data (csv.Sniffer) fails on a long first line full of commas.
- **Lines**, one record per physical line, read ``LINE_LIMIT`` characters at a time: a longer
  line is read to its end without being kept and reported, and a quote left open at the end of
  a line ends the record there (a record never swallows the lines after it): every column of
  the directory refuses line breaks anyway.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

LINE_LIMIT = 65536  # characters of one line; a directory line is a few hundred
_SAMPLE = 4096  # bytes looked at for a UTF-16 file without a mark
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1252": "Windows-1252",
}


# Files that are given for a CSV and are not: their first bytes, and what they are.
_NOT_CSV = {
    b"PK\x03\x04": "un classeur Excel (.xlsx) ou une archive",
    b"\xd0\xcf\x11\xe0": "un classeur Excel ancien (.xls)",
    b"%PDF": "un PDF",
}


def not_csv(path: Path) -> str | None:
    """What the file is when its first bytes say it is no text file (an .xlsx...), or None."""
    with path.open("rb") as handle:
        head = handle.read(8)
    return next((what for magic, what in _NOT_CSV.items() if head.startswith(magic)), None)


class LineTooLong(Exception):
    """A physical line longer than ``LINE_LIMIT`` (read to its end, not kept)."""

    def __init__(self, number: int, length: int) -> None:
        super().__init__(f"ligne {number} : {length} caractères")
        self.number = number
        self.length = length


class QuoteLeftOpen(Exception):
    """The csv reader asked for the next line inside a record: a quote was not closed."""

    def __init__(self, number: int, line: str) -> None:
        super().__init__(f"ligne {number} : guillemet non fermé")
        self.number = number
        self.line = line


@dataclass(frozen=True, slots=True)
class FileShape:
    encoding: str  # a Python codec name
    lines: int  # physical lines, header included (for the progress bar)
    mixed: bool  # UTF-8 with some lines that are not

    @property
    def label(self) -> str:
        return ENCODING_NAMES.get(self.encoding, self.encoding)


def examine(path: Path) -> FileShape:
    """The file's encoding and line count, from one pass in binary with bounded reads."""
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"  # the codec reads the mark and drops it
        else:
            encoding = _utf16_without_mark(head) or ""
        handle.seek(0)
        if encoding.startswith("utf-16"):
            return FileShape(encoding, _count_breaks(handle), mixed=False)
        lines, utf8_lines, broken_lines = 1, 0, 0
        while chunk := handle.readline(LINE_LIMIT):
            lines += chunk.endswith(b"\n")
            if chunk.isascii():
                continue
            try:
                chunk.decode("utf-8")
                utf8_lines += 1
            except UnicodeDecodeError:
                broken_lines += 1
    if not encoding:
        encoding = "cp1252" if broken_lines > utf8_lines else "utf-8"
    return FileShape(encoding, lines, mixed=bool(broken_lines and utf8_lines))


def _utf16_without_mark(head: bytes) -> str | None:
    """UTF-16 saved without a mark: text that is mostly ASCII has a NUL on every other byte."""
    even, odd = head[0::2], head[1::2]
    if len(head) < 4:
        return None
    even_nuls, odd_nuls = even.count(0) / len(even), odd.count(0) / max(len(odd), 1)
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _count_breaks(handle: BinaryIO) -> int:
    count = 0
    while chunk := handle.read(1 << 20):
        count += chunk.count(b"\n")
    return count + 1


def open_text(path: Path, shape: FileShape) -> TextIO:
    """The file as text: undecodable bytes become U+FFFD (the importer refuses their lines)."""
    return io.TextIOWrapper(path.open("rb"), encoding=shape.encoding, errors="replace", newline="")


class Lines(Iterator[str]):
    """Physical lines for ``csv.reader``, one record each (see the module's docstring).

    Call ``next_record`` before asking the reader for a record; ``number`` is then the line of
    the record it returns (the header is line 1).
    """

    def __init__(self, text: TextIO) -> None:
        self._text = text
        self._given = False
        self._line = ""
        self.number = 0

    def __iter__(self) -> Lines:
        return self

    def next_record(self) -> None:
        self._given = False

    def __next__(self) -> str:
        if self._given:  # the reader wants more for the same record: a quote is open
            raise QuoteLeftOpen(self.number, self._line)
        line = self._text.readline(LINE_LIMIT)
        if not line:
            raise StopIteration
        self.number += 1
        self._given = True
        if len(line) >= LINE_LIMIT and not line.endswith(("\n", "\r")):
            length = len(line)
            while rest := self._text.readline(LINE_LIMIT):
                text = rest.rstrip("\r\n")  # the line's end is no character of it
                length += len(text)
                if len(text) < len(rest):
                    break
            raise LineTooLong(self.number, length)
        self._line = line
        return line


def foreign_utf8(value: str, shape: FileShape) -> bool:
    """Whether ``value``, read as Windows-1252, is UTF-8 text (mojibake such as « Ã¨ »)."""
    if shape.encoding != "cp1252" or value.isascii():
        return False
    try:
        value.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return False
    return True


def separator(header: str) -> str:
    """``;`` or ``,``: the one the header line holds more of (``;`` when tied)."""
    return "," if header.count(",") > header.count(";") else ";"
