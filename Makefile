# Shortcuts for the scripts in scripts/ (which need nothing but bash and Python).
.PHONY: setup run api cluster test lint bench migrate seed

setup:
	./scripts/setup
run:
	./scripts/run
api:
	./scripts/api
cluster:
	./scripts/cluster
test:
	./scripts/test
lint:
	./scripts/lint
bench:
	./scripts/bench
migrate: setup
	.venv/bin/python -m db.migrate
seed: migrate
	.venv/bin/python -m db.seed
