/* xsell: the command table. Each command is a file of its own (src/cmd/cmd_NAME.c);
 * flags that stand for settings are moved into the environment first. */
#include "xsell/cmd.h"
#include "xsell/log.h"
#include "version.h" /* build/gen: XSELL_VERSION from git */

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

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", cmd_serve,
     "serve [--listen HOST:PORT] [--threads N]: serve HTTP; train at start, on request and "
     "every XSELL_RETRAIN_S"},
    {"migrate", cmd_migrate, "apply sql/ to the database (idempotent)"},
    {"import", cmd_import, "import products|orders FILE: load a CSV, all or nothing"},
    {"gen", cmd_gen,
     "gen DIR [--seed N] [--customers N]: write the demo shop with known planted structure; "
     "with --products P --lines N a shop of that size"},
    {"train", cmd_train,
     "train [--as-of DATE]: train once and print every model's figures as JSON"},
    {"forecast", cmd_forecast,
     "forecast FILE --horizon H [--period M] [--level 80,95]: forecast each series of a CSV"},
    {"eval", cmd_eval,
     "eval recommend|upsell|churn|forecast [--holdout-days N] | price --truth FILE: offline "
     "evaluation, as "
     "JSON"},
    {"events", cmd_events,
     "events maintain: keep the events' partitions (make the days ahead, drop those past "
     "XSELL_EVENTS_KEEP_DAYS); the training leader does it hourly"},
    {"rules", cmd_rules, "rules [--min-support S] [--min-confidence C] [--max-len N]: CSV"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: xsell COMMAND [ARGS]   (xsell COMMAND --help, xsell --version)\n\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nSettings come from the environment: DATABASE_URL, XSELL_LISTEN, "
                 "XSELL_THREADS,\nXSELL_RETRAIN_S, XSELL_API_KEYS, XSELL_CORS_ORIGINS, "
                 "XSELL_LOG_FORMAT, XSELL_LOG_LEVEL\n(see README.md).\n");
}

static bool asks_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("xsell %s\n", XSELL_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    char err[200];
    if (log_configure_env(err, sizeof(err))) {
        fprintf(stderr, "xsell: %s\n", err);
        return 2;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (asks_help(argc - 2, argv + 2)) { /* before anything runs or is written */
                printf("xsell %s: %s\n", commands[i].name, commands[i].help);
                return 0;
            }
            int n = take_env_flags(argc - 2, argv + 2);
            return commands[i].fn(n, argv + 2);
        }
    }
    fprintf(stderr, "xsell: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
