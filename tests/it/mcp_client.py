"""Drives `cram mcp` with the official MCP Python SDK (a client nobody on this
project wrote) and with raw bytes on its stdin.

Usage: python mcp_client.py CRAM_BINARY [SOAK_CALLS]

The cram binary is run with this process's environment (CRAM_CORPUS,
CRAM_INDEX, CRAM_MODEL_DIR). Checks, in order: initialize; the tool, resource
and prompt lists; every tool against `cram ask --json` / `cram show` /
`cram list` for the same parameters; bad input through the SDK (each a
JSON-RPC error, the session still serving); concurrent calls; warm latency per
tool (p50/p95 through the SDK); a soak of SOAK_CALLS search calls with the
server's RSS at start and end; then bad bytes on a raw pipe (malformed JSON,
calls before initialize, unknown method, batch, a 1 MB line, invalid UTF-8).
Prints one `RESULT {json}` line with the measurements; exits non-zero on the
first failed check.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import McpError

CRAM = sys.argv[1]
SOAK = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
ROOT = Path(__file__).resolve().parents[2]
# Never touch the user's own drill progress.
os.environ.setdefault("CRAM_DRILL_PROGRESS", str(Path(tempfile.mkdtemp()) / "drill.json"))
os.environ.setdefault("CRAM_NOW", "1800000000")
# Latencies are reported, not asserted: speed floors are measured standalone
# (README, BENCHMARKS.md), since the suite shares the cores with builds. Set
# CRAM_MCP_P50_LIMIT_MS to make a run fail above a p50 of your choosing.
P50_LIMIT_MS = os.environ.get("CRAM_MCP_P50_LIMIT_MS")
RSS_GROWTH_LIMIT_KB = 32 * 1024


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def dev_queries(n):
    out = []
    for line in (ROOT / "tests/data/dev_queries.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            out.append(line.split("\t", 1)[1])
    return out[:n]


def offtopic(n):
    lines = (ROOT / "tests/data/offtopic.txt").read_text().splitlines()
    return [l for l in lines if l and not l.startswith("#")][:n]


def cram(*args):
    env = dict(os.environ, NO_COLOR="1")
    r = subprocess.run([CRAM, *args], capture_output=True, text=True, env=env, timeout=120)
    check(r.returncode == 0, f"cram {args}: exit {r.returncode}: {r.stderr}")
    return r.stdout


def same_answer(got, want, what):
    """The fields a reader sees must match `cram ask --json` exactly."""
    for f in ["schema", "query", "mode", "abstained", "coverage", "mention", "understood"]:
        check(got[f] == want[f], f"{what}: {f} differs: {got[f]!r} vs {want[f]!r}")
    check([q["id"] for q in got["questions"]] == [q["id"] for q in want["questions"]], f"{what}: questions differ")
    check([k["text"] for k in got["key_points"]] == [k["text"] for k in want["key_points"]], f"{what}: key points differ")
    keys = ["rank", "chunk_id", "question_id", "path", "heading", "lines", "text"]
    got_r = [{k: r[k] for k in keys} for r in got["results"]]
    want_r = [{k: r[k] for k in keys} for r in want["results"]]
    check(got_r == want_r, f"{what}: results differ")
    for g, w in zip(got["results"], want["results"]):
        check(abs(g["score"] - w["score"]) < 1e-4, f"{what}: score differs for {g['chunk_id']}")


def verdict_lines(text):
    head = []
    for line in text.splitlines():
        if not line.strip():
            break
        head.append(line)
    return "\n".join(head)


def server_pid():
    """The `cram mcp` child of this process."""
    me = str(os.getpid())
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
            cmd = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[1] == me and len(cmd) > 1 and cmd[1] == b"mcp":
            return int(p.name)
    return None


def rss_kb(pid):
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def expect_error(coro, what, contains=None):
    try:
        await coro
    except McpError as e:
        msg = e.error.message
        check(contains is None or contains in msg, f"{what}: message {msg!r} lacks {contains!r}")
        return e.error.code
    raise AssertionError(f"{what}: no JSON-RPC error")


def engine_ms(result):
    """The engine's own time in a search answer (0 for other calls)."""
    structured = getattr(result, "structuredContent", None) or {}
    return structured.get("timings_ms", {}).get("total", 0.0)


async def timed(n, make_call):
    ms, layer = [], []
    for i in range(n):
        t = time.perf_counter()
        r = await make_call(i)
        ms.append((time.perf_counter() - t) * 1000)
        layer.append(ms[-1] - engine_ms(r))
    return {"p50_ms": round(pct(ms, 0.5), 3), "p95_ms": round(pct(ms, 0.95), 3), "calls": n,
            "mcp_layer_p50_ms": round(pct(layer, 0.5), 3)}


