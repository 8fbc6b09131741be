// A small closed-loop HTTP/1.1 load generator for bench/ingest: N keep-alive
// connections, each sends a request and waits for its whole answer before the
// next. When the time is up no new request starts and every outstanding one is
// answered, so "2xx answers" and "rows stored" can be compared exactly.
// POSIX + epoll, one thread; no Qt, so it costs the server as little CPU as possible.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options
{
    int port = 8080;
    std::string path = "/usage/bench";
    int connections = 64;
    double seconds = 10;
    int batch = 0; // 0: single events; N: JSON arrays of N events to path + "/batch"
    std::string org, key, customer = "bench";
    long long firstTimestamp = 1600000000;
};

struct Conn
{
    int fd = -1;
    std::string out;
    size_t written = 0;
    std::string in;
    Clock::time_point sentAt;
    bool busy = false;
    long long seq = 0;
};

std::string event(const Options &o, int conn, long long seq)
{
    // Unique (customer_id, timestamp) per event: customer per connection, timestamp per sequence.
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "{\"data\":{\"cpu_usage_hours_per_day\":%lld.5,\"region\":\"eu-west-1\"},\"timestamp\":%lld,"
                  "\"customer_id\":\"%s-%d\"}",
                  seq % 100, o.firstTimestamp + seq, o.customer.c_str(), conn);
    return buf;
}

std::string request(const Options &o, Conn &c, int index)
{
    std::string body;
    std::string path = o.path;
    if (o.batch > 0) {
        path += "/batch";
        body.reserve(size_t(o.batch) * 130);
        body += '[';
        for (int i = 0; i < o.batch; ++i) {
            if (i)
                body += ',';
            body += event(o, index, c.seq++);
        }
        body += ']';
    } else {
        body = event(o, index, c.seq++);
    }
    std::string r = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    r += "organisation: " + o.org + "\r\nauthorization: Bearer " + o.key + "\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return r;
}

// Length of one complete response at the start of `in`, or 0 when incomplete.
size_t responseLength(const std::string &in, int *status)
{
    const size_t headEnd = in.find("\r\n\r\n");
    if (headEnd == std::string::npos)
        return 0;
    *status = std::atoi(in.c_str() + 9);
    size_t length = 0;
    for (size_t pos = 0; pos < headEnd;) {
        const size_t eol = in.find("\r\n", pos);
        if (strncasecmp(in.c_str() + pos, "content-length:", 15) == 0)
            length = size_t(std::atoll(in.c_str() + pos + 15));
        pos = eol + 2;
    }
    return in.size() >= headEnd + 4 + length ? headEnd + 4 + length : 0;
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--port") o.port = std::atoi(v.c_str());
        else if (k == "--path") o.path = v;
        else if (k == "--connections") o.connections = std::atoi(v.c_str());
        else if (k == "--seconds") o.seconds = std::atof(v.c_str());
        else if (k == "--batch") o.batch = std::atoi(v.c_str());
        else if (k == "--org") o.org = v;
        else if (k == "--key") o.key = v;
        else if (k == "--customer") o.customer = v;
        else if (k == "--first-timestamp") o.firstTimestamp = std::atoll(v.c_str());
        else { std::fprintf(stderr, "loadgen: unknown option %s\n", k.c_str()); return 2; }
    }
    // A throughput process to the scheduler (SCHED_BATCH: no preemption on wake-up).
    // As a normal task, each answer the server sent woke this loop, which took the CPU
    // from the server's HTTP thread in the middle of its next send: a server with more
    // than one thread lost a quarter of its rate to that on 2 cores. The no-op baseline
    // is measured with the same client (its rate did not move).
    sched_param batch{};
    sched_setscheduler(0, SCHED_BATCH, &batch);
    const int ep = epoll_create1(0);
    std::vector<Conn> conns(size_t(o.connections));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(o.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < o.connections; ++i) {
        Conn &c = conns[size_t(i)];
        c.fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c.fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
            std::perror("loadgen: connect");
            return 1;
        }
        fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = uint32_t(i);
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }
    // EPOLLOUT only while a request is partly written: an idle socket is always
    // writable, and asking for EPOLLOUT all the time made this loop spin and take a
    // whole core from the server it measures.
    auto watchWritable = [&](int i, bool on) {
        epoll_event ev{};
        ev.events = on ? EPOLLIN | EPOLLOUT : EPOLLIN;
        ev.data.u32 = uint32_t(i);
        epoll_ctl(ep, EPOLL_CTL_MOD, conns[size_t(i)].fd, &ev);
    };
    auto writeSome = [&](int i) {
        Conn &c = conns[size_t(i)];
        const ssize_t w = write(c.fd, c.out.data() + c.written, c.out.size() - c.written);
        if (w > 0)
            c.written += size_t(w);
        return c.written == c.out.size();
    };
    std::vector<double> latencies;
    std::map<int, long long> statuses;
    long long events = 0, answered = 0;
    int busy = 0;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(o.seconds);
    bool sending = true;
    auto startRequest = [&](int i) {
        Conn &c = conns[size_t(i)];
        c.out = request(o, c, i);
        c.written = 0;
        c.busy = true;
        c.sentAt = Clock::now();
        ++busy;
        if (!writeSome(i))
            watchWritable(i, true);
    };
    for (int i = 0; i < o.connections; ++i)
        startRequest(i);
    std::vector<epoll_event> evs(size_t(o.connections));
    char buf[65536];
    while (busy > 0) {
        if (sending && Clock::now() >= deadline)
            sending = false;
        const int n = epoll_wait(ep, evs.data(), int(evs.size()), 100);
        for (int k = 0; k < n; ++k) {
            const int i = int(evs[size_t(k)].data.u32);
            Conn &c = conns[size_t(i)];
            if ((evs[size_t(k)].events & EPOLLOUT) && c.busy && c.written < c.out.size() && writeSome(i))
                watchWritable(i, false);
            if (evs[size_t(k)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                const ssize_t r = read(c.fd, buf, sizeof buf);
                if (r < 0 && errno == EAGAIN)
                    continue;
                if (r <= 0) {
                    std::fprintf(stderr, "loadgen: connection %d closed by the server\n", i);
                    if (c.busy) { c.busy = false; --busy; }
                    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
                    continue;
                }
                c.in.append(buf, size_t(r));
                int status = 0;
                if (const size_t len = responseLength(c.in, &status)) {
                    c.in.erase(0, len);
                    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - c.sentAt).count());
                    statuses[status]++;
                    ++answered;
                    if (status / 100 == 2)
                        events += o.batch > 0 ? o.batch : 1;
                    c.busy = false;
                    --busy;
                    if (sending)
                        startRequest(i);
                }
            }
        }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) { return latencies.empty() ? 0.0 : latencies[size_t(p * double(latencies.size() - 1))]; };
    std::printf("{\"requests\":%lld,\"events_2xx\":%lld,\"seconds\":%.3f,\"events_per_s\":%.0f,\"p50_ms\":%.3f,"
                "\"p99_ms\":%.3f,\"statuses\":{",
                answered, events, elapsed, double(events) / elapsed, pct(0.5), pct(0.99));
    bool first = true;
    for (const auto &[s, count] : statuses) {
        std::printf("%s\"%d\":%lld", first ? "" : ",", s, count);
        first = false;
    }
    std::printf("}}\n");
    return 0;
}
