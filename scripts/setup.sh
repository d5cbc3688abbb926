#!/usr/bin/env bash
# Sets up the two environments from the lock files: .venv-rasa (Python 3.11: Rasa 3.6 declares
# 3.8-3.10 but passes every test on 3.11, docs/platform.md) and .venv-app (Python 3.12: gateway,
# staff app, action server).
# Every package is pinned with its hashes and installed with --require-hashes.
# Re-running is cheap: an environment is rebuilt only when its lock file or Python changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# find_python 3.12 PYTHON312: an interpreter of exactly that version, from the variable, PATH
# (python3.12, python3), then pyenv; prints its path.
find_python() {
  local want=$1 variable=$2 candidate version
  for candidate in "${!variable:-}" "python$want" python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ]; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    version=$(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}(\.[0-9]+)?$" | sort -V | tail -n 1 || true)
    if [ -n "$version" ] && [ -x "$(pyenv root)/versions/$version/bin/python$want" ]; then
      echo "$(pyenv root)/versions/$version/bin/python$want"; return 0
    fi
  fi
  return 1
}

missing_python() {  # version variable why
  cat >&2 <<MSG
Python $1 was not found ($3).
Install it, then run this command again. For example:
  pyenv install $1                                   (with pyenv: the newest $1.x)
  sudo apt-get install python$1 python$1-venv        (Debian/Ubuntu, where packaged)
Or point $2 at an existing interpreter: $2=/path/to/python$1 make run
MSG
  exit 1
}

PY_RASA=$(find_python 3.11 PYTHON311) ||
  missing_python 3.11 PYTHON311 "Rasa 3.6 runs on it here: docs/platform.md"
PY_APP=$(find_python 3.12 PYTHON312) ||
  missing_python 3.12 PYTHON312 "the gateway, the staff app and the action server run on it"
say "Rasa: $PY_RASA ($("$PY_RASA" --version)); application: $PY_APP ($("$PY_APP" --version))"

# pip prints a warning for every package missing from local mirror folders: hide those lines.
quiet_pip() { "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }

make_env() {  # folder python lock-file [extra pip options]
  local env=$1 python=$2 lock=$3 stamp
  shift 3
  stamp="$env/.lock-$( (sha256sum "$lock"; "$python" --version) | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ]; then
    say "$env is up to date"
    return 0
  fi
  say "Creating $env from $lock (the Rasa one takes about 2-3 minutes the first time)"
  rm -rf "$env"
  "$python" -m venv "$env"
  # --no-deps: the lock is the whole set; --require-hashes: each file must match its hash.
  quiet_pip "$env/bin/python" -m pip install --disable-pip-version-check --progress-bar on \
    --no-deps --require-hashes "$@" -r "$lock"
  touch "$stamp"
}

# rasa 3.6.21 declares Requires-Python <3.11: the tests, not that line, say it runs on 3.11.
make_env .venv-rasa "$PY_RASA" requirements/rasa.lock --ignore-requires-python
make_env .venv-app "$PY_APP" requirements/app.lock
say "Both environments are ready"

# --- database schema: bring the configured database (AMNESTY_DATABASE_URL) to the newest
# migration (docs/operations.md). Not fatal: every process also migrates when it starts.
if [ -x .venv-app/bin/python ]; then
  .venv-app/bin/python -m knowledge migrate || say "The database was not migrated (see above)"
fi
