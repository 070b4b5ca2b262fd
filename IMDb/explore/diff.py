"""An edited review against its original, word by word, for the page to show what changed.

The texts are split into words, punctuation and runs of whitespace (so the page can lay the edit
out as it was typed) and matched by the standard library's `difflib.SequenceMatcher`, whose
"autojunk" heuristic (tokens as common as a space are not used to anchor a match) keeps a review of
the longest allowed edit to milliseconds. The result is JSON pieces of text, each kept, inserted
or deleted, which the page puts in as text (``textContent``), never as markup.
"""
from __future__ import annotations

import difflib
import re

TOKENS = re.compile(r"\w+|[^\w\s]+|\s+")
OPS = {"equal": ("equal",), "insert": ("insert",), "delete": ("delete",), "replace": ("delete", "insert")}


def word_diff(original: str, edited: str) -> list[dict]:
    """`edited` against `original`: ``[{"op": "equal" | "delete" | "insert", "text": ...}, ...]``;
    the equal and deleted pieces spell the original, the equal and inserted ones the edit."""
    a, b = TOKENS.findall(original), TOKENS.findall(edited)
    pieces: list[dict] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        for op in OPS[tag]:
            text = "".join(a[i1:i2] if op in ("equal", "delete") else b[j1:j2])
            if pieces and pieces[-1]["op"] == op:
                pieces[-1]["text"] += text
            else:
                pieces.append({"op": op, "text": text})
    return pieces
