"""The shared plotly config: a hover toolbar that downloads PNG or SVG, used by every figure of the app."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components.figure_config import PNG_SCALE, REMOVED_BUTTONS, plotly_config

ROOT = Path(__file__).resolve().parents[2]


def test_png_download_at_twice_the_size_with_a_named_file():
    config = plotly_config("token-heatmap")
    assert config["displayModeBar"] == "hover" and config["displaylogo"] is False
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "uqlens-token-heatmap",
                                              "scale": PNG_SCALE}
    assert "toImage" not in config["modeBarButtonsToRemove"]
    assert set(config["modeBarButtonsToRemove"]) == set(REMOVED_BUTTONS)


def test_svg_download():
    assert plotly_config("x", "svg")["toImageButtonOptions"]["format"] == "svg"


def test_unknown_format_names_the_choices():
    with pytest.raises(ValueError, match="choose one of png, svg"):
        plotly_config("x", "gif")


def plotly_chart_calls(path: Path) -> list[ast.Call]:
    """Every st.plotly_chart(...) call in a source file."""
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "plotly_chart"]


def test_every_plotly_chart_of_the_app_uses_the_shared_config():
    calls = {path: plotly_chart_calls(path) for path in [*ROOT.glob("components/*.py"), *ROOT.glob("app/*.py")]}
    assert sum(len(found) for found in calls.values()) >= 20
    for path, found in calls.items():
        for call in found:
            config = next((k.value for k in call.keywords if k.arg == "config"), None)
            assert isinstance(config, ast.Call) and getattr(config.func, "id", "") == "figure_config", \
                f"{path.relative_to(ROOT)}:{call.lineno} draws a figure without config=figure_config(...)"
