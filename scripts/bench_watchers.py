"""Watchers benchmark: thousands of SSE watchers on one hot English lot while bids arrive at a paced rate.

Run it with `scripts/bench watchers [--quick]`; see BENCHMARKS.md. PostgreSQL only.

1. A fresh database, the server (`python -m app serve`), one English lot with 16 funded bidders.
2. Baseline: bids at --rate/s (wrk, paced) for --seconds with no watcher: the bids' p50/p99.
3. The watchers connect (in their own process: scripts/watchers_client.c, compiled for the run, one
   epoll loop of raw sockets; `--client python` runs the asyncio client it replaced, this script in
   `client` mode, kept to compare the two), and the server's RSS before and after gives the memory
   per watcher.
4. The same bids with the watchers connected: the bids' p50/p99 again (ratio to the baseline), and
   from the client: bid events per watcher against the bids accepted (each watcher's ids must be
   exactly the lot's sequences of the run, no gap, no repeat), and bid-to-watcher latency: the
   client's receive time minus the event's `server_time` (the bid's receipt on the server, before
   its commit: the figure bounds commit-to-watcher from above; same host, same clock), over every
   event of every --sample-every'th watcher.

Targets are reported, never enforced: the exit status is non-zero only when something failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

PORTS = range(19400, 19500)  # this bench's servers listen here
TARGET_P99_MS = 250.0
BIDDERS = 16
WRK_CONNECTIONS = 32  # paced load stays open-loop only with connections to spare
CONNECT_BATCH = 250  # connections opened at once: under the server's listen backlog
DRAIN_S = 3.0  # after the last bid, time for the last events to arrive


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < needed:
        raise SystemExit(f"bench: need {needed} file descriptors, the hard limit is {hard} (ulimit -Hn)")


# ----------------------------------------------------------------------------------------------
# The client process: N watchers on raw sockets


BID = b"event: bid\n"
RECONNECT = b"event: reconnect\n"
ID_RE = re.compile(rb"^id: (\d+)\nevent: bid\n", re.MULTILINE)
TIME_RE = re.compile(rb'"server_time":"([^"]+)"')


class WatcherProtocol(asyncio.Protocol):
    """One watcher: an HTTP/1.1 GET, then the chunked SSE body, counted as it comes."""

    def __init__(self, client: WatcherClient, index: int, sampled: bool) -> None:
        self.client, self.index, self.sampled = client, index, sampled
        self.headers_done = False
        self.pending = b""
        self.hello = asyncio.get_running_loop().create_future()
        self.bids = 0
        self.first_id: int | None = None
        self.last_id: int | None = None
        self.out_of_order = 0
        self.reconnects = 0
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.client.request)

    def data_received(self, data: bytes) -> None:
        received_s = time.time()
        buffer = self.pending + data if self.pending else data
        if not self.headers_done:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.pending = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 200"):
                self.hello.set_exception(RuntimeError(buffer[:200].decode(errors="replace")))
                return
            self.headers_done = True
            buffer = buffer[end + 4 :]
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self.pending = buffer
            return
        complete, self.pending = buffer[: end + 2], buffer[end + 2 :]
        if not self.hello.done() and b"event: hello" in complete:
            self.hello.set_result(None)
        count = complete.count(BID)
        if count:
            self._bids(complete, count, received_s)
        if RECONNECT in complete:
            self.reconnects += 1

    def _bids(self, complete: bytes, count: int, received_s: float) -> None:
        self.bids += count
        if self.first_id is None:
            first = ID_RE.search(complete)
            assert first is not None
            self.first_id = int(first.group(1))
        if self.sampled:
            ids = [int(i) for i in ID_RE.findall(complete)]
            previous = self.last_id
            for event_id in ids:
                if previous is not None and event_id != previous + 1:
                    self.out_of_order += 1
                previous = event_id
            cache = self.client.times
            for raw in TIME_RE.findall(complete):
                sent_s = cache.get(raw)
                if sent_s is None:
                    sent_s = cache[raw] = datetime.fromisoformat(raw.decode()).timestamp()
                self.client.latencies_ms.append((received_s - sent_s) * 1000)
        last = complete.rfind(b"id: ", 0, complete.rfind(BID))
        self.last_id = int(complete[last + 4 : complete.index(b"\n", last)])

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.hello.done():
            self.hello.set_exception(RuntimeError(f"connection lost before hello: {exc}"))


def cpu_s() -> float:
    """This process's CPU seconds, read as the bench reads the server's."""
    from bench_auction import processes_cpu_s

    return processes_cpu_s([str(os.getpid())])


class WatcherClient:
    def __init__(self, port: int, auction_id: int, watchers: int, sample_every: int) -> None:
        self.port, self.watchers, self.sample_every = port, watchers, sample_every
        self.request = (
            f"GET /api/v1/auctions/{auction_id}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        self.protocols: list[WatcherProtocol] = []
        self.latencies_ms: list[float] = []
        self.times: dict[bytes, float] = {}
        self.cpu_at_reset_s = 0.0
        self.wall_at_reset_s = 0.0

    async def connect(self) -> float:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        for batch in range(0, self.watchers, CONNECT_BATCH):
            opened = []
            for index in range(batch, min(batch + CONNECT_BATCH, self.watchers)):
                protocol = WatcherProtocol(self, index, index % self.sample_every == 0)
                self.protocols.append(protocol)
                opened.append(loop.create_connection(lambda p=protocol: p, "127.0.0.1", self.port))
            await asyncio.gather(*opened)
            await asyncio.gather(*(p.hello for p in self.protocols[batch:]))
        return time.perf_counter() - started

    def reset(self) -> None:
        """Counting starts afresh: the run's bids only."""
        for p in self.protocols:
            p.bids, p.first_id, p.out_of_order = 0, None, 0
        self.latencies_ms.clear()
        self.times.clear()
        self.cpu_at_reset_s, self.wall_at_reset_s = cpu_s(), time.perf_counter()

    def report(self) -> dict[str, Any]:
        counts = [p.bids for p in self.protocols]
        spans = [
            (p.first_id, p.last_id)
            for p in self.protocols
            if p.first_id is not None and p.last_id is not None
        ]
        latencies = sorted(self.latencies_ms)
        # The measuring client's own share of a core over the phase: what the server could not use.
        client_cpu_share = (cpu_s() - self.cpu_at_reset_s) / (time.perf_counter() - self.wall_at_reset_s)
        q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) >= 2 else [0.0] * 99
        return {
            "watchers": len(self.protocols),
            "closed": sum(p.closed for p in self.protocols),
            "reconnects": sum(p.reconnects for p in self.protocols),
            "min_bids": min(counts, default=0),
            "max_bids": max(counts, default=0),
            "first_ids": sorted({s[0] for s in spans}),
            "last_ids": sorted({s[1] for s in spans}),
            "out_of_order": sum(p.out_of_order for p in self.protocols),
            "sampled": sum(p.sampled for p in self.protocols),
            "latency_events": len(latencies),
            "p50_ms": q[49],
            "p90_ms": q[89],
            "p99_ms": q[98],
            "max_ms": latencies[-1] if latencies else 0.0,
            "client_cpu_share": client_cpu_share,
        }


