"""Errors the package raises on bad input: each message says what, where and how to fix it."""


class IMDbError(Exception):
    """Base class: the CLI prints these as one line instead of a traceback."""


class DataError(IMDbError):
    """A dataset file or folder is missing, malformed or fails verification."""


class ModelError(IMDbError):
    """A model, tokenizer or model card is missing, unknown or mismatched."""


class AnalysisError(IMDbError):
    """A local analysis was asked for something it cannot do (unknown state, projection, k...)."""


class OutputError(IMDbError):
    """An output folder cannot be written, or is one imdb-leap must not replace (a user's files)."""


class ConfigError(IMDbError):
    """``project_config.yaml`` is missing, unreadable, or has a missing or invalid key."""


class UsageError(IMDbError):
    """The command line itself is wrong: an unknown option or model, a missing or malformed value."""
