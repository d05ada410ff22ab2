"""One router per resource (health, catalog search, chat, orders); `api.main` mounts them."""
