"""Files of reviews in, for `imdb-leap predict --input` (what comes out: `IMDb.cli.prediction_files`).

Inputs, by extension: ``.csv`` and ``.jsonl``/``.ndjson`` (the review in `--text-column`, default
``text``); anything else, or ``-`` for stdin, is plain text with one review per line (an empty line
is a review too, flagged as word-less, so N lines in always give N predictions). A ``.json`` file
is refused with a pointer to JSON Lines. Each input is read as what it is (`read_text`):

- at most `MAX_INPUT_BYTES`, and only from a regular file or a pipe (``/dev/zero`` is refused);
- UTF-16 and UTF-32 are decoded when a byte-order mark says so; compressed files, images and other
  binary formats are refused by their first bytes, and so is anything holding a NUL byte (binary,
  or UTF-16/32 without a mark). Otherwise the bytes are UTF-8, where bytes that are not UTF-8
  become U+FFFD, as everywhere else in `predict`;
- lines end with LF, CRLF or a lone CR;
- a CSV file's first row names its columns, each once and without control characters (names are
  shown with `repr`); every row has the header's fields, or one more that is empty (the trailing
  comma of many exports); any other row is refused with its number. No column is taken as an
  index.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import stat
import sys
from pathlib import Path

from IMDb.errors import DataError, printable

TABLE_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
STDIN = "-"
MAX_INPUT_BYTES = 256 * 2**20  # 256 MiB: about 200,000 reviews; a bigger file is split and scored in parts
# byte-order marks, longest first (UTF-32 LE's starts like UTF-16 LE's)
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# how files that are not text begin: (pattern of the bytes, what it is, what to do)
SIGNATURES = tuple((re.compile(magic, re.DOTALL), what, fix) for magic, what, fix in (
    (rb"\x1f\x8b", "gzip-compressed", "decompress it first (gunzip -k FILE)"),
    (rb"BZh[1-9]1AY&SY", "bzip2-compressed", "decompress it first (bunzip2 -k FILE)"),
    (rb"\xfd7zXZ\x00", "xz-compressed", "decompress it first (unxz -k FILE)"),
    (rb"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first (unzstd FILE)"),
    (rb"PK\x03\x04", "a zip archive (an .xlsx workbook is one)", "extract it, or export the sheet as CSV"),
    (rb"7z\xbc\xaf\x27\x1c", "a 7z archive", "extract it first"),
    (rb"\x89PNG\r\n\x1a\n", "a PNG image", "give a text, .csv or .jsonl file"),
    (rb"\xff\xd8\xff", "a JPEG image", "give a text, .csv or .jsonl file"),
    (rb"GIF8[79]a", "a GIF image", "give a text, .csv or .jsonl file"),
    (rb"%PDF-", "a PDF document", "copy its text into a text file"),
    (rb"PAR1.*PAR1\Z", "a Parquet file", "export the reviews as CSV or JSON Lines"),
    (rb"\x7fELF", "a program", "give a text, .csv or .jsonl file"),
))
LINE_END = re.compile(r"\r\n|\r|\n")


def input_format(path: str) -> str:
    """"csv", "jsonl", "json" (refused) or "lines" (plain text, stdin), from the extension."""
    return "lines" if path == STDIN else TABLE_FORMATS.get(Path(path).suffix.lower(), "lines")


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n:,} bytes"


def _too_big(name: str) -> DataError:
    return DataError(f"{name} is larger than the {_size(MAX_INPUT_BYTES)} one run reads: split it "
                     f"(split -l 100000 FILE part-) and score the parts")


def _read_bytes(path: str) -> bytes:
    """The bytes of `path` (``-``: stdin), at most `MAX_INPUT_BYTES`, from a regular file or a
    pipe only: a device such as /dev/zero would never end."""
    if path == STDIN:
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise _too_big("stdin")
        return data
    name = f"--input {path}"
    try:
        mode = os.stat(path)
        if stat.S_ISDIR(mode.st_mode):
            raise DataError(f"{name} is a folder; give a .csv, .jsonl or text file")
        if not (stat.S_ISREG(mode.st_mode) or stat.S_ISFIFO(mode.st_mode)):
            raise DataError(f"{name} is not a regular file (a device or socket); give a .csv, .jsonl or "
                            f"text file, or '-' for stdin")
        if mode.st_size > MAX_INPUT_BYTES:
            raise DataError(f"{name} is {_size(mode.st_size)}, larger than the {_size(MAX_INPUT_BYTES)} one "
                            f"run reads: split it (split -l 100000 FILE part-) and score the parts")
        with open(path, "rb") as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except OSError as e:
        raise DataError(f"{name}: {e.strerror}") from e
    if len(data) > MAX_INPUT_BYTES:  # a pipe, or a file that grew
        raise _too_big(name)
    return data


def decode(raw: bytes, name: str) -> str:
    """The text of `raw`: UTF-16/32 by its byte-order mark, else UTF-8 (bytes that are not UTF-8
    become U+FFFD); a DataError naming `name` when the bytes are a known binary format or hold a
    NUL (binary, or UTF-16/32 without a byte-order mark)."""
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as e:
                raise DataError(f"{name} starts with a {encoding.upper().removesuffix('-SIG')} byte-order "
                                f"mark but is not valid {encoding.upper().removesuffix('-SIG')} ({e.reason} "
                                f"at byte {e.start}); save it as UTF-8") from None
            break
    else:
        for magic, what, fix in SIGNATURES:
            if magic.match(raw):
                raise DataError(f"{name} is {what}, not text: {fix}")
        text = raw.decode("utf-8", "replace")
    if "\x00" in text:
        raise DataError(f"{name} holds NUL bytes (the first at character {text.index(chr(0)):,}): it is binary, "
                        f"or UTF-16/32 text without a byte-order mark; save it as UTF-8")
    return text


def read_text(path: str) -> str:
    """The text of `path` (``-``: stdin), read as what it is (see the module docstring)."""
    return decode(_read_bytes(path), "stdin" if path == STDIN else f"--input {path}")


def lines(text: str) -> list[str]:
    """The lines of `text`, whatever ends them (LF, CRLF, a lone CR); the line break that ends the
    last line starts no new one."""
    parts = LINE_END.split(text)
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def _csv_reviews(text: str, path: str, text_column: str) -> list[str]:
    """The `text_column` of a CSV text: the first row names the columns (no implicit index); see
    the module docstring for what is refused."""
    csv.field_size_limit(MAX_INPUT_BYTES)  # a review is one field: the file's own cap bounds it
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    name = f"--input {path}"
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{name} is empty: its first line must name the columns, such as {text_column!r}")
        seen: dict[str, int] = {}
        for i, column in enumerate(header, start=1):
            if printable(column) != column:
                raise DataError(f"{name}: column {i} is named {column!r}, which holds control characters "
                                f"(terminal escapes?); rename it")
            if column and column in seen:
                raise DataError(f"{name}: columns {seen[column]} and {i} are both named {column!r}; rename one, "
                                f"so that the review column is unambiguous")
            seen.setdefault(column, i)
        if text_column not in seen:
            raise DataError(f"{name} has no column {text_column!r} (columns: {', '.join(map(repr, header))}); "
                            f"name the review column with --text-column")
        at, width, reviews, line = seen[text_column] - 1, len(header), [], reader.line_num
        for row in reader:
            start, line = line + 1, reader.line_num
            if not row:
                continue  # a blank line
            if len(row) == width + 1 and row[-1] == "":
                row = row[:-1]  # the trailing comma of many exports: one extra, empty field
            if len(row) != width:
                raise DataError(f"{name}, row {len(reviews) + 1} (line {start}): {len(row)} fields where the "
                                f"header has {width}; quote a field that holds a comma, or fix the row")
            reviews.append(row[at])
    except csv.Error as e:
        raise DataError(f"{name}, line {reader.line_num}: not valid CSV ({e}); close the quote or quote the "
                        f"field") from None
    return reviews


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """json's object_pairs_hook: an object, unless a key repeats (json.loads would keep the last)."""
    record = dict(pairs)
    if len(record) < len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"key {repeated!r} appears twice")
    return record


