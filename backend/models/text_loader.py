"""Loading causal language models: Hugging Face folders, hub ids, and GGUF files (converted once, then cached).

trust_remote_code is never set; weights load from safetensors. Attention is eager so attention maps can be read.
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from backend.models.device import model_dtype
from backend.models.kept import KeptForward
from backend.models.registry import ModelSpec, resolve_location

log = logging.getLogger(__name__)
CONVERTED_MARKER = "uqlens-converted.txt"


@dataclass
class LoadedTextModel:
    """A causal LM ready for analysis: model in eval mode on `device`, tokenizer beside it, and the attention
    forward it keeps for the last sequence it ran (backend.text.attention)."""

    spec: ModelSpec
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: str
    kept_attention: KeptForward = field(default_factory=KeptForward, repr=False, compare=False)

    @property
    def max_length(self) -> int:
        """The longest sequence (tokens) the model was built for."""
        return int(getattr(self.model.config, "max_position_embeddings", 0) or 2048)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))


def converted_dir(cache_dir: Path, spec: ModelSpec) -> Path:
    """Where the safetensors copy of a GGUF model lives."""
    return cache_dir / "models" / spec.id


def convert_gguf(gguf_path: Path, target: Path) -> Path:
    """Dequantise a GGUF file with transformers and save model + tokenizer as safetensors in `target`.

    Written to a temporary sibling folder first and renamed, so a killed conversion never leaves a half copy.
    Takes about 30 s for a 135M model on two CPU cores; loading the result takes about 3 s.
    """
    if not gguf_path.is_file():
        raise FileNotFoundError(f"GGUF file not found: {gguf_path}")
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    log.info("converting %s to safetensors in %s (once)", gguf_path.name, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / CONVERTED_MARKER).write_text(f"converted from {gguf_path}\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def prepare_text_model(spec: ModelSpec, cache_dir: Path) -> str:
    """The location to load from: the converted cache for GGUF models (converting if needed), else as given."""
    location = resolve_location(spec.location)
    if spec.loader != "gguf":
        return location
    target = converted_dir(cache_dir, spec)
    if not (target / CONVERTED_MARKER).is_file():
        convert_gguf(Path(location), target)
    return str(target)


def load_text_model(spec: ModelSpec, cache_dir: Path, device: str) -> LoadedTextModel:
    """Load a registered causal LM onto `device` ("cpu" or "cuda[:n]") in eval mode."""
    location = prepare_text_model(spec, cache_dir)
    local = Path(location).is_dir()
    if not local and ("/" not in location or location.startswith((".", "/", "~"))):
        raise FileNotFoundError(f"model {spec.id!r}: {location} is neither a local folder nor a hub id")
    tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=local, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(
        location, local_files_only=local, trust_remote_code=False, use_safetensors=True,
        dtype=model_dtype(device), attn_implementation="eager",
    )
    model.to(device).eval()
    return LoadedTextModel(spec=spec, model=model, tokenizer=tokenizer, device=device)
