"""One plotly configuration for every figure: the toolbar appears on hover with a download button (PNG or SVG,
as chosen in the sidebar), Streamlit's fullscreen button and a reset of the axes; nothing else."""
from __future__ import annotations

from typing import Any

import streamlit as st

FORMAT_KEY = "figure_format"
FORMATS = {"png": "PNG (picture, 2x resolution)", "svg": "SVG (vector, for papers and slides)"}
PNG_SCALE = 2
REMOVED_BUTTONS = ("zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d",
                   "hoverClosestCartesian", "hoverCompareCartesian", "toggleSpikelines", "sendChartToCloud")


def plotly_config(name: str = "figure", image_format: str = "png") -> dict[str, Any]:
    """The config for st.plotly_chart: a hover toolbar whose camera button downloads the figure as `image_format`
    ("png" at PNG_SCALE times the size on screen, or "svg") in a file named uqlens-<name>."""
    if image_format not in FORMATS:
        raise ValueError(f"image format {image_format!r} is not offered: choose one of {', '.join(FORMATS)}")
    return {"displayModeBar": "hover", "displaylogo": False, "modeBarButtonsToRemove": list(REMOVED_BUTTONS),
            "toImageButtonOptions": {"format": image_format, "filename": f"uqlens-{name}",
                                     "scale": PNG_SCALE if image_format == "png" else 1}}


def figure_config(name: str = "figure") -> dict[str, Any]:
    """plotly_config in the download format this session chose (PNG until the sidebar says otherwise)."""
    return plotly_config(name, st.session_state.get(FORMAT_KEY, "png"))


def render_format_choice() -> None:
    """The sidebar choice of the format the figures' download button (camera, top right on hover) saves."""
    st.sidebar.radio("Figure downloads", list(FORMATS), format_func=FORMATS.get, key=FORMAT_KEY,
                     help="hover a figure and press its camera button to download it in this format")
