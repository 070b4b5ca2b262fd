"""`python -m IMDb.cli`: the `imdb-leap` command, for a checkout without its console script."""
import sys

from IMDb.cli.imdb_leap import main

sys.exit(main())
