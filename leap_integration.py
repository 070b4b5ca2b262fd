"""Tensorleap entry file (``entryFile`` in leap.yaml): the name Tensorleap's guide and the CLI's
template use. It registers nothing itself: importing leap_binder.py registers every decorated
function (data, encoders, model, loss, metrics, metadata, visualizers, integration test) with
code-loader, once. Run it locally (``python leap_integration.py``) for code-loader's status table,
which code-loader prints only for an entry script of this name; leap_test.py is the full check.
"""
import sys

from IMDb.errors import IMDbError

try:
    from leap_binder import integration_test, preprocess, preprocess_unlabeled
except IMDbError as error:  # misconfigured: one line naming the file and the fix
    if __name__ == "__main__":
        sys.exit(f"leap_integration.py: {error}")
    raise

__all__ = ["integration_test", "preprocess", "preprocess_unlabeled"]


if __name__ == "__main__":
    try:
        responses = preprocess() + [preprocess_unlabeled()]
    except IMDbError as error:
        sys.exit(f"leap_integration.py: {error}")
    for response in responses:
        integration_test(response.sample_ids[0], response)
