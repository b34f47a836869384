#!/usr/bin/env bash
# The whole test suite, set-up included: Python packages, then the system packages the
# tests run for real (PostgreSQL), then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[test]"
bash tests/support/install-system-deps.sh
export HF_HUB_OFFLINE=1
exec python -m pytest "$@"
