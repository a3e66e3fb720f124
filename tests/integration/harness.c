#include "integration/harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct env E;
static cJSON *spec; /* openapi.yaml: every answer is checked against it */

int harness_init(void)
{
    E.bin = getenv("XSELL_BIN");
    E.pg_dir = getenv("XSELL_PG_DIR");
    E.db_url = getenv("DATABASE_URL");
    E.repo = getenv("XSELL_REPO");
    if (!E.bin || !E.pg_dir || !E.db_url || !E.repo) {
        fprintf(stderr, "integration: set XSELL_BIN, XSELL_PG_DIR, DATABASE_URL, XSELL_REPO "
                        "(tests/run.sh does)\n");
        return -1;
    }
    const char *tmp = getenv("TMPDIR"); /* make check's own folder, removed at its end */
    snprintf(E.tmp, sizeof(E.tmp), "%s/xsell-it-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(E.tmp))
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char path[600], why[600];
    snprintf(path, sizeof(path), "%s/openapi.yaml", E.repo);
    spec = openapi_load(path, why, sizeof(why));
    if (!spec) {
        fprintf(stderr, "integration: %s\n", why);
        return -1;
    }
    return 0;
}

int run(char **out, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    char full[4200];
    snprintf(full, sizeof(full), "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static PGconn *conn(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "integration: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

char *sql_text_on(const char *url, const char *sql)
{
    PGconn *c = conn(url);
    if (!c)
        return NULL;
    PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
    char *out = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        out = strdup(PQgetvalue(r, 0, 0));
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "integration: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return out;
}

char *sql_text(const char *sql)
{
    return sql_text_on(E.db_url, sql);
}

long sql_long(const char *sql)
{
    char *t = sql_text(sql);
    long v = t ? strtol(t, NULL, 10) : -1;
    free(t);
    return v;
}

static int exec_on(const char *url, const char *sql)
{
    PGconn *c = conn(url);
    if (!c)
        return -1;
    PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "integration: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

int sql_exec(const char *sql)
{
    return exec_on(E.db_url, sql);
}

int db_create(const char *name, const char *template_db, char *url, size_t n)
{
    char sql[200];
    const char *at = strstr(E.db_url, "dbname=");
    if (!at)
        return -1;
    size_t keep = strcspn(at + 7, " ");
    snprintf(url, n, "%.*sdbname=%s%s", (int)(at - E.db_url), E.db_url, name, at + 7 + keep);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
    if (exec_on(E.db_url, sql))
        return -1;
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s%s%s", name, template_db ? " TEMPLATE " : "",
             template_db ? template_db : "");
    return exec_on(E.db_url, sql);
}

char *data_fingerprint_on(const char *url)
{
    return sql_text_on(
        url,
        "SELECT md5((SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM products "
        "t)"
        " || (SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM customers t)"
        " || (SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM orders t)"
        " || (SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM order_lines t))");
}

char *data_fingerprint(void)
{
    return data_fingerprint_on(E.db_url);
}

int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        close(fd);
        return -1;
    }
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int process_start(struct server *s, int port, const char *const *argv)
{
    static int n;
    s->port = port;
    snprintf(s->log, sizeof(s->log), "%s/%s-%d.log", E.tmp,
             strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], ++n);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        FILE *log = freopen(s->log, "w", stderr);
        if (!log)
            _exit(127);
        dup2(fileno(stderr), STDOUT_FILENO);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return 0;
}

int server_start(struct server *s, const char *const *extra_env)
{
    static int n;
    s->port = free_port();
    snprintf(s->log, sizeof(s->log), "%s/serve-%d.log", E.tmp, ++n);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        char listen[64];
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
        setenv("XSELL_LISTEN", listen, 1);
        setenv("DATABASE_URL", E.db_url, 1); /* the group's own database */
        for (int i = 0; extra_env && extra_env[i]; i++)
            putenv((char *)extra_env[i]);
        FILE *log = freopen(s->log, "w", stderr);
        if (!log)
            _exit(127);
        dup2(fileno(stderr), STDOUT_FILENO);
        execl(E.bin, "xsell", "serve", (char *)NULL);
        _exit(127);
    }
    return 0;
}

