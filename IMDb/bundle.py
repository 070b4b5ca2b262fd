"""A model bundle, ``models/<name>/``: written in one piece, read and checked in one place.

A bundle holds ``card.json`` (what the model is: its settings, data and split checksums, tokenizer
fingerprint, figures), ``tokenizer.json``, ``split.json`` (the ids of its validation reviews),
``model.onnx`` (the platform's format; output ``logits``) and, for a trained model, its family's
Keras file (`IMDb.families.base.Family.keras_file`), plus training logs.

- `write`: every file to a temp folder, swapped into place only when all are written, and only over
  a bundle (a folder holding card.json and a manifest of what it wrote) when asked: an interrupted
  export never leaves half a model, and a user's folder, or a file a user added, is never replaced.
- `read_card` checks the card against its schema (`IMDb.card.check_card`), and `write_card` replaces
  it in a bundle there (`imdb-leap calibrate`), as `write` replaces a bundle; `Bundle.read` loads the tokenizer its family names and refuses one
  whose fingerprint differs from the card's or that emits more ids than the model's embedding has
  rows (the card's ``vocab_size``); `Bundle.session` refuses an ONNX file whose inputs or outputs
  disagree with the tokenizer and the binder's one prediction, `Bundle.check_embedding` one whose
  embedding table is smaller than the tokenizer; `Bundle.keras` a Keras file that is corrupt or
  made for another input length.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from IMDb import families
from IMDb.architectures import OUTPUT_NAME
from IMDb.card import check_card
from IMDb.config.run import LABELS, MODELS_DIR, Config
from IMDb.errors import DataError, ModelError, OutputError
from IMDb.families.base import Family
from IMDb.output.atomic import atomic_write_text
from IMDb.output.folders import atomic_dir
from IMDb.output.formats import json_file
from IMDb.text.tokenizer import Tokenizer

MARKER = "card.json"  # every bundle has one; only such a folder is replaced
SPLIT = "split.json"  # {"validation": [sample ids]}: the reviews the model was validated on



def names(models_dir: str | Path = MODELS_DIR) -> list[str]:
    """The bundles present in `models_dir`: folders holding a card.json and named after a model of
    the registry. Another folder (a copy such as ``models/dense-old``) is not a model to load."""
    known = set(families.names())
    return sorted(p.parent.name for p in Path(models_dir).glob(f"*/{MARKER}") if p.parent.name in known)


def write(out_dir: str | Path, writers: dict[str, object], replace: bool | None = None) -> Path:
    """Create `out_dir` with one file per entry: name -> callable(path) or JSON-able object (see the
    module docstring for why through a temp folder). An earlier bundle there is replaced as
    `IMDb.output.folders.atomic_dir` allows: by default, as the command's ``--overwrite`` reserved it."""
    with atomic_dir(out_dir, MARKER, replace=replace, flag="--overwrite") as tmp:
        for name, writer in writers.items():
            if callable(writer):
                writer(tmp / name)
            else:
                (tmp / name).write_text(json_file(writer), encoding="utf-8")
    return Path(out_dir)


def split_record(validation) -> dict:
    """What ``split.json`` holds: the sorted sample ids of the validation state (a DataFrame)."""
    return {"validation": sorted(validation["sample_id"].astype(str))}


def read_card(name: str, models_dir: str | Path = MODELS_DIR) -> dict:
    """The bundle's card.json, checked against the card schema here (`check_card`), so that no
    reader (predict, the binder, the report) meets a wrong type later as a traceback."""
    path = Path(models_dir) / name / MARKER
    if not path.is_file():
        known = ", ".join(names(models_dir)) or "none"
        raise ModelError(f"no model {name!r}: {path} not found (models in {models_dir}: {known})")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{path} is not valid JSON: {e}") from e
    check_card(card, path)
    return card


def write_card(name: str, card: dict, models_dir: str | Path = MODELS_DIR, *, replace: bool = False) -> Path:
    """Replace the card of bundle `name` in `models_dir` with `card`, checked first (`check_card`),
    in one atomic step. The repository's models/ holds the shipped bundles: as with
    `imdb-leap train`, a card there is replaced only with `replace` (``--overwrite``)."""
    folder = Path(models_dir) / name
    if not replace and Path(models_dir).resolve() == MODELS_DIR.resolve():
        raise OutputError(f"{folder / MARKER}: the repository's models/ holds the shipped models; pass "
                          f"--overwrite to rewrite models/{name}'s card, or work on a copy with --models-dir")
    read_card(name, models_dir)  # a bundle there, whose card reads
    check_card(card, folder / MARKER)
    return atomic_write_text(folder / MARKER, json_file(card))


