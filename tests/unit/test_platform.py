"""The platform (docs/platform.md): two locked environments, Python 3.11 for Rasa and 3.12 for
the application, installed with hashes; scripts/setup.sh finds the interpreters or says what
to install."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from settings import ROOT

LOCKS = ("requirements/app.lock", "requirements/rasa.lock")
SETUP = ROOT / "scripts" / "setup.sh"


def requirements(lock: str) -> list[str]:
    """One string per requirement of a lock file (its continuation lines joined)."""
    text = (ROOT / lock).read_text(encoding="utf-8").replace("\\\n", " ")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_is_pinned_with_its_hashes(lock: str) -> None:
    entries = requirements(lock)
    assert len(entries) > 50
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.-]+==\S+ ", entry), entry
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry


def test_setup_installs_only_what_the_lock_names_and_checks_the_hashes() -> None:
    text = SETUP.read_text(encoding="utf-8")
    assert '--no-deps --require-hashes "$@" -r "$lock"' in text
    # Only Rasa's environment overrides a Requires-Python (rasa 3.6.21 says <3.11).
    assert 'make_env .venv-rasa "$PY_RASA" requirements/rasa.lock --ignore-requires-python' in text
    assert 'make_env .venv-app "$PY_APP" requirements/app.lock\n' in text


def test_the_application_runs_on_python_3_12() -> None:
    assert sys.version_info[:2] == (3, 12)
    entries = requirements("requirements/app.lock")
    assert any(e.startswith("rasa-sdk==3.21.") for e in entries)


def test_rasa_sends_the_domain_that_rasa_sdk_3_21_requires() -> None:
    """rasa-sdk 3.21 answers 449 to an action call without the domain; Rasa 3.6 sends it
    unless the domain selects actions with ``send_domain`` (rasa/core/actions/action.py)."""
    domain = yaml.load((ROOT / "domain.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    assert "send_domain" not in str(domain.get("actions"))


def run_setup(path: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(
        ["bash", str(SETUP)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_setup_says_what_to_install_when_a_python_is_missing(tmp_path: os.PathLike) -> None:
    # A PATH with bash and coreutils but no pyenv: /usr/bin has one of the two versions at most.
    result = run_setup(f"{tmp_path}:/usr/bin:/bin")
    missing = re.search(r"Python (3\.1[12]) was not found", result.stderr)
    if missing is None:
        pytest.skip("this machine has Python 3.11 and 3.12 in /usr/bin")
    version = missing.group(1)
    assert result.returncode == 1
    assert f"pyenv install {version}" in result.stderr
    assert f"PYTHON{version.replace('.', '')}=" in result.stderr
