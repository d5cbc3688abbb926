"""The gateway process: one Starlette app with the web chat, the Telegram and Zalo webhooks and
the staff pages, and the lifespan that starts the channels, the spool worker and retention.

Its shared state is one typed object, :class:`bot.app_state.Gateway`. ``/health`` says the
process is alive (it stays so while Rasa is down: it keeps messages then); ``/ready`` checks
each part it needs (Rasa, the action server, the database, Redis when used) and answers 503,
naming the parts that are down, until all answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app_state import STATE_KEY, Gateway, gateway_of
from bot.channels import telegram, webchat, zalo
from bot.channels.inbox import Inbox
from bot.channels.rasa_client import RasaClient
from bot.shared_state import KEY_PREFIX, SharedState, check_redis
from bot.staff.app import staff_mount
from bot.web_security import gateway_middleware
from knowledge.clock import vietnam_today
from knowledge.db import create_schema, engine_for, session_factory
from knowledge.feedback.privacy import retention_everywhere
from knowledge.feedback.spool import Spool, SpoolWorker, spool_directory
from knowledge.kb.rechecks import flag_database
from knowledge.local.files import private_dir
from knowledge.local.received import Received, received_directory
from settings import Settings, secret

logger = logging.getLogger(__name__)
RETENTION_EVERY = 24 * 3600.0  # seconds between two runs of the retention rule
READY_TIMEOUT = 3.0  # seconds each part of the readiness check may take


async def keep_retention(settings: Settings, every: float = RETENTION_EVERY) -> None:
    """Apply the retention setting at start and then daily (``python -m knowledge retention``
    does it once); it never migrates the schema (that happens at process start)."""
    while True:
        try:
            now = dt.datetime.now(dt.UTC)
            done = await asyncio.to_thread(retention_everywhere, settings, now, "gateway")
            if done.total:
                logger.info("Retention applied: %s", done)
        except Exception:
            logger.exception("Retention could not be applied; trying again later")
        await asyncio.sleep(every)


async def keep_rechecks(settings: Settings, every: float = RETENTION_EVERY) -> None:
    """At start and then daily, send the entries resting on a legal text that took effect or
    ended to the staff's "to re-check" list (``python -m knowledge load`` does it once)."""
    while True:
        try:
            today = settings.today or vietnam_today()
            added = await asyncio.to_thread(flag_database, settings.database_url, today)
            if added:
                logger.info("Law changes: %d re-checks added", added)
        except Exception:
            logger.exception("Law changes could not be checked; trying again later")
        await asyncio.sleep(every)


def build_gateway(settings: Settings, shared_prefix: str) -> Gateway:
    """The gateway's shared state: one Rasa client and one inbox for every channel."""
    shared = SharedState.from_settings(settings, shared_prefix)
    rasa = RasaClient(
        settings.rasa_urls,
        timeout=settings.channel_rasa_timeout,
        secret=secret(settings, "rest_secret"),
    )
    received = Received(received_directory(settings))
    sessions = session_factory(settings.database_url)
    inbox = Inbox(settings, rasa, sessions, shared, received)
    inbox.deliverers[webchat.CHANNEL] = webchat.deliverer(inbox)
    return Gateway(settings, shared, rasa, inbox, received)


@asynccontextmanager
async def channels(gateway: Gateway) -> AsyncIterator[None]:
    """Telegram and Zalo (those configured) and the resender of kept messages and events."""
    async with telegram.running(gateway), zalo.running(gateway):
        resender = asyncio.create_task(gateway.inbox.run_resender())
        try:
            yield
        finally:
            resender.cancel()


def create_app(settings: Settings, shared_prefix: str | None = None) -> Starlette:
    """The gateway app; it talks to Rasa only through the REST channel.

    ``shared_prefix`` names this deployment's keys in Redis (tests give each their own).
    The database schema is migrated here, when the process starts, and never while serving.
    """
    create_schema(engine_for(settings.database_url))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        private_dir(settings.var_dir)
        gateway = build_gateway(settings, shared_prefix or KEY_PREFIX)
        await gateway.shared.check()
        setattr(app.state, STATE_KEY, gateway)
        # Feedback spooled while the database was down (also after a restart) is stored here.
        spool = Spool(spool_directory(settings))
        worker = SpoolWorker(
            spool, session_factory(settings.database_url), settings.spool_retry_seconds
        )
        worker.start()
        retention = asyncio.create_task(keep_retention(settings))
        rechecks = asyncio.create_task(keep_rechecks(settings))
        try:
            async with channels(gateway):
                yield
        finally:
            retention.cancel()
            rechecks.cancel()
            await asyncio.to_thread(worker.stop)
            await gateway.rasa.aclose()
            await gateway.shared.aclose()

    return Starlette(
        routes=[
            *webchat.routes(),
            Route("/health", health),
            Route("/ready", ready),
            *telegram.routes(),
            *zalo.routes(),
            staff_mount(settings),
        ],
        middleware=gateway_middleware(settings),
        lifespan=lifespan,
    )


async def health(request: Request) -> Response:
    """Liveness: the process answers (even while Rasa or the database is down)."""
    return JSONResponse({"ok": True})


async def ready(request: Request) -> Response:
    """Readiness: each part the gateway needs, checked now."""
    gateway = gateway_of(request)
    checks = {
        "rasa": _answers([f"{url}/" for url in gateway.settings.rasa_urls]),
        "action_server": _answers([actions_health_url(gateway.settings)]),
        "database": asyncio.to_thread(_database_answers, gateway.settings.database_url),
    }
    if gateway.shared.redis is not None:
        checks["redis"] = _redis_answers(gateway)
    results = await asyncio.gather(*checks.values())
    parts = {name: "ok" if good else "down" for name, good in zip(checks, results, strict=True)}
    ok = all(results)
    return JSONResponse({"ready": ok, "parts": parts}, 200 if ok else 503)


def actions_health_url(settings: Settings) -> str:
    """The action server's health URL (behind the load balancer when one is set)."""
    base = settings.actions_url or f"http://{settings.host}:{settings.actions_port}/webhook"
    return base.removesuffix("/webhook") + "/health"


async def _answers(urls: list[str]) -> bool:
    """Whether any of ``urls`` answers 200 in time."""
    async with httpx.AsyncClient(timeout=READY_TIMEOUT) as client:
        for url in urls:
            try:
                if (await client.get(url)).status_code == 200:
                    return True
            except httpx.HTTPError:
                continue
    return False


def _database_answers(url: str) -> bool:
    try:
        with engine_for(url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def _redis_answers(gateway: Gateway) -> bool:
    try:
        await asyncio.wait_for(gateway.shared.check(), READY_TIMEOUT)
    except (TimeoutError, SystemExit):
        return False
    return True


def serve(settings: Settings) -> None:
    if settings.redis_url:
        check_redis(settings.redis_url)  # say which Redis is down before anything starts
    # INFO lines (no message text, by design) go to the log: deletions, kept messages...
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in ("httpx", "httpcore"):  # request URLs (a Telegram URL holds the bot token)
        logging.getLogger(name).setLevel(logging.WARNING)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.web_port,
        log_level="warning",
        access_log=False,  # an access log would keep query strings and addresses
        proxy_headers=False,  # done in the app (bot/web_security.py), with our trusted proxies
        ws="none",  # no websockets here; rasa-sdk pins an old websockets uvicorn cannot use
    )
