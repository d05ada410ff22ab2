"""HTTP API on port 8001 (issue 8): /api/health, catalog search, chat and orders, served by
uvicorn on the same OrderDesk and domain code as the UI, with X-API-Key auth."""
