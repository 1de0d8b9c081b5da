"""Streamlit pages of the dashboard; shared UI helpers live in :mod:`pages.common`."""
