# Shortcuts for the scripts in scripts/ (which need nothing but bash and Python).
.PHONY: setup run api test lint bench seed

setup:
	./scripts/setup
run:
	./scripts/run
api:
	./scripts/api
test:
	./scripts/test
lint:
	./scripts/lint
bench:
	./scripts/bench
seed: setup
	.venv/bin/python -m db.seed
