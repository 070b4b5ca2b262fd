"""`imdb-leap robustness` and `imdb-leap calibrate`: how a shipped model behaves beyond accuracy."""
