/* xsell forecast FILE: forecasts each series of a CSV (model_forecast.h). */
#include <math.h>

#include "xsell/cmd.h"
#include "xsell/csv.h"
#include "xsell/model_forecast.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

/* Writes one forecast as CSV rows: id, model, step, mean, then lo/hi per level. */
static void print_forecast(const char *id, const struct forecast *f)
{
    for (int i = 0; i < f->h; i++) {
        printf("%s,\"%s\",%d,%.10g", id, f->model, i + 1, f->mean[i]);
        for (int l = 0; l < f->nlevels; l++)
            printf(",%.10g,%.10g", f->lo[l][i], f->hi[l][i]);
        printf("\n");
    }
}

/* Parses "80,95" into levels (each in (0, 100)). */
static int parse_levels(const char *s, double *levels, int *n)
{
    *n = 0;
    while (*s && *n < FC_MAX_LEVELS) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        double v;
        if (strparse_double(s, len, &v) || !(v > 0 && v < 100))
            return -1;
        levels[(*n)++] = v;
        s += len + (comma ? 1 : 0);
    }
    return *n > 0 && !*s ? 0 : -1;
}

struct series {
    char *id;
    double *y;
    int n;
};

static bool never_negative(const struct series *s)
{
    for (int t = 0; t < s->n; t++)
        if (s->y[t] < 0)
            return false;
    return true;
}

/* Every series' forecast, its intervals calibrated on the backtests of all the
 * file's series (each on its last h values, fitted on those before: see
 * fc_calibration in model_forecast.h), as CSV on stdout. */
static int forecast_all(const struct series *all, size_t nseries, int h, int period,
                        const double *levels, int nlevels, enum fc_method method)
{
    struct forecast *f = xmalloc(sizeof(*f));
    struct fc_calibration cal;
    fc_calibration_init(&cal, levels, nlevels);
    for (size_t i = 0; i < nseries; i++)
        fc_calibration_add_backtest(&cal, all[i].y, all[i].n, period, h, method, 4);
    fc_calibration_finish(&cal);
    printf("id,model,step,mean");
    for (int l = 0; l < nlevels; l++)
        printf(",lo%g,hi%g", levels[l], levels[l]);
    printf("\n");
    for (size_t i = 0; i < nseries; i++) {
        const struct series *s = &all[i];
        if (forecast_auto(s->y, s->n, period, h, levels, nlevels, method, f) != 0)
            continue;
        forecast_calibrate(f, &cal, never_negative(s));
        print_forecast(s->id, f);
        if (f->note[0])
            fprintf(stderr, "xsell: %s: %s\n", s->id, f->note);
    }
    fprintf(stderr, "forecast: %zu series; intervals calibrated on %d backtest errors\n", nseries,
            cal.n);
    fc_calibration_release(&cal);
    free(f);
    return 0;
}

int cmd_forecast(int argc, char **argv)
{
    double horizon = 0, period = 1, levels[FC_MAX_LEVELS] = {80, 95};
    int nlevels = 2, method = FC_AUTO;
    const char *file = NULL, *method_name = NULL, *level_text = NULL;
    const struct cmd_opt opts[] = {
        {"--horizon", OPT_DOUBLE, 1, FC_MAX_H, &horizon},
        {"--period", OPT_DOUBLE, 1, FC_MAX_PERIOD, &period},
        {"--method", OPT_TEXT, 0, 0, &method_name},
        {"--level", OPT_TEXT, 0, 0, &level_text},
    };
    int npos;
    if (cmd_parse(argc, argv, opts, (int)ARRAY_SIZE(opts), &file, 1, &npos))
        goto usage;
    if (method_name && (method = forecast_method_parse(method_name)) < 0) {
        fprintf(stderr, "xsell: --method is auto, ets, theta, comb, snaive, ses or croston\n");
        return 2;
    }
    if (level_text && parse_levels(level_text, levels, &nlevels)) {
        fprintf(stderr, "xsell: --level wants percentages in (0, 100), e.g. 80,95\n");
        return 2;
    }
    if (!file || horizon < 1 || horizon != floor(horizon) || period != floor(period))
        goto usage;
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!in) {
        perror(file);
        return 1;
    }
    struct csv c;
    csv_init(&c, in);
    struct series *all = NULL;
    size_t cap = 0, nseries = 0;
    int rc = 0, r;
    while ((r = csv_next(&c)) > 0) {
        if (c.nfields < 2) {
            fprintf(stderr, "xsell: %s:%ld: want an id and at least one value\n", file, c.line);
            rc = 1;
            break;
        }
        xgrow((void **)&all, &cap, nseries + 1, sizeof(*all));
        struct series *sr = &all[nseries++];
        size_t idlen, ycap = 0;
        const char *id = csv_field(&c, 0, &idlen);
        *sr = (struct series){.id = xstrndup(id, idlen)};
        for (int k = 1; k < c.nfields; k++) {
            size_t len;
            const char *v = csv_field(&c, k, &len);
            if (len == 0 && k == c.nfields - 1)
                break; /* a trailing comma */
            xgrow((void **)&sr->y, &ycap, (size_t)sr->n + 1, sizeof(double));
            if (strparse_double(v, len, &sr->y[sr->n])) {
                fprintf(stderr, "xsell: %s:%ld: value %d is not a number: \"%.40s\"\n", file,
                        c.line, k, v);
                rc = 1;
                break;
            }
            sr->n++;
        }
        if (rc)
            break;
    }
    if (r < 0) {
        fprintf(stderr, "xsell: %s:%ld: %s\n", file, c.line, c.err);
        rc = 1;
    }
    csv_release(&c);
    if (in != stdin)
        fclose(in);
    if (rc == 0)
        rc = forecast_all(all, nseries, (int)horizon, (int)period, levels, nlevels,
                          (enum fc_method)method);
    for (size_t i = 0; i < nseries; i++) {
        free(all[i].id);
        free(all[i].y);
    }
    free(all);
    return rc;
usage:
    fprintf(stderr, "usage: xsell forecast FILE --horizon H [--period M] [--level 80,95]\n"
                    "                      [--method auto|ets|theta|comb|snaive|ses|croston]\n"
                    "  FILE: CSV, one series a line: id, then its values in time order\n");
    return 2;
}
