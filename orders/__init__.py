"""The order domain: catalog reads, drafts, pricing, stock, confirmation, cancellation and
status, as plain typed functions over a SQLAlchemy session. Nothing here knows Streamlit,
LangChain or FastAPI."""
