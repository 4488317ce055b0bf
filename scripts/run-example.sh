#!/usr/bin/env bash
# Set up the environment and run the example experiment (10 TPE trials of an sklearn SVC).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/sklearn_classifier/launch.py "$@"
