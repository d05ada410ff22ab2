"""Who may use the Admin pages (Memory, Prompt lab) and re-index the catalog.

With sign-in configured, an admin is a signed-in user whose e-mail is in ADMIN_EMAILS
(compared without regard to case). In demo mode (no sign-in configured) the app serves
one trusted user, so everyone is an admin. The navigation hides the Admin section from
others, and each admin page refuses them itself too (`require_admin`), since a page's URL
can be typed.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.common import auth_configured
from ui.resources import settings


def is_admin() -> bool:
    if not auth_configured():
        return True
    user: Any = st.user
    if not getattr(user, "is_logged_in", False):
        return False
    email = getattr(user, "email", None)
    return isinstance(email, str) and email.strip().lower() in settings().admin_emails


def require_admin() -> None:
    """Stop the page with a clear message unless the user is an admin."""
    if is_admin():
        return
    st.title("Admins only")
    st.error(
        "This page is for admins. Ask an admin to add your e-mail to ADMIN_EMAILS, "
        "or go back to Chat, Orders or Catalog."
    )
    st.stop()
