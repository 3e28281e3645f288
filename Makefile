# The README's two commands.
.PHONY: run test lint bench

run:  ## set everything up and run the helpdesk (Ctrl-C stops it all)
	scripts/run.sh

test:  ## set everything up and run the whole test suite
	scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
