/* runner/rn-shard.h: scale-out and the run command: shards (shard.c), guestkit
 * merge (merge*.c), guestkit slurm and k8s (slurm.c, k8s.c),
 * guestkit test-tool (test-tool.c) and guestkit run (run-opts.c,
 * run-cli.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_SHARD_H
#define RN_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rn-db.h"

/* ---- shard.c: one shard of a sharded run (--shard I/N) ---- */

struct rn_shard {
  int index, count;          /* shard index of count; count 0: not sharded */
  char *group;               /* the sharded run's name, the same in every shard */
  char *out_dir;             /* --out DIR: where the finished database goes, or NULL */
  size_t total;              /* tasks of the whole job, every shard's */
  uint64_t keys;             /* fingerprint of the whole job's task keys */
  const char *from;          /* where index came from, for messages (static) */
};

/* Check 0 <= index < count, count >= 1; -1 with *err naming what. */
int rn_shard_check (int index, int count, const char *what, char **err);
/* Parse --shard's "I/N"; -1 with *err (caller frees). */
int rn_shard_parse (const char *s, int *index, int *count, char **err);
/* Index and count: from --shard I/N (given), else a Slurm array or a
 * Kubernetes Indexed Job in the environment; shards is --shards N or 0.
 * sh->count stays 0 when nothing asks for a shard.  -1 with *err. */
int rn_shard_resolve (struct rn_shard *sh, int given, int shards, char **err);
/* A task's key hashed: the stable hash documented in shard.c. */
uint64_t rn_shard_hash (const char *image, const char *instance);
/* Keep only sh's share of the tasks v[first..*n) (order kept, the others
 * freed; nothing when sh is not a shard): the tasks sorted by their
 * hash and dealt out in turn.  Returns a fingerprint of the whole set. */
uint64_t rn_shard_filter (const struct rn_shard *sh, struct rn_task *v, size_t first,
                          size_t *n);
/* May s name a group (and so a file name part)? */
int rn_shard_group_ok (const char *s);
/* s (a job name) as a plain file name part: at most 60 of A-Z a-z 0-9
 * . _ -, others made '_'.  Caller frees. */
char *rn_shard_clean (const char *s);
/* The default group: the job's name and a hash of its text and options
 * (without the shard).  Caller frees. */
char *rn_shard_default_group (const char *job_name, const char *text,
                              const char *options);
/* DIR/GROUP.shard-I.db; caller frees. */
char *rn_shard_file (const struct rn_shard *sh, const char *dir);
/* The shard's database on local disk: $TMPDIR (else /var/tmp)/GROUP.shard-I.db. */
char *rn_shard_local_db (const struct rn_shard *sh);
/* Copy src to dest through a temp file in dest's directory, fsync'd, then
 * renamed: dest is never seen half-written.  -1 with *err. */
int rn_copy_file_atomic (const char *src, const char *dest, char **err);
/* Remove a database and its -wal, -shm and -journal files. */
void rn_db_files_remove (const char *path);
/* Before the run: with --out, when db does not exist but the copy in the
 * out dir does (an earlier attempt elsewhere), start from that copy. */
int rn_shard_seed (const struct rn_shard *sh, const char *db, char **err);
/* After the run (db closed): a consistent copy of db into the out dir,
 * atomically; then db is removed (the copy is the shard's state). */
int rn_shard_publish (const struct rn_shard *sh, const char *db, char **err);
/* The run of sh's group and index in db: its id (0: none, -1: error),
 * job text and options (caller frees both). */
int64_t rn_shard_find_run (struct rn_db *db, const struct rn_shard *sh, char **text,
                           char **options, char **err);

/* ---- merge.c: guestkit merge, and snapshots of a database ---- */

/* A consistent copy of the database at src (its WAL included) into a new
 * file dest, in rollback-journal mode; -1 with *err. */
int rn_db_snapshot (const char *src, const char *dest, char **err);
int rn_cmd_merge (int argc, char **argv);

