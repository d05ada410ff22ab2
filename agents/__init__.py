"""The agent: the `OrderDesk` facade, tools over the domain, prompts, the chat-model
factory and the built-in deterministic offline order model (issue 5)."""
