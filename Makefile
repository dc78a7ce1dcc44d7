# Everyday commands. `make` alone lists them.
.DEFAULT_GOAL := help
.PHONY: help run test lint bench

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-6s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## serve the API (embedded PostgreSQL + Valkey unless DATABASE_URL / REDIS_URL are set)
	python3 dev.py serve

test: ## run the test suite (creates .venv on first use)
	python3 dev.py test

lint: ## ruff lint and format check, and the import contracts (pyproject.toml)
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

bench: ## run the benchmarks
	.venv/bin/python bench/run.py