async def client_main(args: argparse.Namespace) -> None:
    client = WatcherClient(args.port, args.auction, args.watchers, args.sample_every)
    seconds = await client.connect()
    print(json.dumps({"connected": len(client.protocols), "seconds": seconds}), flush=True)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        if line == "reset":
            client.reset()
            print(json.dumps({"reset": True}), flush=True)
        elif line == "report":
            print(json.dumps(client.report()), flush=True)
        elif line == "quit":
            break
    for p in client.protocols:
        p.transport.close()


# ----------------------------------------------------------------------------------------------
# The parent: database, server, bids, the client process


@dataclass
class Phase:
    label: str
    bids: Any  # bench_auction.LoadResult
    client: dict[str, Any] | None = None
    sequence_before: int = 0
    sequence_after: int = 0


def pick_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"bench: no free port in {PORTS.start}-{PORTS.stop - 1}")


async def build_lot(base: str, admin_key: str) -> tuple[int, list[str]]:
    import httpx
    from bench_auction import DEPOSIT, FUNDS, INCREMENT, START_PRICE_FEN, call, fund, yuan

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        bank = await call(
            http, "POST", "/api/v1/participants", admin_key, {"name": "Bench Bank", "roles": ["bank"]}
        )
        clearing = await call(
            http, "POST", "/api/v1/participants", admin_key, {"name": "Bench Clearing", "roles": ["clearing"]}
        )
        checker = await call(
            http,
            "POST",
            "/api/v1/participants",
            admin_key,
            {"name": "Bench Clearing Checker", "roles": ["clearing"]},
        )
        now = datetime.now(UTC)
        body = {
            "lot": {"title": "Bench hot lot"},
            "kind": "english",
            "start_price": yuan(START_PRICE_FEN),
            "increment": INCREMENT,
            "deposit": DEPOSIT,
            "starts_at": (now + timedelta(seconds=1)).isoformat(),
            "ends_at": (now + timedelta(hours=3)).isoformat(),
            "extension_window_s": 0,
        }
        auction_id = int((await call(http, "POST", "/api/v1/auctions", bank["api_key"], body))["id"])
        keys = []
        for i in range(BIDDERS):
            bidder = await call(
                http,
                "POST",
                "/api/v1/participants",
                admin_key,
                {"name": f"Bench Bidder {i}", "roles": ["bidder"]},
            )
            await fund(http, clearing["api_key"], checker["api_key"], bidder["id"], FUNDS)
            await call(http, "POST", f"/api/v1/auctions/{auction_id}/registrations", bidder["api_key"], {})
            keys.append(bidder["api_key"])
    await asyncio.sleep(1.2)  # the lot has started
    return auction_id, keys


