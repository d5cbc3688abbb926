"""The gateway process: one Starlette app with the web chat, the Telegram and Zalo webhooks and
the staff pages, and the lifespan that starts the channels, the spool worker and retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels import telegram, webchat, zalo
from bot.channels.inbox import Inbox
from bot.channels.rasa_client import RasaClient
from bot.shared_state import KEY_PREFIX, SharedState, check_redis
from bot.staff.app import staff_mount
from knowledge.db import session_factory
from knowledge.feedback.privacy import retention_everywhere
from knowledge.feedback.spool import Spool, SpoolWorker, spool_directory
from settings import Settings, secret

logger = logging.getLogger(__name__)
RETENTION_EVERY = 24 * 3600.0  # seconds between two runs of the retention rule


async def keep_retention(settings: Settings, every: float = RETENTION_EVERY) -> None:
    """Apply the retention setting at start and then daily: closed items lose their contact
    details and old conversations are purged (``python -m knowledge retention`` does it once)."""
    while True:
        try:
            now = dt.datetime.now(dt.UTC)
            items, events = await asyncio.to_thread(retention_everywhere, settings, now)
            if items or events:
                logger.info(
                    "Retention: %d items lost their contact, %d events purged", items, events
                )
        except Exception:
            logger.exception("Retention could not be applied; trying again later")
        await asyncio.sleep(every)


@asynccontextmanager
async def channels(app: Starlette, settings: Settings) -> AsyncIterator[None]:
    """Telegram and Zalo (those configured) and the resender of messages kept for them."""
    if telegram.not_configured(settings) and zalo.not_configured(settings):
        yield
        return
    rasa = RasaClient(
        settings.rasa_urls,
        timeout=settings.channel_rasa_timeout,
        secret=secret(settings, "rest_secret"),
    )
    app.state.inbox = Inbox(
        settings, rasa, session_factory(settings.database_url), app.state.shared
    )
    async with (
        telegram.running(app, settings, app.state.inbox),
        zalo.running(app, settings, app.state.inbox),
    ):
        resender = asyncio.create_task(app.state.inbox.run_resender())
        try:
            yield
        finally:
            resender.cancel()
    await rasa.aclose()


def create_app(settings: Settings, shared_prefix: str | None = None) -> Starlette:
    """The web chat app; it talks to Rasa only through the REST channel.

    ``shared_prefix`` names this deployment's keys in Redis (tests give each their own).
    """

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        # Rate limits, buttons offered (only those become intents) and per-sender order.
        app.state.shared = SharedState.from_settings(settings, shared_prefix or KEY_PREFIX)
        await app.state.shared.check()
        app.state.rasa = RasaClient(settings.rasa_urls, secret=secret(settings, "rest_secret"))
        # Feedback spooled while the database was down (also after a restart) is stored here.
        spool = Spool(spool_directory(settings))
        worker = SpoolWorker(
            spool, session_factory(settings.database_url), settings.spool_retry_seconds
        )
        worker.start()
        retention = asyncio.create_task(keep_retention(settings))
        async with channels(app, settings):
            yield
        retention.cancel()
        await asyncio.to_thread(worker.stop)
        await app.state.rasa.aclose()
        await app.state.shared.aclose()

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            *webchat.routes(),
            Route("/health", health),
            *telegram.routes(),
            *zalo.routes(),
            staff_mount(settings),
        ],
        lifespan=lifespan,
    )


def serve(settings: Settings) -> None:
    if settings.redis_url:
        check_redis(settings.redis_url)  # say which Redis is down before anything starts
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.web_port,
        log_level="warning",
        access_log=False,
        ws="none",  # no websockets here
    )
