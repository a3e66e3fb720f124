/* xsell train: one training run from the database, recorded in model_runs; prints
 * its report (every model's figures) as JSON. */
#include "xsell/cmd.h"
#include "xsell/runs.h"
#include "xsell/trainer.h"

int cmd_train(int argc, char **argv)
{
    struct config cfg;
    UNUSED(argv);
    if (argc != 0) {
        fprintf(stderr, "usage: xsell train [--as-of DATE]\n");
        return 2;
    }
    if (cmd_load_config(&cfg))
        return 1;
    PGconn *c = cmd_connect(&cfg);
    int64_t version = 0;
    struct snapshot *s = NULL;
    char err[512];
    int rc = 1;
    if (c && runs_create(c, "cli", &version) == 0 && runs_start(c, version) == 0) {
        if (train_build(c, &cfg, version, NULL, true, &s, err, sizeof(err)) == 0) {
            runs_finish(c, version, RUN_SUCCEEDED, s->metrics_json, NULL);
            printf("%s\n", s->metrics_json);
            snapshot_unref(s);
            rc = 0;
        } else {
            runs_finish(c, version, RUN_FAILED, NULL, err);
            fprintf(stderr, "xsell: training failed: %s\n", err);
        }
    }
    PQfinish(c);
    config_release(&cfg);
    return rc;
}