async def check_tools(s):
    listed = {t.name: t for t in (await s.list_tools()).tools}
    check({"search", "get_note", "list_questions", "drill_next", "drill_grade"} <= set(listed), f"tools: {sorted(listed)}")
    for q in dev_queries(8) + offtopic(3):
        got = (await s.call_tool("search", {"question": q})).structuredContent
        want = json.loads(cram("ask", "--json", q))
        same_answer(got, want, q)
        check(got["summary"] == verdict_lines(cram("ask", "--color", "never", q)), f"{q}: summary wording differs")
    q = "how do I stop an agent from looping forever"
    got = (await s.call_tool("search", {"question": q, "k": 3, "mode": "bm25"})).structuredContent
    same_answer(got, json.loads(cram("ask", "--json", "-k", "3", "--mode", "bm25", q)), "bm25 k3")
    got = (await s.call_tool("search", {"question": "latency", "section": "rag", "k": 4})).structuredContent
    check(0 < len(got["results"]) <= 4, "section filter: passage count")
    check(all(r["question_id"] in {f"q{i}" for i in range(21, 26)} for r in got["results"]), "section filter: rag notes only")
    note = (await s.call_tool("get_note", {"id": "14"})).structuredContent
    shown = json.loads(cram("show", "q14", "--format", "json"))
    check(note["text"] == shown["body"] and note["path"] == shown["path"], "get_note q14 = cram show q14")
    part = (await s.call_tool("get_note", {"path": shown["path"], "heading": "short answer"})).structuredContent
    check(part["text"].startswith("## Short answer") and part["text"].strip() in shown["body"], "get_note heading")
    check_line_spans(note, part)
    listed_q = (await s.call_tool("list_questions", {})).structuredContent
    check(listed_q["total"] == 55, f"list_questions total {listed_q['total']}")
    ids = [q["id"] for sec in listed_q["sections"] for q in sec["questions"]]
    check(sorted(ids) == [f"q{i:02}" for i in range(1, 56)], "list_questions ids")
    for i in ids:
        check(i in cram("list"), f"{i} not in cram list")


def check_line_spans(note, part):
    """get_note's file lines: the section's span and every heading's line, read back from the file."""
    lines = (ROOT / note["path"]).read_text().splitlines()
    first, last = part["lines"]
    check(lines[first - 1] == "## Short answer", f"get_note lines start at {lines[first - 1]!r}")
    check(lines[last - 1].strip() and part["text"].rstrip().endswith(lines[last - 1]), "get_note lines end at the section's last line")
    check([o["heading"] for o in note["outline"]] == note["headings"], "outline headings")
    for o in note["outline"]:
        check(lines[o["lines"][0] - 1] == "## " + o["heading"], f"outline: {o}")
    first, last = note["lines"]
    check(lines[last - 1].strip() and not any(l.strip() for l in lines[last:]), "whole note ends at its last line")
    check("\n".join(lines[first - 1:last]) == note["text"].rstrip("\n"), "whole note lines")


async def check_resources_and_prompts(s):
    res = (await s.list_resources()).resources
    check(len(res) == 55 and str(res[13].uri) == "cram://note/q14", "resources/list")
    body = (await s.read_resource("cram://note/q14")).contents[0].text
    check(body == cram("show", "q14", "--format", "md"), "resource q14 = cram show q14 --format md")
    prompts = (await s.list_prompts()).prompts
    check([p.name for p in prompts] == ["quiz"], "prompts/list")
    msg = (await s.get_prompt("quiz", {"section": "rag"})).messages[0].content.text
    check("q21" in msg and "q01 " not in msg, "quiz prompt for rag")


async def check_drill(s):
    first = (await s.call_tool("drill_next", {"section": "rag"})).structuredContent
    check(first["id"] == "q21" and first["status"] == "new" and first["short_answer"], f"drill_next {first}")
    graded = (await s.call_tool("drill_grade", {"id": "21", "grade": "good"})).structuredContent
    check(graded["reviews"] == 1 and graded["interval_days"] == 2.0, f"drill_grade {graded}")
    stats = json.loads(cram("drill", "--stats", "--json"))
    check(stats["total"]["reviews"] == 1, "cram drill --stats sees the grade")
    then = (await s.call_tool("drill_next", {"section": "rag"})).structuredContent
    check(then["id"] != "q21" and then["new"] == first["new"] - 1, f"drill_next after a grade {then}")
    await expect_error(s.call_tool("drill_grade", {"id": "q21", "grade": "excellent"}), "bad grade", "grade")
    await expect_error(s.call_tool("drill_grade", {"id": "q99", "grade": 3}), "bad id", "q99")


