"""The grammar every `imdb-leap` command shares: --model (one, or several joined by commas), --out
(alias --output) with --overwrite, --models-dir, --data, --quiet and --verbose; the options made
from setting fields (`add_setting_options`: train's from the model settings, `config_options`;
analyze's and compare's from their settings dataclass, `option_fields`) and read back
(`given`); argparse types that refuse a value as its field would (`number`); and a parser whose
errors are one line (`Parser`).
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import Field

from IMDb.config.fields import Range, describe, kinds, problem
from IMDb.config.run import RUN_FIELDS
from IMDb.errors import IMDbError, UsageError


def config_options() -> dict[str, Field]:
    """The train options: the setting fields that name one (`IMDb.config.fields.setting`'s
    ``option``), run settings and each family's own (`IMDb.families.setting_fields`), made with the
    field's type, range, choices and help (`add_setting_options`): a value of the wrong type or out of
    the field's range is refused as the command line is read, a setting the model's family lacks
    when its config is made. The other train options (--model, --models-dir as Config.out_dir,
    --restart, --overwrite, --quiet, --verbose) are read by `_train`."""
    from IMDb import families

    return {name: f for name, f in families.setting_fields().items() if "option" in f.metadata}


def model_list(value: str) -> list[str]:
    """argparse type of --model: 'dense' or 'dense,cnn' -> names, each a model of the registry
    (`IMDb.families`)."""
    from IMDb import families

    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in families.names()]
    if not names or unknown or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{value!r}: name models from {', '.join(families.names())}, "
                                         f"one or several joined by commas, each once")
    return names


def number(annotation: str, rule: Range | None = None):
    """argparse type of a numeric option: the text read as `annotation`'s number (``int``,
    ``float``), refused unless finite and within `rule` (`IMDb.config.fields.problem`)."""
    annotation = " | ".join(sorted(kinds(annotation) - {"None"}))

    def convert(text: str) -> int | float:
        try:
            value = int(text) if "int" in kinds(annotation) else float(text)
        except ValueError:
            value = None
        if value is None or problem(value, annotation, rule):
            raise argparse.ArgumentTypeError(f"must be {describe(annotation, rule)}, got {text!r}")
        return value

    convert.__name__ = annotation  # argparse names the type in some messages
    return convert


def option_fields(settings: type) -> dict[str, Field]:
    """The fields of settings dataclass `settings` that name an option (`IMDb.config.fields.setting`'s
    ``option``): a command's options (`add_setting_options`), so a new field is a new option."""
    return {f.name: f for f in dataclasses.fields(settings) if "option" in f.metadata}


def add_setting_options(p: argparse.ArgumentParser, fields: dict[str, Field]) -> None:
    """One option of `p` per field of `fields` (`config_options`, `option_fields`), each read into
    the field's name, None when not given (the field's default is the dataclass's, `given`): a flag
    for a bool, a list of models for a list (`model_list`), the field's choices, a number of its type
    and range (`number`) with the rule in its help, else a string."""
    for name, f in fields.items():
        option, help_ = f.metadata["option"], f.metadata["help"]
        if "bool" in kinds(f.type):
            p.add_argument(option, dest=name, action="store_true", default=None, help=help_)
        elif "list[str]" in kinds(f.type):
            p.add_argument(option, dest=name, type=model_list, metavar="MODEL[,MODEL]", help=help_)
        elif kinds(f.type) & {"int", "float"}:
            rule = f.metadata.get("range")
            what = describe(" | ".join(sorted(kinds(f.type) - {"None"})), rule)
            p.add_argument(option, dest=name, type=number(f.type, rule),
                           help=f"{help_}: {what}" if help_ else what)
        else:
            p.add_argument(option, dest=name, choices=f.metadata.get("choices"), metavar=f.metadata.get("metavar"),
                           help=help_)


def given(args: argparse.Namespace, fields: dict[str, Field]) -> dict:
    """The options of `fields` given on the command line, by field name: the settings to make (an
    option not given keeps its field's default)."""
    return {name: getattr(args, name) for name in fields if getattr(args, name) is not None}


def one_model(args: argparse.Namespace) -> str:
    if len(args.model) != 1:
        raise IMDbError(f"{args.command} takes one model, got {','.join(args.model)}")
    return args.model[0]


def command(sub, name: str, help_: str, func, *, examples: str, tensorflow: bool = False
             ) -> argparse.ArgumentParser:
    """A subcommand with its --help examples and the options every command shares."""
    p = sub.add_parser(name, help=help_, description=help_, epilog="examples:\n" + examples,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=func, tensorflow=tensorflow)
    p.add_argument("--quiet", action="store_true", help="no progress bars or stage lines")
    p.add_argument("--verbose", action="store_true",
                   help="show TensorFlow's, absl's and Keras's own log lines and warnings")
    return p


def models_option(p: argparse.ArgumentParser, what: str, *, required: bool = True) -> None:
    from IMDb import families
    from IMDb.config.run import MODELS_DIR

    p.add_argument("--model", type=model_list, required=required, metavar="MODEL[,MODEL]",
                   help=f"{what} ({', '.join(families.names())})")
    p.add_argument("--models-dir", dest="models_dir", default=str(MODELS_DIR),
                   help="folder of the model bundles (default: models/)")


def output_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--out", "--output", dest="out", metavar="PATH", help=f"where to write (default: {default})")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier imdb-leap output there (a user's files are never replaced)")


def data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help=RUN_FIELDS["data"].metadata["help"])


class Parser(argparse.ArgumentParser):
    """argparse that reports a wrong command line as one line (a UsageError for `main`), like every
    other bad input, instead of the usage block and an exit from inside the parser."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")
