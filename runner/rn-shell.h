/* runner/rn-shell.h: guestkit shell (shell*.c), the drive options it
 * shares with mount and inspect (drive-opts.c), guestkit inspect
 * (inspect-cli.c) and guestkit cache (cache-cli.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_SHELL_H
#define RN_SHELL_H

#include <stddef.h>
#include <stdio.h>

#include "guestfs.h"
#include "calls-gen.h"
#include "rn-util.h"

/* ---- shell-parse.c: the shell's lines and words ---- */

#define RN_SH_LINE_MAX (1u << 20)  /* bytes in one line of commands */

/* Read a line of f, without its newline, into b (emptied first): 1, 0 at
 * EOF, -1 when longer than RN_SH_LINE_MAX (the rest is skipped). */
int rn_sh_read_line (FILE *f, struct rn_buf *b);
/* Cut a line (len bytes) into words, guestfish style, appending them to
 * words; none for a blank or comment line.  -1 with *err (caller frees)
 * on an unterminated quote, a bad escape or a NUL byte. */
int rn_sh_split (const char *line, size_t len, struct rn_strv *words, char **err);

/* ---- shell.c: guestkit shell ---- */

/* One shell session. */
struct rn_shell {
  guestfs_h *g;
  int ro;                    /* --ro: drives read-only, -m mounts ro */
  int ndrives;               /* drives added (-a or add commands) */
  const char *src;           /* script name for messages, or NULL */
  int line;                  /* line in src */
  int quit;                  /* quit/exit was run */
};
/* "guestkit: [SCRIPT:LINE: ]message" on stderr. */
void rn_sh_err (struct rn_shell *sh, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));
/* A word for a message: w, or its first 57 bytes and "..." in buf. */
const char *rn_sh_shorten (const char *w, char *buf, size_t size);
/* One command's words, a leading '-' meaning "go on if it fails"; 0 or
 * -1 (the message is printed). */
int rn_sh_run_command (struct rn_shell *sh, char **w, size_t n);
/* Commands of a script stream until EOF or quit: 0, or 1 on a failure. */
int rn_sh_run_stream (struct rn_shell *sh, FILE *f, const char *src);

int rn_cmd_shell (int argc, char **argv);

/* ---- shell-help.c: command names, suggestions, help ---- */

/* The shell's command for a name ('-' and '_' alike, aliases), or NULL. */
const struct rn_call *rn_sh_find_call (const char *name);
/* The shell's own commands: { name, help } rows, { NULL, NULL } last. */
extern const char *const rn_sh_builtins[][2];
/* name with every `from' replaced by `to'; caller frees. */
char *rn_sh_respell (const char *name, char from, char to);
/* The call whose name is nearest to name (within 2 edits), or NULL. */
const char *rn_sh_suggest (const char *name);
/* help [COMMAND]; 0 or -1 (the message is printed). */
int rn_sh_cmd_help (struct rn_shell *sh, char **w, size_t n);

/* ---- shell-call.c: one call of the table, from the shell's words ---- */

/* A Bool word: true/false, yes/no, on/off, 1/0; 1, 0 or -1. */
int rn_sh_parse_bool (const char *w);
/* Launch the appliance; 0 or -1 (the handle's error). */
int rn_sh_launch (struct rn_shell *sh);
/* Launch now if drives were added and the appliance is not up; 0 or -1. */
int rn_sh_need_appliance (struct rn_shell *sh);
/* Call c with the words w[1..n-1], c->nargs of them (checked by the
 * caller), and print its result; 0 or -1 (the message is printed). */
int rn_sh_run_call (struct rn_shell *sh, const struct rn_call *c, char **w, size_t n);

/* ---- cache-cli.c: guestkit cache ---- */

int rn_cmd_cache (int argc, char **argv);

/* ---- shell-cmds.c: edit, more, glob ---- */

