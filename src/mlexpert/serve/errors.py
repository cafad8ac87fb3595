"""Request errors: one message a client can act on, plus per-field details."""

from __future__ import annotations


class RequestError(Exception):
    """A request the server refuses (4xx), with an optional list of per-row/field problems."""

    def __init__(self, status: int, message: str, details: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []

    def body(self) -> dict:
        out = {"error": self.message}
        if self.details:
            out["details"] = self.details
        return out
