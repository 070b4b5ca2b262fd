"""`imdb-leap push --model M`: check the settings, emulate the push, then run Tensorleap's ``leap push``.

1. `check`: ``project_config.yaml`` must name model M (the file is never edited here: the model
   decides the input encoders, so it must match the file uploaded with ``-m``), and its
   ``data_path`` must be a path a pushed bundle can reach: absolute, on the data volume, no longer
   the committed placeholder (`IMDb.config.project_file.bundle_problem`). M must be a model the
   integration serves, with its ``models/M/model.onnx``.
2. The bundle emulation for M (``leap_test.py --models M --platform-only``): the files leap.yaml
   uploads, in the platform's Python with only requirements.txt and code-loader, on the dataset here
   (``IMDB_DATA``, else ``data_path`` when this machine holds the data volume).
3. ``leap push -m models/M/model.onnx -n NAME -b BATCH --eval`` from the repository root (leap
   reads leap.yaml there): ``-n`` names the version, ``--eval`` starts an evaluation when the push
   completes and ``-b`` is its batch size, so nothing is asked interactively (without ``--eval``
   a non-interactive shell evaluates nothing; with it but no ``-b`` the CLI prompts).

``--dry-run`` prints that command and exits 0, needing neither ``leap``, a network nor the dataset;
what a real push would refuse is said on stderr.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from IMDb import families
from IMDb.config import environment, project_file, workspace
from IMDb.config.run import REPO_ROOT
from IMDb.errors import ConfigError, IMDbError

DEFAULT_BATCH = 32
CLI_SOURCE = "https://github.com/tensorleap/leap-cli"
CLI_INSTALL = "curl -s https://raw.githubusercontent.com/tensorleap/leap-cli/master/install.sh | bash"


def model_file(model: str) -> str:
    """The file ``-m`` uploads, relative to the repository root (where leap runs)."""
    return f"models/{model}/model.onnx"


def leap_command(model: str, name: str | None = None, batch: int = DEFAULT_BATCH) -> list[str]:
    return ["leap", "push", "-m", model_file(model), "-n", name or model, "-b", str(batch), "--eval"]


def served(model: str) -> None:
    trained = families.names(trainable=True)  # what the integration serves (`IMDb.tensorleap.integration.served_models`)
    if model not in trained:
        raise ConfigError(f"{model} is not a model the integration serves ({', '.join(trained)}): "
                          f"Tensorleap's importer has no converter for bert-int8's quantization operators")


def check(model: str, config: Path | None = None) -> project_file.ProjectConfig:
    """The settings of `config` (default: the repository's project_config.yaml) if a push of
    `model` can work with them; else one ConfigError line saying what to change."""
    config = Path(config or project_file.PATH)
    served(model)
    cfg = project_file.load(config)
    if cfg.model != model:
        raise ConfigError(f"{config}: model is {cfg.model!r}, not {model!r}: set `model: {model}` there (imdb-leap "
                          f"never edits it), or push {cfg.model} with `imdb-leap push --model {cfg.model}`")
    problem = project_file.bundle_problem(cfg, config)
    if problem:
        raise ConfigError(problem)
    if cfg.is_placeholder:
        raise ConfigError(f"{config}: data_path is still the placeholder {cfg.written!r}: set it to the absolute "
                          f"path of imdb.parquet on your Tensorleap data volume (`leap server info` lists a "
                          f"local server's volumes; imdb_unsup.parquet goes beside it)")
    if not (REPO_ROOT / model_file(model)).is_file():
        raise ConfigError(f"{REPO_ROOT / model_file(model)} not found: restore models/{model}/ or train it "
                          f"(`imdb-leap train --model {model}`)")
    return cfg


def leap_executable() -> str:
    """``leap`` on PATH, or one line saying where to get it."""
    found = shutil.which("leap")
    if not found:
        raise ConfigError(f"the Tensorleap CLI `leap` is not on PATH: install it ({CLI_INSTALL}; source and "
                          f"releases: {CLI_SOURCE}), then `leap auth login`, and run this again")
    return found


def emulate(model: str, config: Path) -> dict:
    """The bundle emulation of `model` (leap_test.py's (b)), its output shown as it runs; returns
    leap_test.py's JSON result (``--json``), on which the push decides."""
    if not environment.data() and not project_file.load(config).data_path.exists():
        raise ConfigError(f"the push is checked on a local copy of the dataset first: set {environment.DATA} to "
                          f"imdb.parquet here (imdb_unsup.parquet beside it)")
    print(f"imdb-leap push: checking the bundle for {model} as the platform runs it (leap_test.py) ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "leap_test.json"
        done = subprocess.run([sys.executable, str(REPO_ROOT / "leap_test.py"), "--models", model, "--platform-only",
                               "--config", str(config), "--json", str(out)], cwd=REPO_ROOT)
        result = json.loads(out.read_text()) if out.is_file() else {"passed": False}
    if done.returncode != 0 or not result.get("passed"):
        raise IMDbError("the bundle emulation failed (above): nothing was pushed")
    return result


def notes(model: str, config: Path) -> list[str]:
    """What a real push would refuse or ask, for --dry-run (nothing is checked that needs a tool)."""
    out = []
    try:
        check(model, config)
    except ConfigError as e:
        out.append(f"a push now would refuse: {e}")
    if not shutil.which("leap"):
        out.append(f"`leap` is not on PATH ({CLI_INSTALL})")
    return out + workspace_notes()


def workspace_notes() -> list[str]:
    try:
        keys = workspace.read()
    except ConfigError as e:
        return [str(e)]
    if not str(keys.get("projectId") or "").strip():
        return ["leap.yaml has no projectId: leap will offer to pick or create a project (or run "
                "`leap projects create imdb` and put its id there)"]
    return []


def run(model: str, name: str | None = None, batch: int = DEFAULT_BATCH, dry_run: bool = False,
        config: Path | None = None) -> int:
    config = Path(config or project_file.PATH)
    if batch < 1:
        raise ConfigError(f"--batch must be a positive whole number, got {batch}")
    served(model)
    command = leap_command(model, name, batch)
    if dry_run:
        for note in notes(model, config):
            print(f"imdb-leap push: note: {note}", file=sys.stderr)
        print(shlex.join(command))
        return 0
    check(model, config)
    leap = leap_executable()
    if environment.get(environment.MODELS_DIR) and Path(environment.models_dir()).resolve() != environment.REPO_MODELS.resolve():
        print(f"imdb-leap push: note: {environment.MODELS_DIR} is set: the check reads its bundles, the push "
              f"uploads models/", file=sys.stderr)
    emulate(model, config)
    for note in workspace_notes():
        print(f"imdb-leap push: note: {note}", file=sys.stderr)
    print(f"imdb-leap push: {shlex.join(command)}", flush=True)
    done = subprocess.run([leap, *command[1:]], cwd=REPO_ROOT, env=os.environ.copy())
    if done.returncode != 0:
        print(f"imdb-leap push: leap exited with status {done.returncode}; the server's side of a failed push: "
              f"`leap run list -t Push`, then `leap run logs <run id>`", file=sys.stderr)
    return done.returncode
