"""Streamlit entry point: page setup, sign-in when configured, navigation over ui/ pages:
Chat, Orders and Catalog for everyone, Memory and Prompt lab under Admin for admins only
(ui/access.py says who is one)."""

import streamlit as st

from config import ConfigError, configure_logging, get_settings
from ui.access import is_admin
from ui.common import auth_configured

st.set_page_config(page_title="Order Desk", page_icon="🧾", layout="wide")

try:
    configure_logging(get_settings())
except ConfigError as error:
    st.error(f"Order Desk cannot start.\n\n```\n{error}\n```")
    st.stop()

if auth_configured() and not st.user.is_logged_in:
    st.title("Order Desk")
    st.button("Sign in", type="primary", on_click=st.login)
    st.stop()

desk = [
    st.Page("ui/chat.py", title="Chat", icon="💬", default=True),
    st.Page("ui/orders.py", title="Orders", icon="📦"),
    st.Page("ui/catalog.py", title="Catalog", icon="🏷️"),
]
admin = [
    st.Page("ui/memory.py", title="Memory", icon="🧠"),
    st.Page("ui/prompt_lab.py", title="Prompt lab", icon="🧪"),
]
page = st.navigation({"Desk": desk, "Admin": admin} if is_admin() else {"Desk": desk})
page.run()
