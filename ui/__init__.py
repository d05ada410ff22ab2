"""Streamlit pages and widgets (chat desk, orders, catalog, memory, prompt lab).

They only render: session state, calls into `agents.desk.OrderDesk` and the domain
packages, drawing results. Cached clients live in `ui/resources.py`.
"""
