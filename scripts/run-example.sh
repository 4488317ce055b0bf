#!/usr/bin/env bash
# Set up .venv with what the example needs (nni + scikit-learn, not the dev tools) and run the example
# experiment: 10 TPE trials of an sklearn SVC. Arguments go to the launch script: --port N (default 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh examples
exec .venv/bin/python examples/sklearn_classifier/launch.py "$@"
