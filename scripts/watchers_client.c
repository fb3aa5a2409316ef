/* The watchers benchmark's client (scripts/bench_watchers.py): N SSE watchers on one lot, in one
 * process, on one epoll loop. It is C because a Python client took most of a core to read 5,000
 * watchers' chunks on a 2-core machine, CPU the server under test then did not have
 * (BENCHMARKS.md, session 12); this one reads the same bytes for a fraction of that.
 *
 * Usage: watchers_client PORT AUCTION_ID WATCHERS SAMPLE_EVERY
 * It prints {"connected": N, "seconds": s} once every watcher has its hello, then answers lines on
 * standard input: "reset" (count afresh), "report" (one JSON line, the keys bench_watchers.py
 * reads), "quit". Every watcher's bid ids are checked for order; bid-to-watcher latency (receive
 * time minus the event's server_time, same host, same clock) is taken over every SAMPLE_EVERY'th
 * watcher's events. The server writes each HTTP chunk as whole events, so the chunk-size lines
 * between them are skipped as lines that are not "id: ". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_BATCH 250 /* under the server's listen backlog, as the Python client did */
#define BUFFER_BYTES (256 * 1024)
#define MAX_LISTED_IDS 16

typedef struct {
    int fd;
    int sampled;
    int headers_done;
    int hello;
    int closed;
    long long bids;
    long long first_id; /* -1: none yet */
    long long last_id;
    long long out_of_order;
    long long reconnects;
    size_t used;
    char *buffer;
} Watcher;

static Watcher *watchers;
static int watcher_count;
static double *latencies_ms;
static size_t latency_count, latency_capacity;
static double cpu_at_reset_s, wall_at_reset_s;

static double wall_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double epoch_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
           usage.ru_stime.tv_usec / 1e6;
}

