#!/usr/bin/env bash
# Create .venv (Python >= 3.10) and install nni into it, editable, with the given extras.
#
#   bash scripts/setup.sh                # dev + examples: tests, ruff, Playwright, scikit-learn (~520 MB, ~1 min)
#   bash scripts/setup.sh examples       # what the example needs: nni + scikit-learn (~150 MB, ~20 s)
#
# Does nothing (in well under a second) when the same extras, or more, were already installed from the
# same pyproject.toml with the same Python: a stamp in .venv records what was installed. A fresh clone
# or a changed pyproject.toml installs again. FORCE=1 always installs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
EXTRAS="${1:-dev,examples}"

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi

# what is installed: one line per extra, each "<extra> <sha256 of pyproject.toml + python version>"
STAMP=.venv/.nni-setup-stamp
digest="$( { cat pyproject.toml; .venv/bin/python -VV; } | sha256sum | cut -d' ' -f1)"
missing=()
IFS=',' read -r -a wanted <<< "$EXTRAS"
for extra in "${wanted[@]}"; do
    if [ "${FORCE:-0}" = 1 ] || ! grep -qx "$extra $digest" "$STAMP" 2>/dev/null; then
        missing+=("$extra")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "setup.sh: installing nni[$EXTRAS] into .venv ..." >&2
.venv/bin/python -m pip install --quiet -e ".[$EXTRAS]"
# keep the stamps of this digest, add the extras just installed
{
    grep " $digest\$" "$STAMP" 2>/dev/null || true
    for extra in "${wanted[@]}"; do echo "$extra $digest"; done
} | sort -u > "$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
