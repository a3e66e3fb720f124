/* xsell: the command table. Each command is a file of its own (src/cmd/cmd_NAME.c);
 * flags that stand for settings are moved into the environment first. */
#include "xsell/cmd.h"
#include "xsell/log.h"

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
    {"serve", cmd_serve, "serve HTTP; train at start, on request and every XSELL_RETRAIN_S"},
    {"migrate", cmd_migrate, "apply sql/ to the database (idempotent)"},
    {"import", cmd_import, "import products|orders FILE: load a CSV, all or nothing"},
    {"gen", cmd_gen, "gen DIR [--seed N]: write a demo shop with known planted structure"},
    {"train", cmd_train, "train once and print every model's figures as JSON"},
    {"forecast", cmd_forecast,
     "forecast FILE --horizon H [--period M] [--level 80,95]: forecast each series of a CSV"},
    {"eval", cmd_eval,
     "eval recommend|upsell|churn [--holdout-days N] | price --truth FILE: offline evaluation, as "
     "JSON"},
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
    char err[200];
    if (log_configure_env(err, sizeof(err))) {
        fprintf(stderr, "xsell: %s\n", err);
        return 2;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            int n = take_env_flags(argc - 2, argv + 2);
            return commands[i].fn(n, argv + 2);
        }
    }
    if (strcmp(argv[1], "-h") != 0 && strcmp(argv[1], "--help") != 0 &&
        strcmp(argv[1], "help") != 0)
        fprintf(stderr, "xsell: unknown command \"%s\"\n", argv[1]);
    usage();
    return 2;
}
