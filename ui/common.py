"""Pieces every page shares: the sidebar (model, health, access mode) and money format."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

import streamlit as st

from bootstrap import Services, database_problem
from config import get_settings
from ui.format import money
from ui.resources import chroma, services

__all__ = ["money"]  # the one money format, re-exported for the pages


def database_ok() -> tuple[bool, str]:
    return services_or_stop().orders.ping()


def chroma_ok() -> tuple[bool, str]:
    from rag.chroma import health_check

    report = health_check(chroma())
    if report["reachable"]:
        counts = ", ".join(f"{name} {n}" for name, n in report["collections"].items())
        return True, f"Chroma up ({counts or 'no collections'})"
    return False, "Chroma unavailable: search uses spelling only"


def signed_in_user() -> str | None:
    """The signed-in user's e-mail when an auth provider is configured, else None."""
    if not auth_configured():
        return None
    user: Any = st.user
    return getattr(user, "email", None) or getattr(user, "name", None)


BROWSER_KEY = re.compile(r"^[0-9a-f]{32}$")


def browser_key() -> str:
    """This browser's key in demo mode: made on the first visit and kept in the page's
    URL (`k=`), so a reload or a bookmark keeps its conversations. It is a secret (it
    opens those conversations): only its digest is ever shown or stored."""
    key = st.query_params.get("k")
    if not key or not BROWSER_KEY.match(key):
        key = st.session_state.get("browser_key") or uuid.uuid4().hex
        st.query_params["k"] = key
    st.session_state.browser_key = key
    return key


def owner_id() -> str:
    """Who owns this user's conversations: the signed-in user, else this browser."""
    user = signed_in_user()
    if user:
        return "user:" + hashlib.sha256(user.strip().lower().encode()).hexdigest()[:32]
    return f"ui:{browser_key()}"


def acting_user() -> str:
    """Who this user is on the orders they confirm and in the audit trail: the signed-in
    user, else this browser session by its key's digest (never the key itself)."""
    user = signed_in_user()
    if user:
        return user
    return "browser session " + hashlib.sha256(browser_key().encode()).hexdigest()[:12]


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml at all: demo mode
        return False


def services_or_stop() -> Services:
    """The process's services, or a clear error on the page when they cannot start."""
    try:
        return services()
    except Exception as error:  # noqa: BLE001 - e.g. the database is down: say so, stop
        # What is wrong with the database and how to fix it, when that is the cause.
        reason = (
            database_problem(get_settings())
            or (str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200])
        )
        st.error(f"Order Desk cannot start: {reason}")
        st.stop()


def desk_or_stop() -> Any:
    """The shared OrderDesk, or a clear error on the page when it cannot start."""
    return services_or_stop().desk


def sidebar(customer: tuple[str, str] | None = None, memories: list[str] | None = None) -> None:
    with st.sidebar:
        if customer:
            st.markdown(f"**Customer:** {customer[1]} (`{customer[0]}`)")
            if memories:
                with st.expander("What we remember", expanded=True):
                    for memory in memories:
                        st.caption(f"• {memory}")
        st.markdown(f"**Model:** {desk_or_stop().model_label}")
        for ok, label in (database_ok(), chroma_ok()):
            st.markdown(f"{'🟢' if ok else '🔴'} {label}")
        if auth_configured():
            user = signed_in_user()
            st.caption(f"Signed in as {user}")
            st.button("Log out", on_click=st.logout)
        else:
            st.caption(
                "Demo mode: no sign-in is configured, so anyone with the link can use it, "
                "and everyone is an admin (Memory, Prompt lab, Re-index)."
            )
