"""Channels and the processes around them: launcher, console chat, web chat gateway.

Channels reach Rasa only over HTTP (its REST channel), never by importing it.
"""
