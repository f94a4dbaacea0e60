# core/install.mk: make install / make uninstall (issue 14).
#
#   make install   PREFIX=/usr/local DESTDIR=
#   make uninstall PREFIX=/usr/local DESTDIR=   (removes exactly that list)
#
# The installed library is linked apart (core/inst/) from the tree's: its
# default appliance path (GK_DEFAULT_PATH, see core/handle.c) is
# PREFIX/lib/guestkit, where the appliance inputs are installed, and the
# installed command finds the library in PREFIX/lib.  Everything installed
# is named in INSTALL_LIST, which uninstall removes file by file.

PREFIX     ?= /usr/local
DESTDIR    ?=
INST_LIB   := $(PREFIX)/lib
INST_INC   := $(PREFIX)/include
INST_BIN   := $(PREFIX)/bin
INST_APPL  := $(PREFIX)/lib/guestkit
INST_MAN   := $(PREFIX)/share/man
INST_PC    := $(INST_LIB)/pkgconfig

INST_DIR   := core/inst
INST_HEADERS := $(wildcard core/include/*.h)
INST_SUPERMIN := $(notdir $(wildcard appliance/supermin.d/*))
# Filled by the man page fragment (man/man.mk: every generated page, to
# PREFIX/share/man/manN by its section).  The Python module goes where
# Debian's python3 looks for PREFIX (python/python.mk: PY_SITEDIR).
INSTALL_MAN_PAGES ?=

INSTALL_LIST = $(INST_LIB)/libguestkit.so.0 $(INST_LIB)/libguestkit.so \
  $(INST_LIB)/libguestkit.a $(INST_PC)/libguestkit.pc \
  $(addprefix $(INST_INC)/,$(notdir $(INST_HEADERS))) \
  $(INST_BIN)/guestkit \
  $(INST_APPL)/guestkit-build-appliance \
  $(addprefix $(INST_APPL)/supermin.d/,$(INST_SUPERMIN)) \
  $(foreach m,$(INSTALL_MAN_PAGES),$(INST_MAN)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
  $(PY_SITEDIR)/guestfs$(PY_EXT)
# Directories install creates that uninstall removes when left empty.
INSTALL_DIRS := $(INST_APPL)/supermin.d $(INST_APPL) $(INST_PC) \
  $(INST_MAN)/man1 $(INST_MAN)/man3 $(INST_MAN)/man5 $(INST_MAN)

INST_OBJS := $(filter-out core/handle.o,$(CORE_OBJS)) $(INST_DIR)/handle.o

# Rebuilt on every install: PREFIX is baked in and may differ each time.
.PHONY: install uninstall install-build
install-build: all
	@mkdir -p $(INST_DIR)
	$(CC) $(CFLAGS) $(filter-out -DGK_DEFAULT_PATH=%,$(CORE_CFLAGS)) \
	  -DGK_DEFAULT_PATH='"$(INST_APPL)"' -c core/handle.c -o $(INST_DIR)/handle.o
	$(CC) -shared -Wl,-soname,libguestkit.so.0 \
	  -Wl,--version-script=core/libguestkit.syms $(LDFLAGS) \
	  -o $(INST_DIR)/libguestkit.so.0 $(INST_OBJS) $(TIRPC_LIBS) $(CORE_LIBS)
	ln -sf libguestkit.so.0 $(INST_DIR)/libguestkit.so
	rm -f $(INST_DIR)/libguestkit.a && ar rcs $(INST_DIR)/libguestkit.a $(INST_OBJS)
	$(CC) $(LDFLAGS) -o $(INST_DIR)/guestkit $(RUNNER_OBJS) -L$(INST_DIR) \
	  -lguestkit $(TIRPC_LIBS) $(CORE_LIBS) -Wl,-rpath,$(INST_LIB) $(RUNNER_LIBS)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@TIRPC_LIBS@|$(TIRPC_LIBS)|' \
	  core/libguestkit.pc.in > $(INST_DIR)/libguestkit.pc

install: install-build install-python
	install -d $(DESTDIR)$(INST_LIB) $(DESTDIR)$(INST_INC) $(DESTDIR)$(INST_BIN) \
	  $(DESTDIR)$(INST_PC) $(DESTDIR)$(INST_APPL)/supermin.d
	install -m 755 $(INST_DIR)/libguestkit.so.0 $(DESTDIR)$(INST_LIB)/
	ln -sf libguestkit.so.0 $(DESTDIR)$(INST_LIB)/libguestkit.so
	install -m 644 $(INST_DIR)/libguestkit.a $(DESTDIR)$(INST_LIB)/
	install -m 644 $(INST_DIR)/libguestkit.pc $(DESTDIR)$(INST_PC)/
	install -m 644 $(INST_HEADERS) $(DESTDIR)$(INST_INC)/
	install -m 755 $(INST_DIR)/guestkit $(DESTDIR)$(INST_BIN)/
	install -m 755 appliance/guestkit-build-appliance $(DESTDIR)$(INST_APPL)/
	install -m 644 $(addprefix appliance/supermin.d/,$(INST_SUPERMIN)) \
	  $(DESTDIR)$(INST_APPL)/supermin.d/
	$(foreach m,$(INSTALL_MAN_PAGES),install -D -m 644 $(m) \
	  $(DESTDIR)$(INST_MAN)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)) &&) true

uninstall: uninstall-python
	rm -f $(addprefix $(DESTDIR),$(INSTALL_LIST))
	-rmdir $(addprefix $(DESTDIR),$(INSTALL_DIRS)) 2>/dev/null || true

# Print the list (tests/install.sh compares it with what install wrote).
install-list:
	@printf '%s\n' $(INSTALL_LIST)
.PHONY: install-list

VM_TESTS += tests/install.sh
CLEAN_FILES += $(INST_DIR)/*
