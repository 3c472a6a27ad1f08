"""Benchmark the stack against docker-compose and against the bare app server, in one run.

    make bench        (or: .venv/bin/python bench/run.py)

On this machine, with the local inventory and a stack of its own (`djangobench`, port 18680, one
app replica so that nginx and the direct path hit the same server, rate limits off):

1. cold deploy: `site.yml` with the images present and no container or volume of the stack,
   until every service is healthy, against `docker-compose up -d` of the equivalent compose file
   (bench/compose.py writes it from the deployed containers) until the same health checks pass;
   5 rounds, each compose then site.yml, and the median of each;
2. no-op re-run of `site.yml`, 5 times, each back to back with a no-op re-run of the reference
   release (REFERENCE, the last one with a custom strategy plugin, run with Ansible's plain
   `linear` strategy) on a stack of its own beside this one: wall times, changed counts and the
   median of the rounds' ratios;
3. HTTP: wrk on `/` through nginx and directly on the app container, both at their addresses on
   the stack's network: 9 rounds of 4 s with 32 connections, nginx and direct back to back in each
   (their order swapping); requests/s (the medians) and their ratio (the median of the rounds'
   ratios); a static file. Then the latency nginx adds, one request at a time (bench/latency.py):
   5000 requests of nginx and of the app on one keep-alive connection each, alternating request
   by request, so that a slow spell of the machine hits both paths alike; and, 1500 each, nginx's
   published port on 127.0.0.1 (where Docker's userland proxy, docker-proxy, relays each
   connection) against nginx's address;
4. WebSocket fan-out (bench/fanout.py) at 100 and 500 connections, through nginx and directly,
   each against the bare asyncio `websockets` server of bench/reference_server.py run on this
   machine with the same client, in rounds of the reference then the stack (the ratios, medians of
   the rounds': deliveries/s at least 0.15x, p99 at most 10x), with
   the default channel layer (core), then again after a roll to the pubsub one; with the default,
   2,000 idle WebSockets held open on the app: its memory a connection (at most 64 KiB);
5. the 10 slowest tasks of the cold deploy and of the no-op re-run (profile_tasks).

Writes bench/results/latest.json, latest.md (the table) and latest.svg (the chart). Only ratios and
paired figures measured in this run are compared; nothing here is a test with a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from compose import write_compose  # noqa: E402
from fanout import fanout  # noqa: E402
from latency import paired_latency  # noqa: E402

STACK = "djangobench"
PORT = 18680
BASE_DIR = Path(f"/opt/{STACK}")
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"
EXTRA = {
    "stack_name": STACK,
    "nginx_http_port": PORT,
    "django_channels_replicas": 1,
    "nginx_rate_limit_app": "",
    "nginx_rate_limit_websocket": "",
}
RELEASE = "python manage.py migrate --noinput && python manage.py collectstatic --noinput"
# The no-op baseline: the last release with the custom Mitogen strategy, run with plain `linear`, on
# a stack of its own (its own name and port) deployed from a copy of that commit's tree.
REFERENCE = "3a5650e"
REFERENCE_DIR = WORK / f"reference-{REFERENCE}"
REFERENCE_EXTRA = {**EXTRA, "stack_name": f"{STACK}-ref", "nginx_http_port": PORT + 1}
BIN = Path(sys.executable).parent
STEPS = 7
# wrk rounds of each path, alternating: one round's nginx/direct ratio spread over 0.82-1.12 in the
# runs of 5 rounds of 6 s (the machine's speed changes within seconds), so more and shorter rounds,
# nginx and direct back to back in each (their order swapping), and the median of the rounds' ratios.
HTTP_ROUNDS = 9
WRK_SECONDS = 4
# Requests of nginx and of the direct path, one at a time and alternating, for the latency nginx adds:
# a p99 is then about the 50th slowest of each path. With 3000 a path, the difference of the p99s
# came out from -4.7 to +3.2 ms between runs, for a p50 difference of 0.5-0.8 ms.
LATENCY_REQUESTS = 5000
# The reference's rate swung from 22,000 to 50,000 deliveries/s between two sizes of one run, when
# its 1,000 messages took a fifth of a second: more messages, and rounds of the reference and the
# stack back to back.
FANOUT_MESSAGES = 3000
FANOUT_ROUNDS = 3
# The fan-out with each layer django_channels_channel_layer offers; the first is the default.
CHANNEL_LAYERS = ("core", "pubsub")
DEFAULT_LAYER = CHANNEL_LAYERS[0]
# The fan-out targets, against the bare reference server of the same run.
FANOUT_RATE_RATIO = 0.15
FANOUT_P99_RATIO = 10
IDLE_KIB_PER_CONNECTION = 64
# Sockets held open at once, for the app's memory a connection.
IDLE_CONNECTIONS = 2000
REFERENCE_PORT = 18690
# The published port against nginx's address, the same way (no target, fewer requests).
PUBLISHED_LATENCY_REQUESTS = 1500
# The machine's speed swings from one minute to the next (2 CPUs, up to a third of them stolen by
# the hypervisor): each deploy figure is the median of several runs, the cold ones alternating.
# Cold runs spread over 2-6 s here: 5 of each, so that two slow ones do not make the median.
DEPLOY_ROUNDS = 5
NOOP_RUNS = 5


def fanout_rounds(urls: dict[str, str], connections: int, rooms: int) -> list[dict[str, Any]]:
    """Each path's fan-out, FANOUT_ROUNDS times, each round the reference then the others (their
    order swapping); a path's figures are the medians of its rounds, its ratios the medians of each
    round's ratio to that round's reference, its losses the sum."""
    rounds: dict[str, list[dict[str, Any]]] = {path: [] for path in urls}
    others = [path for path in urls if path != "reference"]
    for number in range(FANOUT_ROUNDS):
        for path in ["reference", *(others if number % 2 == 0 else others[::-1])]:
            run = asdict(fanout(urls[path], connections, rooms, messages=FANOUT_MESSAGES))
            rounds[path].append(run)
            reference = rounds["reference"][-1]  # this round's: it runs first
            run["rate_ratio"] = run["delivered_per_s"] / reference["delivered_per_s"]
            run["p99_ratio"] = run["p99_ms"] / reference["p99_ms"]
    summaries = []
    for path, runs in rounds.items():
        summary = {
            key: statistics.median(run[key] for run in runs)
            for key in ("delivered_per_s", "p50_ms", "p99_ms")
        }
        summary.update(
            path=path,
            connections=connections,
            rooms=rooms,
            rounds=len(runs),
            expected=sum(run["expected"] for run in runs),
            lost=sum(run["lost"] for run in runs),
            rate_ratio=round(statistics.median(run["rate_ratio"] for run in runs), 3),
            p99_ratio=round(statistics.median(run["p99_ratio"] for run in runs), 2),
            round_rate_ratios=[round(run["rate_ratio"], 3) for run in runs],
            round_p99_ratios=[round(run["p99_ratio"], 2) for run in runs],
        )
        summaries.append(summary)
    return summaries


def fanout_rate_met(run: dict[str, Any]) -> bool:
    return run["rate_ratio"] >= FANOUT_RATE_RATIO


def fanout_p99_met(run: dict[str, Any]) -> bool:
    return run["p99_ratio"] <= FANOUT_P99_RATIO


def step(number: int, text: str) -> None:
    print(f"[{number}/{STEPS}] {text}", flush=True)


def ansible(playbook: str, *extra: str, reference: bool = False) -> tuple[float, str]:
    """Run a playbook of this checkout on the bench's stack, or of the reference on its own."""
    tree = REFERENCE_DIR if reference else ROOT
    env = {**os.environ, "ANSIBLE_CONFIG": str(tree / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    if reference:
        env["ANSIBLE_STRATEGY"] = "linear"
    variables = REFERENCE_EXTRA if reference else EXTRA
    start = time.perf_counter()
    result = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "inventories/local",
            playbook,
            "-e",
            json.dumps(variables),
            *extra,
        ],
        check=False,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f"{playbook} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return seconds, result.stdout


def changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


def slowest_tasks(output: str, count: int = 10) -> list[dict[str, Any]]:
    recap = output.split("TASKS RECAP", 1)[-1]
    tasks = [
        {"task": match.group(1).strip(), "seconds": float(match.group(2))}
        for match in re.finditer(r"^(.+?) -+ (\d+\.\d+)s$", recap, re.M)
    ]
    return sorted(tasks, key=lambda task: -task["seconds"])[:count]


def destroy(reference: bool = False) -> None:
    ansible("playbooks/destroy.yml", "-e", "stack_destroy_volumes=true", reference=reference)


def reference_tree() -> None:
    """The reference release's files (from this clone's history), with this machine's secrets."""
    if not (REFERENCE_DIR / "site.yml").exists():
        REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", REFERENCE], check=False, cwd=ROOT, capture_output=True)
        if archive.returncode:
            sys.exit(f"git archive {REFERENCE} failed (a shallow clone?): {archive.stderr.decode()}")
        subprocess.run(["tar", "-x", "-C", str(REFERENCE_DIR)], input=archive.stdout, check=True)
    secrets = "inventories/local/group_vars/all/secrets.yml"
    shutil.copy(ROOT / secrets, REFERENCE_DIR / secrets)


def container_ip(name: str) -> str:
    return subprocess.run(
        [
            "docker",
            "inspect",
            "--format",
            f'{{{{(index .NetworkSettings.Networks "{STACK}").IPAddress}}}}',
            name,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def wait_healthy(names: list[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Health.Status}}", *names],
            check=False,
            capture_output=True,
            text=True,
        ).stdout.split()
        if states == ["healthy"] * len(names):
            return
        time.sleep(0.25)
    sys.exit(f"not healthy within {timeout} s: {names}")


def wrk(url: str) -> dict[str, float]:
    """requests/s and p50/p99 of `url` with 32 connections (the app saturated) for WRK_SECONDS."""
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c32",
            f"-d{WRK_SECONDS}s",
            "--latency",
            "-H",
            "Host: localhost",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return wrk_figures(output)


def wrk_figures(output: str) -> dict[str, float]:
    """requests/s, p50 and p99 (ms) and the count of answers not 2xx/3xx, from wrk's --latency output.
    wrk pads a unit shorter than two letters with a space: a p99 of a second or more reads "1.00s "."""
    figures: dict[str, float] = {}
    for key, pattern in (
        ("rps", r"^Requests/sec:\s+([\d.]+)()[ \t]*$"),
        ("p50_ms", r"^\s+50%\s+([\d.]+)(us|ms|s|m)[ \t]*$"),
        ("p99_ms", r"^\s+99%\s+([\d.]+)(us|ms|s|m)[ \t]*$"),
    ):
        match = re.search(pattern, output, re.M)
        if match is None:
            raise ValueError(f"wrk's output has no {key} figure:\n{output}")
        value, unit = match.groups()
        figures[key] = float(value) * {"": 1, "us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = int(errors.group(1)) if errors else 0
    return figures


def other_containers() -> list[str]:
    """The running containers that are not the bench's stack."""
    names = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}}"], check=True, capture_output=True, text=True
    ).stdout.split()
    return sorted(name for name in names if not name.startswith(f"{STACK}-"))