bool server_wait(struct server *s, const char *path, long want, double seconds)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct resp r;
        http(s, "GET", path, NULL, NULL, NULL, &r);
        long got = r.status;
        resp_free(&r);
        if (got == want)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
            return false;
        usleep(50000);
    }
}

int server_stop(struct server *s)
{
    int st;
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 600; i++) { /* 30 s */
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) {
            s->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        usleep(50000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return -1;
}

struct sink {
    char *data;
    size_t len, cap;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t add = size * n;
    if (s->len + add + 1 > s->cap) {
        s->cap = (s->len + add + 1) * 2;
        s->data = realloc(s->data, s->cap);
    }
    memcpy(s->data + s->len, p, add);
    s->len += add;
    s->data[s->len] = '\0';
    return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t add = size * n, used = strlen(r->headers);
    if (used + add < sizeof(r->headers) - 1) {
        memcpy(r->headers + used, p, add);
        r->headers[used + add] = '\0';
    }
    return add;
}

static const char *source_address; /* http_from's */

int http_from(const char *from, struct server *s, const char *method, const char *path,
              const char *key, const char *body, const char *header, struct resp *r)
{
    source_address = from;
    int rc = http(s, method, path, key, body, header, r);
    source_address = NULL;
    return rc;
}

/* The contract: every answer the server gives conforms to openapi.yaml (its status is
 * documented for the route, its JSON body to the schema). */
static void check_contract(const char *method, const char *path, const struct resp *r)
{
    char why[600];
    if (r->status && openapi_check(spec, method, path, r->status, r->json, why, sizeof(why)))
        fail_msg("openapi.yaml: %s\n  body: %.300s", why, r->body);
}

int http(struct server *s, const char *method, const char *path, const char *key, const char *body,
         const char *header, struct resp *r)
{
    char url[2048], auth[300];
    struct sink sink = {0};
    struct curl_slist *hdrs = NULL;
    memset(r, 0, sizeof(*r));
    CURL *c = curl_easy_init();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (source_address) {
        char iface[80];
        snprintf(iface, sizeof(iface), "host!%s", source_address);
        curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (key) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        if (!header || strncasecmp(header, "Content-Type", 12) != 0)
            hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    }
    if (header)
        hdrs = curl_slist_append(hdrs, header);
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    r->body = sink.data ? sink.data : strdup("");
    r->json = cJSON_Parse(r->body);
    if (rc == CURLE_OK)
        check_contract(method, path, r);
    return rc == CURLE_OK ? 0 : -1;
}

int raw_connect(struct server *s, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    if (fd < 0)
        return -1;
    if (from) {
        a.sin_family = AF_INET;
        inet_pton(AF_INET, from, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
            close(fd);
            return -1;
        }
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        close(fd);
        return -1;
    }
    return fd;
}

int raw_read(int fd, double seconds, char **out, size_t *len)
{
    struct sink sink = {0};
    struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char chunk[16384];
    ssize_t n;
    int rc = 0;
    while ((n = recv(fd, chunk, sizeof(chunk), 0)) != 0) {
        if (n < 0) {
            rc = errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
            break;
        }
        on_body(chunk, 1, (size_t)n, &sink);
    }
    *out = sink.data ? sink.data : strdup("");
    *len = sink.len;
    return rc;
}

int raw_response(const char *method, const char *path, const char *text, struct resp *r)
{
    memset(r, 0, sizeof(*r));
    const char *end = strstr(text, "\r\n\r\n");
    if (strncmp(text, "HTTP/1.1 ", 9) != 0 || !end) {
        r->body = strdup("");
        return -1;
    }
    r->status = strtol(text + 9, NULL, 10);
    const char *line = strstr(text, "\r\n") + 2; /* after the status line */
    snprintf(r->headers, sizeof(r->headers), "%.*s", (int)(end + 2 - line), line);
    r->body = strdup(end + 4);
    r->json = cJSON_Parse(r->body);
    check_contract(method, path, r);
    return 0;
}

const char *resp_header(const struct resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end)
            break;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)(end - v), v);
            return out;
        }
        line = end + 2;
    }
    return NULL;
}

void resp_free(struct resp *r)
{
    free(r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
}

const char *jstr(const struct resp *r, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double jnum(const struct resp *r, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1e300;
}
