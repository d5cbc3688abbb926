#!/usr/bin/env bash
# Runs every test: data checks, the Rasa-side unit tests, then our unit and end-to-end
# tests against the real Rasa server, action server and databases.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
# Each step says when it starts (seconds since the script began), so a slow step shows in CI's log.
say() { printf '\033[1m==> [%4ds] %s\033[0m\n' "$SECONDS" "$*"; }
status=0

# chromium for the browser tests; nginx for the cluster tests (tests/e2e/test_cluster.py).
missing=""
command -v chromium >/dev/null 2>&1 || missing="chromium"
[ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "Installing Debian's ${missing# } for the browser and cluster tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) \
      >/dev/null || echo "${missing# } could not be installed: those tests will be skipped"
  else
    echo "${missing# } missing and this is not root: those tests will be skipped"
  fi
fi

say "Lint (ruff)"
.venv-app/bin/ruff check . || status=1

# pyproject.toml's [tool.mypy]: the application's packages and tests on Python 3.12; then what
# Rasa imports, as Python 3.10, against the Rasa environment's packages. Caches under build/.
say "Types (mypy)"
.venv-app/bin/python -m mypy || status=1
.venv-app/bin/python -m mypy --python-version 3.10 --python-executable .venv-rasa/bin/python \
  --cache-dir build/mypy-rasa settings.py vietnamese nlu tests/rasa || status=1

# Training (when data or config changed) takes most of a CI run's first half; the unit tests do not
# need the model, so they run meanwhile on the other core. The training data is built first.
say "Training data; the model trains in the background (build/train.log) while unit tests run"
.venv-app/bin/python -c 'from bot.ops.training import build_training_data; build_training_data()' \
  || exit 1
.venv-app/bin/python -m bot train >build/train.log 2>&1 &
training=$!

say "Tests in the Rasa environment (our NLU components)"
.venv-rasa/bin/python -m pytest -q -p no:cacheprovider tests/rasa || status=1

say "Unit tests in the application environment"
.venv-app/bin/python -m pytest -q -p no:cacheprovider --durations=15 tests/unit || status=1

say "Waiting for the model"
wait "$training" || { tail -n 60 build/train.log; exit 1; }
tail -n 2 build/train.log

# Rasa runs through our launcher (python -m nlu): telemetry off in the variable and in Rasa's
# global configuration, which plain `rasa` would otherwise create with `enabled: true`.
say "rasa data validate"
.venv-rasa/bin/python -m nlu data validate --config config.yml --domain domain.yml \
  --data build/nlu/nlu.yml data --fail-on-warnings >var-validate.log 2>&1 \
  || { cat var-validate.log; status=1; }
rm -f var-validate.log

say "Test stories (rasa test core on the trained model)"
MODEL=$(.venv-app/bin/python -c 'from bot.ops.training import model_file; print(model_file())')
.venv-rasa/bin/python -m nlu test core --model "$MODEL" --stories tests/stories \
  --out build/story-results --fail-on-prediction-errors >build/story-test.log 2>&1 \
  && echo "test stories: all predicted as written" \
  || { tail -n 40 build/story-test.log; cat build/story-results/failed_test_stories.yml 2>/dev/null; status=1; }

say "End-to-end tests (real Rasa, action server, databases, browser)"
.venv-app/bin/python -m pytest -q -p no:cacheprovider --durations=15 tests/e2e || status=1

say "Done"
exit $status
