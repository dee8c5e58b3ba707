"""How long one slider frame takes: one edited image of a model, p50 / p95.

    python benchmarks/slider_frame.py [--model synthfaces64] [--checkpoints DIR] [--frames 200]
    python benchmarks/slider_frame.py --client [--clients 1 4] [--seconds 20] [--via gradio_client http] [--floor]

Server side (default): Studio.edit on a seed's recipe, one attribute slider moved per frame
(the work behind a slider `.input` event: resolve the directions, map, edit, synthesise, to
PIL), after --warmup frames. A model without directions times Studio.render instead.

--client: `ganstudio serve` is started on 127.0.0.1 (a child process, safe launch defaults)
and gradio_client calls its /edit endpoint (recipe JSON with the slider's edit -> image and
recipe, the scriptable form of the sliders) in a loop, first from 1 client, then from K
concurrent clients for --seconds each: round-trip p50 / p95 (queue, render, PNG encode and
download), requests/s and errors. --via http makes the same calls as plain HTTP requests
(Gradio's call API: POST, the result's event stream, the PNG), the cost without
gradio_client, whose result loop polls every 50 ms. The studio runs one model job at a time on a CPU (two on
a GPU), so with K clients the latency grows with the queue; that is by design.

--floor adds the same client loop against benchmarks/_floor_app.py, an app shaped like /edit
(text in, a 64 px PNG and text out, the same queue) that does no work: the part of the round
trip that is Gradio's (queue, events, PNG file, download) on this machine.

Prints the machine, a Markdown table and (with --json) one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time

from _kit import Server, add_model_arguments, competing_load, machine, open_studio, setup, summary


def slider_values(frames: int) -> list[float]:
    """A slider dragged back and forth over [-3, 3]."""
    return [round(3 * math.sin(2 * math.pi * i / 50), 3) for i in range(frames)]


def pick_directions(studio, model: str, method: str | None) -> tuple[str | None, list[str]]:
    sets = studio.directions(model)
    if not sets:
        return None, []
    method = method if method in sets else next(iter(sets))
    return method, list(sets[method].names)


def server_side(studio, model: str, method: str | None, names: list[str], frames: int, warmup: int,
                seed: int) -> dict:
    base = studio.seed_recipe(model, seed)
    values = slider_values(frames + warmup)
    times = []
    for i, alpha in enumerate(values):
        start = time.perf_counter()
        if method:
            studio.edit(base, method, {names[i % len(names)]: alpha})
        else:
            studio.render(studio.seed_recipe(model, seed, psi=1.0 - abs(alpha) / 6))
        if i >= warmup:
            times.append(time.perf_counter() - start)
    stats = summary(times)
    return {"mode": "server: Studio.edit" if method else "server: Studio.render (no directions)", "clients": 1,
            **stats, "per_s": round(1000 / stats["mean_ms"], 1) if times else 0.0, "errors": 0}


def gradio_client_caller(url: str):
    """One gradio_client session calling /edit: (call(recipe), close)."""
    from gradio_client import Client

    session = Client(url, verbose=False)
    return (lambda recipe: session.predict(recipe, api_name="/edit")), session.close


def http_caller(url: str):
    """/edit over Gradio's HTTP call API, the requests any client can make without gradio_client:
    POST /gradio_api/call/edit, read the result's event stream, download the PNG. One session
    per caller, as a browser tab keeps (without one, Gradio builds a fresh session state, a
    config per component of the whole app, on every call)."""
    import uuid

    import httpx

    http = httpx.Client(base_url=url, timeout=120)
    session = uuid.uuid4().hex

    def call(recipe: str) -> None:
        body = {"data": [recipe], "session_hash": session}
        event = http.post("gradio_api/call/edit", json=body).raise_for_status().json()["event_id"]
        stream = http.get(f"gradio_api/call/edit/{event}").raise_for_status().text
        kind = data = ""
        for line in stream.splitlines():  # the last event wins: "complete" with the outputs, or "error"
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data = line.split(":", 1)[1].strip()
        if kind != "complete":
            raise RuntimeError(f"/edit answered {kind or 'nothing'}: {data[:150]}")
        http.get(json.loads(data)[0]["url"]).raise_for_status()

    return call, http.close


CALLERS = {"gradio_client": gradio_client_caller, "http": http_caller}


def client_side(url: str, recipes: list[str], clients: int, seconds: float, via: str = "gradio_client") -> dict:
    """`clients` threads, each with its own session (`via` gradio_client or plain HTTP), calling /edit for `seconds`."""
    sessions = [CALLERS[via](url) for _ in range(clients)]
    for call, _ in sessions:  # warm: connection, first render
        call(recipes[0])
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(k: int) -> None:
        i = k
        call = sessions[k][0]
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                call(recipes[i % len(recipes)])
                with lock:
                    times.append(time.perf_counter() - start)
            except Exception as exc:  # counted and reported, the run goes on
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
            i += clients

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - begin
    for _, close in sessions:
        close()
    return {"mode": f"{via}: /edit round trip", "clients": clients, **summary(times),
            "per_s": round(len(times) / wall, 1), "errors": len(errors), "first_errors": errors[:3]}


class FloorServer:
    """benchmarks/_floor_app.py in a child process on a free port."""

    def __enter__(self) -> "FloorServer":
        import socket
        import subprocess
        import sys
        from pathlib import Path

        import httpx

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_floor_app.py")), str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.5)
        self.proc.kill()
        raise RuntimeError("the floor app did not start")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(args, studio, model, method, names) -> list[dict]:
    """Server-side frames, or client round trips to a launched studio (and the Gradio floor)."""
    rows = []
    if args.client:
        base = studio.seed_recipe(model, args.seed)
        recipes = [(base.with_edits([]) if not method else
                    base.with_edits([_edit(method, names[i % len(names)], a)])).to_json()
                   for i, a in enumerate(slider_values(100))]
        with Server(studio, device=args.device, threads=args.threads) as server:
            print(f"server: {' '.join(server.command[1:])} (pid {server.pid})")
            for via in args.via:
                for k in args.clients:
                    rows.append(client_side(server.url, recipes, k, args.seconds, via))
        if args.floor:
            with FloorServer() as floor:
                for via in args.via:
                    for k in args.clients:
                        row = client_side(floor.url, recipes, k, args.seconds, via)
                        rows.append({**row, "mode": f"{via}: Gradio floor (same endpoint shape, no work)"})
    else:
        rows.append(server_side(studio, model, method, names, args.frames, args.warmup, args.seed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(parser)
    parser.add_argument("--method", help="direction method to slide (default: the model's first)")
    parser.add_argument("--seed", type=int, default=7, help="the seed whose recipe is edited")
    parser.add_argument("--frames", type=int, default=200, help="server side: timed frames")
    parser.add_argument("--warmup", type=int, default=10, help="server side: untimed frames first")
    parser.add_argument("--client", action="store_true", help="time gradio_client round trips to a launched studio")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="client mode: concurrent clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="client mode: seconds per client count")
    parser.add_argument("--via", nargs="+", choices=list(CALLERS), default=["gradio_client"],
                        help="client mode: gradio_client sessions and/or plain HTTP requests")
    parser.add_argument("--floor", action="store_true", help="client mode: also time a Gradio app that does no work")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON object")
    args = parser.parse_args()
    setup(args)

    import torch

    studio, model = open_studio(args)
    method, names = pick_directions(studio, model, args.method)
    G = studio.generator(model)
    print(machine())
    print(f"model {model} ({G.resolution} px, {type(G).__name__}) on {studio.device}, torch threads "
          f"{torch.get_num_threads()}; slider: {method + ' / ' + ', '.join(names[:4]) if method else 'none'}")
    print(f"{args.compete} competing busy processes")
    with competing_load(args.compete):
        rows = measure(args, studio, model, method, names)
    print("| mode | clients | n | p50 ms | p95 ms | mean ms | per s | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['mode']} | {r['clients']} | {r['n']} | {r['p50_ms']} | {r['p95_ms']} | {r['mean_ms']} | "
              f"{r['per_s']} | {r['errors']} |")
        for error in r.get("first_errors", []):
            print(f"  error: {error}")
    if args.json:
        print(json.dumps({"model": model, "device": str(studio.device), "method": method, "results": rows}))


def _edit(method: str, name: str, alpha: float):
    from ganstudio.editing.recipe import Edit

    return Edit(f"{method}/{name}", alpha)


if __name__ == "__main__":
    main()
