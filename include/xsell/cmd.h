/* cmd.h - xsell's commands, one file each (src/cmd/cmd_NAME.c, in the manner of
 * git's builtin/), and what they share: the settings, the database connection and
 * one parser of --flags. main.c holds the table. Each command gets the arguments
 * after its name (the environment's --flags already taken out) and returns the
 * process's exit status: 0, 1 on failure, 2 on a usage error. */
#ifndef XSELL_CMD_H
#define XSELL_CMD_H

#include <libpq-fe.h>

#include "xsell/config.h"

int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_events(int argc, char **argv);

/* The configuration, or -1 after saying what is wrong on stderr. */
int cmd_load_config(struct config *cfg);
/* A connection, or NULL after saying why on stderr. */
PGconn *cmd_connect(const struct config *cfg);

/* One --flag of a command: a number in min..max (whole when OPT_INT), or text. */
enum opt_type { OPT_DOUBLE, OPT_INT, OPT_TEXT };
struct cmd_opt {
    const char *flag;
    enum opt_type type;
    double min, max;
    void *out; /* double *, int64_t * or const char ** */
};

/* Reads argv: each --flag VALUE of opts into its out, the rest into pos (at most
 * max_pos, in order; a word starting with '-' is never positional). -1 after saying
 * what is wrong on stderr (an unknown flag, a value out of range, too many words). */
int cmd_parse(int argc, char **argv, const struct cmd_opt *opts, int nopts, const char **pos,
              int max_pos, int *npos);

#endif