def _check_embedding(tokenizer: Tokenizer, path: Path, rows: int, where: str) -> None:
    """Refuse a tokenizer that emits ids past the model's embedding table: they would be scored
    with the wrong rows, or stop ONNX Runtime midway."""
    if tokenizer.id_count > rows:
        raise ModelError(f"{path} emits {tokenizer.id_count:,} token ids but the model's embedding has "
                         f"{rows:,} rows ({where}): the files belong to different models; restore the "
                         f"model's own tokenizer.json")


def embedding_rows(path: Path, text_input: str) -> int | None:
    """The rows of the embedding table `text_input` indexes in the ONNX graph at `path`: the first
    Gather downstream of that input whose table is a weight (a word model's ``embedding``, BERT's
    ``token_embedding``); None if there is none."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    weights = {w.name: list(w.dims) for w in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    seen, frontier = {text_input}, [text_input]
    while frontier:  # breadth first: the nearest Gather is the embedding lookup
        following = []
        for name in frontier:
            for node in consumers.get(name, []):
                if node.op_type == "Gather" and len(node.input) > 1 and node.input[1] == name \
                        and weights.get(node.input[0]):
                    return int(weights[node.input[0]][0])
                for out in node.output:
                    if out not in seen:
                        seen.add(out)
                        following.append(out)
        frontier = following
    return None


def _identity(folder: Path) -> tuple[int, int]:
    """What tells a bundle folder from the one that replaced it: a bundle is swapped in by renaming
    a new folder into place (`IMDb.output.folders.atomic_dir`), so a replaced bundle has another inode."""
    info = folder.stat()
    return info.st_dev, info.st_ino


@dataclass
class Bundle:
    """One model's bundle, read and checked: its card, its tokenizer and its family. The files read
    later (`file`) must come from the same folder the card and tokenizer came from: a bundle
    replaced meanwhile (a `train --overwrite` finishing) is refused, not mixed in."""

    name: str
    folder: Path
    card: dict
    tokenizer: Tokenizer
    family: Family
    identity: tuple[int, int] | None = None

    @classmethod
    def read(cls, name: str, models_dir: str | Path = MODELS_DIR) -> "Bundle":
        """The bundle of model `name` in `models_dir`: its card (schema-checked, and describing
        `name`), and the tokenizer of its family, refused unless it is the one the card records."""
        family = families.get(name)
        folder = Path(models_dir) / name
        identity = _identity(folder) if folder.is_dir() else None
        card = read_card(name, models_dir)
        if card["model"] != name:
            raise ModelError(f"{folder / MARKER} describes model {card['model']!r}, not {name!r}: "
                             f"restore the bundle's own card")
        path = folder / "tokenizer.json"
        tokenizer = family.tokenizer.load(path)
        if tokenizer.fingerprint != card["tokenizer_fingerprint"]:
            raise ModelError(f"{path} (fingerprint {tokenizer.fingerprint}) is not the tokenizer {name} "
                             f"was trained with ({folder / MARKER} says {card['tokenizer_fingerprint']}); "
                             f"restore the model's own tokenizer.json")
        rows = card["config"].get("vocab_size")
        if isinstance(rows, int):
            _check_embedding(tokenizer, path, rows, f"{folder / MARKER} (config.vocab_size)")
        bundle = cls(name, folder, card, tokenizer, family, identity)
        bundle.file(MARKER)  # replaced between the card and the tokenizer: refused here already
        return bundle

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.tokenizer.input_names

    @property
    def seq_len(self) -> int:
        return self.tokenizer.seq_len

    @property
    def temperature(self) -> float | None:
        """The calibration temperature `imdb-leap calibrate` recorded in the card, or None: whatever
        shows a probability divides the logits by it."""
        return (self.card.get("calibration") or {}).get("temperature")

    def file(self, name: str) -> Path:
        """A file of the bundle, which must exist, in the folder the bundle was read from."""
        path = self.folder / name
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        if self.identity is not None and _identity(self.folder) != self.identity:
            raise ModelError(f"{self.folder} was replaced while this run was using it (a train or copy "
                             f"finished meanwhile); run the command again")
        return path

    def session(self, latent: bool = False) -> Any:
        """The ONNX Runtime session of ``model.onnx``, checked against the tokenizer (input names and
        length) and the one prediction the binder declares (``logits`` over the two labels). With
        `latent`, the analysis's graph: an in-memory copy with the latent layer as a second output
        ``latent`` (`IMDb.architectures.onnx_latent`); the file keeps its one output."""
        import onnxruntime as ort

        path = self.file("model.onnx")
        try:
            graph = str(path)
            if latent:
                from IMDb.architectures.onnx_latent import with_latent_output

                graph = with_latent_output(path)
            session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
        except ModelError:
            raise
        except Exception as e:  # onnx and onnxruntime raise their own untyped errors on corrupt files
            raise ModelError(f"{path} could not be loaded by ONNX Runtime: {e}") from e
        outputs = [(o.name, o.shape) for o in session.get_outputs()]
        if len(outputs) != 1 + latent or outputs[0][0] != OUTPUT_NAME or outputs[0][1][-1] != len(LABELS):
            raise ModelError(f"{path} has outputs {outputs}; expected one output {OUTPUT_NAME!r} of "
                             f"{len(LABELS)} classes {list(LABELS)} (a model from before the models ended in "
                             f"logits): train it again")
        inputs = {i.name: i.shape[-1] for i in session.get_inputs()}
        if set(inputs) != set(self.input_names):
            raise ModelError(f"{path} takes inputs {sorted(inputs)} but its tokenizer makes "
                             f"{list(self.input_names)}: the files belong to different models")
        for length in inputs.values():
            if isinstance(length, int) and length != self.seq_len:
                raise ModelError(f"{path} takes {length} tokens but {self.folder / 'tokenizer.json'} "
                                 f"makes {self.seq_len}: the files belong to different models")
        return session

    def check_embedding(self) -> None:
        """Refuse a ``model.onnx`` whose embedding table has fewer rows than the tokenizer emits ids,
        read from the graph itself (`embedding_rows`), where `read` trusts the card's vocab_size.
        `IMDb.predict.Predictor.load` asks it; the binder does not: it reads the graph with the
        ``onnx`` package, which the platform does not install."""
        path = self.file("model.onnx")
        rows = embedding_rows(path, self.input_names[0])
        if rows is not None:
            _check_embedding(self.tokenizer, self.folder / "tokenizer.json", rows, f"{path}'s embedding")

    def keras(self, load: Callable[[Path], Any]) -> Any:
        """The Keras model of the family's Keras file, read by `load` (its toolkit's), checked
        against the tokenizer's length; a corrupt file is one ModelError. A bundle without one
        (made without training) has none."""
        if self.family.keras_file is None:
            raise ModelError(f"{self.folder} ships no Keras file: {self.name} is made from "
                             f"{self.family.source} without training")
        path = self.file(self.family.keras_file)
        try:
            model = load(path)
        except Exception as e:  # h5py and Keras raise untyped errors (OSError, ValueError...) on a bad file
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise ModelError(f"{path} could not be loaded ({reason}): the file is corrupt or truncated; restore "
                             f"the bundle's {path.name} or retrain it with `imdb-leap train --model {self.name}`") from e
        for shape in (model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]):
            if shape[-1] is not None and shape[-1] != self.seq_len:
                raise ModelError(f"{path} takes {shape[-1]} tokens but its tokenizer makes {self.seq_len}: "
                                 f"the files belong to different models")
        return model

    def validation_ids(self) -> list[str] | None:
        """The validation ids of ``split.json``, or None for a bundle without one (the split is then
        drawn again from the card's seed, as it was before bundles recorded it)."""
        path = self.folder / SPLIT
        if not path.is_file():
            return None
        try:
            ids = json.loads(path.read_text(encoding="utf-8"))["validation"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
            raise ModelError(f"{path} is not a split file ({e}): restore the bundle's own split.json") from None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ModelError(f"{path}: validation must be a list of sample ids: restore the bundle's own split.json")
        return ids

    def check_split(self, states: dict) -> None:
        """Refuse states whose sample ids are not the ones the model was trained and validated on
        (the card's ``split_checksums``; a card without them is not checked): one DataError naming
        the first state that differs."""
        from IMDb.data import dataset_states

        expected = self.card.get("split_checksums") or {}
        for state, checksum in expected.items():
            if state in states and (found := dataset_states.split_checksum(states[state])) != checksum:
                raise DataError(
                    f"the {state} state differs from the one {self.name} was trained with: its sample ids "
                    f"have checksum {found}, {self.folder / MARKER} says {checksum} (split_checksums."
                    f"{state}); the dataset at data_path or the installed scikit-learn splits differently")

    def split_config(self, data: str | None) -> Config:
        """The data settings the model was trained with (its card's split), on dataset `data`, so
        that its training and validation states are carved again as they were (the other settings
        are the defaults: only the states are read from it)."""
        saved = self.card.get("config") or {}
        kept = {k: saved[k] for k in ("val_fraction", "seed", "train_limit") if k in saved}
        return Config(model=self.name, data=data, **kept)
