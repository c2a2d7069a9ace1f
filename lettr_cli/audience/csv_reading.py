"""Reading a CSV file of contacts: its encoding, its delimiter, its header, and line numbers.

The file is streamed (never read whole). Lines are counted as they are in the file, the header
being line 1 unless blank lines come first, so that errors point at what an editor shows. Text
that does not decode, and CSV that cannot be parsed (an unmatched quote), refuse the whole file
with a ``validation_error`` naming the line (deliverability checklist R-SEC-CSV-1/2).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import IO

from lettr_cli.errors import ValidationError

CHUNK_BYTES = 1 << 16
SAMPLE_BYTES = 1 << 16  # what the delimiter is sniffed from
DELIMITERS = ",;\t|"
DEFAULT_ENCODING = "utf-8-sig"  # UTF-8 with or without a byte-order mark
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

Record = tuple[int, list[str]]  # (line number where the record starts, its cells)


def resolve_encoding(name: str | None) -> str:
    """The codec to decode with: UTF-8 (a byte-order mark is dropped) unless ``name`` says."""
    if name is None or not name.strip():
        return DEFAULT_ENCODING
    try:
        codec = codecs.lookup(name.strip())
    except LookupError:
        raise ValidationError.field("encoding", f"unknown encoding '{name}'") from None
    return DEFAULT_ENCODING if codec.name == "utf-8" else codec.name


def decoded_lines(binary: IO[bytes], encoding: str, name: str) -> Iterator[str]:
    """The lines of ``binary``, decoded, each with its line break (``\n``, ``\r\n`` or ``\r``).

    Undecodable bytes refuse the file, naming the line they are on.
    """
    text = io.TextIOWrapper(binary, encoding=encoding, errors="strict", newline="")
    done = 0  # lines given out, all of them before the one being decoded
    try:
        for line in text:
            done += 1
            yield line
    except UnicodeDecodeError as exc:
        if binary.seekable():
            line_number = _bad_line(binary, encoding)
        else:  # exact unless a lone CR ended the text decoded just before
            before = bytes(exc.object[: exc.start]).decode(encoding, errors="replace")
            line_number = done + 1 + _breaks(before, after_cr=False)
        raise ValidationError.field(
            "encoding",
            f"{name}, line {line_number}: byte 0x{exc.object[exc.start]:02x} is not valid "
            f"{_label(encoding)}; name the file's encoding with --encoding "
            "(for example --encoding cp1252)",
        ) from None
    finally:
        # The caller's stream stays open (unless it was closed already, when this generator
        # is collected after a refusal).
        with contextlib.suppress(ValueError):
            text.detach()


def _bad_line(binary: IO[bytes], encoding: str) -> int:
    """The line of the first undecodable byte, read again from the start."""
    binary.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    breaks, after_cr = 0, False
    while chunk := binary.read(CHUNK_BYTES):
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            text = bytes(exc.object[: exc.start]).decode(encoding, errors="replace")
            return 1 + breaks + _breaks(text, after_cr=after_cr)
        breaks += _breaks(text, after_cr=after_cr)
        after_cr = text.endswith("\r") or (after_cr and not text)
    return 1 + breaks


def _breaks(text: str, *, after_cr: bool) -> int:
    """Line breaks in ``text`` (``\r\n`` is one), which follows a ``\r`` if ``after_cr``."""
    count = text.count("\n") + text.count("\r") - text.count("\r\n")
    return count - (after_cr and text.startswith("\n"))


def _label(encoding: str) -> str:
    return "UTF-8" if encoding == DEFAULT_ENCODING else encoding


@dataclass
class CsvFile:
    """An open CSV file: its header and delimiter are known, its records are yet to be read."""

    name: str
    delimiter: str
    header: list[str]
    header_line: int
    _lines: Iterator[str]
    _lines_read: int
    empty_rows: int = 0  # blank records after the header, counted as they are read

    def records(self) -> Iterator[Record]:
        """Every record after the header, with the line it starts on; blank records are skipped
        (a blank line, or a record whose cells are all empty) and counted in ``empty_rows``."""
        for start, cells in _records(self._lines, self.delimiter, self.name, self._lines_read):
            if _blank(cells):
                self.empty_rows += 1
            else:
                yield start, cells


def _blank(cells: list[str]) -> bool:
    return not "".join(cells).strip()


def _records(lines: Iterator[str], delimiter: str, name: str, offset: int) -> Iterator[Record]:
    """Every record, blank ones too; ``offset`` lines came before ``lines``."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    previous = offset
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _malformed(name, previous + 1, exc) from None
        start, previous = previous + 1, offset + reader.line_num
        yield start, cells


def open_csv(binary: IO[bytes], *, encoding: str, name: str) -> CsvFile:
    """Read a CSV file up to its header: sniff the delimiter, find the first non-blank record.

    A file with no header at all is refused.
    """
    lines = decoded_lines(binary, encoding, name)
    sample: list[str] = []
    size = 0
    for line in lines:
        sample.append(line)
        size += len(line)
        if size >= SAMPLE_BYTES:
            break
    delimiter = sniff_delimiter("".join(sample))
    stream = chain(sample, lines)
    # One record at a time: the csv reader pulls only the lines of the record it returns.
    counted = _Counted(stream)
    for start, cells in _records(counted, delimiter, name, 0):
        if not _blank(cells):  # blank lines before the header are not rows
            return CsvFile(name, delimiter, cells, start, stream, counted.count)
    raise ValidationError.field("file", f"{name} is empty: it has no header line")


class _Counted(Iterator[str]):
    """Counts the lines taken from ``lines``."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.count = 0

    def __next__(self) -> str:
        line = next(self.lines)
        self.count += 1
        return line


def _malformed(name: str, line: int, exc: csv.Error) -> ValidationError:
    return ValidationError.field(
        "file", f"{name}, line {line}: malformed CSV ({exc}); is a quote left open?"
    )


def sniff_delimiter(sample: str) -> str:
    """The delimiter of ``sample``: one of ``, ; TAB |``, by csv.Sniffer, checked on the header."""
    first = next((line for line in _LINE_BREAK.split(sample) if line.strip()), "")
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if found and found in first:
        return found
    # The sniffer gave up (one column) or chose a character the header lacks: count in the header.
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
