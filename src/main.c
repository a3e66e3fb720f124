/* xsell: the command table (serve, migrate, import, gen, train) and process setup. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>

#include "xsell/app.h"
#include "xsell/common.h"
#include "xsell/config.h"
#include "xsell/csv.h"
#include "xsell/xalloc.h"
#include "xsell/db.h"
#include "xsell/gen.h"
#include "xsell/http_server.h"
#include "xsell/import.h"
#include "xsell/log.h"
#include "xsell/mat.h"
#include "xsell/eval_json.h"
#include "xsell/history_load.h"
#include "xsell/migrate.h"
#include "xsell/model_assoc.h"
#include "xsell/model_forecast.h"
#include "xsell/runs.h"
#include "xsell/strparse.h"
#include "xsell/trainer.h"

#define SHUTDOWN_GRACE_S 10.0

/* Flags that stand for environment settings (DESIGN.md): a flag overrides. */
static const struct {
    const char *flag, *env;
} env_flags[] = {
    {"--database", "DATABASE_URL"},   {"--listen", "XSELL_LISTEN"},
    {"--threads", "XSELL_THREADS"},   {"--as-of", "XSELL_AS_OF"},
    {"--retrain", "XSELL_RETRAIN_S"},
};

/* Moves known --flag VALUE pairs into the environment; returns the remaining argc. */
static int take_env_flags(int argc, char **argv)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        bool taken = false;
        for (size_t k = 0; k < ARRAY_SIZE(env_flags) && i + 1 < argc; k++) {
            if (strcmp(argv[i], env_flags[k].flag) == 0) {
                setenv(env_flags[k].env, argv[i + 1], 1);
                i++;
                taken = true;
                break;
            }
        }
        if (!taken)
            argv[out++] = argv[i];
    }
    return out;
}

static int load_config(struct config *cfg)
{
    char err[300];
    if (config_load(cfg, err, sizeof(err))) {
        fprintf(stderr, "xsell: %s\n", err);
        config_release(cfg);
        return -1;
    }
    return 0;
}

static PGconn *connect_or_say(const struct config *cfg)
{
    char err[512];
    PGconn *c = db_connect(cfg->database_url, err, sizeof(err));
    if (!c)
        fprintf(stderr, "xsell: cannot connect to the database: %s\n", err);
    return c;
}

static int stop_pipe[2];

static void on_stop_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;
    if (write(stop_pipe[1], &b, 1) < 0) {
        /* nothing to do: a stop is already pending */
    }
    errno = saved;
}

