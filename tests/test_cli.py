import json
import subprocess
import sys

import pytest
from ganstudio import __version__
from ganstudio.cli import main
from tests.conftest import make_tiny


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert __version__ in capsys.readouterr().out


def test_info_prints_header_json(checkpoint_dir, capsys):
    assert main(["info", str(checkpoint_dir / "tiny.safetensors")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["arch"] == "tiny" and data["role"] == "G_ema" and data["resolution"] == 16
    assert data["labels"] == ["A", "B"] and data["step"] == 3
    assert data["networks"]["G_ema"]["values"] == sum(t.numel() for t in make_tiny().state_dict().values())


@pytest.mark.slow
def test_a_reader_that_stops_early_gets_no_traceback(checkpoint_dir):
    """`ganstudio info X | head -1`: the pipe closes before ganstudio has written (it is still importing)."""
    proc = subprocess.Popen([sys.executable, "-m", "ganstudio", "info", str(checkpoint_dir / "tiny.safetensors")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and err == ""


def test_info_on_bad_file_is_one_line_and_nonzero(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.safetensors" in err


@pytest.mark.slow
def test_console_script_runs(checkpoint_dir):
    out = subprocess.run([sys.executable, "-m", "ganstudio", "info", str(checkpoint_dir / "tiny.safetensors")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["arch"] == "tiny"
