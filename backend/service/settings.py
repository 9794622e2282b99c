"""Service limits and secrets, read once from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from backend.budget import DEFAULT_DEADLINE_S, DEFAULT_MAX_TOKEN_PASSES


@dataclass(frozen=True)
class ServiceSettings:
    """Admission, size and work limits of the HTTP service.

    api_token: bearer token every route but /livez and /readyz requires (None = open, for loopback use).
    max_running / max_waiting: requests computing at once / queued behind them; more get 429.
    max_served_running / max_served_waiting: the same for requests on served models (their engine computes and
    batches them; UQ Lens waits on the network), counted apart from the in-process ones.
    retry_after_s: the Retry-After a 429 carries. max_body_bytes: larger bodies get 413 (max_image_body_bytes
    on /v1/image routes and /v1/audit/datasets, whose uploads travel as base64: 30 MB holds the app's 20 MiB
    upload cap).
    max_new_tokens: cap on generated tokens per request (422 beyond), so no request holds the model for minutes.
    max_audit_batch: cap on an audit's batch_size (422 beyond): each /v1/audit/batch request computes one batch.
    request_deadline_s: seconds a request may compute before it is stopped (503 saying so).
    max_token_passes: work one request may claim, in token-passes (422 beyond, before the work starts).
    max_queued_cost: token-passes of admitted work (running + waiting) beyond which new requests get 429.
    """

    api_token: Optional[str] = None
    max_running: int = 1
    max_waiting: int = 4
    max_served_running: int = 32
    max_served_waiting: int = 64
    retry_after_s: int = 2
    max_body_bytes: int = 1_000_000
    max_image_body_bytes: int = 30_000_000
    max_new_tokens: int = 256
    max_audit_batch: int = 16
    request_deadline_s: int = DEFAULT_DEADLINE_S
    max_token_passes: int = DEFAULT_MAX_TOKEN_PASSES
    max_queued_cost: int = 4 * DEFAULT_MAX_TOKEN_PASSES
    preload_model: Optional[str] = "smollm2-135m-instruct"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "ServiceSettings":
        """UQLENS_API_TOKEN, UQLENS_MAX_RUNNING, UQLENS_MAX_WAITING, UQLENS_MAX_SERVED_RUNNING,
        UQLENS_MAX_SERVED_WAITING, UQLENS_RETRY_AFTER_S, UQLENS_MAX_BODY_BYTES,
        UQLENS_MAX_IMAGE_BODY_BYTES, UQLENS_MAX_NEW_TOKENS, UQLENS_MAX_AUDIT_BATCH, UQLENS_REQUEST_DEADLINE_S,
        UQLENS_MAX_TOKEN_PASSES, UQLENS_MAX_QUEUED_COST, UQLENS_PRELOAD_MODEL ("" = none) override the defaults."""
        def number(name: str, default: int) -> int:
            text = str(environ.get(name, default)).strip()
            if not text.isdigit():
                raise ValueError(f"{name} must be a whole number >= 0, got {text[:40]!r}")
            return int(text)

        return cls(api_token=environ.get("UQLENS_API_TOKEN") or None,
                   max_running=max(1, number("UQLENS_MAX_RUNNING", cls.max_running)),
                   max_waiting=number("UQLENS_MAX_WAITING", cls.max_waiting),
                   max_served_running=max(1, number("UQLENS_MAX_SERVED_RUNNING", cls.max_served_running)),
                   max_served_waiting=number("UQLENS_MAX_SERVED_WAITING", cls.max_served_waiting),
                   retry_after_s=max(1, number("UQLENS_RETRY_AFTER_S", cls.retry_after_s)),
                   max_body_bytes=number("UQLENS_MAX_BODY_BYTES", cls.max_body_bytes),
                   max_image_body_bytes=number("UQLENS_MAX_IMAGE_BODY_BYTES", cls.max_image_body_bytes),
                   max_new_tokens=max(1, number("UQLENS_MAX_NEW_TOKENS", cls.max_new_tokens)),
                   max_audit_batch=max(1, number("UQLENS_MAX_AUDIT_BATCH", cls.max_audit_batch)),
                   request_deadline_s=max(1, number("UQLENS_REQUEST_DEADLINE_S", cls.request_deadline_s)),
                   max_token_passes=max(1, number("UQLENS_MAX_TOKEN_PASSES", cls.max_token_passes)),
                   max_queued_cost=max(1, number("UQLENS_MAX_QUEUED_COST", cls.max_queued_cost)),
                   preload_model=environ.get("UQLENS_PRELOAD_MODEL", cls.preload_model) or None)
