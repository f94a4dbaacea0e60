# schemas/: the action table, its generator and the shared wire codec.
# SCHEMA_OBJS are linked into both the library and guestd (built -fPIC).

SCHEMA_GEN := core/include/guestfs-structs.h core/include/guestfs-actions.h \
  core/actions-gen.c schemas/actions-gen.h schemas/actions-gen.c \
  guestd/actions-gen.h guestd/dispatch-gen.c schemas/calls.md
SCHEMA_OBJS := schemas/wire.o schemas/actions-gen.o
SCHEMA_CFLAGS := -fPIC -Ischemas -Icore/include $(TIRPC_CFLAGS)

$(SCHEMA_GEN) &: schemas/actions.tsv schemas/structs.tsv schemas/generate.py
	$(PYTHON) schemas/generate.py .

generate: $(SCHEMA_GEN)

schemas/%.o: schemas/%.c
	$(CC) $(CFLAGS) $(SCHEMA_CFLAGS) -c $< -o $@

# make check: the generated files in the tree match the tables.
check-generated:
	$(PYTHON) schemas/generate.py --check .

CLEAN_FILES += $(SCHEMA_OBJS)
