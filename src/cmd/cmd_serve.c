/* xsell serve: the HTTP server and the trainer thread, until SIGTERM or SIGINT. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "xsell/app.h"
#include "xsell/cmd.h"
#include "xsell/http_server.h"
#include "xsell/log.h"
#include "xsell/mat.h"

#define SHUTDOWN_GRACE_S 10.0

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

int cmd_serve(int argc, char **argv)
{
    static struct app app; /* process lifetime; large (metrics) */
    UNUSED(argv);
    if (argc != 0) {
        fprintf(stderr, "usage: xsell serve [--listen HOST:PORT] [--threads N]\n");
        return 2;
    }
    if (cmd_load_config(&app.cfg))
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
    app_wire_services(&app);
    db_pool_init(&app.pool, app.cfg.database_url, app.cfg.db_pool);
    metrics_init(&app.metrics);
    ratelimit_init(&app.limiter, app.cfg.rate_rps, app.cfg.rate_burst);
    recent_init(&app.recent);
    recent_init(&app.sessions);
    answer_log_init(&app.answers, app.cfg.database_url);
    experiments_init(&app.experiments, app.cfg.database_url);
    int rc = 1;
    /* Listen first: a port that is taken ends the process at once, before any
     * training starts (requests meanwhile get 503 until the first model serves). */
    trainer_init(&app.trainer, &app.cfg, &app.reg, &app.recent, &app.sessions);
    struct http_server *http = http_server_start(&app);
    if (http && answer_log_start(&app.answers) == 0 && experiments_start(&app.experiments) == 0 &&
        trainer_start(&app.trainer) == 0) {
        unsigned char sig = 0;
        while (read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR)
            ;
        log_info("signal %d: stopping (finishing requests in flight)", sig);
        rc = 0;
    }
    http_server_stop(http, SHUTDOWN_GRACE_S);
    trainer_stop(&app.trainer);
    answer_log_release(&app.answers); /* after the last request: its answer is written */
    experiments_release(&app.experiments);
    ratelimit_release(&app.limiter);
    recent_release(&app.recent);
    recent_release(&app.sessions);
    db_pool_release(&app.pool);
    registry_release(&app.reg);
    config_release(&app.cfg);
    log_info("stopped");
    return rc;
}
