"""After a real run of ``python -m bot run`` (load, the stack, a console message, stop), every
file and folder it left in the var dir is private: databases (ours and Rasa's), logs, secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.stack import free_port
from bot.ops.training import model_file
from settings import ROOT

pytestmark = pytest.mark.e2e


def test_a_run_leaves_only_private_files(tmp_path: Path) -> None:
    if not model_file().exists():
        pytest.fail("No trained model for the current data: run `make train`.")
    var = tmp_path / "var"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AMNESTY_VAR_DIR": str(var),
        "AMNESTY_RASA_PORT": str(free_port()),
        "AMNESTY_ACTIONS_PORT": str(free_port()),
        "AMNESTY_WEB_PORT": str(free_port()),
    }
    for name in ("AMNESTY_DATABASE_URL", "AMNESTY_TRACKER_URL", "AMNESTY_SPOOL_DIR"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--no-browser"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,  # the console chat says hello, then meets end of input
        capture_output=True,
        timeout=600,
        preexec_fn=lambda: os.umask(0o022),  # the usual umask of a login shell
    )
    assert done.returncode == 0, done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:]
    found = [var, *var.rglob("*")]
    assert {p.name for p in found} >= {"amnesty.db", "tracker.db", "web.log", "rasa.log"}
    readable = {
        str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in found
        if stat.S_IMODE(p.stat().st_mode) & 0o077
    }
    assert not readable, f"readable by other users: {readable}"
