"""Streamlit pages (routed by app/main.py) and the app's link to the backend."""
