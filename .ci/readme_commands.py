"""Print one of the README's two user commands, exactly as written: `quickstart` (the first fenced
bash block of the README's "Quick start" section) or `test` (the second). `.ci/run_readme.sh`
and CI run what this prints, so CI runs the README's commands themselves, never a copy that could
drift from them."""
from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
NAMES = ("quickstart", "test")


def quick_start_blocks(text: str) -> list[str]:
    """The fenced ```bash blocks of the "## Quick start" section, in order."""
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", text, flags=re.S | re.M)
    if section is None:
        raise SystemExit(f"readme_commands: no '## Quick start' section in {README}")
    return [b.strip() for b in re.findall(r"^```bash\n(.*?)^```", section.group(1), flags=re.S | re.M)]


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in NAMES:
        print(f"usage: readme_commands.py {'|'.join(NAMES)}", file=sys.stderr)
        return 2
    blocks = quick_start_blocks(README.read_text(encoding="utf-8"))
    if len(blocks) < len(NAMES):
        print(f"readme_commands: the Quick start section of {README} has {len(blocks)} bash block(s), "
              f"expected {len(NAMES)} ({', '.join(NAMES)})", file=sys.stderr)
        return 1
    print(blocks[NAMES.index(argv[0])])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
