"""``python -m nlu``, the way the project starts Rasa (run in the Rasa environment): the token
never on the command line, the channel secrets in the environment, telemetry off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa.__main__ import create_argument_parser

from nlu.__main__ import rasa_arguments, refuse_token_argument
from settings import from_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "args", [["run", "-t", "x"], ["run", "--auth-token", "x"], ["run", "--auth-token=x"]]
)
def test_a_token_on_the_command_line_is_refused(args: list[str]) -> None:
    with pytest.raises(SystemExit, match="ps shows it"):
        refuse_token_argument(args)


def test_run_gets_the_token_inside_the_process_and_the_secrets_in_its_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in (("rasa_token", "tok"), ("rest_secret", "rest"), ("actions_secret", "a")):
        (tmp_path / name).write_text(value)
        (tmp_path / name).chmod(0o600)
    monkeypatch.delenv("AMNESTY_REST_SECRET", raising=False)
    monkeypatch.delenv("AMNESTY_ACTIONS_SECRET", raising=False)
    settings = from_env({"AMNESTY_VAR_DIR": str(tmp_path)})
    assert rasa_arguments(["run", "-p", "5005"], settings) == [
        "run",
        "-p",
        "5005",
        "--auth-token=tok",
    ]
    assert os.environ["AMNESTY_REST_SECRET"] == "rest"  # for credentials.yml's ${...}
    assert os.environ["AMNESTY_ACTIONS_SECRET"] == "a"  # for endpoints.yml's ${...}
    assert rasa_arguments(["train", "--out", "x"], settings) == ["train", "--out", "x"]


def telemetry_config(command: list[str], home: Path) -> dict:
    """Run a Rasa command with ``home`` as HOME; the telemetry part of its global config."""
    env = dict(os.environ, HOME=str(home), RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(ROOT))
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=180, check=True)
    config = home / ".config" / "rasa" / "global.yml"
    return (yaml.load(config.read_text(), Loader=yaml.CSafeLoader) or {}).get("metrics", {})


def test_the_launcher_leaves_telemetry_disabled_where_plain_rasa_enables_it(
    tmp_path: Path,
) -> None:
    ours = telemetry_config([sys.executable, "-m", "nlu", "telemetry"], tmp_path / "ours")
    assert ours["enabled"] is False
    # Why the launcher exists: plain Rasa writes `enabled: true` at its first start even with
    # RASA_TELEMETRY_ENABLED=false, and a later command without the variable then reports.
    rasa = Path(sys.executable).parent / "rasa"
    assert telemetry_config([str(rasa), "telemetry"], tmp_path / "plain")["enabled"] is True


def test_a_token_starting_with_a_dash_reaches_rasa_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """secrets.token_urlsafe can start with "-": 1 run in 64 of the retraining's check server
    failed with "argument -t/--auth-token: expected one argument" before."""
    settings = from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path),
            "AMNESTY_RASA_TOKEN": "-dash_token",
            "AMNESTY_REST_SECRET": "rest",
            "AMNESTY_ACTIONS_SECRET": "a",
        }
    )
    args = create_argument_parser().parse_args(rasa_arguments(["run", "--enable-api"], settings))
    assert args.auth_token == "-dash_token"


def test_rasa_runs_on_python_3_11_with_its_plots() -> None:
    """docs/platform.md: Rasa 3.6 on 3.11, with matplotlib 3.7 (rasa test's plots)."""
    import matplotlib
    from rasa.utils.plotting import plot_confusion_matrix  # imports matplotlib.pyplot

    assert sys.version_info[:2] == (3, 11)
    assert matplotlib.__version__.startswith("3.7.") and callable(plot_confusion_matrix)
