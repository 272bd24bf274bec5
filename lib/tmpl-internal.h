/*
 * tmpl-internal.h - what the files of the template language share:
 * tmpl.c (parser, evaluator, the API of tmpl.h), tmpl-value.c (values,
 * the render's arena and bounds, Go's printing and JSON), tmpl-func.c
 * (Go's builtins and sprig's functions, the function table) and
 * tmpl-step.c (step's ASN.1 and time functions). Not for other modules.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_TMPL_INTERNAL_H
#define CA_TMPL_INTERNAL_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <json-c/json.h>

#include "tmpl.h"

/* Node types. */
enum {
	N_LIST, N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_BREAK, N_CONTINUE,
	N_PIPE, N_CMD,
	/* operands */
	N_DOT, N_NIL, N_BOOL, N_INT, N_FLOAT, N_STR, N_FIELD, N_VAR, N_FUNC,
	N_PAREN, N_NAME,
};

/*
 * One node. Children are node indices (-1: none); lists are chained
 * through next. Meaning of a, b, c by type:
 *   LIST: a first item. TEXT: s, len (in src). ACTION: a pipe.
 *   IF, WITH, RANGE: a pipe, b list, c else list (or -1).
 *   PIPE: a first command; nvars declared or assigned (assign set for =)
 *     into slots v[0], v[1]. CMD: a first operand.
 *   FIELD: a first NAME. VAR: i slot, a first NAME. PAREN: b pipe,
 *   a first NAME. NAME: s, len (in src). FUNC: i function index.
 *   STR: s, len (in the string pool). BOOL, INT: i. FLOAT: f.
 */
struct node {
	int	 type;
	size_t	 off;		/* where it starts in src */
	int	 a, b, c, next;
	size_t	 s, len;
	int64_t	 i;
	double	 f;
	int	 nvars, assign, v[2];
};

struct ca_tmpl {
	char		*name;
	char		*src;
	size_t		 srclen;
	struct node	*nodes;
	int		 nnodes, cap;
	char		*pool;		/* decoded string literals */
	size_t		 poollen, poolcap;
	int		 nslots;	/* variables; slot 0 is $ */
	int		 root;
};


/*
 * A value: Go's invalid ("no value"), nil, bool, int, float64, string
 * (s, n: borrowed from the template, the data or the arena), or an
 * object or array (j, in the arena or the copied data).
 */
enum { V_NOVAL, V_NIL, V_BOOL, V_INT, V_FLOAT, V_STR, V_MAP, V_ARR, V_TIME };
struct val {
	int		 k;
	int64_t		 i;	/* bool, int; a time's Unix seconds */
	double		 f;
	const char	*s;
	size_t		 n;	/* string length; a time's nanoseconds */
	int		 tz;	/* a time's offset from UTC, seconds */
	struct json_object *j;
};

struct gofield {
	const char	*go, *json;
	int		 omitempty;
	char		 zero;
};

struct rstate {
	const struct ca_tmpl	*t;
	struct val		*slots;
	struct json_object	**arena;
	size_t			 narena, arenacap;
	char			*out;
	size_t			 outlen, outcap;
	long			 steps;
	size_t			 mem;
	int			 err;
	locale_t		 utf8;	/* for Unicode case mapping, on use */
};

struct buf {
	char	*p;
	size_t	 n, cap, max;
	int	 over;
};

/* A function of the language (tmpl-func.c's table). */
typedef int (*tfn)(struct rstate *, int, int, struct val *, struct val *);
struct func {
	const char	*name;
	int		 min, max;	/* argument count; max -1: any */
	tfn		 fn;
};

/* A function's definition: its checked arguments in, *out set. */
#define FN(name) static int name(struct rstate *st, int node, int argc, \
	struct val *argv, struct val *out)
/* The same, for a function tmpl-func.c's table names from another file. */
#define FN_SHARED(name) int name(struct rstate *st, int node, int argc, \
	struct val *argv, struct val *out)

/* In a function: argument v must be of Go kind kind, else return. */
#define WANT(v, kind) do {						\
	if (ca_tmpl_want(st, node, (v), (kind),				\
	    st->t->nodes[node].type == N_FUNC ?				\
	    ca_tmpl_fname((int)st->t->nodes[node].i) :			\
	    "argument") != 0)						\
		return st->err;						\
} while (0)

/* Go type names of what renders create; also markers in containers. */
extern const char ca_tmpl_gt_int[], ca_tmpl_gt_map[], ca_tmpl_gt_time[];
#define GT_INT	ca_tmpl_gt_int
#define GT_MAP	ca_tmpl_gt_map
#define GT_TIME	ca_tmpl_gt_time

