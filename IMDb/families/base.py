"""What serving a model needs to know of it, behind one small interface: `Family`.

A family is a kind of model (the word models, BERT); one instance of it is one model: its name,
its tokenizer (and so its input names), how many reviews an inference batch holds, the ONNX opset
its graph is exported at, which Keras file its bundle holds, its config class (what its model is
made of: a `IMDb.config.run.ModelConfig`) and its preset (the shipped settings).
That is all the Tensorleap bundle (leap.yaml) needs, so this layer imports no trainer, exporter or
explainer: those are the toolkit's (`IMDb.toolkits`), registered by family kind, and they receive
the family.
"""
from __future__ import annotations

from IMDb.config.run import Config, ModelConfig
from IMDb.text.tokenizer import Tokenizer


class Family:
    """One model of a family: its name, its preset and what its bundle holds.

    Subclasses set the class attributes; a model made from another without training (``source``)
    is predicted and analysed like it, but its attributions come from the source, and
    `imdb-leap train` refuses it.
    """

    kind: str = ""  # the family's name, e.g. "words": its toolkit's key in `IMDb.toolkits`
    tokenizer: type[Tokenizer]  # reads the bundle's tokenizer.json
    config_class: type[ModelConfig] = ModelConfig  # the family's own settings, apart from the run's
    keras_file: str | None = None  # the bundle's Keras file the analysis reads; None: ONNX only
    onnx_opset: int = 17
    batch_size: int = 512  # reviews per inference batch

    def __init__(self, name: str, preset: dict | None = None, *, source: str | None = None,
                 made_by: str | None = None):
        self.name = name  # the model's name: its registry key and its bundle's folder
        self.preset = dict(preset or {})  # settings of this model (its shipped ones): run or its own
        self.source = source  # the trained model this one is made from, without training
        self.made_by = made_by  # what makes it from `source` (a command), for messages
        if source is not None:
            self.keras_file = None  # made without training, it ships only its ONNX file

    @property
    def trainable(self) -> bool:
        return self.source is None

    @property
    def explained_by(self) -> str:
        """The model whose Keras graph explains this one: itself, or its source."""
        return self.source or self.name

    def config(self, **overrides) -> Config:
        """This model's preset with `overrides` on top, checked (`check`): run settings and the
        family's own (`config_class`); a setting of neither is refused."""
        cfg = Config.from_flat({**self.preset, **overrides, "model": self.name}, self.config_class)
        self.check(cfg)
        return cfg

    def from_card(self, flat: dict) -> Config:
        """The `Config` a model card's flat ``config`` records (`Config.to_dict`); a card written
        before the settings were split holds every family's, and the other families' are ignored."""
        return Config.from_flat({**flat, "model": self.name}, self.config_class, strict=False)

    def check(self, cfg: Config) -> None:
        """Raise a SettingError where `cfg`'s settings, each in its own range (`IMDb.config.run`), do
        not fit together for this family. Here: nothing to check."""
