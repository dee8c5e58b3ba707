"""Endurance: a launched studio under a mix of requests for many minutes; does memory settle?

    python benchmarks/soak.py [--model synthfaces64] [--checkpoints DIR] [--minutes 30] [--clients 2]

`ganstudio serve` is started on 127.0.0.1 (a child process, safe launch defaults, its own
Gradio temp folder) and --clients threads call it through gradio_client with a weighted mix
of what people do: /sample, /edit (a slider's recipe), /mix, /invert (--invert-steps steps
of a held-out SynthFaces face), /translate_upload (an upload) and /history. Each client
starts a new session every --session-requests requests, so per-session state is created and
dropped as with real visitors. Reports per request kind: count, errors, p50 / p95 ms; the
server's resident memory (VmRSS from /proc/PID/status, or psutil when installed) after the
warm-up, at the end, the peak and the minute-by-minute course (sampled every few seconds: a
curve that flattens is a warm-up, one that keeps rising is a leak); and the growth of Gradio's temp
folder (every upload and every output image is a file there).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

from _kit import Server, add_model_arguments, folder_mib, machine, open_studio, rss_mib, setup, summary

# kind -> weight in the mix
MIX = {"sample": 3, "edit": 5, "mix": 1, "invert": 1, "translate_upload": 1, "history": 1}


class Requests:
    """The request kinds, as gradio_client calls with varied arguments."""

    def __init__(self, studio, model: str, photo: Path, invert_steps: int):
        from ganstudio.editing.layer_ranges import preset_rows
        from ganstudio.editing.recipe import Edit

        self.model, self.photo, self.invert_steps = model, str(photo), invert_steps
        self.has_encoder = studio.catalogue.network(model, "E") is not None
        num_ws = studio.generator(model).num_ws  # tiny test models have too few style rows for every preset
        self.presets = [p for p in ("coarse", "middle", "fine") if len(range(*preset_rows(p, num_ws)))]
        sets = studio.directions(model)
        method = next(iter(sets), None)
        base = studio.seed_recipe(model, 0)
        self.recipes = [base.with_edits([Edit(f"{method}/{name}", a)] if method else []).to_json()
                        for name in (sets[method].names if method else ["-"]) for a in (-2.0, -0.5, 1.0, 2.5)]

    def call(self, client, kind: str, rng: random.Random):
        from gradio_client import handle_file

        if kind == "sample":
            seeds = ", ".join(str(rng.randrange(10_000)) for _ in range(rng.randint(1, 4)))
            return client.predict(self.model, seeds, rng.choice([0.5, 0.7, 1.0]), 0, "const", api_name="/sample")
        if kind == "edit":
            return client.predict(rng.choice(self.recipes), api_name="/edit")
        if kind == "mix":
            return client.predict(self.model, str(rng.randrange(100)), f"{rng.randrange(100)}, {rng.randrange(100)}",
                                  rng.choice(self.presets), 0, 2, 1.0, "const", api_name="/mix")
        if kind == "invert":
            method = 3 if self.has_encoder else 1
            return client.predict(self.model, handle_file(self.photo), method, "w+", 0.0, 0.0, self.invert_steps,
                                  api_name="/invert")
        if kind == "translate_upload":
            return client.predict(handle_file(self.photo), api_name="/translate_upload")
        return client.predict(api_name="/history")


def soak(url: str, requests: Requests, clients: int, seconds: float, session_requests: int, seed: int):
    from gradio_client import Client

    kinds, weights = list(MIX), list(MIX.values())
    times: dict[str, list[float]] = {k: [] for k in kinds}
    errors: dict[str, list[str]] = {k: [] for k in kinds}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(k: int) -> None:
        rng = random.Random(seed + k)
        client, made = None, 0
        while time.monotonic() < stop:
            if client is None or made % session_requests == 0:
                if client is not None:
                    client.close()
                client = Client(url, verbose=False)  # a new visitor
            kind = rng.choices(kinds, weights)[0]
            start = time.perf_counter()
            try:
                requests.call(client, kind, rng)
                with lock:
                    times[kind].append(time.perf_counter() - start)
            except Exception as exc:  # counted and reported, the soak goes on
                with lock:
                    errors[kind].append(f"{type(exc).__name__}: {exc}"[:200])
            made += 1
        if client is not None:
            client.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(parser)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the soak")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients")
    parser.add_argument("--session-requests", type=int, default=100, help="requests per client session")
    parser.add_argument("--invert-steps", type=int, default=20, help="steps of each /invert request")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between memory samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON object")
    args = parser.parse_args()
    setup(args)

    from ganstudio.data.synthfaces import render_face

    studio, model = open_studio(args)
    G = studio.generator(model)
    photo = Path(tempfile.mkdtemp(prefix="ganstudio-soak-")) / "face.png"
    render_face(1000, 0, max(32, G.resolution)).image.save(photo)  # held out: not a training stream
    requests = Requests(studio, model, photo, args.invert_steps)
    print(machine())
    with Server(studio, device=args.device, threads=args.threads) as server:
        print(f"server: {' '.join(server.command[1:])} (pid {server.pid}); {args.clients} clients, "
              f"{args.minutes:g} min, model {model} ({G.resolution} px)")
        from gradio_client import Client

        warm = Client(server.url, verbose=False)
        for kind in MIX:  # warm-up: every kind once, so the model is loaded before the start figure
            requests.call(warm, kind, random.Random(args.seed))
        warm.close()
        start_rss, start_tmp = rss_mib(server.pid), folder_mib(server.temp)
        peak = [start_rss or 0.0]
        course: dict[int, float] = {}  # minute -> last RSS sampled in it
        done = threading.Event()

        def monitor() -> None:
            while not done.wait(args.sample_every):
                rss = rss_mib(server.pid) or 0.0
                peak[0] = max(peak[0], rss)
                course[int((time.perf_counter() - began) // 60)] = rss

        began = time.perf_counter()
        watcher = threading.Thread(target=monitor, daemon=True)
        watcher.start()
        times, errors = soak(server.url, requests, args.clients, args.minutes * 60, args.session_requests, args.seed)
        wall = time.perf_counter() - began
        done.set()
        end_rss, end_tmp = rss_mib(server.pid), folder_mib(server.temp)
        peak[0] = max(peak[0], end_rss or 0.0)
        alive = server.proc.poll() is None
    shutil.rmtree(photo.parent, ignore_errors=True)

    print("| request | n | errors | p50 ms | p95 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = {}
    for kind in MIX:
        stats = summary(times[kind])
        rows[kind] = {**stats, "errors": len(errors[kind]), "first_errors": errors[kind][:3]}
        print(f"| {kind} | {stats['n']} | {len(errors[kind])} | {stats['p50_ms']} | {stats['p95_ms']} |")
    total = sum(len(t) for t in times.values())

    def mib(x):
        return "n/a" if x is None else f"{x:.0f} MiB"

    print(f"{total} requests in {wall:.0f} s ({total / wall:.1f}/s), "
          f"{sum(len(e) for e in errors.values())} errors; server {'alive' if alive else 'DIED'}")
    growth = f" ({end_rss - start_rss:+.0f} MiB)" if start_rss is not None and end_rss is not None else ""
    print(f"server RSS: start {mib(start_rss)}, end {mib(end_rss)}{growth}, peak {mib(peak[0] or None)}; "
          f"Gradio temp folder: {start_tmp:.1f} -> {end_tmp:.1f} MiB")
    print("RSS at the end of each minute (MiB): " + " ".join(f"{course[m]:.0f}" for m in sorted(course)))
    for kind, errs in errors.items():
        for error in errs[:3]:
            print(f"  {kind} error: {error}")
    if args.json:
        print(json.dumps({"model": model, "clients": args.clients, "seconds": round(wall, 1), "requests": rows,
                          "rss_mib": {"start": start_rss, "end": end_rss, "peak": peak[0] or None,
                                      "by_minute": [round(course[m]) for m in sorted(course)]},
                          "temp_mib": {"start": round(start_tmp, 2), "end": round(end_tmp, 2)},
                          "server_alive": alive}))


if __name__ == "__main__":
    main()
