"""The explorer's output folder (``--out``): everything the app writes (heat-map cache, exported
selections) goes there, under the project's output policy (`IMDb.output.folders`).

The folder holds a marker (`MARKER`) and a manifest of every file the app wrote (`IMDb.output.folders.folder_file`
adds each new file to it). A folder the explorer made earlier is reopened as it is, so its heat-map
cache is reused; ``--overwrite`` starts it afresh; a folder holding anything else is refused. The
folder is reserved (locked) while the app runs, so a second explorer cannot write into it.
"""
from __future__ import annotations

from pathlib import Path

from IMDb.output.folders import atomic_dir, check_out_dir, reserve

MARKER = ".imdb-leap-explore"
FLAG = "--overwrite"


def default_out_dir(models: list[str], state: str) -> Path:
    """reports/explore-<models>-<state>, under the current folder."""
    return Path("reports") / f"explore-{'-'.join(models)}-{state}"


def open_workspace(out: str | Path, overwrite: bool = False) -> Path:
    """The output folder, made (empty but for its marker) or reopened, and reserved for this run;
    an `OutputError` (one line) where the policy refuses it."""
    out = Path(out).absolute()
    if (out / MARKER).is_file() and not overwrite:
        return check_out_dir(out, MARKER, replace=True, flag=FLAG)  # ours: checked, kept, reserved
    check_out_dir(out, MARKER, replace=overwrite, flag=FLAG)
    with atomic_dir(out, MARKER, replace=overwrite, flag=FLAG) as tmp:
        (tmp / MARKER).write_text("written by imdb-leap explore; a folder holding this file may be replaced\n",
                                  encoding="utf-8")
    reserve(out, True, FLAG)  # atomic_dir released it at the swap
    return out
