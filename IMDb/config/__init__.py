"""Settings, each from where it is kept: the environment (`environment`), a model run's fields and their rules (`run`),
``project_config.yaml`` (`project_file`) and ``leap.yaml`` (`workspace`)."""