def last_sequence(base: str, auction_id: int) -> int:
    import httpx

    return int(httpx.get(f"{base}/api/v1/auctions/{auction_id}", timeout=30).json()["bid_count"])


C_CLIENT_SOURCE = ROOT / "scripts" / "watchers_client.c"


def build_c_client(workdir: Path) -> Path:
    """The C client, compiled for this run (gcc is on every machine of this kind)."""
    from bench_auction import BenchError

    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise BenchError("no C compiler for the watchers' client: install gcc, or pass --client python")
    binary = workdir / "watchers_client"
    subprocess.run([compiler, "-O2", "-o", str(binary), str(C_CLIENT_SOURCE)], check=True)
    return binary


class ClientProcess:
    def __init__(
        self, port: int, auction_id: int, watchers: int, sample_every: int, c_binary: Path | None
    ) -> None:
        numbers = [str(port), str(auction_id), str(watchers), str(sample_every)]
        command = (
            [str(c_binary), *numbers]
            if c_binary is not None
            else [
                sys.executable, __file__, "client", "--port", numbers[0], "--auction", numbers[1],
                "--watchers", numbers[2], "--sample-every", numbers[3],
            ]
        )  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def read(self, timeout_s: float) -> dict[str, Any]:
        import select

        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        if not ready:
            raise RuntimeError(f"the watcher client said nothing within {timeout_s:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the watcher client exited ({self.process.wait()})")
        return dict(json.loads(line))

    def ask(self, command: str, timeout_s: float = 60) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read(timeout_s)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def server_rss_mb(server: Any) -> float:
    rss = server.rss_mb()
    if rss is None:
        raise RuntimeError("cannot read the server's RSS")
    return float(rss)


def run_bids(
    server: Any, workdir: Path, label: str, keys: list[str], auction_id: int, args: argparse.Namespace
) -> Any:
    from bench_auction import run_wrk

    return run_wrk(
        server, workdir, label, keys, [auction_id], BIDDERS, WRK_CONNECTIONS, args.seconds, 2, args.base_s,
        rate=args.rate,
    )  # fmt: skip


