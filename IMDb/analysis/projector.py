"""TensorBoard Embedding Projector export: per model, the latent vectors and their metadata as TSV.

`write_projector` writes, into one folder, vectors.tsv (no header), metadata.tsv (a header row, one
line per vector) and projector_config.pbtxt naming them (`tensorboard --logdir projector`); with
several models each file name carries the model's name.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from IMDb.analysis.escape import snippet
from IMDb.analysis.latent_map import ground_truth
from IMDb.config.run import LABELS
from IMDb.output.formats import csv_cell

PROJECTOR_FIELDS = ("label_name", "prediction", "correct", "loss", "p_positive", "cluster",
                    "length_words", "oov_count", "oov_ratio", "textblob_polarity",
                    "textblob_subjectivity", "rating_stars")


def _tsv_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.5g}"
    if isinstance(value, (bool, int, np.bool_, np.integer)):
        return str(value)
    return csv_cell(" ".join(str(value).replace("\t", " ").split()))  # text a spreadsheet would not run


def write_projector(folder: Path, tables: dict[str, Any], clusters: np.ndarray | None = None) -> list[str]:
    """TensorBoard Embedding Projector files: per model vectors (TSV, no header) and metadata (TSV
    with a header row, one line per vector), and the config that names them. Returns file names."""
    folder.mkdir(parents=True, exist_ok=True)
    config, files = [], []
    for name, table in tables.items():
        suffix = "" if len(tables) == 1 else f"_{name}"
        frame = table.frame.copy()
        frame["label_name"] = ground_truth(frame)
        frame["prediction"] = frame["prediction"].map(lambda v: LABELS[int(v)])
        if clusters is not None and len(tables) == 1:
            frame["cluster"] = np.asarray(clusters)
        columns = ["sample_id"] + [c for c in PROJECTOR_FIELDS if c in frame]
        vectors, meta = f"vectors{suffix}.tsv", f"metadata{suffix}.tsv"
        np.savetxt(folder / vectors, table.latent, fmt="%.5g", delimiter="\t")
        lines = ["\t".join(columns + ["snippet"])]
        for record in frame[columns + ["text"]].itertuples(index=False, name=None):
            lines.append("\t".join([_tsv_cell(v) for v in record[:-1]] + [_tsv_cell(snippet(record[-1], 160))]))
        (folder / meta).write_text("\n".join(lines) + "\n", encoding="utf-8")
        config.append(f'embeddings {{\n  tensor_name: "{name}_latent"\n  tensor_path: "{vectors}"\n'
                      f'  metadata_path: "{meta}"\n}}\n')
        files += [vectors, meta]
    (folder / "projector_config.pbtxt").write_text("".join(config), encoding="utf-8")
    return files + ["projector_config.pbtxt"]
