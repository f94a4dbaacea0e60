# tests/fuzz/: libFuzzer targets and the replay of their corpora.
# Included from tests/tests.mk.
#
#   make fuzz          build the targets with clang (-fsanitize=fuzzer,
#                      address,undefined) and run each for FUZZ_SECONDS
#                      (default 60); new inputs go to tests/out/fuzz/NAME/,
#                      crashes to tests/out/fuzz/NAME-crash-*
#   make fuzz-merge    add the new inputs that cover new code to the
#                      committed corpora (tests/fuzz/corpus/NAME/)
#   make fuzz-seeds    rewrite the generated seeds (make-seeds.c)
#   make check/quick   replay every committed corpus (tests/bin/fuzz-replay-*,
#                      ordinary compiler and flags, SANITIZE included)
#
# Targets: reply (core's reply and FileOut chunk decoders), request
# (guestd's request decoder, resume and FileIn streams, in process), job
# (the runner's YAML job loader and validator), shell (the command-line
# parser of `guestkit shell').
#
# tests/fuzz/pending/NAME/ holds inputs that still fail (a bug reported,
# not yet fixed): not replayed; move each into corpus/NAME/ once fixed.
# Reproduce one with: tests/bin/fuzz-replay-NAME FILE (or the fuzz binary).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -g -O1 -D_GNU_SOURCE -std=gnu11 -fno-omit-frame-pointer \
  -MMD -MP -pthread $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_INC     := -Icore -Icore/include -Ischemas -Iguestd -Irunner $(TIRPC_CFLAGS)
FUZZ_OBJ     := tests/fuzz/obj
FUZZ_NAMES   := reply request guestdb inspect
ifneq ($(wildcard runner/runner.mk),)
FUZZ_NAMES   += job
endif
ifneq ($(wildcard runner/shell-parse.c),)
FUZZ_NAMES   += shell
endif
FUZZ_BINS    := $(addprefix tests/bin/fuzz/fuzz-,$(FUZZ_NAMES))
FUZZ_REPLAY  := $(addprefix tests/bin/fuzz-replay-,$(FUZZ_NAMES))

