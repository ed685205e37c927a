# The two commands of the README: `make demo` and `make test`.
PY := .venv/bin/python
LINT_PATHS := ari_app modem testkit tests scripts/setup-models scripts/make-caller-audio scripts/demo scripts/bench.py scripts/asterisk-testbed scripts/fetch-xtts-model scripts/bench_mind.py scripts/bench_turns.py scripts/bench_load.py scripts/bench_soak.py scripts/bench_storage.py scripts/bench_remote_stt.py scripts/bench_cluster.py scripts/bench_stt_batch.py scripts/bench_stt_prompt.py scripts/bench_gpu.py scripts/bench_turn_end.py scripts/ct2_whisper_to_hf.py scripts/fetch-models \
	scripts/make-human-speech scripts/ari_wedge_repro.py

.PHONY: setup demo test test-cluster lint unit bench stop

setup:
	scripts/setup

demo: setup
	$(PY) scripts/demo

lint: setup
	.venv/bin/ruff check $(LINT_PATHS)
	.venv/bin/mypy

# The integration tests start the testbed; whatever happens, it is stopped and its
# chroot unmounted afterwards so the checkout can be removed.
test: lint
	@rc=0; $(PY) -m pytest -q -p no:cacheprovider --durations=30 tests || rc=$$?; \
	  $(STOP_TESTBEDS); exit $$rc

# The cluster testbed alone (tests/cluster, also part of `make test`): two Asterisk boxes on
# 127.0.0.2 and 127.0.0.3, a secretary each, one PostgreSQL, Kamailio in front.
test-cluster: setup
	@rc=0; $(PY) -m pytest -q -p no:cacheprovider tests/cluster || rc=$$?; \
	  $(STOP_TESTBEDS); exit $$rc

STOP_TESTBEDS = scripts/asterisk-testbed stop >/dev/null 2>&1 || true; \
	for node in box-a:127.0.0.2 box-b:127.0.0.3; do \
	  ASTERISK_TESTBED_NODE=$${node%%:*} ASTERISK_TESTBED_ADDRESS=$${node\#*:} \
	    scripts/asterisk-testbed stop >/dev/null 2>&1 || true; done

unit: setup
	$(PY) -m pytest -q -p no:cacheprovider tests/unit

bench: setup
	$(PY) scripts/bench.py call

stop:
	$(STOP_TESTBEDS)