/* What a table is to the merge (merge.c's header). */
enum rn_mg_kind { RN_MG_RUNS, RN_MG_TASKS, RN_MG_UNDER_TASK, RN_MG_UNDER_RUN, RN_MG_OTHER };
/* A foreign key of a table of OUT. */
struct rn_mg_fk {
  char *col;                 /* the referencing column */
  char *ptable;              /* the referenced table */
  char *pcol;                /* the referenced column (NULL: its key) */
  int parent;                /* index of ptable, -1 if there is no such table */
};
/* A table of OUT, and what the shard being merged has of it. */
struct rn_mg_table {
  char *name;
  struct rn_strv cols;       /* OUT's columns, in order */
  char *pk;                  /* its INTEGER PRIMARY KEY (rowid) column, or NULL */
  struct rn_mg_fk *fks;
  size_t nfks;
  enum rn_mg_kind kind;
  int via;                   /* under a task or run: the fk toward it */
  int depth;                 /* tasks 0, steps 1, ... (parents first) */
  int in_shard;              /* the shard has this table */
  struct rn_strv scols;      /* the shard's columns (a subset of cols) */
  int64_t off;               /* this shard's rows: new id = old id + off */
};
/* OUT's tables. */
struct rn_mg_plan {
  struct rn_mg_table *t;
  size_t n;
  int runs, tasks;           /* indexes of the two fixed tables */
};
/* One merge: OUT, and the shard being merged. */
struct sqlite3;
struct sqlite3_stmt;
struct rn_merge {
  struct sqlite3 *h;         /* OUT, with the shard attached as "s" */
  struct rn_mg_plan p;
  const char *group;         /* the sharded run merged (--group, or the first shard's) */
  char *group_own;
  int64_t run;               /* its run in OUT, once known */
  const char *path;          /* the shard being merged */
  int64_t srun;              /* its run in the shard */
  int sindex;                /* its shard index */
  int64_t total;             /* tasks of the whole run */
  size_t added, replaced, same, conflicts;
  int quiet;
  int bad;                   /* something to report in the exit status */
};

/* ---- merge-plan.c: OUT's schema as the merge's plan; SQL helpers ---- */

/* "name" as an SQL identifier, quotes doubled; caller frees. */
char *rn_mg_qid (const char *name);
/* A statement on m's database, or NULL with *err (caller frees). */
struct sqlite3_stmt *rn_mg_prep (struct rn_merge *m, const char *sql, char **err);
/* Run sql (no rows wanted), binding n int64 parameters ?1, ?2, ...; 0, or
 * -1 with *err. */
int rn_mg_exec_i (struct rn_merge *m, char **err, const char *sql, int n, ...);
int rn_mg_exec_s (struct rn_merge *m, const char *sql, char **err);
/* The first column of the first row, ?1 bound to a (def if none). */
int64_t rn_mg_int_of (struct rn_merge *m, const char *sql, int64_t a, int64_t def);
void rn_mg_plan_free (struct rn_mg_plan *p);
/* The index of the table name (any case), or -1. */
int rn_mg_table_index (const struct rn_mg_plan *p, const char *name);
/* Columns of schema.table appended to cols; its rowid alias into *pk
 * (pk may be NULL); -1 with *err. */
int rn_mg_read_columns (struct rn_merge *m, const char *schema, const char *table,
                        struct rn_strv *cols, char **pk, char **err);
/* m->p made again from OUT's tables, their columns, keys and kinds; -1
 * with *err. */
int rn_mg_plan_load (struct rn_merge *m, char **err);

/* ---- merge-rows.c: a shard's tasks and rows into OUT ---- */

/* In the open transaction, with the shard attached and its run and
 * OUT's target run known; each 0, or -1 with *err.  In this order: */
/* Which of the shard's tasks are new, which OUT has (then decided), in
 * temp.m_tasks; counts m->added and m->replaced. */
int rn_mg_map_tasks (struct rn_merge *m, char **err);
/* The rows under the tasks being replaced go, children first. */
int rn_mg_drop_replaced (struct rn_merge *m, char **err);
/* Replaced tasks updated in place, new ones inserted. */
int rn_mg_put_tasks (struct rn_merge *m, char **err);
/* Every table under a task, parents first, then those under the run. */
int rn_mg_put_rows (struct rn_merge *m, char **err);

/* ---- slurm.c: guestkit slurm and guestkit k8s ---- */

int rn_cmd_slurm (int argc, char **argv);
int rn_cmd_k8s (int argc, char **argv);
/* guestkit test-tool: versions, accelerator, a scratch launch (test-tool.c). */
int rn_cmd_test_tool (int argc, char **argv);

/* ---- run-opts.c, run-cli.c: guestkit run ---- */

/* The options of one `guestkit run', as parsed (run-opts.c). */
struct rn_run_opts {
  const char *db;
  int workers, timeout, retries;   /* -1: not given */
  int check, quiet, verbose;
  int64_t resume;                   /* 0: a new run */
  struct rn_overrides ov;
  struct rn_shard shard;            /* --shard, --shards, --shard-group, --out */
  int shard_given, shards;          /* --shard given; --shards N (0: not) */
  int db_given;                     /* --db given */
};
/* --help text of guestkit run. */
void rn_run_usage (FILE *f);
/* Fills *o from argv; returns the index of the first job file, -1 after
 * printing why (exit 2), or -2 when --help was asked. */
int rn_run_parse_args (int argc, char **argv, struct rn_run_opts *o);
/* The options a run keeps, as a JSON object: caller frees. */
char *rn_run_options_json (const struct rn_run_opts *o);
/* Options kept by a run, for --resume: fill what argv did not give. */
void rn_run_options_read (const char *json, struct rn_run_opts *o);
int rn_cmd_run (int argc, char **argv);

#endif /* RN_SHARD_H */
