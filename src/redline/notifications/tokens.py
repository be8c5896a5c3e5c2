"""Signed, expiring tokens for confirmation, unsubscribe and password reset links (HMAC via itsdangerous)."""
from __future__ import annotations

import time

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

CONFIRM = "redline.subscribe.confirm"
UNSUBSCRIBE = "redline.subscribe.unsubscribe"
RESET = "redline.account.password-reset"
DAY = 86_400


class InvalidToken(Exception):
    """A token that was forged, altered, made for another purpose, or has expired."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


class _Signer(TimestampSigner):
    """A timestamp signer whose clock can be set, so an issue time can be chosen."""

    def __init__(self, *args, issued_at: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        return int(self.issued_at if self.issued_at is not None else time.time())


def _serializer(secret: str, purpose: str, issued_at: float | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=purpose, signer=_Signer,
                                  signer_kwargs={"issued_at": issued_at})


def make(secret: str, purpose: str, payload: dict, issued_at: float | None = None) -> str:
    """Sign a small payload for one purpose."""
    if not secret:
        raise ValueError("a secret key is required to sign links")
    return _serializer(secret, purpose, issued_at).dumps(payload)


def read(secret: str, purpose: str, token: str, max_age_days: float) -> dict:
    """The payload of a valid token; InvalidToken when forged, altered or expired."""
    try:
        return _serializer(secret, purpose).loads(token, max_age=max_age_days * DAY)
    except SignatureExpired as exc:
        raise InvalidToken("this link has expired", expired=True) from exc
    except BadSignature as exc:
        raise InvalidToken("this link is not valid") from exc
