"""Warm latency of every `cram mcp` tool through the official MCP Python SDK,
for one or more cram binaries measured side by side in the same run.

Usage: python mcp_bench.py [--calls N] NAME=CRAM_BINARY [NAME=CRAM_BINARY ...]

Each binary runs as its own `cram mcp` child (with this process's environment:
CRAM_CORPUS, CRAM_INDEX, CRAM_MODEL_DIR). After a warm-up, the calls are
interleaved: call i goes to every binary in turn (the order rotating with i),
so a busy machine slows all of them alike. Per tool and binary it prints p50
and p95 of the round trip as the SDK's caller sees it, plus, to show where the
time goes:

- `search` engine: the engine's own `timings_ms.total` from the answer;
- `ping`: the SDK's round trip for an empty request (the protocol floor);
- raw: the same calls on a plain pipe without the SDK (json.dumps, one line
  out, one line in, json.loads), so SDK minus raw is the client's share.

Prints a Markdown table and one `BENCH {json}` line.
"""

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("CRAM_DRILL_PROGRESS", str(Path(tempfile.mkdtemp()) / "drill.json"))
os.environ.setdefault("CRAM_NOW", "1800000000")


def dev_queries():
    out = []
    for line in (ROOT / "tests/data/dev_queries.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            out.append(line.split("\t", 1)[1])
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


IDS = [f"q{i:02}" for i in range(1, 56)]
QUERIES = dev_queries()


def workload(calls):
    """Per tool: the (method, params) of each call."""
    return {
        "search": [("tools/call", {"name": "search", "arguments": {"question": QUERIES[i % len(QUERIES)]}}) for i in range(max(calls, len(QUERIES)))],
        "get_note": [("tools/call", {"name": "get_note", "arguments": {"id": IDS[i % 55]}}) for i in range(calls)],
        "get_note (section)": [("tools/call", {"name": "get_note", "arguments": {"id": IDS[i % 55], "heading": "short answer"}}) for i in range(calls)],
        "list_questions": [("tools/call", {"name": "list_questions", "arguments": {}}) for _ in range(calls)],
        "drill_next": [("tools/call", {"name": "drill_next", "arguments": {}}) for _ in range(calls)],
        "resources/read": [("resources/read", {"uri": f"cram://note/{IDS[i % 55]}"}) for i in range(calls)],
        "ping": [("ping", None) for _ in range(calls)],
    }


async def sdk_call(s, method, params):
    if method == "ping":
        return await s.send_ping()
    if method == "resources/read":
        return await s.read_resource(params["uri"])
    r = await s.call_tool(params["name"], params["arguments"])
    if r.isError:
        raise AssertionError(f"{params}: {r.content}")
    return r


class Raw:
    """A plain-pipe JSON-RPC client: no SDK."""

    def __init__(self, binary):
        self.p = subprocess.Popen([binary, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.n = 0
        self.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}})
        self.p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.p.stdin.flush()

    def call(self, method, params):
        self.n += 1
        msg = {"jsonrpc": "2.0", "id": self.n, "method": method}
        if params is not None:
            msg["params"] = params
        self.p.stdin.write(json.dumps(msg).encode() + b"\n")
        self.p.stdin.flush()
        reply = json.loads(self.p.stdout.readline())
        if "error" in reply or reply["id"] != self.n:
            raise AssertionError(f"{method}: {reply}")
        return reply["result"]

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


async def run(binaries, calls):
    from contextlib import AsyncExitStack

    names = list(binaries)
    work = workload(calls)
    sdk_ms = {(n, t): [] for n in names for t in work}
    raw_ms = {(n, t): [] for n in names for t in work}
    engine_ms = {n: [] for n in names}
    async with AsyncExitStack() as stack:
        sessions = {}
        for n, b in binaries.items():
            r, w = await stack.enter_async_context(stdio_client(StdioServerParameters(command=b, args=["mcp"], env=dict(os.environ))))
            s = await stack.enter_async_context(ClientSession(r, w))
            await s.initialize()
            sessions[n] = s
        raws = {n: Raw(b) for n, b in binaries.items()}
        for tool, items in work.items():
            for n in names:  # warm-up
                for method, params in items[:10]:
                    await sdk_call(sessions[n], method, params)
                    raws[n].call(method, params)
            for i, (method, params) in enumerate(items):
                order = names[i % len(names):] + names[: i % len(names)]
                for n in order:
                    t = time.perf_counter()
                    r = await sdk_call(sessions[n], method, params)
                    sdk_ms[(n, tool)].append((time.perf_counter() - t) * 1000)
                    if tool == "search":
                        engine_ms[n].append(r.structuredContent["timings_ms"]["total"])
                for n in order:
                    t = time.perf_counter()
                    raws[n].call(method, params)
                    raw_ms[(n, tool)].append((time.perf_counter() - t) * 1000)
        for r in raws.values():
            r.close()
    rows = []
    for tool in work:
        for n in names:
            s, r = sdk_ms[(n, tool)], raw_ms[(n, tool)]
            row = {"tool": tool, "binary": n, "calls": len(s), "p50_ms": round(pct(s, 0.5), 2), "p95_ms": round(pct(s, 0.95), 2),
                   "raw_p50_ms": round(pct(r, 0.5), 2), "raw_p95_ms": round(pct(r, 0.95), 2)}
            if tool == "search":
                row["engine_p50_ms"] = round(pct(engine_ms[n], 0.5), 2)
                row["engine_p95_ms"] = round(pct(engine_ms[n], 0.95), 2)
            rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200, help="calls per tool (search: at least every dev query once)")
    ap.add_argument("binaries", nargs="+", help="NAME=PATH of a cram binary")
    a = ap.parse_args()
    binaries = dict(b.split("=", 1) for b in a.binaries)
    load = os.getloadavg()
    rows = asyncio.run(run(binaries, a.calls))
    print(f"load average at start: {load[0]:.1f}, at end: {os.getloadavg()[0]:.1f}")
    print("| tool | binary | calls | p50 ms | p95 ms | raw pipe p50 / p95 ms | engine p50 / p95 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        eng = f"{r['engine_p50_ms']} / {r['engine_p95_ms']}" if "engine_p50_ms" in r else ""
        print(f"| {r['tool']} | {r['binary']} | {r['calls']} | {r['p50_ms']} | {r['p95_ms']} | {r['raw_p50_ms']} / {r['raw_p95_ms']} | {eng} |")
    print("BENCH " + json.dumps({"load_start": load, "load_end": os.getloadavg(), "rows": rows}))


if __name__ == "__main__":
    main()
