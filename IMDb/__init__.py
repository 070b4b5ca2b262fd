"""IMDb sentiment analysis: data, text pipeline, model families, the Tensorleap integration and
the local analysis toolkit (layers: docs/code-layout.md)."""

__version__ = "0.1.0"
