"""Where families' messages arrive (web chat, Telegram, Zalo, console) and the one way they
reach Rasa: :mod:`bot.channels.inbox` with :mod:`bot.channels.rasa_client`."""
