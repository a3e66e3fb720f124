# xsell - see README.md. `make run` serves a demo shop; `make check` runs every test.

CC      ?= cc
PKGS    := libmicrohttpd libcjson libpq
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wpointer-arith -Wundef
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 $(WARN) -D_GNU_SOURCE -Iinclude -Ibuild/gen -pthread \
           -I/usr/include/postgresql
LDLIBS  := -lmicrohttpd -lcjson -lpq -lopenblas -llapacke -lm -pthread
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# src/LAYER/*.c: the folders are the layers (src/check-layers.sh says which may
# include which).
SRC      := $(sort $(wildcard src/*/*.c))
LIB_SRC  := $(filter-out src/cmd/main.c,$(SRC)) build/gen/embedded.c
EMBED    := $(sort $(wildcard sql/*.sql)) openapi.yaml \
            $(sort $(wildcard src/ui/*.html src/ui/*.js src/ui/*.css src/ui/vendor/*.js \
                              src/ui/vendor/*.css src/ui/vendor/*.txt))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
INT_SRC  := $(sort $(wildcard tests/integration/*.c))
# Test support the suites share: answers checked against openapi.yaml (libyaml), and
# the in-process fixture (a snapshot through the registry, requests).
CONTRACT_SRC := tests/contract/openapi.c
FIXTURE_SRC  := tests/contract/fixture.c
CONTRACT_H   := tests/contract/openapi.h tests/contract/fixture.h

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60

OBJ      := $(patsubst %.c,build/obj/%.o,$(LIB_SRC))
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRC))
ASAN_OBJ := $(patsubst %.c,build/asan/obj/%.o,$(LIB_SRC))

.PHONY: all deps build run check test-unit bench bench-attack bench-events bench-scale bench-replicas fuzz format \
        check-format lint check-layers clean \
        distclean

all: build
build: deps build/xsell

deps:
	@deploy/deps.sh

# The version `xsell --version` prints: git's description of the checkout, rewritten
# only when it changes (so an unchanged tree rebuilds nothing).
build/gen/version.h: FORCE
	@mkdir -p $(@D)
	@v=$${XSELL_VERSION:-$$(git describe --tags --always --dirty 2>/dev/null || echo unknown)}; \
	    printf '#define XSELL_VERSION "%s"\n' "$$v" > $@.tmp; \
	    cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
build/obj/src/cmd/main.o build/asan/obj/src/cmd/main.o: build/gen/version.h
FORCE:

build/gen/embedded.c: $(EMBED) src/embed.sh
	@mkdir -p $(@D)
	src/embed.sh $(EMBED) > $@.tmp && mv $@.tmp $@

build/obj/%.o: %.c $(wildcard include/xsell/*.h) | deps
	@mkdir -p $(@D)
	@echo "cc $<"
	@$(CC) $(CFLAGS) -c $< -o $@

build/asan/obj/%.o: %.c $(wildcard include/xsell/*.h) | deps
	@mkdir -p $(@D)
	@echo "cc (asan) $<"
	@$(CC) $(CFLAGS) $(SAN) -O1 -c $< -o $@

build/libxsell.a: $(OBJ)
	ar rcs $@ $^

build/asan/libxsell.a: $(ASAN_OBJ)
	ar rcs $@ $^

build/xsell: build/obj/src/cmd/main.o build/libxsell.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/xsell: build/asan/obj/src/cmd/main.o build/asan/libxsell.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

build/test_unit: $(UNIT_SRC) $(CONTRACT_SRC) $(FIXTURE_SRC) $(CONTRACT_H) tests/unit/unit.h \
                 build/libxsell.a | deps
	$(CC) $(CFLAGS) -Itests -o $@ $(UNIT_SRC) $(CONTRACT_SRC) $(FIXTURE_SRC) build/libxsell.a \
	    $(LDLIBS) -lcmocka -lyaml

build/asan/test_unit: $(UNIT_SRC) $(CONTRACT_SRC) $(FIXTURE_SRC) $(CONTRACT_H) tests/unit/unit.h \
                      build/asan/libxsell.a | deps
	$(CC) $(CFLAGS) $(SAN) -Itests -o $@ $(UNIT_SRC) $(CONTRACT_SRC) $(FIXTURE_SRC) \
	    build/asan/libxsell.a $(LDLIBS) -lcmocka -lyaml

# The groups whose tests use threads, built with ThreadSanitizer (make check runs
# them with UNIT_GROUPS): a data race fails the run.
TSAN := -fsanitize=thread -fno-omit-frame-pointer
TSAN_OBJ := $(patsubst %.c,build/tsan/obj/%.o,$(LIB_SRC))

build/tsan/obj/%.o: %.c $(wildcard include/xsell/*.h) | deps
	@mkdir -p $(@D)
	@echo "cc (tsan) $<"
	@$(CC) $(CFLAGS) $(TSAN) -O1 -c $< -o $@

build/tsan/libxsell.a: $(TSAN_OBJ)
	ar rcs $@ $^

build/tsan/test_unit: $(UNIT_SRC) $(CONTRACT_SRC) $(FIXTURE_SRC) $(CONTRACT_H) tests/unit/unit.h \
                      build/tsan/libxsell.a
	$(CC) $(CFLAGS) $(TSAN) -Itests -o $@ $(UNIT_SRC) $(CONTRACT_SRC) $(FIXTURE_SRC) \
	    build/tsan/libxsell.a $(LDLIBS) -lcmocka -lyaml

# The fuzz drivers replayed over their checked-in corpus, under ASan+UBSan.
build/asan/fuzz_replay: $(FUZZ_SRC) $(FIXTURE_SRC) tests/fuzz/replay.c tests/fuzz/fuzz.h \
                       $(CONTRACT_H) build/asan/libxsell.a | deps
	$(CC) $(CFLAGS) $(SAN) -DFUZZ_REPLAY -Itests -o $@ $(FUZZ_SRC) $(FIXTURE_SRC) tests/fuzz/replay.c \
	    build/asan/libxsell.a $(LDLIBS) -lcmocka

# libFuzzer builds (clang): `make fuzz` explores each target for FUZZ_SECONDS and
# adds what it finds to tests/fuzz/corpus/<target>.
FUZZ_CFLAGS := $(CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined

build/fuzz/obj/%.o: %.c $(wildcard include/xsell/*.h) | deps
	@mkdir -p $(@D)
	@echo "clang (fuzz) $<"
	@clang $(FUZZ_CFLAGS) -c $< -o $@

build/fuzz/%: tests/fuzz/fuzz_%.c $(FIXTURE_SRC) $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests -o $@ $< $(FIXTURE_SRC) $(FUZZ_OBJ) $(LDLIBS)

fuzz: deps
	@command -v clang >/dev/null || (echo "fuzz: installing clang" && deploy/deps.sh clang libclang-rt-14-dev)
	@$(MAKE) --no-print-directory $(addprefix build/fuzz/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	    echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	    build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 tests/fuzz/corpus/$$t || exit 1; \
	done

build/test_integration: $(INT_SRC) $(CONTRACT_SRC) tests/integration/harness.h $(CONTRACT_H) | deps
	$(CC) $(CFLAGS) -Itests -o $@ $(INT_SRC) $(CONTRACT_SRC) -lcmocka -lcurl -lcjson -lyaml -lpq -lm \
	    -pthread

# `make run`: a private PostgreSQL under .xsell/, demo data when empty, train, serve.
run: build
	@deploy/run.sh

# `make check`: throwaway PostgreSQL under /tmp, unit + integration tests, then the
# same suites again built with ASan+UBSan. Ends with "N passed, N failed".
check: deps check-layers check-format lint build/xsell build/test_unit build/test_integration build/asan/xsell \
       build/asan/test_unit build/asan/fuzz_replay build/tsan/test_unit
	@tests/run.sh

test-unit: deps build/test_unit
	build/test_unit

build/retail2csv: bench/retail2csv.c build/libxsell.a
	$(CC) $(CFLAGS) -o $@ $< build/libxsell.a $(LDLIBS)

build/churn_bench: bench/churn_bench.c build/libxsell.a
	$(CC) $(CFLAGS) -o $@ $< build/libxsell.a $(LDLIBS)

build/recent_bench: bench/recent_bench.c build/libxsell.a
	$(CC) $(CFLAGS) -o $@ $< build/libxsell.a $(LDLIBS)

build/reconcile_bench: bench/reconcile_bench.c build/libxsell.a
	$(CC) $(CFLAGS) -o $@ $< build/libxsell.a $(LDLIBS)

build/attack: bench/attack.c | deps
	$(CC) $(CFLAGS) -o $@ $< -pthread

# `make bench-attack`: the hardening attacks alone (bench/attack.sh), a few minutes.
bench-attack: deps build/xsell build/attack build/recent_bench
	@bench/attack.sh

# `make bench-scale`: generated shops from 100k to 20M order lines (bench/scale.sh):
# import, training (wall, CPU, memory, per model), latency per route, growth
# exponents. About an hour; SCALE_SIZES=lines:products:customers picks sizes.
bench-scale: deps build/xsell
	@bench/scale.sh

# `make bench-replicas`: persisted snapshots' save, store and load (Online Retail and a
# generated 5M-line shop), and GET /recommend through HAProxy with one api replica and
# with two (bench/replicas.sh). A few minutes; SNAP_LINES picks the generated size.
bench-replicas: deps build/xsell build/retail2csv
	@bench/replicas.sh

# `make bench-events`: POST /events in batches of 100, alone and beside GET /recommend
# (bench/events.sh), on the demo shop. About a minute.
bench-events: deps build/xsell
	@bench/events.sh

# `make bench`: import throughput on UCI Online Retail (../shared/data) beside raw
# COPY, and HTTP throughput beside /healthz. Prints figures; timings are not tests.
bench: deps build/xsell build/retail2csv build/churn_bench build/attack build/recent_bench \
       build/reconcile_bench
	@build/reconcile_bench
	@bench/attack.sh
	@bench/events.sh
	@bench/run.sh

FORMAT_FILES = src/*/*.c include/xsell/*.h tests/*/*.c tests/*/*.h bench/*.c

format:
	clang-format -i $(FORMAT_FILES)

# make check fails on a file that `make format` would change.
check-format: | deps
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "check-format: ok"

# Static analysis, clean: clang-tidy (the analyzer and bugprone checks, less those
# that flag our deliberate styles: X-macros, int/double conversions, swappable
# same-typed parameters) and cppcheck's warnings.
TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,\
               -bugprone-narrowing-conversions,-bugprone-reserved-identifier,\
               -bugprone-assignment-in-if-condition,-bugprone-macro-parentheses,\
               -bugprone-implicit-widening-of-multiplication-result,\
               -clang-analyzer-security.FloatLoopCounter,\
               -clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling
lint: build/gen/embedded.c build/gen/version.h | deps
	@cppcheck -q --enable=warning,portability --std=c11 -D_GNU_SOURCE -Iinclude \
	    --suppress=missingIncludeSystem --inline-suppr --error-exitcode=1 src && echo "cppcheck: ok"
	@fail=0; for f in $(SRC); do \
	    clang-tidy --quiet --warnings-as-errors='*' -checks='$(TIDY_CHECKS)' $$f -- \
	        -std=c11 -D_GNU_SOURCE -Iinclude -Ibuild/gen -I/usr/include/postgresql 2>/dev/null \
	        || fail=1; \
	done; [ $$fail -eq 0 ] && echo "clang-tidy: ok"

# Layers point one way: src/check-layers.sh holds the rule (STYLE.md).
check-layers:
	@src/check-layers.sh

clean:
	rm -rf build

distclean: clean
	rm -rf .xsell
