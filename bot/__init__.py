"""The gateway process and the tools around it.

- ``gateway``: the app factory and lifespan (one Starlette app for every channel and the staff);
- ``channels/``: web chat, Telegram, Zalo, the console, and the one inbox and Rasa client they
  all use;
- ``staff/``: sign-in and the staff pages (FAQ, queue, feedback inbox, retraining);
- ``ops/``: the launcher, the cluster, training and retraining with its held-out check.

Channels reach Rasa only over HTTP (its REST channel), never by importing it or ``actions``.
"""
