"""Two gloo processes on CPU, launched the way torchrun launches them (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR/PORT in the environment), end with identical networks."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganstudio.training.runs import read_stats

pytestmark = pytest.mark.slow  # spawns training processes: the full lane only

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, os, sys, torch
torch.set_num_threads(1)
from safetensors.torch import save_file
from tests.training_kit import ToyImages, tiny_config
from ganstudio.training import Trainer

class Recorded(ToyImages):
    seen = []
    def __getitem__(self, i):
        self.seen.append(int(i))
        return super().__getitem__(i)

out = sys.argv[1]
trainer = Trainer(tiny_config(kimg=0.032, batch=8, augment="translation", style_mixing=0.5), Recorded(), out=out,
                  progress=False)
result = trainer.run()
rank = trainer.dist.rank
nets = {**trainer.nets, **trainer.ema}
save_file({f"{r}.{k}": v.contiguous() for r, n in nets.items() for k, v in n.state_dict().items()},
          os.path.join(out, f"rank{rank}.safetensors"))
with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
    json.dump({"seen": Recorded.seen, "world": trainer.dist.world, "step": result.step}, fh)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_hold_identical_parameters(tmp_path):
    port = _free_port()
    procs = []
    for rank in range(2):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path)], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err

    a, b = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    start = json.loads((tmp_path / "rank0.json").read_text())
    other = json.loads((tmp_path / "rank1.json").read_text())
    assert start["world"] == 2 and start["step"] == other["step"] == 4  # 32 images, 4 per process per step
    # DistributedSampler: disjoint shards (rank 0 first read items 0-3 for samples/reals.png)
    assert start["seen"][:4] == [0, 1, 2, 3] and len(start["seen"]) == 4 + 16 and len(other["seen"]) == 16
    assert not set(start["seen"][4:]) & set(other["seen"])
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]  # one run folder, written by rank 0 only
    assert [s["step"] for s in read_stats(run)] == [2, 4]
