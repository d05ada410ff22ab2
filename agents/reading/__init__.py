"""The reader: turns one chat message into a Reading that accounts for every part of it.

Split by concern: `text` (the one folding function, cleaning), `lexicon` (words per
language, kept as data in `lexicon/*.json`), `numbers` (quantities in digits and words),
`noise` (greetings, signatures, phones, dates, PO numbers), `header` (the order header:
PO number, delivery date, ship-to, notes, read first and cut out), `today` (the day
relative dates are read from), `segments`, `items`, `intents` and `edits`. Nothing here
touches the catalog, the database or LangChain: catalog look-ups are passed in by the
caller.
"""
