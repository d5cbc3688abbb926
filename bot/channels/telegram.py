"""Telegram with python-telegram-bot 22: tiny handlers, one ``build_application``.

Long polling by default (no public URL needed); webhook mode when a webhook URL is set, the
webhook route living in the gateway app. Polling runs inside the gateway process, started
and stopped by its lifespan: one process then holds the inbox (rate limits, buttons offered,
kept messages) for every channel, and Ctrl-C on the launcher stops it with the web chat.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import partial

from starlette.applications import Starlette
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

from bot.channels.inbox import GREET, Inbox, Incoming
from bot.channels.rasa_client import Reply
from bot.channels.splitting import split_text
from settings import Settings

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
    """The webhook's secret token: configured, or generated once into the var dir."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    path = settings.var_dir / "telegram_webhook_secret"
    if not path.exists():
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


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
    """Log the error without the update (it holds what the family wrote)."""
    logger.error("Handling a Telegram update failed", exc_info=context.error)


async def answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, typed: str, payload: str | None = None
) -> None:
    """Send one message through the inbox and deliver the replies."""
    sender = _sender(update)
    # Update ids count per bot, so the bot's id makes the key unique to this delivery.
    key = f"{CHANNEL}:{context.bot.id}:{update.update_id}"
    message = Incoming(sender, typed, key, payload)
    async with typing(context.bot, int(sender.partition(":")[2])):
        replies = await _inbox(context).handle(message)
    if replies:
        await deliver(context.bot, _inbox(context), context.bot_data["max_chars"], sender, replies)


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
) -> None:
    """Send ``replies`` to ``sender``, split under the limit, buttons under the last piece."""
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
        await inbox.record_undelivered(sender, text, f"Forbidden: {exc.message}")


# --- Wiring ---------------------------------------------------------------------------------


def build_application(settings: Settings, inbox: Inbox) -> Application:
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
    application.bot_data.update(inbox=inbox, max_chars=settings.telegram_max_chars)
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


@asynccontextmanager
async def running(app: Starlette, settings: Settings, inbox: Inbox) -> AsyncIterator[None]:
    """Run the bot inside the gateway ``app`` while the context is open (if configured)."""
    app.state.telegram = None
    if not_configured(settings):
        yield
        return
    application = build_application(settings, inbox)
    try:
        await application.initialize()
    except InvalidToken:
        # PTB's own message quotes the token; this one does not, and the cause is dropped.
        raise RuntimeError(
            "Telegram rejected AMNESTY_TELEGRAM_TOKEN: copy the token again from BotFather"
        ) from None
    if settings.telegram_webhook_url:
        app.state.telegram_secret = webhook_secret(settings)
        await application.bot.set_webhook(
            settings.telegram_webhook_url,
            allowed_updates=UPDATES,
            secret_token=app.state.telegram_secret,
        )
    else:
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=UPDATES)
    await application.start()
    inbox.deliverers[CHANNEL] = partial(
        deliver, application.bot, inbox, settings.telegram_max_chars
    )
    app.state.telegram = application
    try:
        yield
    finally:
        inbox.deliverers.pop(CHANNEL, None)
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def webhook(request: Request) -> Response:
    """Telegram's webhook: only requests carrying our secret token are accepted."""
    application: Application | None = getattr(request.app.state, "telegram", None)
    if application is None or application.updater is not None:
        return JSONResponse({"error": "the Telegram webhook is not enabled here"}, 404)
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, request.app.state.telegram_secret.encode()):
        logger.warning("Rejected a Telegram webhook request without the secret token")
        return JSONResponse({"error": "forbidden"}, 403)
    try:
        update = Update.de_json(await request.json(), application.bot)
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "not a Telegram update"}, 400)
    await application.update_queue.put(update)
    return Response(status_code=200)


def routes() -> list[Route]:
    """The gateway routes of this channel."""
    return [Route("/telegram/webhook", webhook, methods=["POST"])]
