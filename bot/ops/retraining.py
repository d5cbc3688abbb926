"""Retraining from the staff app: train, check on the held-out set, then swap or keep.

1. The training data is ``nlu_data/`` with the staff's examples from the queue page in place of
   ``nlu_data/from_staff.yml`` (an example that is also a held-out question is left out, or the
   check would flatter the model).
2. ``rasa train`` runs at low priority into ``var/training/run-N``.
3. A scratch Rasa server loads the new model; every held-out question goes through its
   ``/model/parse`` (:mod:`bot.ops.heldout`).
4. Only if no split is under its floor is the model kept in ``var/models/`` and loaded into
   every Rasa server of ``settings.rasa_replicas``, one at a time, with Rasa's ``PUT /model``.
   Otherwise the served model stays, and the run says which splits fell short.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.ops.heldout import FLOORS, evaluate
from bot.ops.heldout import load as load_heldout
from bot.ops.stack import free_port
from bot.ops.training import RASA_PYTHON, fingerprint, rasa_env, train_command
from knowledge.db import create_schema, engine_for, session_factory
from knowledge.kb.queue import QueueError
from knowledge.kb.training_export import training_yaml
from knowledge.training_runs import TrainingBusy, deployed_model, finish_run, start_run
from settings import ROOT, Settings
from vietnamese.text import fold, normalize
from vietnamese.training_data import TrainingDataError, build, to_yaml

logger = logging.getLogger(__name__)
STAFF_FILE = "from_staff.yml"
TRAIN_TIMEOUT = 3 * 3600.0
SERVER_START_TIMEOUT = 300.0
LOAD_TIMEOUT = 300.0


class RetrainError(RuntimeError):
    """A step could not be done; the message says which and what to look at."""


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``deployed``, ``rejected`` or ``failed``."""

    status: str
    message: str
    accuracy: dict[str, float] = field(default_factory=dict)
    floors: dict[str, float] = field(default_factory=dict)
    model: Path | None = None
    staff_examples: int = 0


def below_floor(accuracy: dict[str, float], floors: dict[str, float]) -> list[str]:
    """The splits under their floor (a split that was not measured counts as under)."""
    return [split for split, floor in floors.items() if accuracy.get(split, 0.0) < floor]


def heldout_texts() -> set[str]:
    return {fold(normalize(item.text)) for item in load_heldout()}


def prepare_data(session: Session, work: Path) -> tuple[Path, int]:
    """Write the training data of this run into ``work``; returns (nlu file, staff examples).

    RetrainError if the staff's examples clash with the written ones.
    """
    held_out = heldout_texts()
    try:
        staff = training_yaml(session, skip=lambda text: fold(normalize(text)) in held_out)
    except QueueError as exc:
        raise RetrainError(str(exc)) from None
    source = work / "nlu_data"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    for path in (ROOT / "nlu_data").glob("*.yml"):
        if path.name != STAFF_FILE:
            shutil.copy(path, source / path.name)
    (source / STAFF_FILE).write_text(staff, encoding="utf-8")
    try:
        examples = build(source)
    except TrainingDataError as exc:
        raise RetrainError(f"Dữ liệu huấn luyện không dựng được: {exc}") from None
    nlu = work / "nlu.yml"
    nlu.write_text(to_yaml(examples), encoding="utf-8")
    count = sum(1 for line in staff.splitlines() if line.startswith("      - "))
    return nlu, count


def _lower_priority() -> None:
    os.nice(10)  # families' messages come first on a 2-core machine


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


async def train(nlu: Path, work: Path) -> Path:
    """Run ``rasa train`` on ``nlu`` and the stories; returns the model file."""
    command = [*train_command(work, "candidate")]
    command[command.index("--data") + 1] = str(nlu)
    log = work / "train.log"
    with open(log, "wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=rasa_env(),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_lower_priority,
        )
        try:
            code = await asyncio.wait_for(process.wait(), TRAIN_TIMEOUT)
        finally:
            await _stop(process)
    model = work / "candidate.tar.gz"
    if code != 0 or not model.exists():
        raise RetrainError(f"rasa train dừng với mã {code}; xem {log}:\n{_tail(log)}")
    return model


def check_server_command(port: int, model: Path) -> list[str]:
    """The check server's command line (our launcher; no secret in it: ps shows it)."""
    return [
        str(RASA_PYTHON),
        "-m",
        "nlu",
        "run",
        "--enable-api",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-m",
        str(model),
        "--credentials",
        str(ROOT / "credentials.yml"),
    ]


