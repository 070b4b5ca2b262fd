"""Quiet by default: TensorFlow's C++ notices silenced, tqdm redraws as separate lines in logs."""
import io
import subprocess
import sys

from IMDb.config.run import REPO_ROOT
from IMDb.console import LineStream, line_progress


def test_redraws_become_throttled_lines_and_the_last_state_shows():
    out = io.StringIO()
    stream = LineStream(out, interval=3600)
    stream.write("stage 1 ...\n")
    for i in range(5):
        stream.write(f"\rbar {i}/4   ")
    stream.write("\rbar 4/4\n")
    stream.write("partial")
    assert out.getvalue() == "stage 1 ...\nbar 0/4\nbar 4/4\n"
    stream.close_line()
    assert out.getvalue().endswith("partial")


def test_line_progress_only_wraps_a_non_terminal_and_restores_it(capsys):
    before = sys.stderr
    with line_progress():
        assert isinstance(sys.stderr, LineStream)
        print("inside", end="", file=sys.stderr)
    assert sys.stderr is before and capsys.readouterr().err == "inside"


def test_tensorflow_imports_without_notices(tmp_path):
    code = ("from IMDb.cli import library_noise; library_noise.quiet(); library_noise.import_tensorflow(); "
            "import keras; keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).compile('adam', 'mse')")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