static int cmd_serve(int argc, char **argv)
{
    static struct app app; /* process lifetime; large (metrics) */
    UNUSED(argv);
    if (argc != 0) {
        fprintf(stderr, "usage: xsell serve [--listen HOST:PORT] [--threads N]\n");
        return 2;
    }
    if (load_config(&app.cfg))
        return 1;
    if (app.cfg.nkeys == 0 && !app.cfg.auth_none) {
        fprintf(stderr, "xsell: XSELL_API_KEYS is empty. Set role:key pairs, or "
                        "XSELL_AUTH=none to serve without keys on purpose.\n");
        config_release(&app.cfg);
        return 1;
    }
    if (app.cfg.auth_none)
        log_warn("XSELL_AUTH=none: every request is treated as admin");
    /* Block the signals before any thread starts, so that only sigwait() below sees
     * them (DESIGN.md: a signal landing on a pool thread hangs the exit). */
    /* Any thread may be handed SIGINT/SIGTERM (libraries start threads of their own
     * before main runs, with every signal open), so the handler only writes to a
     * pipe and main reads it. It also takes back SIGINT from a shell without job
     * control, which starts background jobs with SIGINT ignored. */
    if (pipe(stop_pipe) != 0) {
        perror("pipe");
        config_release(&app.cfg);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    mat_init();

    registry_init(&app.reg);
    db_pool_init(&app.pool, app.cfg.database_url, app.cfg.db_pool);
    metrics_init(&app.metrics);
    ratelimit_init(&app.limiter, app.cfg.rate_rps, app.cfg.rate_burst);
    recent_init(&app.recent);
    int rc = 1;
    struct http_server *http = NULL;
    if (trainer_start(&app.trainer, &app.cfg, &app.reg) == 0) {
        http = http_server_start(&app);
        if (http) {
            unsigned char sig = 0;
            while (read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR)
                ;
            log_info("signal %d: stopping (finishing requests in flight)", sig);
            http_server_stop(http, SHUTDOWN_GRACE_S);
            rc = 0;
        }
        trainer_stop(&app.trainer);
    }
    ratelimit_release(&app.limiter);
    recent_release(&app.recent);
    db_pool_release(&app.pool);
    registry_release(&app.reg);
    config_release(&app.cfg);
    log_info("stopped");
    return rc;
}

static int cmd_migrate(int argc, char **argv)
{
    struct config cfg;
    UNUSED(argv);
    if (argc != 0) {
        fprintf(stderr, "usage: xsell migrate\n");
        return 2;
    }
    if (load_config(&cfg))
        return 1;
    PGconn *c = connect_or_say(&cfg);
    int n = c ? migrate_apply(c) : -1;
    PQfinish(c);
    config_release(&cfg);
    if (n < 0)
        return 1;
    printf(n ? "migrate: applied %d file(s)\n" : "migrate: up to date\n", n);
    return 0;
}

static int cmd_import(int argc, char **argv)
{
    struct config cfg;
    enum ingest_kind kind;
    if (argc != 2 || (strcmp(argv[0], "products") && strcmp(argv[0], "orders"))) {
        fprintf(stderr, "usage: xsell import products|orders FILE   (FILE - reads stdin)\n");
        return 2;
    }
    kind = strcmp(argv[0], "products") == 0 ? INGEST_PRODUCTS : INGEST_ORDERS;
    FILE *in = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    if (load_config(&cfg)) {
        if (in != stdin)
            fclose(in);
        return 1;
    }
    PGconn *c = connect_or_say(&cfg);
    struct ingest_result res;
    char err[600];
    int rc = 1;
    double t0 = mono_seconds();
    if (c && import_csv(c, kind, in, argv[1], isatty(STDERR_FILENO), &res, err, sizeof(err)))
        fprintf(stderr, "xsell: import rejected, nothing was written: %s\n", err);
    else if (c)
        rc = 0;
    double secs = mono_seconds() - t0;
    if (rc == 0 && kind == INGEST_PRODUCTS)
        printf("import products: %ld rows, %ld created, %ld updated, %ld unchanged in %.2fs\n",
               res.rows, res.products_created, res.products_updated,
               res.rows - res.products_created - res.products_updated, secs);
    else if (rc == 0)
        printf("import orders: %ld lines in %.2fs (%.0f lines/s): %ld orders created, "
               "%ld already present, %ld lines created, %ld new products, %ld new customers\n",
               res.rows, secs, secs > 0 ? res.rows / secs : 0.0, res.orders_created,
               res.orders_existing, res.lines_created, res.products_created, res.customers_created);
    PQfinish(c);
    config_release(&cfg);
    if (in != stdin)
        fclose(in);
    return rc;
}

static int cmd_train(int argc, char **argv)
{
    struct config cfg;
    UNUSED(argv);
    if (argc != 0) {
        fprintf(stderr, "usage: xsell train [--as-of DATE]\n");
        return 2;
    }
    if (load_config(&cfg))
        return 1;
    PGconn *c = connect_or_say(&cfg);
    int64_t version = 0;
    struct snapshot *s = NULL;
    char err[512];
    int rc = 1;
    if (c && runs_create(c, "cli", &version) == 0 && runs_start(c, version) == 0) {
        if (train_build(c, &cfg, version, NULL, &s, err, sizeof(err)) == 0) {
            runs_finish(c, version, true, s->metrics_json, NULL);
            printf("%s\n", s->metrics_json);
            snapshot_unref(s);
            rc = 0;
        } else {
            runs_finish(c, version, false, NULL, err);
            fprintf(stderr, "xsell: training failed: %s\n", err);
        }
    }
    PQfinish(c);
    config_release(&cfg);
    return rc;
}

static int cmd_gen(int argc, char **argv)
{
    struct gen_params p;
    gen_defaults(&p);
    if (argc < 1)
        goto usage;
    for (int i = 1; i < argc; i++) {
        int64_t v;
        if (i + 1 < argc && strcmp(argv[i], "--seed") == 0 &&
            strparse_int64(argv[i + 1], strlen(argv[i + 1]), 0, INT64_MAX, &v) == 0) {
            p.seed = (uint64_t)v;
            i++;
        } else if (i + 1 < argc && strcmp(argv[i], "--customers") == 0 &&
                   strparse_int64(argv[i + 1], strlen(argv[i + 1]), 10, 10000000, &v) == 0) {
            p.customers = (int)v;
            i++;
        } else {
            goto usage;
        }
    }
    char err[300];
    struct gen_stats st;
    if (gen_write(argv[0], &p, &st, err, sizeof(err))) {
        fprintf(stderr, "xsell: gen: %s\n", err);
        return 1;
    }
    printf("gen: wrote %s/products.csv (%d products), %s/orders.csv (%ld lines, %ld orders, "
           "%d customers) and %s/truth.json\n",
           argv[0], st.products, argv[0], st.lines, st.orders, st.customers, argv[0]);
    return 0;
usage:
    fprintf(stderr, "usage: xsell gen DIR [--seed N] [--customers N]\n");
    return 2;
}

/* `xsell rules`: every association rule as CSV, for analysts. */
struct rules_out {
    const struct idmap *names;
    size_t nbaskets;
    const int32_t *item_count;
};

static void csv_put(const char *s)
{
    if (strpbrk(s, ",\"\n\r|")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
}

static void print_rule(const int32_t *lhs, int nlhs, int32_t rhs, int32_t count,
                       int32_t lhs_count, void *ctx)
{
    const struct rules_out *o = ctx;
    for (int i = 0; i < nlhs; i++) {
        if (i)
            putchar('|');
        csv_put(idmap_key(o->names, lhs[i]));
    }
    putchar(',');
    csv_put(idmap_key(o->names, rhs));
    double conf = (double)count / lhs_count;
    double supp_rhs = (double)o->item_count[rhs] / (double)o->nbaskets;
    printf(",%d,%.6f,%.6f,%.6f\n", count, (double)count / (double)o->nbaskets, conf,
           conf / supp_rhs);
}

/* Baskets from a file of one basket per line, items comma-separated (Groceries). */
static int read_basket_file(const char *path, struct idmap *names, struct arena *a,
                            struct baskets *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    struct csv c;
    size_t n = 0, ni = 0, cap_b = 0, cap_i = 0;
    int32_t *first = NULL, *items = NULL;
    int got;
    csv_init(&c, f);
    while ((got = csv_next(&c)) > 0) {
        xgrow((void **)&first, &cap_b, n + 2, sizeof(int32_t));
        first[n] = (int32_t)ni;
        for (int k = 0; k < c.nfields; k++) {
            size_t len;
            const char *name = csv_field(&c, k, &len);
            if (!len)
                continue;
            int32_t id = idmap_put(names, name, len, NULL);
            xgrow((void **)&items, &cap_i, ni + 1, sizeof(int32_t));
            basket_add(items, (size_t)first[n], &ni, id);
        }
        n++;
    }
    if (got < 0)
        fprintf(stderr, "xsell: %s:%ld: %s\n", path, c.line, c.err);
    csv_release(&c);
    fclose(f);
    if (got < 0) {
        free(first);
        free(items);
        return -1;
    }
    int32_t *fa = arena_array(a, n + 1, sizeof(int32_t));
    int32_t *ia = arena_array(a, ni + 1, sizeof(int32_t));
    if (n)
        memcpy(fa, first, n * sizeof(int32_t));
    fa[n] = (int32_t)ni;
    if (ni)
        memcpy(ia, items, ni * sizeof(int32_t));
    free(first);
    free(items);
    *b = (struct baskets){n, idmap_size(names), fa, ia};
    return 0;
}

static int parse_double_flag(const char *flag, const char *v, double min, double max, double *out)
{
    if (strparse_double(v, strlen(v), out) || *out < min || *out > max) {
        fprintf(stderr, "xsell: %s must be a number in %g..%g, got \"%s\"\n", flag, min, max, v);
        return -1;
    }
    return 0;
}

static int cmd_rules(int argc, char **argv)
{
    struct assoc_params p = {.min_support = 0.01, .min_confidence = 0.5, .min_len = 1,
                             .max_len = 10};
    const char *basket_file = NULL;
    for (int i = 0; i < argc; i++) {
        int64_t v;
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!next)
            goto usage;
        if (strcmp(argv[i], "--min-support") == 0) {
            if (parse_double_flag(argv[i], next, 1e-9, 1, &p.min_support))
                return 2;
        } else if (strcmp(argv[i], "--min-confidence") == 0) {
            if (parse_double_flag(argv[i], next, 0, 1, &p.min_confidence))
                return 2;
        } else if (strcmp(argv[i], "--max-len") == 0 || strcmp(argv[i], "--min-len") == 0) {
            if (strparse_int64(next, strlen(next), 1, 16, &v)) {
                fprintf(stderr, "xsell: %s must be an integer in 1..16\n", argv[i]);
                return 2;
            }
            *(argv[i][3] == 'a' ? &p.max_len : &p.min_len) = (int)v;
        } else if (strcmp(argv[i], "--baskets") == 0) {
            basket_file = next;
        } else {
            goto usage;
        }
        i++;
    }
    struct arena a;
    struct history h;
    struct baskets b;
    struct idmap names;
    const struct idmap *ids;
    arena_init(&a);
    history_init(&h);
    idmap_init(&names);
    int rc = 1;
    if (basket_file) {
        if (read_basket_file(basket_file, &names, &a, &b))
            goto out;
        ids = &names;
    } else {
        struct config cfg;
        char err[512];
        if (load_config(&cfg))
            goto out;
        PGconn *c = connect_or_say(&cfg);
        int loaded = c ? history_load(c, cfg.as_of, &h, err, sizeof(err)) : -1;
        PQfinish(c);
        config_release(&cfg);
        if (loaded) {
            if (c)
                fprintf(stderr, "xsell: %s\n", err);
            history_init(&h);
            goto out;
        }
        baskets_from_history(&h, &a, &b);
        ids = &h.products;
    }
    struct itemsets sets;
    assoc_mine(&b, &p, &sets);
    int32_t *item_count = arena_array(&a, b.nitems + 1, sizeof(int32_t));
    for (size_t i = 0; i < sets.n; i++)
        if (sets.first[i + 1] - sets.first[i] == 1)
            item_count[sets.items[sets.first[i]]] = sets.count[i];
    struct rules_out o = {ids, b.n, item_count};
    printf("lhs,rhs,count,support,confidence,lift\n");
    size_t n = assoc_rules(&sets, &b, &p, print_rule, &o);
    fprintf(stderr, "rules: %zu baskets, %zu frequent itemsets, %zu rules\n", b.n, sets.n, n);
    itemsets_release(&sets);
    rc = 0;
out:
    history_release(&h);
    idmap_release(&names);
    arena_release(&a);
    return rc;
usage:
    fprintf(stderr, "usage: xsell rules [--min-support S] [--min-confidence C] [--min-len N] "
                    "[--max-len N] [--baskets FILE]\n");
    return 2;
}

/* The serving models fitted on the whole history, for evaluations that judge them
 * against planted truth rather than a holdout. */
static cJSON *eval_price_cli(struct snapshot *s, const struct model_params *mp,
                             const struct config *cfg, const char *truth_path, char *err,
                             size_t errlen)
{
    struct model_figures figs;
    struct price_truth t;
    if (models_fit(s, mp, &figs, err, errlen) || price_truth_load(truth_path, &t, err, errlen))
        return NULL;
    struct price_guard g = {.max_change = cfg->price_max_change,
                            .min_margin = cfg->price_min_margin,
                            .floor = NAN,
                            .ceiling = NAN};
    struct eval_price_result r;
    int rc = eval_price(s, &t, &g, &r, err, errlen);
    price_truth_release(&t);
    return rc ? NULL : eval_price_json(&r);
}

static int cmd_eval(int argc, char **argv)
{
    double days = 28;
    const char *truth = NULL;
    static const char *const kinds[] = {"recommend", "upsell", "churn", "price"};
    int what = -1;
    for (int k = 0; argc >= 1 && k < (int)ARRAY_SIZE(kinds); k++)
        if (strcmp(argv[0], kinds[k]) == 0)
            what = k;
    if (what < 0)
        goto usage;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--holdout-days") == 0) {
            if (parse_double_flag(argv[i], argv[i + 1], 1, 3650, &days))
                return 2;
            i++;
        } else if (i + 1 < argc && strcmp(argv[i], "--truth") == 0 && what == 3) {
            truth = argv[++i];
        } else {
            goto usage;
        }
    }
    if (what == 3 && !truth)
        goto usage;
    struct config cfg;
    char err[512];
    if (load_config(&cfg))
        return 1;
    struct snapshot *s = snapshot_new();
    const struct history *h = &s->hist;
    PGconn *c = connect_or_say(&cfg);
    int rc = 1;
    if (!c || history_load(c, cfg.as_of, &s->hist, err, sizeof(err))) {
        if (c)
            fprintf(stderr, "xsell: %s\n", err);
        history_init(&s->hist); /* released by history_load; keep unref valid */
    } else {
        struct model_params mp;
        train_model_params(&cfg, cfg.as_of > 0 ? cfg.as_of : h->t_max, &mp);
        struct eval_result ev;
        struct eval_upsell_result eu;
        struct eval_churn_result ec;
        struct churn_fit_params cp = {.as_of = h->t_max,
                                      .horizon_days = cfg.churn_horizon_days,
                                      .discount = cfg.churn_discount};
        cJSON *j = NULL;
        if (what == 0 && eval_recommend(h, days, &mp, &ev, err, sizeof(err)) == 0)
            j = eval_json(&ev, days);
        else if (what == 1 && eval_upsell(h, days, &mp, &eu, err, sizeof(err)) == 0)
            j = eval_upsell_json(&eu, days);
        else if (what == 2 && eval_churn(h, days, &cp, &ec, err, sizeof(err)) == 0)
            j = eval_churn_json(&ec, days);
        else if (what == 3)
            j = eval_price_cli(s, &mp, &cfg, truth, err, sizeof(err));
        if (!j) {
            fprintf(stderr, "xsell: eval: %s\n", err);
        } else {
            char *text = cJSON_Print(j);
            printf("%s\n", text);
            free(text);
            cJSON_Delete(j);
            rc = 0;
        }
    }
    PQfinish(c);
    snapshot_unref(s);
    config_release(&cfg);
    return rc;
