# tests/: the test suite.  Test programs print PASS/FAIL/SKIP lines;
# tests/run-tests.sh runs them and prints "N passed, N failed".
#   make quick   no VM, seconds
#   make check   everything, against real appliances

TEST_CFLAGS := -Icore/include -Ischemas -Itests $(TIRPC_CFLAGS)
TEST_HARNESS := tests/harness.o

QUICK_C := tests/quick-handle tests/quick-wire
QUICK_TESTS := $(addprefix tests/bin/,$(notdir $(QUICK_C))) tests/quick-build.sh tests/quick-guestd.sh tests/quick-contract.py
VM_C := $(patsubst %.c,%,$(wildcard tests/calls-*.c tests/launch-*.c))
VM_TESTS := $(addprefix tests/bin/,$(notdir $(VM_C))) $(wildcard tests/launch-*.sh)
TEST_TOOLS := tests/bin/make-sample-image tests/bin/manual-example

tests/%.o: tests/%.c
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -c $< -o $@

tests/bin/%: tests/%.o $(TEST_HARNESS) $(LIBGUESTKIT_SO) core/libguestkit.so
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HARNESS) $(GK_LIBS)

# quick-wire tests the codec itself: link its objects directly.
tests/bin/quick-wire: tests/quick-wire.o $(TEST_HARNESS) $(SCHEMA_OBJS) $(LIBGUESTKIT_SO)
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HARNESS) $(SCHEMA_OBJS) $(GK_LIBS)

quick: all $(QUICK_TESTS) $(GUESTD_TEST)
	@tests/run-tests.sh $(QUICK_TESTS)

check: deps
	$(MAKE) all
	$(MAKE) $(QUICK_TESTS) $(VM_TESTS) $(TEST_TOOLS) $(GUESTD_TEST)
	@tests/run-tests.sh -j 2 $(QUICK_TESTS) $(VM_TESTS)

all: $(TEST_TOOLS)

CLEAN_FILES += tests/*.o tests/bin/*

bench: all tests/bin/bench
	@tests/bench.sh
