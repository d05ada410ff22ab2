"""Streamlit entry point: page setup and navigation over the pages in `ui/`, nothing else."""

import streamlit as st

from config import ConfigError, configure_logging, get_settings

st.set_page_config(page_title="Order Desk", page_icon="🧾", layout="wide")

try:
    configure_logging(get_settings())
except ConfigError as error:
    st.error(f"Order Desk cannot start.\n\n```\n{error}\n```")
    st.stop()

page = st.navigation([st.Page("ui/store.py", title="Store", icon="🏪", default=True)])
page.run()
