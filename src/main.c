/* xsell: the command table (serve, migrate, import, gen, train) and process setup. */
#include <signal.h>
#include <unistd.h>

#include "xsell/app.h"
#include "xsell/common.h"
#include "xsell/config.h"
#include "xsell/db.h"
#include "xsell/gen.h"
#include "xsell/http_server.h"
#include "xsell/import.h"
#include "xsell/log.h"
#include "xsell/migrate.h"
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
    /* A shell without job control starts background jobs with SIGINT ignored, and
     * an ignored signal is dropped even while blocked: take the default back. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    registry_init(&app.reg);
    db_pool_init(&app.pool, app.cfg.database_url, app.cfg.db_pool);
    metrics_init(&app.metrics);
    ratelimit_init(&app.limiter, app.cfg.rate_rps, app.cfg.rate_burst);
    int rc = 1;
    struct http_server *http = NULL;
    if (trainer_start(&app.trainer, &app.cfg, &app.reg) == 0) {
        http = http_server_start(&app);
        if (http) {
            int sig = 0;
            sigwait(&sigs, &sig);
            log_info("signal %d: stopping (finishing requests in flight)", sig);
            http_server_stop(http, SHUTDOWN_GRACE_S);
            rc = 0;
        }
        trainer_stop(&app.trainer);
    }
    ratelimit_release(&app.limiter);
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
        if (train_build(c, &cfg, version, &s, err, sizeof(err)) == 0) {
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
