#!/usr/bin/env bash
# Set up the environment, lint, and run the whole test suite (slow and integration tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m ruff check src tests benchmarks examples
exec .venv/bin/python -m pytest -q "$@"