async def bench(args: argparse.Namespace) -> int:
    from bench_auction import WRK, BenchDatabase, BenchError, Config, Server, clean_up, migrate, service_env

    if not Path(WRK).exists():  # noqa: ASYNC240
        raise BenchError("wrk is not installed (apt-get install wrk)")
    raise_fd_limit(args.watchers + 1_000)
    config = Config(backend="postgresql", quick=args.quick, pg_admin_url=args.pg_url)
    db = BenchDatabase(config)
    workdir = Path(tempfile.mkdtemp(prefix="ipx_bench_watchers_"))
    server = None
    client: ClientProcess | None = None
    phases: list[Phase] = []
    try:
        url = await db.create()
        log(f"database {url}")
        admin_key = "bench_admin_" + os.urandom(12).hex()
        port = pick_port()
        env = service_env(url, port, admin_key)
        env["IPX_WORKERS"] = str(args.workers)
        env["IPX_LIVE_FLUSH_INTERVAL_MS"] = str(args.flush_ms)
        if args.flush_slice is not None:
            env["IPX_LIVE_FLUSH_SLICE"] = str(args.flush_slice)
        await asyncio.to_thread(migrate, url, env)
        server = Server(env, port, workdir / "server.log")
        server.start()
        log(f"server on {server.base} (log {server.log_path})")
        auction_id, keys = await build_lot(server.base, admin_key)
        # Warm-up: the first bids of a process read keys and lots; not measured.
        run_bids(
            server, workdir, "warm-up", keys, auction_id, argparse.Namespace(**{**vars(args), "seconds": 2})
        )

        before = last_sequence(server.base, auction_id)
        baseline = Phase("0 watchers", run_bids(server, workdir, "baseline", keys, auction_id, args))
        baseline.sequence_before, baseline.sequence_after = before, last_sequence(server.base, auction_id)
        phases.append(baseline)

        await asyncio.sleep(1.0)
        rss_before_mb = server_rss_mb(server)
        c_binary = build_c_client(workdir) if args.client == "c" else None
        client = ClientProcess(port, auction_id, args.watchers, args.sample_every, c_binary)
        connected = client.read(timeout_s=max(120.0, args.watchers / 20))
        await asyncio.sleep(2.0)  # the server's allocations settle
        rss_after_mb = server_rss_mb(server)
        log(
            f"{connected['connected']} watchers connected in {connected['seconds']:.1f} s; server RSS "
            f"{rss_before_mb:.1f} -> {rss_after_mb:.1f} MiB"
        )
        client.ask("reset")
        before = last_sequence(server.base, auction_id)
        watched = Phase(
            f"{args.watchers} watchers", run_bids(server, workdir, "with watchers", keys, auction_id, args)
        )
        await asyncio.sleep(DRAIN_S)
        watched.sequence_before, watched.sequence_after = before, last_sequence(server.base, auction_id)
        watched.client = client.ask("report")
        phases.append(watched)
        rss_end_mb = server_rss_mb(server)
        client.stop()
        client = None
        print_report(args, phases, rss_before_mb, rss_after_mb, rss_end_mb, connected)
        shutil.rmtree(workdir, ignore_errors=True)
        return 0 if watched.client["closed"] == 0 else 1
    finally:
        if client is not None:
            client.stop()
        await clean_up(server, db, workdir, db.name)


