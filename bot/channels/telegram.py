"""Telegram with python-telegram-bot 22: tiny handlers, one ``build_application``.

Long polling by default (no public URL needed); webhook mode when a webhook URL is set, the
webhook route living in the gateway app. Polling runs inside the gateway process, started
and stopped by its lifespan: one process then holds the inbox (rate limits, buttons offered,
kept messages) for every channel, and Ctrl-C on the launcher stops it with the web chat.

Nothing is lost while the database is down: a webhook update is written to the host's
``received`` folder (knowledge/local/received.py) before Telegram gets its 200, a polled one
when handling it meets a database error, and either is handled again once the database is up.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app_state import Gateway, TelegramState, running_gateway
from bot.channels.body import BadBody, read_object
from bot.channels.inbox import DELIVERED, GREET, Delivery, Inbox, Incoming
from bot.channels.rasa_client import Reply
from knowledge.db import DATABASE_ERRORS
from knowledge.local.files import secret_file
from knowledge.local.received import Received
from settings import Settings
from vietnamese.splitting import split_text

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATES = ["message", "callback_query"]
HELP = (
    "Tôi là trợ lý tự động về đặc xá. Bạn cứ gõ câu hỏi bằng tiếng Việt, có dấu hay không dấu "
    "đều được, ví dụ: “điều kiện đặc xá là gì”, “hồ sơ gồm những gì”. Bấm các nút dưới câu "
    "trả lời để hỏi tiếp. Gõ /start để xem lời chào và các chủ đề chính. Thông tin chỉ để "
    "tham khảo, không phải quyết định."
)
UNSUPPORTED = "Xin lỗi, tôi chỉ đọc được tin nhắn chữ. Bạn vui lòng gõ câu hỏi bằng chữ nhé."
OLD_BUTTON = "Nút này đã cũ nên tôi không còn nhớ. Bạn vui lòng gõ lại câu hỏi nhé."
BUTTONS_ONLY = "Mời bạn chọn:"
PRIVATE = filters.ChatType.PRIVATE


def not_configured(settings: Settings) -> str | None:
    """Why the Telegram channel cannot start, or None when it can."""
    return None if settings.telegram_token else "AMNESTY_TELEGRAM_TOKEN is not set"


def mode(settings: Settings) -> str:
    return "webhook" if settings.telegram_webhook_url else "long polling"


def webhook_secret(settings: Settings) -> str:
    """The webhook's secret token: configured, or made once into the var dir (0600). Never
    empty: the file appears whole, and an empty one is refused (knowledge/local/files.py)."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return secret_file(settings.var_dir / "telegram_webhook_secret")


def quiet_http_logs() -> None:
    """Keep the token and families' words out of the logs, whatever the root level."""
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token; PTB's
    # DEBUG records hold the token (its API URL) and every message text.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)


# --- Handlers -------------------------------------------------------------------------------


def _sender(update: Update) -> str:
    assert update.effective_user is not None
    return f"{CHANNEL}:{update.effective_user.id}"


def _inbox(context: ContextTypes.DEFAULT_TYPE) -> Inbox:
    return context.bot_data["inbox"]


def delivery_key(bot_id: int, update: Update) -> str:
    """Update ids count per bot, so the bot's id makes the key unique to this delivery."""
    return f"{CHANNEL}:{bot_id}:{update.update_id}"


def sender_of(update: Update) -> str:
    user = update.effective_user
    return f"{CHANNEL}:{user.id}" if user is not None else f"{CHANNEL}:unknown"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with the notice and the main topics."""
    await answer(update, context, "/start", payload=GREET)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(HELP)


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer typed text (even text starting with "/": it is never taken as an intent)."""
    assert update.effective_message is not None
    await answer(update, context, update.effective_message.text or "")


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press like the question it stands for."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    offered = None
    if (query.data or "").isdigit():
        offered = await _inbox(context).offered_button(_sender(update), int(query.data or 0))
    if offered is None:
        await context.bot.send_message(query.from_user.id, OLD_BUTTON)
        return
    await answer(update, context, offered["title"], payload=offered["payload"])


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say politely that only text is read (stickers, photos...)."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(UNSUPPORTED)


async def error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep the update when the database is down; log other errors without the update (it
    holds what the family wrote, and the engines hide the values bound to SQL)."""
    if isinstance(context.error, DATABASE_ERRORS) and isinstance(update, Update):
        logger.warning(
            "Database unavailable (%s); the Telegram update is kept for later",
            context.error.__class__.__name__,
        )
        context.bot_data["waiting"].add(update.update_id)
        received: Received = context.bot_data["received"]
        key = delivery_key(context.bot.id, update)
        await asyncio.to_thread(received.put, CHANNEL, key, sender_of(update), update.to_dict())
        return
    logger.error("Handling a Telegram update failed", exc_info=context.error)


async def answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, typed: str, payload: str | None = None
) -> None:
    """Send one message through the inbox and deliver the replies."""
    sender = _sender(update)
    message = Incoming(sender, typed, delivery_key(context.bot.id, update), payload)
    async with typing(context.bot, int(sender.partition(":")[2])):
        handled = await _inbox(context).handle(message)
    if handled.replies:
        max_chars = context.bot_data["max_chars"]
        await deliver(context.bot, _inbox(context), max_chars, sender, handled.replies)


@asynccontextmanager
async def typing(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" until the block ends (Telegram shows it for 5 s per call)."""

    async def keep_typing() -> None:
        with suppress(TelegramError):
            while True:
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
                await asyncio.sleep(4)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


# --- Sending --------------------------------------------------------------------------------


