#!/usr/bin/env bash
# Set up .venv with the dev and example extras, lint, and run the whole test suite (slow and integration
# tests included). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,examples
.venv/bin/python -m ruff check src tests benchmarks examples
exec .venv/bin/python -m pytest -q "$@"
