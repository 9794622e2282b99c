"""The memory budget of a saliency request and the chunk sizes it allows.

The gradient methods batch their backward passes over (target, sequence) pairs and the forward-only methods their
ablated copies; both sizes come from one budget in bytes, which scales with the machine (a share of the memory
available now: MemAvailable on CPU, the GPU's free memory on CUDA) and with the request (`memory_budget_mib`,
capped at what is available). A smaller budget gives smaller batches: less memory, more passes, more time.
"""
from __future__ import annotations

from typing import Optional

from backend.memory import available_bytes
from backend.models.text_loader import LoadedTextModel

MIB = 1 << 20
DEFAULT_CAP_BYTES = {"cpu": 1 << 30, "cuda": 8 << 30}
AVAILABLE_SHARE = 0.25
MIN_BUDGET_BYTES = 16 * MIB
MAX_CHUNK = 64
MAX_FORWARD_BATCH = 32
FORWARD_BATCH_TOKENS = 8192


def budget_from(kind: str, requested_mib: Optional[int], available: Optional[int]) -> int:
    """The bytes a saliency run may hold for its batches on a device of `kind` ("cpu", "cuda").

    requested_mib: the request's budget (None: the default, AVAILABLE_SHARE of the available memory, at most
    DEFAULT_CAP_BYTES of the kind, beyond which MAX_CHUNK bounds the batches anyway). Either way at most
    `available` (bytes free, None: unknown) and at least MIN_BUDGET_BYTES.
    """
    if requested_mib is not None:
        wanted = requested_mib * MIB
        return max(MIN_BUDGET_BYTES, wanted if available is None else min(wanted, available))
    cap = DEFAULT_CAP_BYTES[kind]
    return max(MIN_BUDGET_BYTES, cap if available is None else min(cap, int(available * AVAILABLE_SHARE)))


def budget_bytes(device: str, requested_mib: Optional[int] = None) -> int:
    """budget_from for `device` ("cpu", "cuda", "cuda:1") and the memory available on it now."""
    return budget_from("cuda" if device.startswith("cuda") else "cpu", requested_mib, available_bytes(device))


def backward_bytes_per_sequence(config, length: int, element_size: int) -> int:
    """Bytes one sequence of `length` tokens holds for a backward pass: about layers x T x (heads x T + 4 hidden +
    3 intermediate) saved activations of element_size bytes."""
    return element_size * config.num_hidden_layers * length * (
        config.num_attention_heads * length + 4 * config.hidden_size + 3 * getattr(config, "intermediate_size", 0))


def forward_bytes_per_sequence(config, length: int, rows: int, element_size: int) -> int:
    """Bytes one sequence holds in a forward pass without gradients: one layer's activations (heads x T + 4
    hidden + 3 intermediate per token) and the float32 logits of the `rows` positions read."""
    layer = element_size * length * (config.num_attention_heads * length + 4 * config.hidden_size
                                     + 3 * getattr(config, "intermediate_size", 0))
    return layer + 4 * rows * config.vocab_size


def chunk_sizes(lm: LoadedTextModel, length: int, budget: int, rows: int = 1) -> tuple[int, int]:
    """((target, sequence) pairs per batched backward pass, sequences per forward pass without gradients) that
    keep a run over a sequence of `length` tokens, reading `rows` logit rows, within `budget` bytes; each at
    least 1."""
    config = lm.model.config
    element_size = next(lm.model.parameters()).element_size()
    chunk = budget // max(1, backward_bytes_per_sequence(config, length, element_size))
    batch = min(MAX_FORWARD_BATCH, FORWARD_BATCH_TOKENS // length,
                budget // max(1, forward_bytes_per_sequence(config, length, rows, element_size)))
    return max(1, min(MAX_CHUNK, chunk)), max(1, batch)
