# man/: the man pages (issue 14), generated into this directory by
# schemas/generate-man.py (they are not kept in git):
#   guestkit.1, guestkit-CMD.1  from the built command's --help texts, one
#                               page per subcommand runner/main.c dispatches
#   guestkit-jobs.5             from schemas/job-schema.md
#   guestfs.3                   from the action and struct tables and guestfs.h
# They are remade whenever any of those changes; tests/man-pages.sh checks
# that they are current and render without warnings.  make install puts
# them under PREFIX/share/man/man{1,3,5}.

MAN_PAGES := $(addprefix man/,$(shell $(PYTHON) schemas/generate-man.py --list . 2>/dev/null))
MAN_INPUTS := schemas/generate-man.py schemas/generate.py schemas/actions.tsv \
  schemas/structs.tsv schemas/job-schema.md README.md runner/main.c \
  core/include/guestfs.h $(RUNNER_BIN)

$(MAN_PAGES) &: $(MAN_INPUTS)
	$(PYTHON) schemas/generate-man.py --guestkit $(RUNNER_BIN) --out man .

man: $(MAN_PAGES)
all: man
.PHONY: man

INSTALL_MAN_PAGES := $(MAN_PAGES)
QUICK_TESTS += tests/man-pages.sh
CLEAN_FILES += man/*.[135]