def print_report(
    args: argparse.Namespace,
    phases: list[Phase],
    rss_before_mb: float,
    rss_after_mb: float,
    rss_end_mb: float,
    connected: dict[str, Any],
) -> None:
    baseline, watched = phases
    report = watched.client
    assert report is not None
    accepted = watched.sequence_after - watched.sequence_before
    expected_first, expected_last = watched.sequence_before + 1, watched.sequence_after
    every = (
        report["min_bids"] == report["max_bids"] == accepted
        and report["first_ids"] == [expected_first]
        and report["last_ids"] == [expected_last]
        and report["out_of_order"] == 0
        and report["reconnects"] == 0
        and report["closed"] == 0
    )
    per_watcher_kib = (rss_after_mb - rss_before_mb) * 1024 / args.watchers
    print()
    print("=" * 100)
    print(
        f"ipx watchers benchmark{' (quick)' if args.quick else ''} — PostgreSQL, "
        f"{'one server process' if args.workers == 1 else f'{args.workers} server processes'}"
    )
    print(
        f"machine: {os.cpu_count()} cores; {args.watchers} watchers in one client process ("
        f"{'C, epoll' if args.client == 'c' else 'Python asyncio, uvloop'}, raw sockets); bids paced at {args.rate:.0f}/s by wrk ({WRK_CONNECTIONS} connections) for "
        f"{args.seconds} s; feed flush interval {args.flush_ms} ms"
    )
    print(
        f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on the machine shows here)"
    )
    print("=" * 100)
    print(f"  {'bids':<16}{'req/s':>8}{'accepted':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for phase in phases:
        r = phase.bids
        print(
            f"  {phase.label:<16}{r.requests_per_s:>8.0f}{r.accepted:>10}{r.p50_ms:>9.1f}{r.p90_ms:>9.1f}"
            f"{r.p99_ms:>9.1f}{r.max_ms:>9.1f}"
        )
    print(
        f"  bid p99 with / without watchers: {watched.bids.p99_ms:.1f} / {baseline.bids.p99_ms:.1f} ms = "
        f"{watched.bids.p99_ms / baseline.bids.p99_ms:.2f}x; p50 {watched.bids.p50_ms / baseline.bids.p50_ms:.2f}x"
    )
    print(
        f"\n  events: {accepted} bids accepted (sequences {expected_first}..{expected_last}); per watcher "
        f"{report['min_bids']}..{report['max_bids']} bid events, first ids {report['first_ids'][:3]}, last ids "
        f"{report['last_ids'][:3]}, {report['out_of_order']} out of order (sampled), {report['reconnects']} told to "
        f"reconnect, {report['closed']} closed -> every watcher got every event: {'YES' if every else 'NO'}"
    )
    print(
        f"  bid-to-watcher latency over {report['latency_events']:,} events of {report['sampled']} sampled "
        f"watchers: p50 {report['p50_ms']:.1f} ms, p90 {report['p90_ms']:.1f} ms, p99 {report['p99_ms']:.1f} ms, "
        f"max {report['max_ms']:.1f} ms (target p99 <= {TARGET_P99_MS:.0f} ms: "
        f"{'MET' if report['p99_ms'] <= TARGET_P99_MS else 'MISSED'})"
    )
    print(
        f"  server RSS: {rss_before_mb:.1f} MiB before the watchers, {rss_after_mb:.1f} MiB with them "
        f"({per_watcher_kib:.1f} KiB per watcher), {rss_end_mb:.1f} MiB after the run; connecting took "
        f"{connected['seconds']:.1f} s"
    )
    print(
        f"  the watchers' client used {report['client_cpu_share']:.2f} of a core during the run; the server "
        f"{watched.bids.own_cpu_ms:.2f} ms of CPU per bid, PostgreSQL {watched.bids.db_cpu_ms:.2f} ms (without watchers "
        f"{baseline.bids.own_cpu_ms:.2f} and {baseline.bids.db_cpu_ms:.2f} ms)"
    )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    run = sub.add_parser("watchers")
    run.add_argument("--quick", action="store_true", help="500 watchers, 10 s of bids")
    run.add_argument("--watchers", type=int, default=None, help="default 5,000 (--quick 500)")
    run.add_argument("--rate", type=float, default=500.0, help="bids per second (default %(default)s)")
    run.add_argument("--seconds", type=int, default=None, help="each phase's bids (default 30, --quick 10)")
    run.add_argument(
        "--flush-ms", type=int, default=50, help="IPX_LIVE_FLUSH_INTERVAL_MS (default %(default)s)"
    )
    run.add_argument(
        "--flush-slice", type=int, default=None, help="IPX_LIVE_FLUSH_SLICE (default: the server's)"
    )
    run.add_argument(
        "--workers", type=int, default=1, help="server processes, IPX_WORKERS (default %(default)s)"
    )
    run.add_argument("--sample-every", type=int, default=10, help="latency over every n-th watcher's events")
    run.add_argument(
        "--client",
        choices=("c", "python"),
        default="c",
        help="the watchers' client: C on epoll (default), or the asyncio one it replaced",
    )
    run.add_argument(
        "--pg-url",
        default=os.environ.get("IPX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server URL whose user may create databases (default: %(default)s)",
    )
    client = sub.add_parser("client")
    client.add_argument("--port", type=int, required=True)
    client.add_argument("--auction", type=int, required=True)
    client.add_argument("--watchers", type=int, required=True)
    client.add_argument("--sample-every", type=int, required=True)
    args = parser.parse_args(argv)
    if args.mode == "client":
        import uvloop

        raise_fd_limit(args.watchers + 100)
        uvloop.run(client_main(args))
        return 0
    args.watchers = args.watchers or (500 if args.quick else 5_000)
    args.seconds = args.seconds or (10 if args.quick else 30)
    args.base_s = int(time.time())
    from bench_auction import BenchError

    try:
        return asyncio.run(bench(args))
    except (BenchError, RuntimeError) as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
