"""What analyze and compare take (`IMDb.analysis.settings`): each field's own rule and the rules that
join two fields are checked when the settings are made, before any work, as one-line errors."""
import pytest

from IMDb.analysis.settings import AnalyzeSettings, CompareSettings
from IMDb.errors import AnalysisError, SettingError


@pytest.mark.parametrize("settings, error, words", [
    (dict(state="nowhere"), AnalysisError, "unknown or repeated state in 'nowhere'"),
    (dict(state="test+test"), AnalysisError, "repeated"),
    (dict(limit=3), AnalysisError, "--limit must be at least 10"),
    (dict(k=40, limit=30), AnalysisError, "--k 40 asks for more clusters than the 30 reviews of --limit"),
    (dict(projection="mds"), SettingError, "projection must be one of 'umap', 'pca', 'tsne', got 'mds'"),
    (dict(k=1), SettingError, "k must be null or a whole number >= 2, got 1"),
    (dict(samples=-1), SettingError, "samples must be a whole number >= 0"),
    (dict(label_error_models="dense"), SettingError, "label_error_models must be null or a list of strings"),
])
def test_bad_analyze_settings_are_refused_when_made(settings, error, words):
    with pytest.raises(error, match=words):
        AnalyzeSettings(**settings)


def test_compare_shares_the_review_rules_and_defaults_to_the_test_state():
    with pytest.raises(AnalysisError, match="--limit must be at least 10"):
        CompareSettings(limit=3)
    assert (CompareSettings().state, AnalyzeSettings().state) == ("test", "training")
    assert AnalyzeSettings(state="validation+test", k=12, limit=12).limit == 12  # k <= limit: allowed
