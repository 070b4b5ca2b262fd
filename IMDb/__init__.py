"""IMDb sentiment analysis: data, text pipeline, models and Tensorleap integration."""

__version__ = "0.1.0"