def middle_run(runs: list[tuple[float, str]]) -> tuple[float, str]:
    """Of an odd number of timed runs (seconds, output), the one whose time is the median."""
    return sorted(runs)[len(runs) // 2]


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds of one path (the errors summed)."""
    return {
        key: (
            sum(run[key] for run in runs) if key == "non_2xx" else statistics.median(run[key] for run in runs)
        )
        for key in runs[0]
    } | {"rounds": len(runs)}


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    deploy = results["deploy"]
    axes[0].bar(
        ["site.yml cold", "compose cold", "site.yml no-op", f"no-op, {REFERENCE}"],
        [deploy["ansible_cold_s"], deploy["compose_cold_s"], deploy["noop_s"], deploy["reference_noop_s"]],
        color=["#2b6cb0", "#a0aec0", "#68d391", "#c6f6d5"],
    )
    axes[0].set_title("Deploy wall time (s)")
    http = results["http"]
    axes[1].bar(
        ["nginx /", "published port /", "direct /", "nginx static"],
        [http["nginx"]["rps"], http["published"]["rps"], http["direct"]["rps"], http["static"]["rps"]],
        color=["#2b6cb0", "#90cdf4", "#a0aec0", "#68d391"],
    )
    axes[1].set_title("HTTP requests/s (wrk, 32 connections, median of rounds)")
    labels, rates = [], []
    for run in results["websocket"]:
        labels.append(f"{run['path']}\n{run['connections']} {run['layer']}")
        rates.append(run["delivered_per_s"])
    colours = {"nginx": "#2b6cb0", "direct": "#a0aec0", "reference": "#68d391"}
    axes[2].bar(labels, rates, color=[colours[label.split("\n")[0]] for label in labels])
    axes[2].set_title("WebSocket deliveries/s (fan-out)")
    for axis in axes:
        axis.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"djangostack.channels benchmark, {results['date']} ({os.cpu_count()} CPUs)")
    fig.tight_layout()
    fig.savefig(path)


def table(results: dict[str, Any]) -> str:
    deploy, http, targets = results["deploy"], results["http"], results["targets"]
    latency, published = http["latency"], http["latency_published"]
    lines = [
        "| Measure | Ours | Reference | Ratio | Target |",
        "| --- | --- | --- | --- | --- |",
        f"| Cold deploy until healthy (median of {len(deploy['ansible_cold_rounds_s'])}) "
        f"| site.yml {deploy['ansible_cold_s']:.1f} s | docker-compose {deploy['compose_cold_s']:.1f} s "
        f"| {deploy['cold_ratio']:.2f}× | ≤ 1.5× {'✅' if targets['cold_deploy'] else '❌'} |",
        f"| No-op re-run, `linear` (median of {len(deploy['noop_runs_s'])}, each back to back with the reference's) "
        f"| {deploy['noop_s']:.1f} s, changed={deploy['noop_changed']} "
        f"| {REFERENCE} with `linear` {deploy['reference_noop_s']:.1f} s, changed={deploy['reference_noop_changed']} "
        f"| {deploy['noop_ratio']:.2f}× ({min(deploy['noop_round_ratios']):.2f}-{max(deploy['noop_round_ratios']):.2f}) "
        f"| ≤ 0.7×, 0 changed {'✅' if targets['noop'] else '❌'} |",
        f"| HTTP `/` requests/s, 32 connections ({len(http['rps_round_ratios'])} rounds of {WRK_SECONDS} s; ratio: median of the rounds') "
        f"| nginx {http['nginx']['rps']:.0f} | direct {http['direct']['rps']:.0f} "
        f"| {http['rps_ratio']:.2f}× ({min(http['rps_round_ratios']):.2f}-{max(http['rps_round_ratios']):.2f}) "
        f"| ≥ 0.9× {'✅' if targets['http_rps'] else '❌'} |",
        f"| HTTP `/` p50 / p99, 32 connections | nginx {http['nginx']['p50_ms']:.1f} / {http['nginx']['p99_ms']:.1f} ms "
        f"| direct {http['direct']['p50_ms']:.1f} / {http['direct']['p99_ms']:.1f} ms | – | – |",
        f"| HTTP `/` p50 / p99, one request at a time ({latency['nginx']['requests']} per path, alternating) "
        f"| nginx {latency['nginx']['p50_ms']:.1f} / {latency['nginx']['p99_ms']:.1f} ms "
        f"| direct {latency['direct']['p50_ms']:.1f} / {latency['direct']['p99_ms']:.1f} ms "
        f"| {http['p99_added_ms']:+.1f} ms at p99 | ≤ +2 ms {'✅' if targets['http_p99'] else '❌'} |",
        f"| HTTP `/` through the published port on 127.0.0.1 (docker-proxy) | {http['published']['rps']:.0f} requests/s; "
        f"one at a time ({published['published']['requests']}, alternating with nginx's address) p50 / p99 "
        f"{published['published']['p50_ms']:.1f} / {published['published']['p99_ms']:.1f} ms "
        f"| nginx's address {published['nginx']['p50_ms']:.1f} / {published['nginx']['p99_ms']:.1f} ms "
        f"| {http['published_p99_added_ms']:+.1f} ms at p99 | – |",
        f"| Static file through nginx | {http['static']['rps']:.0f} req/s, p99 {http['static']['p99_ms']:.1f} ms | – | – | – |",
    ]
    for run in results["websocket"]:
        if run["path"] == "reference":
            reference = run
            continue
        ok = run["lost"] == 0 and fanout_rate_met(run) and fanout_p99_met(run)
        lines.append(
            f"| WebSocket fan-out, {run['connections']} connections / {run['rooms']} rooms, {run['path']}, "
            f"`{run['layer']}` layer (medians of {run['rounds']} rounds) "
            f"| {run['delivered_per_s']:.0f} deliveries/s, p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, "
            f"lost {run['lost']} of {run['expected']} "
            f"| bare `websockets` server {reference['delivered_per_s']:.0f} deliveries/s, p99 {reference['p99_ms']:.1f} ms "
            f"| {run['rate_ratio']:.2f}× ({min(run['round_rate_ratios']):.2f}-{max(run['round_rate_ratios']):.2f}) "
            f"deliveries/s, {run['p99_ratio']:.1f}× ({min(run['round_p99_ratios']):.1f}-{max(run['round_p99_ratios']):.1f}) p99 "
            f"| ≥ {FANOUT_RATE_RATIO}×, p99 ≤ {FANOUT_P99_RATIO}×, 0 lost {'✅' if ok else '❌'} |"
        )
    idle = results["idle"]
    lines.append(
        f"| {idle['connections']} idle WebSockets, app container memory | {idle['before_mib']:.0f} → "
        f"{idle['after_mib']:.0f} MiB, {idle['kib_per_connection']:.0f} KiB a connection | – | – "
        f"| ≤ {IDLE_KIB_PER_CONNECTION} KiB {'✅' if targets['idle_memory'] else '❌'} |"
    )
    for run, key in (("cold deploy", "slowest_tasks"), ("no-op re-run", "noop_slowest_tasks")):
        lines += [
            "",
            f"Slowest tasks of the {run} (profile_tasks):",
            "",
            "| Task | Seconds |",
            "| --- | --- |",
        ]
        lines += [f"| {task['task']} | {task['seconds']:.2f} |" for task in deploy[key]]
    return "\n".join(lines)


@contextlib.contextmanager
def reference_server() -> Iterator[str]:
    """The bare asyncio websockets server (bench/reference_server.py), on this machine."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "reference_server.py"), "--port", str(REFERENCE_PORT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout and "reference server" in server.stdout.readline()
        yield f"ws://127.0.0.1:{REFERENCE_PORT}"
    finally:
        server.terminate()
        server.wait(10)


def container_memory_mib(name: str) -> float:
    """The container's memory use as Docker counts it (cgroup memory less the page cache)."""
    stats = (
        subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", name],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.split("/")[0]
        .strip()
    )
    value, unit = re.match(r"([\d.]+)\s*([KMG]i?B)", stats).groups()  # type: ignore[union-attr]
    return float(value) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "kB": 1 / 1000, "MB": 1, "GB": 1000}[unit]


