"""Asterisk REST Interface: a thin typed client (REST over httpx, events over websockets)."""
