"""``imdb-leap explore``: its options (registered into the CLI's parser by `register`) and its run."""
from __future__ import annotations

import argparse
import secrets
from pathlib import Path

from IMDb.errors import UsageError


def register(sub) -> None:
    """Add the subcommand to the CLI's subparsers `sub`, in the CLI's shared grammar
    (`IMDb.cli.options`)."""
    from IMDb import families
    from IMDb.analysis.methods import PROJECTIONS
    from IMDb.cli.options import command, data_option, model_list
    from IMDb.config.run import MODELS_DIR

    p = command(sub, "explore", "an interactive local dashboard of one state: the latent map of every review, "
                                "selections, per-word heat maps, neighbours", run,
                examples="  imdb-leap explore --model cnn\n"
                         "  imdb-leap explore --model dense,cnn --state test --limit 2000\n"
                         "  imdb-leap explore --model cnn --from reports/cnn-test --no-browser")
    p.add_argument("--model", type=model_list, required=True, metavar="MODEL[,MODEL]",
                   help=f"the models to load; the first one's latent space is mapped ({', '.join(families.names())})")
    p.add_argument("--models-dir", dest="models_dir", default=str(MODELS_DIR),
                   help="folder of the model bundles (default: models/)")
    p.add_argument("--state", help="the state to explore (default: the report's with --from, else test)")
    p.add_argument("--limit", type=int, help="explore a seeded, label-stratified sample of N reviews")
    p.add_argument("--from", dest="report", metavar="REPORT_DIR",
                   help="reuse an `imdb-leap analyze` or `compare` report's table: its reviews, state and sample")
    p.add_argument("--projection", choices=PROJECTIONS, help="2-D map of the latent space (default: the "
                                                              "report's with --from, else umap)")
    data_option(p)
    p.add_argument("--out", "--output", dest="out", metavar="DIR",
                   help="where the heat-map cache and exports go (default: reports/explore-<models>-<state>); "
                        "an earlier explorer folder is reused")
    p.add_argument("--overwrite", action="store_true",
                   help="start an earlier explorer folder afresh (a folder of anything else is never replaced)")
    p.add_argument("--robustness", metavar="DIR",
                   help="a folder `imdb-leap robustness` wrote: its failing cases in the behaviour panel "
                        "(default: --from's folder when it holds a robustness.json)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port to serve on (default: 8765; 0: a free one)")
    p.add_argument("--no-browser", dest="browser", action="store_false", help="do not open a browser")


def run(args: argparse.Namespace) -> int:
    """Check everything that can be checked at once, start loading in the background, then serve
    (``GET /`` answers within seconds, the page showing the loading's progress)."""
    from IMDb.analysis.settings import MIN_REVIEWS, split_states
    from IMDb.bundle import read_card
    from IMDb.explore import server
    from IMDb.explore.behaviour import find_report, read_behaviour
    from IMDb.explore.app import create_app
    from IMDb.explore.session import Session
    from IMDb.explore.tables import Source, read_report
    from IMDb.explore.workspace import default_out_dir, open_workspace

    models_dir = Path(args.models_dir)
    source = Source(models=args.model, models_dir=models_dir, data=args.data, limit=args.limit,
                    projection=args.projection or "umap")
    if args.report is not None:
        report = read_report(Path(args.report))
        if args.state is not None and args.state != report["state"]:
            raise UsageError(f"--from {args.report} holds the {report['state']} state, not {args.state}: drop "
                             f"--state, or analyse the {args.state} state first")
        if args.limit is not None:
            raise UsageError("--limit and --from: the report's reviews are shown; drop --limit")
        source.report, source.state, source.limit = Path(args.report), report["state"], report.get("limit")
        source.seed, source.k = report.get("seed", 0), report.get("k_chosen")
        source.projection = args.projection or report.get("projection") or "umap"
        source.data = args.data or report.get("data")
    else:
        source.state = args.state or "test"
    split_states(source.state)
    if source.limit is not None and source.limit < MIN_REVIEWS:
        raise UsageError(f"--limit must be at least {MIN_REVIEWS} (the map's clustering needs that many), "
                         f"got {source.limit}")
    for name in args.model:
        read_card(name, models_dir)  # a missing model fails now, not in the background
    behaviour_report = find_report(args.robustness, args.report)
    behaviour = read_behaviour(behaviour_report) if behaviour_report is not None else None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0 to 65535, got {args.port}")
    sock = server.bind(args.host, args.port)  # a busy port is refused before the output folder is made
    out = open_workspace(args.out or default_out_dir(args.model, source.state), args.overwrite)
    server.warn_if_exposed(args.host)
    session = Session(out, models_dir)
    session.start(source, progress=not args.quiet, verbose=args.verbose)
    app = create_app(session, secrets.token_urlsafe(32), server.allowed_hosts(args.host),
                     heading=f"imdb-leap explore: {','.join(args.model)} · {source.state}", behaviour=behaviour)
    server.serve(app, sock, server.url(args.host, sock), args.browser)
    return 0
