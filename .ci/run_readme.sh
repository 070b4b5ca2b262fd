#!/usr/bin/env bash
# Run the README's quick-start command and/or its test command verbatim, as a new user would:
# each in its own `bash -euo pipefail`, in an environment holding only a whitelist of variables
# (the dataset's, CI's, pip's configuration) and a PATH without Poetry or an active virtualenv.
#
#   bash .ci/run_readme.sh quickstart|test|all              in this checkout (CI: a fresh clone)
#   bash .ci/run_readme.sh all --fresh-clone                in a fresh copy of this working tree
#
# --fresh-clone copies what a clone would hold (the files git tracks, plus new files it does not
# ignore: so uncommitted work is checked too) into a new folder beside this one, so that the
# README's relative ../shared paths resolve, runs there, and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
case "$which" in quickstart|test|all) ;; *) echo "usage: run_readme.sh quickstart|test|all [--fresh-clone]" >&2; exit 2;; esac

if [ "${2:-}" = "--fresh-clone" ]; then
  clone=$(mktemp -d "$(cd .. && pwd)/.readme-check.XXXXXX")
  trap 'rm -rf "$clone"' EXIT
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && { mkdir -p "$clone/$(dirname "$f")"; cp -p "$f" "$clone/$f"; }
  done
  (cd "$clone" && git init -q && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm "fresh clone")
  echo "readme: fresh clone in $clone"
  cd "$clone"
fi

# PATH without any folder that holds a poetry executable, and without a virtualenv's bin folder
clean_path=$(printf '%s' "$PATH" | tr ':' '\n' | while read -r dir; do
  [ -n "$dir" ] && [ ! -x "$dir/poetry" ] && [ ! -f "$dir/activate" ] && printf '%s:' "$dir"; done)
clean_path=${clean_path%:}
keep=(HOME USER LANG LC_ALL TMPDIR CI PYTHONUNBUFFERED NLTK_DATA HF_HUB_OFFLINE TL_DISABLE_ANALYTICS
      IMDB_DATA IMDB_UNSUP_DATA IMDB_CACHE IMDB_BERT IMDB_CAD PYTHON)
env_args=(PATH="$clean_path")
for name in "${keep[@]}" $(compgen -e | grep '^PIP_' || true); do
  [ -n "${!name+x}" ] && env_args+=("$name=${!name}")
done

run() {
  local block
  block=$(python3 .ci/readme_commands.py "$1")
  echo "== readme: $1, verbatim:"
  printf '%s\n' "$block" | sed 's/^/   $ /'
  env -i "${env_args[@]}" bash -euo pipefail -c "$block"
}
if [ "$which" != test ]; then run quickstart; fi
if [ "$which" != quickstart ]; then run test; fi
echo "== readme: the README's commands succeeded"
