# The two commands of the README. Both set everything up first (idempotent).
.PHONY: run test setup train lint format benchmark

run: setup
	.venv-app/bin/python -m bot run

test: setup
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

train: setup
	.venv-app/bin/python -m bot train

lint:
	.venv-app/bin/ruff check . && .venv-app/bin/ruff format --check .

format:
	.venv-app/bin/ruff format . && .venv-app/bin/ruff check --fix .

benchmark: setup
	.venv-app/bin/python -m benchmarks.run
