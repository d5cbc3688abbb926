"""The gateway's shared state, typed: one :class:`Gateway` on ``app.state`` (set by the
lifespan in bot/gateway.py) instead of loose, untyped attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from bot.channels.inbox import Inbox
from bot.channels.rasa_client import RasaClient
from bot.shared_state import SharedState
from settings import Settings

if TYPE_CHECKING:  # the channel modules import this one
    from telegram.ext import Application

    from bot.channels.zalo import ZaloChannel
    from knowledge.local.received import Received

STATE_KEY = "gateway"


@dataclass
class TelegramState:
    """The running bot, and the webhook's secret token when it runs as a webhook."""

    application: Application
    webhook_secret: str | None = None


@dataclass
class Gateway:
    """What the gateway's routes share while it runs."""

    settings: Settings
    shared: SharedState
    rasa: RasaClient
    inbox: Inbox
    received: Received
    telegram: TelegramState | None = None
    zalo: ZaloChannel | None = None


def running_gateway(request: Request) -> Gateway | None:
    """The gateway's state, or None before its lifespan has started (some tests)."""
    found = getattr(request.app.state, STATE_KEY, None)
    return found if isinstance(found, Gateway) else None


def gateway_of(request: Request) -> Gateway:
    """The gateway's state; RuntimeError when the lifespan has not started it."""
    found = running_gateway(request)
    if found is None:
        raise RuntimeError("the gateway's lifespan has not started (use it as an ASGI app)")
    return found