async def check_bad_input(s):
    codes = {
        "unknown tool": await expect_error(s.call_tool("nope", {}), "unknown tool", "unknown tool"),
        "wrong type": await expect_error(s.call_tool("search", {"question": "x", "k": "five"}), "k as string", "invalid type"),
        "missing arg": await expect_error(s.call_tool("search", {}), "no question", "question"),
        "1 MB argument": await expect_error(s.call_tool("search", {"question": "a" * (1 << 20)}), "1 MB", "limit"),
        "k out of range": await expect_error(s.call_tool("search", {"question": "x", "k": 0}), "k 0"),
        "unknown note": await expect_error(s.call_tool("get_note", {"id": "q99"}), "q99", "no note q99"),
        "unknown heading": await expect_error(s.call_tool("get_note", {"id": "q14", "heading": "zzz"}), "heading"),
        "unknown resource": await expect_error(s.read_resource("cram://note/q99"), "resource q99", "not found"),
        "unknown section": await expect_error(s.call_tool("list_questions", {"section": "cooking"}), "section"),
    }
    check(all(c in (-32602, -32002) for c in codes.values()), f"codes {codes}")
    got = await s.call_tool("search", {"question": "what is TTFT"})
    check(got.structuredContent["coverage"] == "covered", "serving after bad input")
    return codes


async def check_concurrent(s):
    qs = dev_queries(40)
    outs = await asyncio.gather(*(s.call_tool("search", {"question": q}) for q in qs))
    check([o.structuredContent["query"] for o in outs] == [q.strip() for q in qs], "concurrent answers matched to their calls")


async def measure(s):
    qs = dev_queries(252)
    ids = [f"q{i:02}" for i in range(1, 56)]
    lat = {
        "search": await timed(len(qs), lambda i: s.call_tool("search", {"question": qs[i]})),
        "get_note": await timed(200, lambda i: s.call_tool("get_note", {"id": ids[i % 55]})),
        "list_questions": await timed(200, lambda i: s.call_tool("list_questions", {})),
        "drill_next": await timed(100, lambda i: s.call_tool("drill_next", {})),
        "resources/read": await timed(200, lambda i: s.read_resource(f"cram://note/{ids[i % 55]}")),
    }
    if P50_LIMIT_MS is not None:
        for tool, m in lat.items():
            limit = float(P50_LIMIT_MS)
            check(m["p50_ms"] <= limit, f"{tool}: p50 {m['p50_ms']} ms > {limit} ms")
    return lat


async def soak(s, pid):
    qs = dev_queries(252)
    start = rss_kb(pid)
    t = time.perf_counter()
    m = await timed(SOAK, lambda i: s.call_tool("search", {"question": qs[i % len(qs)]}))
    end = rss_kb(pid)
    m.update(rss_start_kb=start, rss_end_kb=end, seconds=round(time.perf_counter() - t, 1))
    if start and end:
        check(end - start <= RSS_GROWTH_LIMIT_KB, f"RSS grew {end - start} kB over {SOAK} calls")
    return m


async def sdk_session():
    params = StdioServerParameters(command=CRAM, args=["mcp"], env=dict(os.environ))
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            init = await s.initialize()
            check(init.serverInfo.name == "cram", "serverInfo")
            pid = server_pid()
            await check_tools(s)
            await check_resources_and_prompts(s)
            await check_drill(s)
            codes = await check_bad_input(s)
            await check_concurrent(s)
            lat = await measure(s)
            soaked = await soak(s, pid)
            return {"protocol": init.protocolVersion, "latency": lat, "soak": soaked, "error_codes": codes}


def raw_session():
    """Bytes no SDK would send, on a raw pipe: each answered, then a ping still works."""
    lines = [
        b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
        b"this is not json",
        b'{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}',
        b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
        b'{"jsonrpc":"2.0","id":3,"method":"no/such/method"}',
        b'[{"jsonrpc":"2.0","id":4,"method":"ping"}]',
        b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":null}',
        b'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"search","arguments":{"question":"' + b"x" * (1 << 20) + b'"}}}',
        b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":"what is rag"}}',
        b'\xff\xfe{"jsonrpc"',
        b'{"jsonrpc":"2.0","id":8,"method":"ping"}',
    ]
    p = subprocess.run([CRAM, "mcp"], input=b"\n".join(lines) + b"\n", capture_output=True, timeout=120)
    check(p.returncode == 0, f"raw: exit {p.returncode}")
    check(b"panicked" not in p.stderr, f"raw: panic: {p.stderr[-500:]!r}")
    out = [json.loads(l) for l in p.stdout.splitlines()]
    codes = [(o.get("id"), o["error"]["code"] if "error" in o else "ok") for o in out]
    want = [(1, -32600), (None, -32700), (2, "ok"), (3, -32601), (None, -32600), (5, -32602), (6, -32602), (7, -32602), (None, -32700), (8, "ok")]
    check(codes == want, f"raw replies {codes}")
    return codes


def main():
    results = asyncio.run(sdk_session())
    results["raw"] = raw_session()
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
