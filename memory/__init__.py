"""Long-term customer memory in Chroma (order summaries, preferences, notes, scoped by
customer_id) and conversation threads kept by a LangGraph checkpointer (issue 7)."""
