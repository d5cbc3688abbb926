"""``python -m actions [-p PORT]``: rasa-sdk's action server, for Rasa only.

Around rasa-sdk's own app (``rasa_sdk.endpoint.create_app``), this launcher:

- listens on ``AMNESTY_HOST`` (loopback by default; rasa-sdk alone takes 0.0.0.0);
- answers 401 to any request but ``GET /health`` without the header
  ``X-Amnesty-Actions-Secret`` (``settings.secret(..., "actions_secret")``), which Rasa sends
  from the ``headers:`` of its endpoints file. Without it, anyone reaching the port could post
  a forged tracker and read a family's feedback or store complaints in its name;
- replaces rasa-sdk's 500 handler, which answers (and Rasa then logs) the whole request body,
  i.e. the tracker with the families' words, by one that logs only the error's type and
  where it was raised, and answers a generic error;
- allows no cross-origin requests (only Rasa calls it).

rasa-sdk imports every module of ``actions/``, this one too: nothing runs at import time.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import traceback

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse

from settings import ACTIONS_SECRET_HEADER, get_settings, secret

logger = logging.getLogger("actions.server")
OPEN_PATHS = frozenset({"/health"})


def where(exception: BaseException) -> str:
    """``file:line in function`` of the innermost frame: no message, no values."""
    frames = traceback.extract_tb(exception.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


class PrivateErrorHandler(ErrorHandler):
    """Errors without the request: a client error keeps its status, anything else is 500."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException) and exception.status_code < 500:
            return response.json({"error": "bad request"}, status=exception.status_code)
        # The message may quote the tracker or a database row (the families' words): only
        # the type and the place.
        logger.error("%s on %s at %s", type(exception).__name__, request.path, where(exception))
        return response.json({"error": "internal error"}, status=500)


def has_secret(request: Request, expected: str) -> bool:
    given = request.headers.get(ACTIONS_SECRET_HEADER, "")
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def build_app(actions_secret: str, package: str = "actions") -> Sanic:
    """rasa-sdk's app serving ``package``, behind the secret, with our error handler."""
    executor = ActionExecutor()
    executor.register_package(package)
    app = create_app(executor, cors_origins="")
    app.error_handler = PrivateErrorHandler()

    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or has_secret(request, actions_secret):
            return None
        return response.json({"error": "unauthorized"}, status=401)

    app.register_middleware(require_secret, "request")
    return app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m actions")
    parser.add_argument("-p", "--port", type=int, default=settings.actions_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = build_app(secret(settings, "actions_secret"))
    logger.info("Action server on http://%s:%d", settings.host, args.port)
    app.run(
        host=settings.host,
        port=args.port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
