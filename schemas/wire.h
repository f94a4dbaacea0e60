/* guestkit wire protocol: what the library (core/) and the daemon
 * (guestd/) agree on, and nothing else.
 *
 * Every message on the virtio-serial channel is framed the same way:
 *
 *   offset  size  field
 *   ------  ----  ---------------------------------------------------------
 *   0       4     length L of what follows (big-endian), L <= GK_MESSAGE_MAX
 *   4       24    header, XDR: prog, vers, proc, direction, serial, status
 *   28      ...   body, XDR: the call's arguments (call), its return value
 *                 (reply, status OK) or struct gk_error (reply, status ERROR)
 *
 * A call with a FileIn argument is followed by a chunk stream from the
 * library; a reply to a call with a FileOut argument is followed by a chunk
 * stream from the daemon.  A chunk stream is a series of frames
 *
 *   4 bytes length L, then XDR { int cancel; opaque data<GK_CHUNK_MAX>; }
 *
 * ending with a chunk whose data is empty; its cancel field says whether the
 * transfer completed (0) or was cancelled (1).  The receiver of a stream may
 * ask the sender to stop by writing the bare word GK_CANCEL_FLAG; the sender
 * then ends the stream with a cancel chunk.  When the daemon is up it writes
 * the bare word GK_LAUNCH_FLAG once.
 *
 * Arguments, return values and structs are encoded generically from the
 * descriptors in the action table (schemas/actions.tsv): one XDR item per
 * argument in table order, FileIn/FileOut arguments omitted; a BufferIn
 * is an XDR opaque<> (a length word, the bytes, padding to 4).  Decoders treat
 * the bytes as hostile: every length is bounded by the bytes that remain.
 */
#ifndef GK_WIRE_H
#define GK_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <rpc/types.h>
#include <rpc/xdr.h>

#define GK_PROGRAM       0x2000F5F5u
#define GK_PROTOCOL_VERS 1u
#define GK_LAUNCH_FLAG   0xf5f55ff5u
#define GK_CANCEL_FLAG   0xffffeeeeu
#define GK_MESSAGE_MAX   (4u * 1024 * 1024)
#define GK_CHUNK_MAX     (1024u * 1024)
#define GK_ERROR_LEN     4096          /* longest error string accepted */
#define GK_HEADER_LEN    24            /* six XDR words */

enum gk_direction { GK_CALL = 0, GK_REPLY = 1 };
enum gk_status { GK_OK = 0, GK_ERROR = 1 };

/* Procedure outside the action table: the first call to an appliance
 * restored from a snapshot (see core/snapshot.c).  Its arguments are
 * struct gk_resume; the reply is an empty OK or an error. */
#define GK_PROC_RESUME 0x7fff0001u
#define GK_SEED_LEN 64

struct gk_resume {
  int64_t time_sec;          /* host CLOCK_REALTIME, to set the guest clock */
  int32_t time_nsec;
  char *seed;                /* GK_SEED_LEN random bytes for the guest RNG */
  u_int seed_len;
  int32_t verbose;           /* the handle's verbose flag */
  int32_t ndisks;            /* hot-added disks to wait for: sda, sdb, ... */
};

/* Message header, in wire order. */
struct gk_header {
  uint32_t prog;      /* GK_PROGRAM */
  uint32_t vers;      /* GK_PROTOCOL_VERS */
  uint32_t proc;      /* procedure number from the action table */
  uint32_t direction; /* enum gk_direction */
  uint32_t serial;    /* chosen by the caller, echoed in the reply */
  uint32_t status;    /* enum gk_status (replies only) */
};

/* Body of an error reply. */
struct gk_error {
  char *message;      /* "call: cause", malloc'd by the decoder */
  int32_t errnum;     /* errno in the appliance, 0 when none */
};

/* Argument types of the action table. */
enum gk_argtype {
  GK_ARG_STRING, GK_ARG_OPTSTRING, GK_ARG_STRINGLIST, GK_ARG_DEVICELIST,
  GK_ARG_BOOL, GK_ARG_INT, GK_ARG_INT64, GK_ARG_FILEIN, GK_ARG_FILEOUT,
  GK_ARG_DEVICE, GK_ARG_DEV_OR_PATH, GK_ARG_PATHNAME,
  GK_ARG_BUFFERIN,           /* counted bytes: XDR opaque<> */
};

/* Return types of the action table. */
enum gk_rettype {
  GK_RET_ERR, GK_RET_INT, GK_RET_INT64, GK_RET_BOOL, GK_RET_CONSTSTRING,
  GK_RET_CONSTOPTSTRING, GK_RET_STRING, GK_RET_STRINGLIST,
  GK_RET_HASHTABLE, GK_RET_BUFFEROUT, GK_RET_STRUCT, GK_RET_STRUCTLIST,
};

