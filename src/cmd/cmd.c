/* cmd.c - what the commands share (cmd.h). */
#include "xsell/cmd.h"

#include "xsell/db.h"
#include "xsell/membudget.h"
#include "xsell/strparse.h"

int cmd_load_config(struct config *cfg)
{
    char err[300];
    if (config_load(cfg, err, sizeof(err))) {
        fprintf(stderr, "xsell: %s\n", err);
        config_release(cfg);
        return -1;
    }
    membudget_set(cfg->memory_max);
    return 0;
}

PGconn *cmd_connect(const struct config *cfg)
{
    char err[512];
    PGconn *c = db_connect(cfg->database_url, err, sizeof(err));
    if (!c)
        fprintf(stderr, "xsell: cannot connect to the database: %s\n", err);
    return c;
}

static int take_value(const struct cmd_opt *o, const char *v)
{
    double d;
    int64_t i;
    switch (o->type) {
    case OPT_TEXT:
        *(const char **)o->out = v;
        return 0;
    case OPT_INT:
        if (strparse_int64(v, strlen(v), (int64_t)o->min, (int64_t)o->max, &i) == 0) {
            *(int64_t *)o->out = i;
            return 0;
        }
        fprintf(stderr, "xsell: %s must be an integer in %.0f..%.0f, got \"%s\"\n", o->flag, o->min,
                o->max, v);
        return -1;
    case OPT_DOUBLE:
        if (strparse_double(v, strlen(v), &d) == 0 && d >= o->min && d <= o->max) {
            *(double *)o->out = d;
            return 0;
        }
        fprintf(stderr, "xsell: %s must be a number in %g..%g, got \"%s\"\n", o->flag, o->min,
                o->max, v);
        return -1;
    }
    return -1;
}

int cmd_parse(int argc, char **argv, const struct cmd_opt *opts, int nopts, const char **pos,
              int max_pos, int *npos)
{
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (*npos == max_pos) {
                fprintf(stderr, "xsell: unexpected \"%s\"\n", a);
                return -1;
            }
            pos[(*npos)++] = a;
            continue;
        }
        int k = 0;
        while (k < nopts && strcmp(opts[k].flag, a) != 0)
            k++;
        if (k == nopts) {
            fprintf(stderr, "xsell: unknown option %s\n", a);
            return -1;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "xsell: %s needs a value\n", a);
            return -1;
        }
        if (take_value(&opts[k], argv[++i]))
            return -1;
    }
    return 0;
}
