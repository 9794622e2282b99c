"""lm-polygraph's sides of bench/bench_served.py: its UEManager on the in-process model object (a WhiteboxModel, as
bench/bench_vs_lm_polygraph.py drives it: the stat calculators the estimators need only) and on the served model
(its BlackboxModel in greybox mode: the OpenAI client pointed at the engine, token log-probabilities from the API's
top-k, one request at a time)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import workload
from bench_vs_lm_polygraph import import_polygraph

GREYBOX_TOP_LOGPROBS = 5  # lm-polygraph's own default for an OpenAI-compatible model
SAMPLE_TEMPERATURE = 0.7


def run_manager(classes: dict[str, Any], model: Any, model_type: str, estimators: list[Any], prompts: list[str],
                *, new_tokens: int, batch_size: int, samples: int, **register: Any) -> Any:
    """One UEManager run of estimators over prompts on an lm-polygraph model (K = samples sampled answers where
    the estimators need them); returns the manager, its estimations filled."""
    calculators = classes["register"](model_type, **register)
    data = classes["Dataset"](prompts, [""] * len(prompts), batch_size=batch_size)
    manager = classes["UEManager"](data, model, estimators, classes["Environment"](model), calculators, [], [], [],
                                   ignore_exceptions=False, verbose=False, max_new_tokens=new_tokens)
    for calculator in manager.stat_calculators:
        if samples and hasattr(calculator, "samples_n"):
            calculator.samples_n = samples
        if model_type == "Blackbox" and hasattr(calculator, "top_logprobs"):
            calculator.top_logprobs = GREYBOX_TOP_LOGPROBS
    manager()
    return manager


@dataclass
class Polygraph:
    """lm-polygraph on the in-process model `lm` and on the engine at `url` serving it as `served_name`: ready, or
    the reason it cannot run (missing)."""

    lm: Any
    url: str
    served_name: str
    new_tokens: int
    classes: dict[str, Any] = field(default_factory=dict)
    estimators: Any = None
    missing: str = ""

    @property
    def ready(self) -> bool:
        return self.estimators is not None

    def manager(self, names: list[str], prompts: list[str], *, samples: int = 0, batch_size: int = 1
                ) -> Callable[[], Any]:
        """One UEManager run of these estimators over the prompts on the in-process model object (a WhiteboxModel,
        chat template, left padding; sampled at SAMPLE_TEMPERATURE where samples are drawn, else greedy)."""
        params = self.classes["GenerationParameters"](temperature=SAMPLE_TEMPERATURE if samples else 1.0, top_k=0,
                                                      top_p=1.0, max_new_tokens=self.new_tokens)
        tokenizer = workload.tokenizer_copy(self.lm)
        tokenizer.padding_side = "left"  # lm-polygraph pads batches with the tokenizer; a decoder-only model needs it
        model = self.classes["WhiteboxModel"](self.lm.model, tokenizer, model_path=self.lm.spec.id,
                                              generation_parameters=params, instruct=True)
        return lambda: run_manager(self.classes, model, "Whitebox", [getattr(self.estimators, n)() for n in names],
                                   prompts, new_tokens=self.new_tokens, batch_size=batch_size, samples=samples,
                                   output_attentions=False, output_hidden_states=False)

    def served_manager(self, names: list[str], prompts: list[str], *, samples: int = 0, temperature: float = 0.0
                       ) -> Callable[[], Any]:
        """One UEManager run of these estimators over the prompts on the served model: lm-polygraph's BlackboxModel
        with supports_logprobs (greybox) and its OpenAI client on the engine's URL; every answer (and, with
        samples, the K samples, n = K in one request) at `temperature` (0: greedy)."""
        import openai
        from lm_polygraph.utils.model import BlackboxModel

        params = self.classes["GenerationParameters"](temperature=temperature, top_k=0, top_p=1.0,
                                                      max_new_tokens=self.new_tokens)
        model = BlackboxModel(openai_api_key="EMPTY", model_path=self.served_name, supports_logprobs=True,
                              generation_parameters=params)
        model.openai_api = openai.OpenAI(api_key="EMPTY", base_url=self.url)

        return lambda: run_manager(self.classes, model, "Blackbox", [getattr(self.estimators, n)() for n in names],
                                   prompts, new_tokens=self.new_tokens, batch_size=1, samples=samples,
                                   blackbox_supports_logprobs=True)


def load_polygraph(lm: Any, url: str, served_name: str, new_tokens: int, skip: bool) -> Polygraph:
    """lm-polygraph's classes, or why it cannot run (not installed here: `make .venv-bench/.installed`, then run
    with .venv-bench/bin/python)."""
    if skip:
        return Polygraph(lm, url, served_name, new_tokens, missing="left out (--no-polygraph)")
    classes, estimators, missing = import_polygraph()
    return Polygraph(lm, url, served_name, new_tokens, classes, estimators, missing)
