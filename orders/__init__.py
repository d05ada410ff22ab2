"""The order domain: catalog reads, drafts, pricing, stock, confirmation, cancellation and
status, as plain typed functions over a SQLAlchemy session. Nothing here knows Streamlit,
LangChain or FastAPI.

Importing any of it registers the audit trail's listeners (`orders.audit`), so every
change of a draft or an order made through a Session is recorded, whoever makes it."""

from orders import audit as audit  # noqa: F401 - imported for its listeners