FUZZ_CORE_OBJS := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(CORE_SRCS) schemas/wire.c schemas/actions-gen.c)
FUZZ_SCHEMA_OBJS := $(FUZZ_OBJ)/schemas/wire.o $(FUZZ_OBJ)/schemas/actions-gen.o
FUZZ_RUNNER_SRCS := $(filter-out runner/main.c,$(wildcard runner/*.c))
FUZZ_RUNNER_OBJS := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(FUZZ_RUNNER_SRCS))

# ---- the libFuzzer build (clang, its own objects) ----
$(FUZZ_OBJ)/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(CORE_CFLAGS) -c $< -o $@
$(FUZZ_OBJ)/schemas/%.o: schemas/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SCHEMA_CFLAGS) -c $< -o $@
$(FUZZ_OBJ)/runner/%.o: runner/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(RUNNER_CFLAGS) -c $< -o $@
$(FUZZ_OBJ)/fuzz-%.o: tests/fuzz/fuzz-%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INC) -c $< -o $@

tests/bin/fuzz/fuzz-reply: $(FUZZ_OBJ)/fuzz-reply.o $(FUZZ_CORE_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $@ $^ $(TIRPC_LIBS) $(CORE_LIBS)
tests/bin/fuzz/fuzz-request: $(FUZZ_OBJ)/fuzz-request.o $(FUZZ_SCHEMA_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $@ $^ $(TIRPC_LIBS)
tests/bin/fuzz/fuzz-guestdb: $(FUZZ_OBJ)/fuzz-guestdb.o $(FUZZ_SCHEMA_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $@ $^ $(TIRPC_LIBS) $(GUESTD_LIBS)
tests/bin/fuzz/fuzz-inspect: $(FUZZ_OBJ)/fuzz-inspect.o $(FUZZ_CORE_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $@ $^ $(TIRPC_LIBS) $(CORE_LIBS)
tests/bin/fuzz/fuzz-job tests/bin/fuzz/fuzz-shell: tests/bin/fuzz/fuzz-%: \
    $(FUZZ_OBJ)/fuzz-%.o $(FUZZ_RUNNER_OBJS) $(FUZZ_CORE_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $@ $^ $(TIRPC_LIBS) $(CORE_LIBS) \
	  $(RUNNER_LIBS)

fuzz: $(FUZZ_BINS)
	@failed=""; for t in $(FUZZ_NAMES); do \
	  mkdir -p tests/out/fuzz/$$t || exit 1; \
	  echo "fuzz: $$t, $(FUZZ_SECONDS) s (log: tests/out/fuzz/$$t.log)"; \
	  tests/bin/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) \
	    -close_fd_mask=3 -print_final_stats=1 \
	    -artifact_prefix=tests/out/fuzz/$$t- $(FUZZ_FLAGS) \
	    tests/out/fuzz/$$t tests/fuzz/corpus/$$t >tests/out/fuzz/$$t.log 2>&1 || \
	    failed="$$failed $$t"; \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|SUMMARY|Test unit written' \
	    tests/out/fuzz/$$t.log | sed 's/^/  /'; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed (inputs: tests/out/fuzz/*-crash-*, -leak-*, ...)"; exit 1; fi

fuzz-merge: $(FUZZ_BINS)
	@for t in $(FUZZ_NAMES); do \
	  tests/bin/fuzz/fuzz-$$t -merge=1 -close_fd_mask=3 tests/fuzz/corpus/$$t \
	    tests/out/fuzz/$$t 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files'; \
	done

tests/bin/make-seeds: tests/fuzz/make-seeds.o $(LIBGUESTKIT_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC_LIBS) $(CORE_LIBS)

fuzz-seeds: tests/bin/make-seeds
	mkdir -p tests/fuzz/corpus/reply tests/fuzz/corpus/request
	rm -f tests/fuzz/corpus/reply/seed-* tests/fuzz/corpus/request/seed-*
	tests/bin/make-seeds tests/fuzz/corpus

# ---- the replay (ordinary compiler and flags): a quick test ----
tests/fuzz/replay-%.o: tests/fuzz/replay.c
	$(CC) $(CFLAGS) -DFUZZ_CORPUS='"tests/fuzz/corpus/$*"' -c $< -o $@
tests/fuzz/fuzz-%.o: tests/fuzz/fuzz-%.c
	$(CC) $(CFLAGS) $(FUZZ_INC) -c $< -o $@
tests/fuzz/make-seeds.o: tests/fuzz/make-seeds.c
	$(CC) $(CFLAGS) $(FUZZ_INC) -c $< -o $@

tests/bin/fuzz-replay-reply: tests/fuzz/replay-reply.o tests/fuzz/fuzz-reply.o $(LIBGUESTKIT_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC_LIBS) $(CORE_LIBS)
tests/bin/fuzz-replay-request: tests/fuzz/replay-request.o tests/fuzz/fuzz-request.o $(SCHEMA_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC_LIBS)
tests/bin/fuzz-replay-guestdb: tests/fuzz/replay-guestdb.o tests/fuzz/fuzz-guestdb.o $(SCHEMA_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC_LIBS) $(GUESTD_LIBS)
tests/bin/fuzz-replay-inspect: tests/fuzz/replay-inspect.o tests/fuzz/fuzz-inspect.o $(LIBGUESTKIT_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TIRPC_LIBS) $(CORE_LIBS)
tests/bin/fuzz-replay-job tests/bin/fuzz-replay-shell: tests/bin/fuzz-replay-%: \
    tests/fuzz/replay-%.o tests/fuzz/fuzz-%.o \
    $(patsubst %.c,%.o,$(FUZZ_RUNNER_SRCS)) $(LIBGUESTKIT_SO) core/libguestkit.so
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ tests/fuzz/replay-$*.o tests/fuzz/fuzz-$*.o \
	  $(patsubst %.c,%.o,$(FUZZ_RUNNER_SRCS)) $(GK_LIBS) $(RUNNER_LIBS)

QUICK_TESTS += $(FUZZ_REPLAY)
quick: $(FUZZ_REPLAY)

$(patsubst %,tests/fuzz/%.o,$(addprefix replay-,$(FUZZ_NAMES)) \
  $(addprefix fuzz-,$(FUZZ_NAMES)) make-seeds): $(BUILD_FLAGS_STAMP)

.PHONY: fuzz fuzz-merge fuzz-seeds
CLEAN_FILES += tests/fuzz/*.o tests/bin/fuzz/* $(FUZZ_OBJ)/*/*.o $(FUZZ_OBJ)/*.o