static void fail(const char *what) {
    fprintf(stderr, "watchers_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static int digits(const char *p, int n) {
    int value = 0;
    for (int i = 0; i < n; i++) value = value * 10 + (p[i] - '0');
    return value;
}

/* Python's datetime.isoformat(): YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM, as epoch seconds; <0 if not. */
static double parse_iso(const char *p, const char *end) {
    if (end - p < 25 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return -1;
    double seconds = (double)days_from_civil(digits(p, 4), digits(p + 5, 2), digits(p + 8, 2)) * 86400 +
                     digits(p + 11, 2) * 3600 + digits(p + 14, 2) * 60 + digits(p + 17, 2);
    const char *q = p + 19;
    if (*q == '.') {
        double scale = 0.1;
        for (q++; q < end && *q >= '0' && *q <= '9'; q++, scale /= 10) seconds += (*q - '0') * scale;
    }
    if (end - q < 6 || (q[0] != '+' && q[0] != '-')) return -1;
    int offset_s = digits(q + 1, 2) * 3600 + digits(q + 4, 2) * 60;
    return q[0] == '+' ? seconds - offset_s : seconds + offset_s;
}

static void note_latency(double ms) {
    if (latency_count == latency_capacity) {
        latency_capacity = latency_capacity ? latency_capacity * 2 : 1 << 16;
        latencies_ms = realloc(latencies_ms, latency_capacity * sizeof *latencies_ms);
        if (!latencies_ms) fail("realloc");
    }
    latencies_ms[latency_count++] = ms;
}

static const char TIME_KEY[] = "\"server_time\":\"";

/* Whole events in [start, end): count bids, check their order, time the sampled watchers'. */
static void read_events(Watcher *w, const char *start, const char *end, double received_s) {
    for (const char *line = start; line < end;) {
        const char *eol = memchr(line, '\n', end - line);
        if (!eol) break;
        if (eol - line > 4 && memcmp(line, "id: ", 4) == 0) {
            long long id = strtoll(line + 4, NULL, 10);
            const char *event = eol + 1;
            if (end - event > 11 && memcmp(event, "event: bid\n", 11) == 0) {
                w->bids++;
                if (w->first_id < 0) w->first_id = id;
                else if (id != w->last_id + 1) w->out_of_order++;
                w->last_id = id;
                const char *data = event + 11;
                const char *data_end = memchr(data, '\n', end - data);
                if (w->sampled && data_end) {
                    const char *t = memmem(data, data_end - data, TIME_KEY, sizeof TIME_KEY - 1);
                    if (t) {
                        t += sizeof TIME_KEY - 1;
                        const char *t_end = memchr(t, '"', data_end - t);
                        double sent_s = t_end ? parse_iso(t, t_end) : -1;
                        if (sent_s >= 0) note_latency((received_s - sent_s) * 1000);
                    }
                }
            }
        } else if (eol - line == 16 && memcmp(line, "event: reconnect", 16) == 0) {
            w->reconnects++;
        } else if (eol - line == 12 && memcmp(line, "event: hello", 12) == 0) {
            w->hello = 1;
        }
        line = eol + 1;
    }
}

static int on_readable(Watcher *w) {
    ssize_t n = read(w->fd, w->buffer + w->used, BUFFER_BYTES - w->used);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        w->closed = 1;
        return -1;
    }
    double received_s = epoch_s();
    w->used += (size_t)n;
    char *data = w->buffer;
    char *end = w->buffer + w->used;
    if (!w->headers_done) {
        char *blank = memmem(data, w->used, "\r\n\r\n", 4);
        if (!blank) return 0;
        if (strncmp(data, "HTTP/1.1 200", 12) != 0) {
            fprintf(stderr, "watchers_client: refused: %.200s\n", data);
            exit(1);
        }
        w->headers_done = 1;
        data = blank + 4;
    }
    char *last = NULL; /* the end of the last whole event */
    for (char *p = end - 1; p > data; p--)
        if (p[0] == '\n' && p[-1] == '\n') { last = p + 1; break; }
    if (!last) {
        memmove(w->buffer, data, end - data);
        w->used = end - data;
        if (w->used == BUFFER_BYTES) { errno = ENOBUFS; fail("an event larger than the buffer"); }
        return 0;
    }
    read_events(w, data, last, received_s);
    memmove(w->buffer, last, end - last);
    w->used = end - last;
    return 0;
}

static int open_watcher(Watcher *w, const struct sockaddr_in *address, const char *request, size_t size) {
    w->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (w->fd < 0) fail("socket");
    if (connect(w->fd, (const struct sockaddr *)address, sizeof *address) < 0) fail("connect");
    int one = 1;
    setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (write(w->fd, request, size) != (ssize_t)size) fail("write");
    fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
    return w->fd;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int compare_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* statistics.quantiles(data, n=100, method="inclusive")[i - 1], as the Python client reported. */
static double quantile(int i) {
    if (latency_count < 2) return 0;
    size_t m = latency_count - 1;
    size_t j = i * m / 100, delta = i * m - j * 100;
    return (latencies_ms[j] * (100 - delta) + latencies_ms[j + 1] * delta) / 100;
}

static void print_ids(const char *key, int first) {
    long long *ids = malloc(sizeof *ids * (watcher_count + 1));
    int n = 0;
    for (int i = 0; i < watcher_count; i++)
        if (watchers[i].first_id >= 0) ids[n++] = first ? watchers[i].first_id : watchers[i].last_id;
    qsort(ids, n, sizeof *ids, compare_ll);
    printf("\"%s\":[", key);
    int listed = 0;
    for (int i = 0; i < n && listed < MAX_LISTED_IDS; i++)
        if (i == 0 || ids[i] != ids[i - 1]) printf("%s%lld", listed++ ? "," : "", ids[i]);
    printf("],");
    free(ids);
}

static void report(void) {
    long long min_bids = -1, max_bids = 0, out_of_order = 0, reconnects = 0;
    int closed = 0, sampled = 0;
    for (int i = 0; i < watcher_count; i++) {
        Watcher *w = &watchers[i];
        if (min_bids < 0 || w->bids < min_bids) min_bids = w->bids;
        if (w->bids > max_bids) max_bids = w->bids;
        out_of_order += w->out_of_order;
        reconnects += w->reconnects;
        closed += w->closed;
        sampled += w->sampled;
    }
    qsort(latencies_ms, latency_count, sizeof *latencies_ms, compare);
    double share = (cpu_s() - cpu_at_reset_s) / (wall_s() - wall_at_reset_s);
    printf("{\"watchers\":%d,\"closed\":%d,\"reconnects\":%lld,\"min_bids\":%lld,\"max_bids\":%lld,",
           watcher_count, closed, reconnects, min_bids < 0 ? 0 : min_bids, max_bids);
    print_ids("first_ids", 1);
    print_ids("last_ids", 0);
    printf("\"out_of_order\":%lld,\"sampled\":%d,\"latency_events\":%zu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"client_cpu_share\":%.4f}\n",
           out_of_order, sampled, latency_count, quantile(50), quantile(90), quantile(99),
           latency_count ? latencies_ms[latency_count - 1] : 0.0, share);
    fflush(stdout);
}

static void reset(void) {
    for (int i = 0; i < watcher_count; i++) {
        watchers[i].bids = watchers[i].out_of_order = 0;
        watchers[i].first_id = -1;
    }
    latency_count = 0;
    cpu_at_reset_s = cpu_s();
    wall_at_reset_s = wall_s();
}

/* 1: go on; 0: quit. */
static int on_command(void) {
    static char line[256];
    static size_t used;
    ssize_t n = read(0, line + used, sizeof line - 1 - used);
    if (n <= 0) return 0;
    used += (size_t)n;
    char *eol;
    while ((eol = memchr(line, '\n', used))) {
        *eol = 0;
        if (strcmp(line, "reset") == 0) {
            reset();
            printf("{\"reset\":true}\n");
            fflush(stdout);
        } else if (strcmp(line, "report") == 0) {
            report();
        } else if (strcmp(line, "quit") == 0 || line[0] == 0) {
            return 0;
        }
        used -= (size_t)(eol + 1 - line);
        memmove(line, eol + 1, used);
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT AUCTION_ID WATCHERS SAMPLE_EVERY\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), sample_every = atoi(argv[4]);
    long long auction_id = atoll(argv[2]);
    watcher_count = atoi(argv[3]);
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);

    char request[256];
    int size = snprintf(request, sizeof request,
                        "GET /api/v1/auctions/%lld/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                        "Accept: text/event-stream\r\n\r\n",
                        auction_id, port);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    watchers = calloc(watcher_count, sizeof *watchers);
    int poll = epoll_create1(0);
    if (!watchers || poll < 0) fail("setup");

    double started = wall_s();
    struct epoll_event events[512];
    for (int batch = 0; batch < watcher_count; batch += CONNECT_BATCH) {
        int stop = batch + CONNECT_BATCH < watcher_count ? batch + CONNECT_BATCH : watcher_count;
        for (int i = batch; i < stop; i++) {
            Watcher *w = &watchers[i];
            w->first_id = -1;
            w->sampled = i % sample_every == 0;
            w->buffer = malloc(BUFFER_BYTES);
            if (!w->buffer) fail("malloc");
            struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            if (epoll_ctl(poll, EPOLL_CTL_ADD, open_watcher(w, &address, request, size), &event) < 0)
                fail("epoll_ctl");
        }
        int waiting = stop - batch;
        while (waiting > 0) {
            int n = epoll_wait(poll, events, 512, 60000);
            if (n == 0) { errno = ETIMEDOUT; fail("waiting for the hellos"); }
            for (int k = 0; k < n; k++) {
                Watcher *w = &watchers[events[k].data.u32];
                int had = w->hello;
                if (on_readable(w) < 0) { errno = ECONNRESET; fail("a watcher closed before its hello"); }
                if (!had && w->hello) waiting--;
            }
        }
    }
    printf("{\"connected\":%d,\"seconds\":%.3f}\n", watcher_count, wall_s() - started);
    fflush(stdout);

    struct epoll_event input = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    if (epoll_ctl(poll, EPOLL_CTL_ADD, 0, &input) < 0) fail("epoll_ctl stdin");
    for (;;) {
        int n = epoll_wait(poll, events, 512, -1);
        if (n < 0 && errno == EINTR) continue;
        for (int k = 0; k < n; k++) {
            uint32_t index = events[k].data.u32;
            if (index == UINT32_MAX) {
                if (!on_command()) goto done;
                continue;
            }
            Watcher *w = &watchers[index];
            if (on_readable(w) < 0) epoll_ctl(poll, EPOLL_CTL_DEL, w->fd, NULL);
        }
    }
done:
    for (int i = 0; i < watcher_count; i++) close(watchers[i].fd);
    return 0;
}