usage:
    fprintf(stderr, "usage: xsell eval recommend|upsell|churn [--holdout-days N]\n"
                    "       xsell eval price --truth TRUTH.json   (xsell gen's planted elasticities)\n");
    return 2;
}

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

static int cmd_forecast(int argc, char **argv)
{
    double horizon = 0, period = 1, levels[FC_MAX_LEVELS] = {80, 95};
    int nlevels = 2, method = FC_AUTO;
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--horizon") == 0) {
            if (parse_double_flag(argv[i], argv[i + 1], 1, FC_MAX_H, &horizon))
                return 2;
            i++;
        } else if (i + 1 < argc && strcmp(argv[i], "--period") == 0) {
            if (parse_double_flag(argv[i], argv[i + 1], 1, FC_MAX_PERIOD, &period))
                return 2;
            i++;
        } else if (i + 1 < argc && strcmp(argv[i], "--method") == 0) {
            if ((method = forecast_method_parse(argv[++i])) < 0) {
                fprintf(stderr, "xsell: --method is auto, ets, theta, comb or snaive\n");
                return 2;
            }
        } else if (i + 1 < argc && strcmp(argv[i], "--level") == 0) {
            if (parse_levels(argv[++i], levels, &nlevels)) {
                fprintf(stderr, "xsell: --level wants percentages in (0, 100), e.g. 80,95\n");
                return 2;
            }
        } else if (!file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            goto usage;
        }
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
    size_t cap = 0;
    double *y = NULL;
    int rc = 0, r;
    long series = 0;
    printf("id,model,step,mean");
    for (int l = 0; l < nlevels; l++)
        printf(",lo%g,hi%g", levels[l], levels[l]);
    printf("\n");
    while ((r = csv_next(&c)) > 0) {
        if (c.nfields < 2) {
            fprintf(stderr, "xsell: %s:%ld: want an id and at least one value\n", file, c.line);
            rc = 1;
            break;
        }
        int n = 0;
        for (int k = 1; k < c.nfields; k++) {
            size_t len;
            const char *v = csv_field(&c, k, &len);
            if (len == 0 && k == c.nfields - 1)
                break; /* a trailing comma */
            xgrow((void **)&y, &cap, (size_t)n + 1, sizeof(double));
            if (strparse_double(v, len, &y[n])) {
                fprintf(stderr, "xsell: %s:%ld: value %d is not a number: \"%.40s\"\n", file,
                        c.line, k, v);
                rc = 1;
                break;
            }
            n++;
        }
        if (rc)
            break;
        struct forecast f;
        size_t idlen;
        const char *id = csv_field(&c, 0, &idlen);
        if (forecast_auto(y, n, (int)period, (int)horizon, levels, nlevels, (enum fc_method)method,
                          &f) == 0) {
            print_forecast(id, &f);
            if (f.note[0])
                fprintf(stderr, "xsell: %s: %s\n", id, f.note);
        }
        series++;
    }
    if (r < 0) {
        fprintf(stderr, "xsell: %s:%ld: %s\n", file, c.line, c.err);
        rc = 1;
    }
    csv_release(&c);
    free(y);
    if (in != stdin)
        fclose(in);
    if (rc == 0)
        fprintf(stderr, "forecast: %ld series\n", series);
    return rc;
