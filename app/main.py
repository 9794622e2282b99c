"""UQ Lens entry point: `streamlit run app/main.py`. Routes between the pages; each page is its own file."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402  (the project root must be importable first)

st.set_page_config(page_title="UQ Lens", page_icon=":material/troubleshoot:", layout="wide")
navigation = st.navigation([
    st.Page(str(ROOT / "app" / "home.py"), title="Home", icon=":material/home:", default=True),
    st.Page(str(ROOT / "app" / "text_page.py"), title="Text", icon=":material/notes:", url_path="text"),
    st.Page(str(ROOT / "app" / "saved_page.py"), title="Saved", icon=":material/bookmarks:", url_path="saved"),
])
navigation.run()