/* Field types of the struct table. */
enum gk_fieldtype {
  GK_F_STRING, GK_F_UUID, GK_F_BYTES, GK_F_INT64, GK_F_INT32, GK_F_UINT32,
  GK_F_CHAR, GK_F_OPTPERCENT, GK_F_BUFFER,
};

struct gk_field {
  const char *name;          /* field name in C and in docs */
  enum gk_fieldtype type;
  size_t offset;             /* offsetof the field (the data pointer for Buffer) */
  size_t len_offset;         /* Buffer only: offsetof NAME_len */
};

struct gk_struct {
  const char *name;          /* "stat", "lvm_pv", ... */
  size_t size;               /* sizeof (struct guestfs_NAME) */
  size_t nfields;
  const struct gk_field *fields;
};

struct gk_arg {
  const char *name;
  enum gk_argtype type;
};

/* Where a call may run (bit set). */
#define GK_ST_CONFIG    0x1u
#define GK_ST_LAUNCHING 0x2u
#define GK_ST_READY     0x4u
#define GK_ST_BUSY      0x8u

struct gk_action {
  const char *name;          /* "mount" */
  int proc;                  /* wire procedure number, -1 for library calls */
  enum gk_rettype ret;
  const struct gk_struct *rstruct; /* RStruct / RStructList only */
  size_t nargs;
  const struct gk_arg *args;
  unsigned states;           /* GK_ST_* bits */
  int done;                  /* 0: not supported yet */
  const char *group;         /* optional group, NULL when always present */
  const char *category;
  const char *summary;
};

/* One argument value, typed by enum gk_argtype. */
union gk_val {
  char *s;                   /* String, OptString (may be NULL), Device, ... */
  char **sl;                 /* StringList, DeviceList: NULL-terminated */
  int i;                     /* Bool, Int */
  int64_t i64;               /* Int64 */
  struct { char *buf; size_t len; } b;  /* BufferIn: len bytes, any value */
};

/* A generic struct list; every guestfs_NAME_list has this layout. */
struct gk_list {
  uint32_t len;
  void *val;
};

/* One return value, typed by enum gk_rettype. */
union gk_retval {
  int i;                     /* RInt, RBool */
  int64_t i64;               /* RInt64 */
  char *s;                   /* RString */
  char **sl;                 /* RStringList, RHashtable: NULL-terminated */
  struct { char *buf; size_t len; } b;  /* RBufferOut */
  void *st;                  /* RStruct: malloc'd struct guestfs_NAME */
  struct gk_list *list;      /* RStructList */
};

/* Generated tables (schemas/actions-gen.c). */
extern const struct gk_action gk_actions[];
extern const size_t gk_nactions;
extern const struct gk_struct gk_structs[];
extern const size_t gk_nstructs;

/* wire.c: lookup */
const struct gk_action *gk_action_by_proc (int proc);
const struct gk_action *gk_action_by_name (const char *name);

/* wire.c: XDR codecs.  Each returns TRUE on success.  Decoding allocates;
 * the matching gk_free_* releases what was decoded (also after a failed
 * decode).  `limit' bounds lengths and counts to the bytes in the message. */
bool_t gk_xdr_header (XDR *xdrs, struct gk_header *h);
bool_t gk_xdr_error (XDR *xdrs, struct gk_error *e);
bool_t gk_xdr_args (XDR *xdrs, const struct gk_action *a, union gk_val *vals,
                    size_t limit);
bool_t gk_xdr_ret (XDR *xdrs, const struct gk_action *a, union gk_retval *r,
                   size_t limit);
bool_t gk_xdr_struct (XDR *xdrs, const struct gk_struct *s, void *base);
bool_t gk_xdr_chunk (XDR *xdrs, int *cancel, char **data, u_int *len);
bool_t gk_xdr_resume (XDR *xdrs, struct gk_resume *r);

void gk_free_args (const struct gk_action *a, union gk_val *vals);
void gk_free_ret (const struct gk_action *a, union gk_retval *r);
void gk_free_struct_fields (const struct gk_struct *s, void *base);
void gk_free_strings (char **sl);

/* Big-endian word helpers for the framing. */
static inline void
gk_put_u32 (unsigned char *p, uint32_t v)
{
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static inline uint32_t
gk_get_u32 (const unsigned char *p)
{
  return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
         ((uint32_t) p[2] << 8) | p[3];
}

#endif /* GK_WIRE_H */