/* Shared helpers (each commented where it is defined). */
int	 ca_tmpl_b64_decode(struct buf *b, const char *s, size_t n, size_t *at);
void	 ca_tmpl_b64_encode(struct buf *b, const unsigned char *s, size_t n);
void	 ca_tmpl_buf_add(struct buf *b, const char *s, size_t n);
int	 ca_tmpl_buf_fail(struct rstate *st, int node, struct buf *b);
void	 ca_tmpl_buf_fmt(struct buf *, const char *,
	    ...) __attribute__((format(printf, 2, 3)));
void	 ca_tmpl_buf_init(struct buf *b, struct rstate *st);
void	 ca_tmpl_buf_str(struct buf *b, const char *s);
int	 ca_tmpl_buf_val(struct rstate *st, int node, struct buf *b,
	    struct val *out);
int	 ca_tmpl_charge(struct rstate *st, int node, size_t n);
void	 ca_tmpl_clean_text(char *out, size_t len, const char *s, size_t n);
struct json_object	*ca_tmpl_copy_json(struct rstate *st, int node,
	    struct json_object *j, int depth);
int	 ca_tmpl_f_asn1Enc(struct rstate *, int, int, struct val *,
	    struct val *);
int	 ca_tmpl_f_asn1Marshal(struct rstate *, int, int, struct val *,
	    struct val *);
int	 ca_tmpl_f_asn1Seq(struct rstate *, int, int, struct val *,
	    struct val *);
int	 ca_tmpl_f_asn1Set(struct rstate *, int, int, struct val *,
	    struct val *);
int	 ca_tmpl_f_formatTime(struct rstate *, int, int, struct val *,
	    struct val *);
int	 ca_tmpl_f_lazy(struct rstate *, int, int, struct val *, struct val *);
int	 ca_tmpl_f_mustParseTime(struct rstate *, int, int, struct val *,
	    struct val *);
int	 ca_tmpl_f_now(struct rstate *, int, int, struct val *, struct val *);
int	 ca_tmpl_f_parseTime(struct rstate *, int, int, struct val *,
	    struct val *);
int	 ca_tmpl_f_toTime(struct rstate *, int, int, struct val *,
	    struct val *);
int	 ca_tmpl_f_toTimeLayout(struct rstate *, int, int, struct val *,
	    struct val *);
const struct func *ca_tmpl_func(int i);
const char	*ca_tmpl_fname(int i);
int	 ca_tmpl_func_lookup(const char *name, size_t len);
const struct gofield	*ca_tmpl_gofields(const char *type);
const char	*ca_tmpl_gotype_of(struct json_object *j);
int	 ca_tmpl_is_struct(const struct val *v);
struct val	 ca_tmpl_jval(struct json_object *j);
struct json_object	*ca_tmpl_keep(struct rstate *st, int node,
	    struct json_object *j);
void	 ca_tmpl_linecol(const struct ca_tmpl *t, size_t off, int *line,
	    int *col);
int	 ca_tmpl_map_get(const struct val *m, const char *k, size_t n,
	    struct json_object **e);
int	 ca_tmpl_marshal(struct buf *b, const struct val *v, int depth);
struct val	 ca_tmpl_mkbool(int b);
struct val	 ca_tmpl_mkint(int64_t i);
int	 ca_tmpl_mkstr(struct rstate *st, int node, const char *s, size_t n,
	    struct val *out);
int	 ca_tmpl_print_val(struct buf *b, const struct val *v, int depth);
void	 ca_tmpl_put_utf8(char *b, size_t *n, uint32_t r);
int	 ca_tmpl_rerr(struct rstate *, int, int, const char *,
	    ...) __attribute__((format(printf, 4, 5)));
size_t	 ca_tmpl_runelen(const char *s, size_t n);
const char	**ca_tmpl_sorted_keys(struct json_object *j, size_t *n);
int	 ca_tmpl_step(struct rstate *st, int node);
int	 ca_tmpl_steps(struct rstate *st, int node, size_t n);
int	 ca_tmpl_struct_member(const struct val *v, const struct gofield *g,
	    struct json_object **m);
int	 ca_tmpl_strval(struct rstate *st, int node, const struct val *v,
	    struct val *out);
int	 ca_tmpl_time_fields(const struct val *v, struct tm *tm);
int	 ca_tmpl_time_parse(const char *s, size_t n, struct val *v);
void	 ca_tmpl_time_text(char *buf, size_t len, const struct val *v,
	    int mode);
const char	*ca_tmpl_tname(const struct val *v);
int	 ca_tmpl_to_json(struct rstate *st, int node, const struct val *v,
	    struct json_object **out);
int	 ca_tmpl_truth(const struct val *v);
int	 ca_tmpl_want(struct rstate *st, int node, const struct val *v,
	    int kind, const char *what);

#endif /* CA_TMPL_INTERNAL_H */
