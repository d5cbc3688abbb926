"""Build the training data and train the Rasa model, only when its inputs changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from settings import ROOT
from vietnamese.training_data import build, to_yaml

RASA_ENV = ROOT / ".venv-rasa"
# Rasa is always started through our launcher, ``python -m nlu`` (telemetry off, no token on
# the command line): never through .venv-rasa/bin/rasa.
RASA_PYTHON = RASA_ENV / "bin" / "python"
MODELS_DIR = ROOT / "models"
BUILD_NLU = ROOT / "build" / "nlu" / "nlu.yml"
# Everything the trained model depends on: the pipeline components of nlu/ (not its launcher
# or REST channel), and of the Rasa lock only the versions (not the hashes).
INPUTS = (
    "config.yml",
    "domain.yml",
    "data",
    "nlu_data",
    "nlu/components.py",
    "vietnamese",
    "requirements/rasa.lock",
)


def fingerprint(root: Path = ROOT) -> str:
    """A hash of every file the model is trained from."""
    digest = hashlib.sha256()
    for name in INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix in {".yml", ".yaml", ".py", ".lock"}:
                digest.update(str(file.relative_to(root)).encode())
                digest.update(pins(file) if file.suffix == ".lock" else file.read_bytes())
    return digest.hexdigest()[:12]


def pins(lock: Path) -> bytes:
    """The ``name==version`` lines of a lock file, without its hashes and comments."""
    lines = lock.read_text(encoding="utf-8").splitlines()
    return "\n".join(
        sorted(line.split()[0] for line in lines if "==" in line.split("#")[0])
    ).encode()


def model_file(root: Path = ROOT) -> Path:
    return MODELS_DIR / f"amnesty-{fingerprint(root)}.tar.gz"


def rasa_env() -> dict[str, str]:
    """Environment for Rasa subprocesses: our components importable, no telemetry."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def train_command(out: Path | str, name: str | None = None) -> list[str]:
    """The ``rasa train`` command line for our config, domain and built data."""
    command = [
        str(RASA_PYTHON),
        "-m",
        "nlu",
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        str(BUILD_NLU),
        "data",
        "--out",
        str(out),
    ]
    return [*command, "--fixed-model-name", name] if name else command


def build_training_data() -> Path:
    text = to_yaml(build(ROOT / "nlu_data"))
    BUILD_NLU.parent.mkdir(parents=True, exist_ok=True)
    if not BUILD_NLU.exists() or BUILD_NLU.read_text(encoding="utf-8") != text:
        BUILD_NLU.write_text(text, encoding="utf-8")
    return BUILD_NLU


def ensure_model(echo: Callable[[str], object] = print) -> Path:
    """Return the model for the current inputs, training it first if it does not exist."""
    build_training_data()
    target = model_file()
    if target.exists():
        echo(f"Model {target.name} is up to date (training data and config unchanged).")
        return target
    echo(f"Training {target.name} (a few minutes on 2 cores)...")
    MODELS_DIR.mkdir(exist_ok=True)
    subprocess.run(
        train_command(MODELS_DIR, target.name.removesuffix(".tar.gz")),
        cwd=ROOT,
        env=rasa_env(),
        check=True,
    )
    if not target.exists():
        raise RuntimeError(f"rasa train finished but {target} is missing; see its output above")
    return target