def _jsonl_reviews(text: str, path: str, text_column: str) -> list[str]:
    reviews = []
    for number, line in enumerate(lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as e:
            raise DataError(f"--input {path}, line {number}: not valid JSON ({e.msg})") from e
        except ValueError as e:
            raise DataError(f"--input {path}, line {number}: {e}; keep one") from e
        if isinstance(record, list):
            raise DataError(f"--input {path}, line {number} is a JSON array: JSON Lines hold one object per line "
                            f"(jq -c '.[]' FILE > reviews.jsonl)")
        if not isinstance(record, dict) or text_column not in record:
            raise DataError(f"--input {path}, line {number}: no {text_column!r} key; name the review key "
                            f"with --text-column")
        if not isinstance(record[text_column], str):
            raise DataError(f"--input {path}, line {number}: {text_column!r} is "
                            f"{type(record[text_column]).__name__}, not text")
        reviews.append(record[text_column])
    return reviews


def read_reviews(path: str, text_column: str = "text") -> list[str]:
    """The reviews of `path` (``-``: stdin), in order; one clear DataError on a missing, binary,
    oversized or malformed file, a missing or ambiguous column, a ragged CSV row, a malformed JSON
    line or a value that is not text."""
    kind = input_format(path)
    if kind == "json":
        raise DataError(f"--input {path}: a .json file is one JSON document; give JSON Lines instead (.jsonl: "
                        f"one object per line, the review under {text_column!r}; jq -c '.[]' FILE > reviews.jsonl)")
    text = read_text(path)
    if kind == "lines":
        return lines(text)
    if kind == "csv":
        return _csv_reviews(text, path, text_column)
    return _jsonl_reviews(text, path, text_column)