usage:
    fprintf(stderr, "usage: xsell forecast FILE --horizon H [--period M] [--level 80,95]\n"
                    "                      [--method auto|ets|theta|comb|snaive]\n"
                    "  FILE: CSV, one series a line: id, then its values in time order\n");
    return 2;
}

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", cmd_serve, "serve HTTP; train at start, on request and every XSELL_RETRAIN_S"},
    {"migrate", cmd_migrate, "apply sql/ to the database (idempotent)"},
    {"import", cmd_import, "import products|orders FILE: load a CSV, all or nothing"},
    {"gen", cmd_gen, "gen DIR [--seed N]: write a demo shop with known planted structure"},
    {"train", cmd_train, "train once and print every model's figures as JSON"},
    {"forecast", cmd_forecast,
     "forecast FILE --horizon H [--period M] [--level 80,95]: forecast each series of a CSV"},
    {"eval", cmd_eval,
     "eval recommend|upsell|churn [--holdout-days N] | price --truth FILE: offline evaluation, as JSON"},
    {"rules", cmd_rules, "rules [--min-support S] [--min-confidence C] [--max-len N]: CSV"},
};

static void usage(void)
{
    fprintf(stderr, "usage: xsell COMMAND [ARGS]\n\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(stderr, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(stderr, "\nSettings come from the environment: DATABASE_URL, XSELL_LISTEN, "
                    "XSELL_THREADS,\nXSELL_RETRAIN_S, XSELL_API_KEYS, XSELL_CORS_ORIGINS "
                    "(see README.md).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            int n = take_env_flags(argc - 2, argv + 2);
            return commands[i].fn(n, argv + 2);
        }
    }
    if (strcmp(argv[1], "-h") && strcmp(argv[1], "--help") && strcmp(argv[1], "help"))
        fprintf(stderr, "xsell: unknown command \"%s\"\n", argv[1]);
    usage();
    return 2;
}
