"""What a loaded model keeps between requests: the tensors of its last forward pass, so that a new view of the
same sequence (another layer, head or window of its attention) does not run the model again."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Hashable, Optional

if TYPE_CHECKING:
    import torch

Tensors = tuple["torch.Tensor", ...]


class KeptForward:
    """The tensors of the last forward pass one model ran and the key (its token ids) they belong to, kept while
    they fit in the byte budget the caller names; thread-safe. One per loaded model (the model pool's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: Optional[tuple[Hashable, Tensors]] = None

    @property
    def key(self) -> Optional[Hashable]:
        """The key of the kept tensors, None when nothing is kept."""
        with self._lock:
            return None if self._entry is None else self._entry[0]

    def get(self, key: Hashable, compute: Callable[[], Tensors], max_bytes: int) -> Tensors:
        """The kept tensors when they belong to key, else compute() (kept instead when its tensors take at most
        max_bytes in all, else nothing is kept)."""
        with self._lock:
            entry = self._entry
        if entry is not None and entry[0] == key:
            return entry[1]
        tensors = compute()
        fits = sum(t.numel() * t.element_size() for t in tensors) <= max_bytes
        with self._lock:
            self._entry = (key, tensors) if fits else None
        return tensors

    def clear(self) -> None:
        """Let the kept tensors go (before emptying the GPU's cache after running out of memory)."""
        with self._lock:
            self._entry = None
