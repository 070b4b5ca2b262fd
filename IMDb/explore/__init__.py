"""`imdb-leap explore`: an interactive local dashboard over one state's analysis table.

A Starlette app served by uvicorn on 127.0.0.1 (`IMDb.explore.server`), over the same stages and
caches as ``imdb-leap analyze`` (`IMDb.explore.tables`). One module per concept: the output folder
(`workspace`), the table and map (`tables`), the map's answers built once (`map_data`), heat maps on
demand (`heatmaps`), nearest neighbours (`neighbours`), a selection against the rest (`selection`),
an edit against its original (`diff`),
counterfactual pairs saved and exported (`pairs`), two models side by side (`compare`), the
likely label errors to review (`label_queue`) and the decisions kept (`decisions`), a robustness
report's failing cases (`behaviour`), the page (`page`), the routes and their guards (`app`, and
`answers` shared with the panels' routes), the command line (`command`).
"""
