#!/usr/bin/env bash
# The whole test suite, set-up included: Python packages, then the system packages the
# tests run for real (PostgreSQL), then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[test]"
# The turn-end model's file only (see bridge/speech/turn_model.py): pipecat's own
# dependencies are not needed, so none are installed.
python -m pip install --quiet --disable-pip-version-check --no-deps "pipecat-ai>=1.14"
# The optional voice front ends, the same way (their wheels declare torch and plotting
# libraries the bridge does not use): Silero VAD's ONNX file and RNNoise's library.
python -m pip install --quiet --disable-pip-version-check --no-deps "silero-vad>=6.2" "pyrnnoise>=0.4.5"
bash tests/support/install-system-deps.sh
export HF_HUB_OFFLINE=1
# Only the plugins the suite uses: a pytest plugin some other package installed (one whose own
# dependencies are missing breaks pytest before any test runs) is never loaded.
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
exec python -m pytest -p pytest_asyncio.plugin -p _hypothesis_pytestplugin "$@"