async def keyboard(
    inbox: Inbox, sender: str, buttons: list[dict[str, str]]
) -> InlineKeyboardMarkup:
    """One button per row; callback data is a short id (Telegram allows 64 bytes)."""
    ids = await inbox.offer(sender, buttons)
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["title"], callback_data=str(i))]
            for b, i in zip(buttons, ids, strict=True)
        ]
    )


async def deliver(
    bot: Bot, inbox: Inbox, max_chars: int, sender: str, replies: list[Reply]
) -> Delivery:
    """Send ``replies`` to ``sender``, split under the limit, buttons under the last piece; a
    user who blocked the bot is a refusal, recorded for staff."""
    chat_id = int(sender.partition(":")[2])
    try:
        for reply in replies:
            pieces = split_text(reply.text, max_chars) or ([BUTTONS_ONLY] if reply.buttons else [])
            for n, piece in enumerate(pieces, 1):
                markup = None
                if n == len(pieces) and reply.buttons:
                    markup = await keyboard(inbox, sender, reply.buttons)
                await bot.send_message(chat_id, piece, reply_markup=markup)
    except Forbidden as exc:
        logger.info("A Telegram user blocked the bot; the reply was not delivered")
        text = "\n\n".join(reply.text for reply in replies)
        return await inbox.record_undelivered(sender, text, f"Forbidden: {exc.message}")
    return DELIVERED


# --- Wiring ---------------------------------------------------------------------------------


def build_application(settings: Settings, inbox: Inbox, received: Received) -> Application:
    """The bot: handlers registered, pointed at ``AMNESTY_TELEGRAM_BASE_URL``."""
    quiet_http_logs()
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token or "")
        .base_url(settings.telegram_base_url)
        .concurrent_updates(64)
    )
    if settings.telegram_webhook_url:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data.update(
        inbox=inbox, received=received, max_chars=settings.telegram_max_chars, waiting=set()
    )
    only_new = PRIVATE & filters.UpdateType.MESSAGE
    application.add_handlers(
        [
            CommandHandler("start", start, filters=only_new),
            CommandHandler("help", help_command, filters=only_new),
            MessageHandler(only_new & filters.TEXT, text),
            CallbackQueryHandler(button),
            MessageHandler(only_new & ~filters.TEXT & ~filters.StatusUpdate.ALL, unsupported),
        ]
    )
    application.add_error_handler(error)
    return application


async def process(application: Application, update: Update) -> bool:
    """Handle one update; True when done (its copy on disk goes), False when it waits for
    the database (its copy stays, for :func:`replay`)."""
    waiting: set[int] = application.bot_data["waiting"]
    await application.process_update(update)
    if update.update_id in waiting:
        waiting.discard(update.update_id)
        return False
    received: Received = application.bot_data["received"]
    await asyncio.to_thread(received.done, delivery_key(application.bot.id, update))
    return True


async def replay(application: Application, event: dict[str, Any]) -> bool:
    """Handle again an update kept on disk (the inbox's resender calls this)."""
    update = Update.de_json(event, application.bot)
    return await process(application, update)


@asynccontextmanager
async def running(gateway: Gateway) -> AsyncIterator[None]:
    """Run the bot inside the gateway while the context is open (if configured)."""
    settings, inbox = gateway.settings, gateway.inbox
    if not_configured(settings):
        yield
        return
    application = build_application(settings, inbox, gateway.received)
    try:
        await application.initialize()
    except InvalidToken:
        # PTB's own message quotes the token; this one does not, and the cause is dropped.
        raise RuntimeError(
            "Telegram rejected AMNESTY_TELEGRAM_TOKEN: copy the token again from BotFather"
        ) from None
    secret = None
    if settings.telegram_webhook_url:
        secret = webhook_secret(settings)
        await application.bot.set_webhook(
            settings.telegram_webhook_url, allowed_updates=UPDATES, secret_token=secret
        )
    else:
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=UPDATES)
    await application.start()
    inbox.deliverers[CHANNEL] = partial(
        deliver, application.bot, inbox, settings.telegram_max_chars
    )
    inbox.replayers[CHANNEL] = partial(replay, application)
    gateway.telegram = TelegramState(application, secret)
    tasks: set[asyncio.Task[bool]] = set()
    application.bot_data["tasks"] = tasks
    try:
        yield
    finally:
        inbox.deliverers.pop(CHANNEL, None)
        inbox.replayers.pop(CHANNEL, None)
        gateway.telegram = None
        for task in list(tasks):
            task.cancel()  # its update stays on disk and is handled after the restart
        await asyncio.gather(*tasks, return_exceptions=True)
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def webhook(request: Request) -> Response:
    """Telegram's webhook: only requests carrying our secret token are accepted; the update
    is on disk before the 200, then handled in the background."""
    gateway = running_gateway(request)
    state = gateway.telegram if gateway is not None else None
    if gateway is None or state is None or state.webhook_secret is None:
        return JSONResponse({"error": "the Telegram webhook is not enabled here"}, 404)
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
    if not hmac.compare_digest(given, state.webhook_secret.encode()):
        logger.warning("Rejected a Telegram webhook request without the secret token")
        return JSONResponse({"error": "forbidden"}, 403)
    application = state.application
    try:
        update = Update.de_json(await read_object(request), application.bot)
    except BadBody as exc:
        return exc.response()
    except Exception:  # PTB raises many kinds on a body that is not a Telegram update
        return JSONResponse({"error": "not a Telegram update"}, 400)
    key = delivery_key(application.bot.id, update)
    await asyncio.to_thread(gateway.received.put, CHANNEL, key, sender_of(update), update.to_dict())
    task = asyncio.create_task(process(application, update))
    tasks: set[asyncio.Task[bool]] = application.bot_data["tasks"]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return Response(status_code=200)


def routes() -> list[Route]:
    """The gateway routes of this channel."""
    return [Route("/telegram/webhook", webhook, methods=["POST"])]
