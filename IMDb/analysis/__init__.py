"""Local analysis toolkit: what Tensorleap shows for a model, computed offline from the same
binder functions (IMDb.measures.metadata, IMDb.measures.losses) and written as one self-contained report.

Modules (one concept each; import them directly, this package imports nothing heavy):
- table: per-sample table (predictions, loss, metadata, latent vectors) of one state
- inference: a bundle's ONNX graph with its latent layer (one pass: latent and probabilities), and
  its Keras graph, for gradients only
- metadata_job: the binder's metadata as table columns, cached, computed on worker processes
- baselines: TextBlob polarity and TF-IDF logistic-regression baselines
- compare: two models (or a model and a baseline) sample by sample
- label_errors: likely label errors, confident-learning style
- projection: 2-D map of the latent space (UMAP, PCA, t-SNE)
- clusters: clustering of the latent space, per-cluster summary and ranked insights
- exploration: metadata against loss, Spearman correlations, the seeds' claims, training curves
- attribution: explanations of chosen reviews (IG, occlusion, faithfulness) for any model family
- integrated_gradients: integrated gradients, once, for any model with an embedding split
- attribution_words / attribution_bert: each family's split and glue (word models; BERT's pieces),
  which the family's toolkit hands out (`IMDb.toolkits.base.Toolkit.explainer`)
- occlusion: n-gram occlusion, each phrase scored as a unit
- faithfulness: top-k attributed words removed vs k random words
- samples: which reviews to explain (costliest errors, least confident)
- explanation: the records explained reviews travel as (Review, Explanation)
- report: the output folder (dashboard.html, PNGs, table.parquet, summary.json, projector/)
- stage: the stage contract (a `Stage` declares what it needs; its `Result` renders its own section and
  summary entries) and the registry; stages/: the built-in stages, one module per view; run_state: `Run`
- sections, templating (and templates/): the run's summary section and the autoescaping Jinja2 environment
- describe: the findings in plain words; robustness_report: the robustness stages' sections
- figures, latent_map, metric_plots, comparison_plots: the dashboard's plotly figures and their matplotlib PNGs
- projector: TensorBoard Embedding Projector export (vectors and metadata TSV)
- escape: untrusted text made safe for HTML, plotly labels and JSON
- settings: what the user chooses for analyze and compare (`AnalyzeSettings`, `CompareSettings`),
  declared once on their fields: the CLI's options, the checks and summary.json's record
- analyze / compare_models: `run_analysis` / `run_compare`: inputs checked, then the command's
  registered stages (runner: tables, their timing and what both share)
- cache: results kept on disk between runs (metadata, TF-IDF, latent maps)
"""
