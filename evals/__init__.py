"""Evaluation sets (JSONL) of order messages with expected drafts, and the runner that
scores a prompt / model per category for prompt tuning (issue 5)."""