int rn_sh_cmd_edit (struct rn_shell *sh, char **w, size_t n);
int rn_sh_cmd_more (struct rn_shell *sh, char **w, size_t n);
int rn_sh_cmd_glob (struct rn_shell *sh, char **w, size_t n);

/* ---- shell-edit.c: line editing, history, completion (a terminal) ---- */

/* Before the first prompt; completion asks g for guest names. */
void rn_sh_edit_start (guestfs_h *g);
/* Read a line with the prompt into b: 1, or 0 at end of input. */
int rn_sh_edit_read (const char *prompt, struct rn_buf *b);
/* Save the history; after the last prompt. */
void rn_sh_edit_end (void);

/* ---- shell-progress.c: progress bars for transfers (a terminal) ---- */

/* Draw a bar on stderr for g's transfers, if stderr is a terminal. */
void rn_sh_progress_start (guestfs_h *g);
/* After a call: wipe the bar, if one was drawn. */
void rn_sh_progress_done (void);

/* ---- shell-remote.c: --listen and --remote ---- */

/* Become a server in a child process, set up by setup(sh, arg); the
 * parent prints GUESTKIT_PID=... and gets the exit status. */
int rn_sh_listen (struct rn_shell *sh, int (*setup) (struct rn_shell *, const void *),
                  const void *arg);
/* Send words (none: stdin's commands) to server pid (NULL:
 * $GUESTKIT_PID); the exit status. */
int rn_sh_remote (const char *pid, char **words, int n);

/* ---- drive-opts.c: -a, --format, --ro, --rw, -i, -m of shell, mount, inspect ---- */

/* Disk images given with -a, each with the --format in force before it. */
struct rn_drives {
  struct rn_strv paths, formats;
};
/* What the drive options gave. */
struct rn_drive_opts {
  struct rn_drives drives;   /* -a IMG */
  struct rn_strv mounts;     /* -m DEV[:MNT], as given */
  int inspect;               /* -i */
  int ro;                    /* --ro 1, --rw 0, the last wins; the caller's default */
};
/* Which of the drive options a command has, besides -a, --format, --ro
 * and -h. */
enum { RN_DO_RW = 1,         /* --rw */
       RN_DO_MOUNT = 2 };    /* -i, -m */
/* A command's own options. */
struct option;
struct rn_cmd_opts {
  const char *name;          /* "shell": in messages */
  const char *shorts;        /* getopt letters; a leading '+': stop at the first operand */
  const struct option *longs;  /* { NULL } last; codes other than ours (< 0x100) */
  unsigned flags;            /* RN_DO_* */
  /* Take one of its options (arg: optarg or NULL); 0, or -1 after
   * printing why. */
  int (*take) (void *opaque, int c, const char *arg);
  void *opaque;
};
/* Parse argv into d (set d->ro first) and the command's own options: the
 * index of the first operand, -1 on invalid options (the message is
 * printed: exit 2) or -2 for --help.  d holds copies; free it with
 * rn_drive_opts_free. */
int rn_drive_opts_parse (int argc, char **argv, const struct rn_cmd_opts *c,
                         struct rn_drive_opts *d);
void rn_drive_opts_free (struct rn_drive_opts *d);
/* Add every drive to g, read-only if ro, formats never probed; -1 with
 * the handle's error. */
int rn_drives_attach (guestfs_h *g, const struct rn_drives *d, int ro);
/* Mount each -m DEV[:MNT] spec (MNT default /), parents first, read-only
 * if ro; -1 with the handle's error.  The specs are changed while it
 * runs and restored. */
int rn_mount_specs (guestfs_h *g, const struct rn_strv *mounts, int ro);
/* -i: inspect, then mount the one OS found as its fstab says, read-only
 * if ro.  -1 with *why set (no OS, or more than one: allocated), or with
 * *why NULL and the handle's error. */
int rn_mount_inspected (guestfs_h *g, int ro, char **why);

/* ---- inspect-cli.c: guestkit inspect ---- */

int rn_cmd_inspect (int argc, char **argv);

#endif /* RN_SHELL_H */
