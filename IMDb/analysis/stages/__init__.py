"""The built-in analysis stages, one module each, registered on import in run order (which is also
the order of their page sections): tables -> projection -> clusters (the population map) ->
insights (clusters and insights) -> attribution (sample analysis) -> exploration -> training
curves -> label errors -> comparison, then the robustness stages that `imdb-leap robustness` and
`compare --robustness` run: predictors -> behaviour -> counterfactual -> calibration. The contract
is `IMDb.analysis.stage`; what the commands share (building a table, `StageLog`) is
`IMDb.analysis.runner`, their settings `IMDb.analysis.settings`.
"""
# the order matters: it is the order stages run in and their sections appear
from IMDb.analysis.stages import tables  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import projection  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import clusters  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import insights  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import attribution  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import exploration  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import training  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import label_errors  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import comparison  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import predictors  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import behaviour  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import counterfactual  # noqa: F401  (isort: skip)
from IMDb.analysis.stages import calibration  # noqa: F401  (isort: skip)
