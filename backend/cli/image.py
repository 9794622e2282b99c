"""`python -m backend image PATH`: what an image classifier predicts, how sure it is, and (optionally) why.

PATH is a PNG, JPEG or WebP file, or sample:NAME for a bundled photo (cat, coffee, astronaut, rocket).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from backend.errors import UserInputError
from backend.schemas.common import DEFAULT_IMAGE_MODEL
from backend.schemas.image import (MAX_UPLOAD_BYTES, SAMPLE_NAMES, ImageAnalysis, ImageInput, ImageRequest,
                                   ImageUncertainty, SaliencyAnalysis, SaliencyRequest, UncertaintyRequest)

NAME = "image"
SAMPLE_PREFIX = "sample:"
LARGE_FIELDS = {"logits", "model_input_png"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the command and its options."""
    image = commands.add_parser(NAME, help="classify an image: top classes, entropy, optional saliency")
    image.add_argument("path", help=f"a PNG, JPEG or WebP file, or sample:NAME ({', '.join(SAMPLE_NAMES)})")
    image.add_argument("--model", default=DEFAULT_IMAGE_MODEL, help="registered image model id (see `models`)")
    image.add_argument("--top-k", type=int, default=5)
    image.add_argument("--temperature", type=float, default=1.0)
    image.add_argument("--saliency", metavar="METHOD",
                       help="add a saliency map's shape and summary: grad_cam, layer_cam, integrated_gradients, "
                            "occlusion, gradient, smoothgrad (attention_rollout for ViTs)")
    image.add_argument("--target", default="top",
                       help="what the saliency map explains: top (the top class), entropy, or a class index")
    image.add_argument("--uncertainty", metavar="METHOD", help="add K stochastic passes: mc_dropout or tta")
    image.add_argument("--passes", type=int, default=16, help="K for --uncertainty")
    image.add_argument("--seed", type=int, default=0)
    image.add_argument("--json", action="store_true", help="print one JSON object")


def image_input(path: str) -> ImageInput:
    """The request's image: a bundled sample, or the file's bytes (its type is read from the content later)."""
    if path.startswith(SAMPLE_PREFIX):
        name = path[len(SAMPLE_PREFIX):]
        if name not in SAMPLE_NAMES:
            raise UserInputError(f"unknown sample {name!r}; use one of {', '.join(SAMPLE_NAMES)}")
        return ImageInput(sample=name)
    file = Path(path)
    if not file.is_file():
        raise UserInputError(f"no file at {path}; give a PNG, JPEG or WebP file, or sample:cat")
    if file.stat().st_size > MAX_UPLOAD_BYTES:
        raise UserInputError(f"{path} is {file.stat().st_size / 2**20:.1f} MiB; the limit is "
                             f"{MAX_UPLOAD_BYTES // 2**20} MiB")
    return ImageInput(data=file.read_bytes(), filename=file.name)


def saliency_target(target: str) -> dict:
    """SaliencyRequest fields for --target: top, entropy, or a class index."""
    if target in ("top", "entropy"):
        return {"target": target}
    if target.isdigit():
        return {"target": "class", "class_index": int(target)}
    raise UserInputError(f"--target must be top, entropy or a class index, got {target!r}")


def saliency_summary(result: SaliencyAnalysis) -> dict:
    """The one map's shape and summary, without its values."""
    found = result.maps[0]
    return {"method": found.method, "label": found.label, "target": result.target,
            "target_index": result.target_index, "target_label": result.target_label,
            "target_value": result.target_value, "shape": list(found.shape), "signed": found.signed,
            "summary": found.summary.model_dump(), "convergence_delta": found.convergence_delta,
            "params": found.params, "passes": found.passes, "seconds": found.seconds}


def format_table(result: ImageAnalysis, uncertainty: ImageUncertainty | None,
                 saliency: SaliencyAnalysis | None) -> str:
    """A human-readable report."""
    lines = [f"model: {result.model}   image: {result.image.name} ({result.image.width} x {result.image.height}, "
             f"{result.image.format})   {result.seconds:.2f} s", *[f"note: {n}" for n in result.image.notes], "",
             f"{'prob':>7}  class"]
    lines += [f"{c.prob:>7.3f}  {c.label} ({c.index})" for c in result.top_k]
    lines += ["", f"entropy {result.entropy:.3f} nats (uniform = {result.max_entropy:.3f}), margin "
                  f"{result.margin:.3f}, temperature {result.temperature:g}"]
    if uncertainty is not None:
        lines += ["", f"{uncertainty.label}, {uncertainty.passes} passes: predictive entropy "
                      f"{uncertainty.predictive_entropy:.3f} = expected entropy {uncertainty.expected_entropy:.3f} "
                      f"+ mutual information {uncertainty.mutual_information:.4f} nats; agreement "
                      f"{uncertainty.agreement:.2f}"]
        lines += [f"{c.mean:>7.3f} ± {c.std:.3f}  {c.label}" for c in uncertainty.classes]
    if saliency is not None:
        found = saliency.maps[0]
        lines += ["", f"{found.label} of {saliency.target_label}: {found.shape[0]} x {found.shape[1]}, "
                      f"min {found.summary.minimum:.4g}, max {found.summary.maximum:.4g}, peak at "
                      f"({found.summary.peak_row}, {found.summary.peak_col}), top-10% share "
                      f"{found.summary.top10_share:.2f}"
                      + (f", convergence delta {found.convergence_delta:.4g}" if found.convergence_delta is not None
                         else "")]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the `image` command; returns the exit status."""
    from backend.clients.local import LocalClient

    client = LocalClient()
    image = image_input(args.path)
    saliency_request = (SaliencyRequest(model=args.model, image=image, methods=[args.saliency], seed=args.seed,
                                        **saliency_target(args.target)) if args.saliency else None)
    uncertainty_request = (UncertaintyRequest(model=args.model, image=image, method=args.uncertainty,
                                              passes=args.passes, seed=args.seed) if args.uncertainty else None)
    result = client.analyze_image(ImageRequest(model=args.model, image=image, top_k=args.top_k,
                                               temperature=args.temperature))
    uncertainty = client.image_uncertainty(uncertainty_request) if uncertainty_request else None
    saliency = client.image_saliency(saliency_request) if saliency_request else None
    if not args.json:
        print(format_table(result, uncertainty, saliency))
        return 0
    output = json.loads(result.model_dump_json(exclude=LARGE_FIELDS))
    if uncertainty is not None:
        output["uncertainty"] = json.loads(uncertainty.model_dump_json())
    if saliency is not None:
        output["saliency"] = saliency_summary(saliency)
    print(json.dumps(output))
    return 0
