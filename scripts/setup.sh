#!/usr/bin/env bash
# Sets up the two Python 3.10 environments (Rasa's and ours) from the lock files.
# Re-running is cheap: an environment is reinstalled only when its lock file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       [ "$("$candidate" -c 'import sys; print(sys.version_info[:2] == (3, 10))' 2>/dev/null)" = True ]; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local version
    version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -V | tail -n 1 || true)
    if [ -n "$version" ] && [ -x "$(pyenv root)/versions/$version/bin/python3.10" ]; then
      echo "$(pyenv root)/versions/$version/bin/python3.10"; return 0
    fi
  fi
  return 1
}

if ! PY=$(find_python310); then
  cat >&2 <<'MSG'
Python 3.10 was not found, and Rasa 3.6 runs only on Python 3.8-3.10.
Install it, then run this command again. For example:
  pyenv install 3.10.13                         (with pyenv)
  sudo apt-get install python3.10 python3.10-venv   (Debian/Ubuntu, where packaged)
Or point PYTHON310 at an existing interpreter: PYTHON310=/path/to/python3.10 make run
MSG
  exit 1
fi
say "Using $PY ($("$PY" --version))"

# pip prints a warning for every package missing from local mirror folders: hide those lines.
quiet_pip() { "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }

make_env() {  # name lock-file
  local env=$1 lock=$2 stamp
  stamp="$env/.lock-$(sha256sum "$lock" | cut -c1-16)"
  if [ -f "$stamp" ]; then
    say "$env is up to date"
    return 0
  fi
  say "Creating $env from $lock (the Rasa one takes about 2-3 minutes the first time)"
  rm -rf "$env"
  "$PY" -m venv "$env"
  quiet_pip "$env/bin/python" -m pip install --disable-pip-version-check --progress-bar on \
    --no-deps -r "$lock"
  touch "$stamp"
}

make_env .venv-rasa requirements/rasa.lock
make_env .venv-app requirements/app.lock
say "Both environments are ready"

# --- database schema: bring the configured database (AMNESTY_DATABASE_URL) to the newest
# migration (docs/operations.md). Not fatal: every process also migrates when it starts.
if [ -x .venv-app/bin/python ]; then
  .venv-app/bin/python -m knowledge migrate || say "The database was not migrated (see above)"
fi
