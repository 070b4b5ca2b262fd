"""The analysis's method choices, which the CLI's parser offers (--projection, --clusters): here, in a
module that imports nothing, so that reading the command line (`imdb-leap predict --help`) does not
import the analysis's libraries (pandas, scikit-learn, SciPy) through `IMDb.analysis.runner`."""

PROJECTIONS = ("umap", "pca", "tsne")
CLUSTERINGS = ("kmeans", "hdbscan")
