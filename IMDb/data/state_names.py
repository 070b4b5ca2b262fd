"""The dataset's state names (`IMDb.data.dataset_states` carves the states): here, in a module that
imports nothing, so that the CLI's parser offers them (--state) without importing pandas and
scikit-learn."""

STATES = ("training", "validation", "test", "unlabeled")
LABELED_STATES = STATES[:3]