def check_server_env(token: str) -> dict[str, str]:
    """Its environment: secrets of its own (its REST channel stays closed: nobody has its
    secret), telemetry off."""
    return rasa_env() | {
        "PYTHONPATH": str(ROOT),
        "AMNESTY_RASA_TOKEN": token,
        "AMNESTY_REST_SECRET": secrets.token_urlsafe(24),
        "AMNESTY_ACTIONS_SECRET": secrets.token_urlsafe(24),
    }


@asynccontextmanager
async def scratch_server(model: Path, work: Path) -> AsyncIterator[tuple[str, str]]:
    """A Rasa server of its own serving ``model`` (parse only); yields (url, token)."""
    port, token = free_port(), secrets.token_urlsafe(24)
    log = work / "check-server.log"
    command, env = check_server_command(port, model), check_server_env(token)
    with open(log, "wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=work,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_lower_priority,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        async with httpx.AsyncClient(timeout=3) as client:
            while True:
                if process.returncode is not None:
                    raise RetrainError(f"Máy chủ kiểm tra dừng; xem {log}:\n{_tail(log)}")
                try:
                    status = await client.get(f"{url}/status", params={"token": token})
                    if status.status_code == 200 and status.json().get("model_file"):
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RetrainError(f"Máy chủ kiểm tra không sẵn sàng; xem {log}")
                await asyncio.sleep(1)
        yield url, token
    finally:
        await _stop(process)


async def check(model: Path, work: Path) -> dict[str, float]:
    """Held-out accuracy per split of ``model``."""
    async with scratch_server(model, work) as (url, token):
        report = await evaluate(url, token, load_heldout(), concurrency=2)
    return report.accuracy()


def rasa_token(settings: Settings) -> str:
    """The token of the running Rasa servers: configured, or the one ``bot run`` wrote."""
    if settings.rasa_token:
        return settings.rasa_token
    path = settings.var_dir / "rasa_token"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise RetrainError(
            f"Không biết mã truy cập của Rasa: đặt AMNESTY_RASA_TOKEN hoặc chạy trợ lý bằng "
            f"'python -m bot run' (nó ghi {path})."
        ) from None


async def served_models(settings: Settings) -> dict[str, str]:
    """The model file each Rasa server serves now (or why it could not be asked)."""
    try:
        token = rasa_token(settings)
    except RetrainError as exc:
        return dict.fromkeys(settings.rasa_replicas, str(exc))
    served = {}
    async with httpx.AsyncClient(timeout=3) as client:
        for url in settings.rasa_replicas:
            try:
                response = await client.get(f"{url}/status", params={"token": token})
                response.raise_for_status()
                served[url] = Path(response.json().get("model_file") or "?").name
            except (httpx.HTTPError, ValueError) as exc:
                served[url] = f"không kết nối được ({exc.__class__.__name__})"
    return served


async def load_model(settings: Settings, model: Path) -> list[str]:
    """Load ``model`` into every Rasa server, one at a time; returns the servers done.

    RetrainError names the server that refused, and those already switched.
    """
    token = rasa_token(settings)
    done: list[str] = []
    async with httpx.AsyncClient(timeout=LOAD_TIMEOUT) as client:
        for url in settings.rasa_replicas:
            try:
                response = await client.put(
                    f"{url}/model", params={"token": token}, json={"model_file": str(model)}
                )
                response.raise_for_status()
                status = await client.get(f"{url}/status", params={"token": token})
                served = Path(status.json().get("model_file") or "").name
            except (httpx.HTTPError, ValueError) as exc:
                switched = ", ".join(done) or "chưa máy nào"
                raise RetrainError(
                    f"Không nạp được mô hình vào {url} ({exc}); đã chuyển: {switched}."
                ) from None
            if served != model.name:
                raise RetrainError(f"{url} vẫn phục vụ {served} sau khi nạp {model.name}.")
            done.append(url)
    return done


def _percent(accuracy: dict[str, float]) -> str:
    return ", ".join(f"{split} {value:.1%}" for split, value in accuracy.items())


async def decide(
    settings: Settings,
    run_id: int,
    candidate: Path,
    accuracy: dict[str, float],
    floors: dict[str, float],
    staff_examples: int = 0,
) -> Outcome:
    """Swap ``candidate`` in if every split reaches its floor; otherwise keep the served model."""
    outcome = partial(Outcome, accuracy=accuracy, floors=floors, staff_examples=staff_examples)
    short = below_floor(accuracy, floors)
    if short:
        names = ", ".join(f"{s} {accuracy.get(s, 0):.1%} < {floors[s]:.0%}" for s in short)
        return outcome("rejected", f"Không đạt ngưỡng ở: {names}. Trợ lý vẫn dùng mô hình cũ.")
    kept = settings.var_dir / "models"
    kept.mkdir(parents=True, exist_ok=True)
    target = kept / f"amnesty-{fingerprint()}-run{run_id}.tar.gz"
    shutil.copy2(candidate, target)
    try:
        servers = await load_model(settings, target)
    except RetrainError as exc:
        return outcome("failed", f"Mô hình mới đạt ngưỡng nhưng: {exc}", model=target)
    message = f"Đạt mọi ngưỡng; đã nạp vào {len(servers)} máy chủ Rasa ({', '.join(servers)})."
    return outcome("deployed", message, model=target)


async def retrain(
    settings: Settings,
    sessions: sessionmaker[Session],
    run_id: int,
    floors: dict[str, float] | None = None,
    echo: Callable[[str], None] = logger.info,
) -> Outcome:
    """Do one run (recorded as ``run_id``) from data to decision, and store its outcome."""
    floors = dict(FLOORS if floors is None else floors)
    work = settings.var_dir / "training" / f"run-{run_id}"
    work.mkdir(parents=True, exist_ok=True)
    staff_examples = 0
    try:
        with sessions() as session:
            nlu, staff_examples = await asyncio.to_thread(prepare_data, session, work)
        echo(f"Run {run_id}: training with {staff_examples} staff examples ({work})")
        started = time.perf_counter()
        candidate = await train(nlu, work)
        echo(f"Run {run_id}: trained in {time.perf_counter() - started:.0f} s; checking")
        accuracy = await check(candidate, work)
        echo(f"Run {run_id}: held-out accuracy {_percent(accuracy)}")
        outcome = await decide(settings, run_id, candidate, accuracy, floors, staff_examples)
    except RetrainError as exc:
        outcome = Outcome("failed", str(exc), floors=floors, staff_examples=staff_examples)
    except asyncio.CancelledError:
        outcome = Outcome("failed", "Bị dừng giữa chừng; trợ lý vẫn dùng mô hình cũ.")
        await asyncio.to_thread(_store, sessions, run_id, outcome)
        raise
    except Exception as exc:  # the run must end recorded, whatever broke
        logger.exception("Retraining run %s failed", run_id)
        outcome = Outcome("failed", f"Lỗi không lường trước: {exc}", floors=floors)
    await asyncio.to_thread(_store, sessions, run_id, outcome)
    echo(f"Run {run_id}: {outcome.status}. {outcome.message}")
    return outcome


def _store(sessions: sessionmaker[Session], run_id: int, outcome: Outcome) -> None:
    with sessions.begin() as session:
        finish_run(
            session,
            run_id,
            outcome.status,
            message=outcome.message,
            accuracy=outcome.accuracy or None,
            floors=outcome.floors or None,
            model_path=str(outcome.model) if outcome.model else None,
            staff_examples=outcome.staff_examples,
        )


def current_model(settings: Settings, trained: Path) -> Path:
    """The model to serve at start: the last one retraining deployed from these training
    inputs, if its file is still there, else ``trained`` (the repository's)."""
    with session_factory(settings.database_url)() as session:
        path = deployed_model(session, fingerprint())
    if path and Path(path).is_file():
        return Path(path)
    return trained


def retrain_command(settings: Settings) -> int:
    """``python -m bot retrain``: one run in the foreground against the running servers."""
    create_schema(engine_for(settings.database_url))
    sessions = session_factory(settings.database_url)
    try:
        with sessions() as session:
            run_id = start_run(session, f"command:{getpass.getuser()}", fingerprint()).id
    except TrainingBusy as exc:
        print(exc, file=sys.stderr)
        return 1
    outcome = asyncio.run(retrain(settings, sessions, run_id, echo=print))
    for split, value in outcome.accuracy.items():
        floor = outcome.floors.get(split, 0.0)
        mark = "" if value >= floor else "   <- under the floor"
        print(f"  {split:20s} {value:6.1%}  (floor {floor:.0%}){mark}")
    return 0 if outcome.status == "deployed" else 1