def idle_memory(url: str, container: str, connections: int) -> dict[str, float]:
    """The app container's memory with `connections` idle WebSockets (in 100 rooms) open, against
    before they opened; both after a settling pause."""

    async def hold() -> dict[str, float]:
        await asyncio.sleep(3)
        before = container_memory_mib(container)
        sockets = []
        for i in range(connections):
            sockets.append(
                await websockets.connect(f"{url}/ws/chat/idle-{i % 100}/", origin="http://localhost")
            )
        await asyncio.sleep(5)
        after = container_memory_mib(container)
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        return {
            "connections": connections,
            "before_mib": round(before, 1),
            "after_mib": round(after, 1),
            "kib_per_connection": round((after - before) * 1024 / connections, 1),
        }

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, connections + 1024)), hard))
    return asyncio.run(hold())


def main() -> None:
    for tool in ("wrk", "docker-compose"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], check=False, capture_output=True).returncode:
            sys.exit(f"{tool} is missing: make bench installs it (apt-get install wrk docker-compose)")
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "stack": STACK}
    # Other containers share the CPUs: with the five of a `make deploy` stack up, one run took 26.2 s
    # for a cold deploy (1.66x compose) and 14.7 s for a no-op, against 18.8 s (1.30x) and 9.8 s
    # without. The results say how many ran.
    results["other_containers"] = other_containers()
    if results["other_containers"]:
        print(
            f"      note: {len(results['other_containers'])} other containers are running"
            f" ({', '.join(results['other_containers'])}); their load is in the figures",
            flush=True,
        )

    step(1, "warm-up deploy (builds the app image once) and the equivalent compose file")
    ansible("site.yml")
    compose_file = write_compose(STACK, BASE_DIR, WORK, RELEASE)
    names = sorted(
        service["container_name"]
        for name, service in __import__("yaml").safe_load(compose_file.read_text())["services"].items()
        if name != "release"
    )

    step(
        2,
        f"cold deploys from no container or volume of the stack (images present): {DEPLOY_ROUNDS} rounds "
        "of docker-compose up -d, then site.yml",
    )
    compose = ["docker-compose", "-p", STACK, "-f", str(compose_file)]
    compose_colds: list[float] = []
    colds: list[tuple[float, str]] = []
    for number in range(1, DEPLOY_ROUNDS + 1):
        destroy()
        start = time.perf_counter()
        subprocess.run([*compose, "up", "-d"], check=True, capture_output=True)
        wait_healthy(names)
        compose_colds.append(time.perf_counter() - start)
        subprocess.run([*compose, "down", "-v"], check=True, capture_output=True)
        destroy()
        colds.append(ansible("site.yml"))
        print(
            f"      round {number}: compose {compose_colds[-1]:.1f} s, site.yml {colds[-1][0]:.1f} s",
            flush=True,
        )
    cold, output = middle_run(colds)
    compose_cold = statistics.median(compose_colds)
    slow = slowest_tasks(output)

    step(
        3,
        f"no-op re-runs of site.yml ({NOOP_RUNS} times), each back to back with one of {REFERENCE} (plain linear)",
    )
    reference_tree()
    ansible("site.yml", reference=True)  # the reference's stack, deployed once
    noops: list[tuple[float, str]] = []
    reference_noops: list[tuple[float, str]] = []
    for number in range(NOOP_RUNS):
        # The order swaps each round, so that a slow spell of the machine hits both alike.
        for reference in (False, True) if number % 2 == 0 else (True, False):
            (reference_noops if reference else noops).append(ansible("site.yml", reference=reference))
    destroy(reference=True)
    noop, noop_output = middle_run(noops)
    reference_noop, _reference_output = middle_run(reference_noops)
    noop_round_ratios = [
        round(ours / theirs, 3)
        for (ours, _ours_output), (theirs, _their_output) in zip(noops, reference_noops, strict=True)
    ]

    step(4, "HTTP with wrk: / through nginx, its published port and directly on the app; a static file")
    app_ip = container_ip(f"{STACK}-app-1")
    # nginx at its address on the stack's network, as the app: the published port on 127.0.0.1
    # adds Docker's userland proxy, which clients from other machines do not go through (their
    # packets are forwarded by the kernel); it is measured as a path of its own.
    nginx_ip = container_ip(f"{STACK}-nginx")
    static = re.search(
        r'href="(/static/[^"]+\.css)"',
        subprocess.run(
            ["curl", "-fsS", f"http://localhost:{PORT}/"], check=True, capture_output=True, text=True
        ).stdout,
    ).group(1)
    # Rounds alternate between the paths, so that a slow spell of the machine hits each; each figure
    # is the median of its rounds. Throughput with 32 connections (the app saturated).
    paths = {
        "published": f"http://127.0.0.1:{PORT}/",
        "nginx": f"http://{nginx_ip}/",
        "direct": f"http://{app_ip}:8000/",
    }
    rounds: dict[str, list[dict[str, float]]] = {path: [] for path in paths}
    for number in range(HTTP_ROUNDS):
        pair = ["nginx", "direct"] if number % 2 == 0 else ["direct", "nginx"]
        for path in [*pair, "published"]:
            rounds[path].append(wrk(paths[path]))
    http: dict[str, Any] = {path: median_run(runs) for path, runs in rounds.items()}
    http["static"] = wrk(f"http://{nginx_ip}{static}")
    # Each round's nginx and direct figures ran back to back: the median of their ratios.
    http["rps_round_ratios"] = [
        round(nginx["rps"] / direct["rps"], 3)
        for nginx, direct in zip(rounds["nginx"], rounds["direct"], strict=True)
    ]
    http["rps_ratio"] = round(statistics.median(http["rps_round_ratios"]), 3)
    http["rounds"] = rounds
    # Latency one request at a time, so that it is the path's own time and not the app's queue.
    print(
        f"      one request at a time: {LATENCY_REQUESTS} per path for nginx and direct, alternating;"
        f" {PUBLISHED_LATENCY_REQUESTS} for the published port against nginx",
        flush=True,
    )
    http["latency"] = paired_latency({path: paths[path] for path in ("nginx", "direct")}, LATENCY_REQUESTS)
    http["latency_published"] = paired_latency(
        {path: paths[path] for path in ("published", "nginx")}, PUBLISHED_LATENCY_REQUESTS
    )
    http["p99_added_ms"] = round(http["latency"]["nginx"]["p99_ms"] - http["latency"]["direct"]["p99_ms"], 2)
    published = http["latency_published"]
    http["published_p99_added_ms"] = round(published["published"]["p99_ms"] - published["nginx"]["p99_ms"], 2)

    step(
        5,
        "WebSocket fan-out at 100 and 500 connections with each channel layer: the bare reference server, "
        "nginx, direct; idle sockets",
    )
    websocket = []
    idle: dict[str, float] = {}
    for layer in CHANNEL_LAYERS:
        if layer != DEFAULT_LAYER:  # the stack runs the default layer until now
            print(f"      the app replica rolled to the {layer} channel layer", flush=True)
            ansible("site.yml", "-e", json.dumps({"django_channels_channel_layer": layer}))
            app_ip, nginx_ip = container_ip(f"{STACK}-app-1"), container_ip(f"{STACK}-nginx")
        with reference_server() as reference_url:
            for connections, rooms in ((100, 10), (500, 50)):
                for run in fanout_rounds(
                    {
                        "reference": reference_url,
                        "nginx": f"ws://{nginx_ip}",
                        "direct": f"ws://{app_ip}:8000",
                    },
                    connections,
                    rooms,
                ):
                    run["layer"] = layer
                    websocket.append(run)
                    print(
                        f"      {layer:6} {run['path']:9} {connections:3} connections: {run['delivered_per_s']:.0f} deliveries/s "
                        f"({run['rate_ratio']:.2f}x the reference), p99 {run['p99_ms']:.0f} ms ({run['p99_ratio']:.1f}x), "
                        f"lost {run['lost']}",
                        flush=True,
                    )
        if layer == DEFAULT_LAYER:  # the default's memory, before the roll to another layer
            idle = idle_memory(f"ws://{app_ip}:8000", f"{STACK}-app-1", IDLE_CONNECTIONS)
            print(
                f"      {IDLE_CONNECTIONS} idle sockets: {idle['kib_per_connection']:.0f} KiB each in the app container",
                flush=True,
            )

    step(6, "clean up (the stack's containers and volumes)")
    destroy()

    results["deploy"] = {
        "ansible_cold_s": round(cold, 2),
        "compose_cold_s": round(compose_cold, 2),
        "cold_ratio": round(cold / compose_cold, 2),
        "ansible_cold_rounds_s": [round(seconds, 2) for seconds, _output in colds],
        "compose_cold_rounds_s": [round(seconds, 2) for seconds in compose_colds],
        "noop_runs_s": [round(seconds, 2) for seconds, _output in noops],
        "noop_s": round(noop, 2),
        # Every no-op run must change nothing: the sum over them.
        "noop_changed": sum(changed(output) for _seconds, output in noops),
        "reference": REFERENCE,
        "reference_noop_runs_s": [round(seconds, 2) for seconds, _output in reference_noops],
        "reference_noop_s": round(reference_noop, 2),
        "reference_noop_changed": sum(changed(output) for _seconds, output in reference_noops),
        "noop_round_ratios": noop_round_ratios,
        "noop_ratio": round(statistics.median(noop_round_ratios), 3),
        "slowest_tasks": slow,
        "noop_slowest_tasks": slowest_tasks(noop_output),
    }
    results["http"] = http
    results["websocket"] = websocket
    results["idle"] = idle
    results["targets"] = {
        "cold_deploy": results["deploy"]["cold_ratio"] <= 1.5,
        "noop": results["deploy"]["noop_ratio"] <= 0.7 and results["deploy"]["noop_changed"] == 0,
        "http_rps": http["rps_ratio"] >= 0.9,
        "http_p99": http["p99_added_ms"] <= 2,
        "websocket_lost": all(run["lost"] == 0 for run in websocket),
        # Per channel layer: whether every nginx and direct run of it met the ratio.
        **{
            key: {
                layer: all(
                    met(run) for run in websocket if run["path"] != "reference" and run["layer"] == layer
                )
                for layer in CHANNEL_LAYERS
            }
            for key, met in (("websocket_rate", fanout_rate_met), ("websocket_p99", fanout_p99_met))
        },
        "idle_memory": idle["kib_per_connection"] <= IDLE_KIB_PER_CONNECTION,
    }

    step(7, "results")
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = table(results)
    other = (
        f", with {len(results['other_containers'])} other containers running"
        if results["other_containers"]
        else ", with no other container running"
    )
    (RESULTS / "latest.md").write_text(
        f"Measured {results['date']} on {os.cpu_count()} CPUs{other}.\n\n{markdown}\n"
    )
    chart(results, RESULTS / "latest.svg")
    print(markdown)
    print(f"\nWrote {RESULTS / 'latest.json'}, latest.md and latest.svg")


if __name__ == "__main__":
    main()
