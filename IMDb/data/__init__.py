"""The IMDb reviews: reading a copy of the dataset (`sources`), the states carved from it (`dataset_states`)
and what training adds (`training_set`, `counterfactual`)."""
