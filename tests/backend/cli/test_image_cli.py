"""`python -m backend image`: one real subprocess run end to end, the rest in-process on the session's engine."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import backend.clients.local
from backend import cli
from backend.schemas import DEFAULT_IMAGE_MODEL

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[3]
ESPRESSO = 967


@pytest.fixture
def local_engine(monkeypatch, engine):
    """Make the CLI's LocalClient use the session engine instead of loading the model again."""
    real = backend.clients.local.LocalClient
    monkeypatch.setattr(backend.clients.local, "LocalClient", lambda: real(engine))
    return engine


def run_json(capsys, *args: str) -> dict:
    assert cli.main(["image", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_subprocess_prints_one_json_object_with_the_saliency_summary():
    env = {k: v for k, v in os.environ.items() if k not in {"UQLENS_TEXT_MODELS", "UQLENS_MODELS_FILE"}}
    done = subprocess.run([sys.executable, "-m", "backend", "image", "sample:coffee", "--json", "--saliency",
                           "grad_cam"], cwd=PROJECT_ROOT, env={**env, "UQLENS_DEVICE": "cpu"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["model"] == DEFAULT_IMAGE_MODEL
    assert result["top_k"][0] == {"label": "espresso", "index": ESPRESSO, "prob": result["top_k"][0]["prob"]}
    assert set(result["top_k"][0]) == {"label", "index", "prob"}
    assert 0 <= result["entropy"] <= result["max_entropy"]
    assert "logits" not in result and "model_input_png" not in result
    saliency = result["saliency"]
    assert saliency["method"] == "grad_cam" and saliency["shape"] == [224, 224]
    assert saliency["target_index"] == ESPRESSO
    assert {"minimum", "maximum", "mean", "top10_share", "peak_row", "peak_col"} == set(saliency["summary"])


def test_a_file_path_and_the_entropy_target(local_engine, capsys, tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "WEBP")
    path = tmp_path / "red.webp"
    path.write_bytes(buffer.getvalue())
    result = run_json(capsys, str(path), "--saliency", "gradient", "--target", "entropy", "--top-k", "3")
    assert result["image"]["format"] == "WEBP" and result["image"]["name"] == "red.webp"
    assert len(result["top_k"]) == 3
    assert result["saliency"]["target"] == "entropy" and result["saliency"]["target_index"] is None
    assert result["saliency"]["target_value"] == pytest.approx(result["entropy"], abs=1e-6)


def test_uncertainty_option(local_engine, capsys):
    result = run_json(capsys, "sample:cat", "--uncertainty", "tta", "--passes", "3")
    assert result["uncertainty"]["method"] == "tta" and result["uncertainty"]["passes"] == 3
    assert len(result["uncertainty"]["pass_labels"]) == 3


def test_table_output(local_engine, capsys):
    assert cli.main(["image", "sample:coffee"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"model: {DEFAULT_IMAGE_MODEL}") and "espresso (967)" in out and "entropy" in out


@pytest.mark.parametrize("args, message", [
    (["no/such/file.png"], "no file at no/such/file.png"),
    (["sample:dog"], "unknown sample 'dog'"),
    (["sample:cat", "--saliency", "lime"], "unknown saliency method 'lime'"),
    (["sample:cat", "--saliency", "grad_cam", "--target", "tabby"], "--target must be top, entropy or a class"),
    (["sample:cat", "--top-k", "0"], "top_k"),
    (["sample:cat", "--model", "smollm2-135m-instruct"], "pick an image model"),
])
def test_bad_input_exits_2_with_a_message(local_engine, capsys, args, message):
    assert cli.main(["image", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_gif_named_png_exits_2(local_engine, capsys, tmp_path):
    path = tmp_path / "fake.png"
    Image.new("RGB", (8, 8)).save(path, "GIF")
    assert cli.main(["image", str(path)]) == 2
    assert "this file is a GIF image" in capsys.readouterr().err
