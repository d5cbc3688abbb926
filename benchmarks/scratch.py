"""A whole stack on free ports with its own scratch databases, for a benchmark run."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.ops.stack import Stack, free_port
from bot.ops.training import ensure_model
from knowledge.__main__ import load
from settings import Settings, from_env


@dataclass(frozen=True)
class Scratch:
    settings: Settings
    stack: Stack
    cold_start: float  # seconds until every process answered


@contextmanager
def scratch_stack(web: bool = False) -> Iterator[Scratch]:
    """Start the trained model's stack (knowledge base loaded) and stop it afterwards.

    The environment is used as it is (e.g. AMNESTY_DATABASE_URL for PostgreSQL), except for
    the ports and the var folder.
    """
    model = ensure_model()
    with tempfile.TemporaryDirectory() as var:
        ports = {
            "AMNESTY_VAR_DIR": var,
            "AMNESTY_RASA_PORT": str(free_port()),
            "AMNESTY_ACTIONS_PORT": str(free_port()),
            "AMNESTY_WEB_PORT": str(free_port()),
        }
        settings = from_env(dict(os.environ) | ports)
        if load(settings.database_url) != 0:
            raise SystemExit("The knowledge base could not be loaded (see above).")
        stack = Stack(settings, model)
        started = time.perf_counter()
        stack.start(web=web)
        try:
            yield Scratch(settings, stack, time.perf_counter() - started)
        finally:
            stack.stop()
