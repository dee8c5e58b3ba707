"""Label files that sit beside image folders: CelebA's attribute list and plain CSV.

CelebA layout (``list_attr_celeba.txt``)::

    202599
    5_o_Clock_Shadow Arched_Eyebrows ... Young
    000001.jpg -1  1  1 ... 1

A CSV has a header row whose first column names the file and whose other columns are label
names; values are 1 (on) and 0 or -1 (off). Every parse error names the file and the line.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..errors import UserError

ATTRIBUTE_FILES = ("list_attr_celeba.txt", "list_attr.txt", "labels.csv", "attributes.csv")


class LabelFileError(UserError):
    """A malformed label file; the message names the file and line."""


def read_label_file(path: str | Path) -> tuple[list[str], list[str], np.ndarray]:
    """(label names, file names, labels [N, L] float32 in {0, 1}) from a CelebA .txt or a .csv."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelFileError(f"{path}: cannot read label file ({exc})") from None
    if path.suffix.lower() == ".csv":
        return _parse_csv(path, text)
    return _parse_celeba(path, text)


def _value(path: Path, line: int, token: str, name: str) -> float:
    if token in ("1", "+1"):
        return 1.0
    if token in ("-1", "0"):
        return 0.0
    raise LabelFileError(f"{path}, line {line}: value {token!r} for {name} is not 1, -1 or 0")


def _parse_celeba(path: Path, text: str) -> tuple[list[str], list[str], np.ndarray]:
    lines = [(n, line.split()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, tokens) for n, tokens in lines if tokens]
    if len(lines) < 2:
        raise LabelFileError(f"{path}: expected a count line and a header line of attribute names")
    (count_line, count_tokens), (_, names) = lines[0], lines[1]
    if len(count_tokens) != 1 or not count_tokens[0].isdigit():
        raise LabelFileError(f"{path}, line {count_line}: first line must be the number of images, got {' '.join(count_tokens)!r}")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise LabelFileError(f"{path}, line {lines[1][0]}: attribute names repeat: {', '.join(dup)}")
    files, rows, seen = [], [], {}
    for number, tokens in lines[2:]:
        if len(tokens) != len(names) + 1:
            raise LabelFileError(f"{path}, line {number}: expected a file name and {len(names)} values, got {len(tokens)} fields")
        name = tokens[0]
        if name in seen:
            raise LabelFileError(f"{path}, line {number}: {name} already listed on line {seen[name]}")
        seen[name] = number
        files.append(name)
        rows.append([_value(path, number, tok, attr) for tok, attr in zip(tokens[1:], names)])
    expected = int(count_tokens[0])
    if expected != len(files):
        raise LabelFileError(f"{path}, line {count_line}: says {expected} images but {len(files)} rows follow")
    return list(names), files, np.array(rows, np.float32).reshape(len(files), len(names))


def _parse_csv(path: Path, text: str) -> tuple[list[str], list[str], np.ndarray]:
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader)
    except StopIteration:
        raise LabelFileError(f"{path}: empty CSV; expected a header 'file,Label1,Label2,...'") from None
    header = [h.strip() for h in header]
    if len(header) < 2 or not all(header):
        raise LabelFileError(f"{path}, line 1: header must be 'file,Label1,...' with no empty names")
    names = header[1:]
    files, rows, seen = [], [], {}
    for number, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise LabelFileError(f"{path}, line {number}: expected {len(header)} fields, got {len(row)}")
        name = row[0].strip()
        if name in seen:
            raise LabelFileError(f"{path}, line {number}: {name} already listed on line {seen[name]}")
        seen[name] = number
        files.append(name)
        rows.append([_value(path, number, tok.strip(), attr) for tok, attr in zip(row[1:], names)])
    return names, files, np.array(rows, np.float32).reshape(len(files), len(names))


def write_celeba_attributes(names: list[str], files: list[str], labels: np.ndarray) -> bytes:
    """CelebA's layout as bytes (the caller writes them atomically)."""
    lines = [str(len(files)), " ".join(names)]
    for name, row in zip(files, labels):
        lines.append(name + " " + " ".join(" 1" if v > 0.5 else "-1" for v in row))
    return ("\n".join(lines) + "\n").encode()
