"""Settings, each from where it is kept: the environment (`environment`), a model run's (`run`: the
run settings apart from each family's model config) and what a field accepts (`fields`),
``project_config.yaml`` (`project_file`) and ``leap.yaml`` (`workspace`)."""
