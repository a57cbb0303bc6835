"""Process-wide settings of the running server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    # Base of the links handed out in checkout session urls; set once the port is known.
    public_url: str = "http://127.0.0.1:8420"


settings = Settings()
