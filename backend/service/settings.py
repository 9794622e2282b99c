"""Service limits and secrets, read once from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional


@dataclass(frozen=True)
class ServiceSettings:
    """Admission, size and work limits of the HTTP service.

    api_token: bearer token every route but /livez and /readyz requires (None = open, for loopback use).
    max_running / max_waiting: requests computing at once / queued behind them; more get 429.
    retry_after_s: the Retry-After a 429 carries. max_body_bytes: larger bodies get 413 (max_image_body_bytes
    on /v1/image routes and /v1/audit/datasets, whose uploads travel as base64: 30 MB holds the app's 20 MiB
    upload cap).
    max_new_tokens: cap on generated tokens per request (422 beyond), so no request holds the model for minutes.
    max_audit_batch: cap on an audit's batch_size (422 beyond): each /v1/audit/batch request computes one batch.
    """

    api_token: Optional[str] = None
    max_running: int = 1
    max_waiting: int = 4
    retry_after_s: int = 2
    max_body_bytes: int = 1_000_000
    max_image_body_bytes: int = 30_000_000
    max_new_tokens: int = 256
    max_audit_batch: int = 16
    preload_model: Optional[str] = "smollm2-135m-instruct"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "ServiceSettings":
        """UQLENS_API_TOKEN, UQLENS_MAX_RUNNING, UQLENS_MAX_WAITING, UQLENS_RETRY_AFTER_S, UQLENS_MAX_BODY_BYTES,
        UQLENS_MAX_IMAGE_BODY_BYTES, UQLENS_MAX_NEW_TOKENS, UQLENS_MAX_AUDIT_BATCH, UQLENS_PRELOAD_MODEL ("" = none)
        override the defaults."""
        def number(name: str, default: int) -> int:
            text = str(environ.get(name, default)).strip()
            if not text.isdigit():
                raise ValueError(f"{name} must be a whole number >= 0, got {text[:40]!r}")
            return int(text)

        return cls(api_token=environ.get("UQLENS_API_TOKEN") or None,
                   max_running=max(1, number("UQLENS_MAX_RUNNING", cls.max_running)),
                   max_waiting=number("UQLENS_MAX_WAITING", cls.max_waiting),
                   retry_after_s=max(1, number("UQLENS_RETRY_AFTER_S", cls.retry_after_s)),
                   max_body_bytes=number("UQLENS_MAX_BODY_BYTES", cls.max_body_bytes),
                   max_image_body_bytes=number("UQLENS_MAX_IMAGE_BODY_BYTES", cls.max_image_body_bytes),
                   max_new_tokens=max(1, number("UQLENS_MAX_NEW_TOKENS", cls.max_new_tokens)),
                   max_audit_batch=max(1, number("UQLENS_MAX_AUDIT_BATCH", cls.max_audit_batch)),
                   preload_model=environ.get("UQLENS_PRELOAD_MODEL", cls.preload_model) or None)
