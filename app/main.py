"""UQ Lens entry point: `streamlit run app/main.py`. Routes between the pages; each page is its own file."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402  (the project root must be importable first)

from components.figure_config import render_format_choice  # noqa: E402

st.set_page_config(page_title="UQ Lens", page_icon=":material/troubleshoot:", layout="wide")
navigation = st.navigation([
    st.Page(str(ROOT / "app" / "home.py"), title="Home", icon=":material/home:", default=True),
    st.Page(str(ROOT / "app" / "text_page.py"), title="Text", icon=":material/notes:", url_path="text"),
    st.Page(str(ROOT / "app" / "sequence_page.py"), title="Sequence uncertainty", icon=":material/stacked_bar_chart:",
            url_path="sequence"),
    st.Page(str(ROOT / "app" / "compare_page.py"), title="Side by side", icon=":material/compare:",
            url_path="compare"),
    st.Page(str(ROOT / "app" / "attention_page.py"), title="Attention & saliency", icon=":material/visibility:",
            url_path="attention"),
    st.Page(str(ROOT / "app" / "image_page.py"), title="Image", icon=":material/image:", url_path="image"),
    st.Page(str(ROOT / "app" / "calibration_page.py"), title="Calibration & audits", icon=":material/fact_check:",
            url_path="calibration"),
    st.Page(str(ROOT / "app" / "imports_page.py"), title="Imported logs", icon=":material/upload_file:",
            url_path="imports"),
    st.Page(str(ROOT / "app" / "saved_page.py"), title="Saved", icon=":material/bookmarks:", url_path="saved"),
])
render_format_choice()
navigation.run()
