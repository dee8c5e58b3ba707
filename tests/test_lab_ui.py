"""The Playground and Runs tabs, over gradio_client against a launched studio."""

from pathlib import Path

import pytest
from PIL import Image

from ganstudio.lab.toy import ToySettings, ToyTrainer
from ganstudio.studio import Studio
from ganstudio.ui.app import build_app
from ganstudio.ui.tabs.playground import Sessions
from tests.conftest import launch_local
from tests.training_kit import ToyImages, tiny_config

pytestmark = pytest.mark.slow  # starts a server: the full lane only

# target, points, upload, objective, options, k, optimiser, G lr, D lr, batch, lr decay, R1 gamma, G width/depth,
# D width/depth/pack/minibatch kernels, z, seed
CONTROLS = ["ring", "", None, "nonsaturating", "", 1, "adam", 1e-3, 1e-3, 32, 0, 0, 16, 1, 16, 1, 1, 0, 2, 0]


@pytest.fixture
def launched(tmp_path, checkpoint_dir):
    from gradio_client import Client

    from ganstudio.training.loop import Trainer

    Trainer(tiny_config(kimg=0.032, snapshot_kimg=0.032), ToyImages(), out=tmp_path / "runs", progress=False).run()
    studio = Studio(checkpoint_dir)
    app = build_app(studio, runs_dir=str(tmp_path / "runs"))
    launch_local(app)
    try:
        yield studio, Client(app.local_url, verbose=False)
    finally:
        app.close()


def test_every_event_of_the_new_tabs_has_an_api_name(checkpoint_dir, tmp_path):
    app = build_app(Studio(checkpoint_dir), runs_dir=str(tmp_path / "no-runs"))
    names = {dep.api_name for dep in app.fns.values()}
    assert {"playground_start", "playground_pause", "playground_step", "playground_reset", "playground_gif",
            "playground_preset", "playground_open", "playground_compare", "runs_refresh", "run_show", "run_open"} <= names
    assert all(names)


def test_playground_steps_streams_and_exports(launched):
    _, client = launched
    image, status, losses, coverage, command = client.predict(*CONTROLS, True, True, api_name="/playground_step")
    assert Image.open(image).size == (512, 512)
    assert status.startswith("step 1 · modes covered") and "ganstudio train toy" in command
    job = client.submit(*CONTROLS, 6, 2, False, False, api_name="/playground_start")
    frames = list(job)
    assert len(frames) >= 2 and job.outputs()[-1][1].startswith("step 7 ")  # continues the session
    gif = client.predict(api_name="/playground_gif")
    assert Path(gif).read_bytes()[:4] == b"GIF8"
    preset = client.predict("mode collapse", api_name="/playground_preset")
    assert preset[0] == "ring" and "Start" in preset[-1]
    job = client.submit(["mode collapse", "ring: PacGAN"], 1, 2, api_name="/playground_compare")
    frames = list(job)
    sheet, table, status = job.outputs()[-1]
    assert len(frames) >= 3 and status.startswith("2 of 2 done, seed 1")  # the table grows preset by preset
    assert [row[0] for row in table["data"]] == ["mode collapse", "ring: PacGAN"] and Image.open(sheet).width > 320
    with pytest.raises(Exception, match="pick 1 to 8 presets"):
        client.predict([], 0, 2, api_name="/playground_compare")
    bad = list(CONTROLS)
    bad[0], bad[1] = "points", "x,y\n1,2\n3,four\n"
    with pytest.raises(Exception, match="your points, line 3"):
        client.predict(*bad, True, True, api_name="/playground_step")


def test_playground_opens_a_trained_2d_model_and_continues_it(checkpoint_dir, tmp_path):
    from gradio_client import Client

    from tests.test_lab_toy import export_toy_model

    export_toy_model(tmp_path, checkpoint_dir)
    app = launch_local(build_app(Studio(checkpoint_dir), runs_dir=str(tmp_path / "no-runs")))
    try:
        client = Client(app.local_url, verbose=False)
        out = client.predict("ring-toy", True, True, api_name="/playground_open")
        controls, (image, status, *_rest) = out[:len(CONTROLS)], out[len(CONTROLS):]
        assert controls[0] == "ring" and controls[3] == "hinge" and controls[5] == 2 and controls[12] == 16
        assert "opened ring-toy at step 3" in status and Image.open(image).size == (512, 512)
        _, status, *_ = client.predict(*controls[:1], "", None, *controls[3:], True, True, api_name="/playground_step")
        assert status.startswith("step 4 ")  # the same settings: the opened model carries on
        with pytest.raises(Exception, match="not a 2-D model"):
            client.predict("tiny", True, True, api_name="/playground_open")
    finally:
        app.close()


def test_runs_tab_shows_a_run_and_opens_it_in_the_studio(launched):
    studio, client = launched
    chosen, info, curve, samples = client.predict(None, api_name="/runs_refresh")
    run = chosen if isinstance(chosen, str) else chosen["value"]
    assert run == "00000-toy16-tiny" and info["recipe"] == "gan" and info["step"] == 4
    assert Image.open(samples).size[0] > 16
    message, *pickers = client.predict(run, api_name="/run_open")
    assert "00000-toy16-tiny" in message and "00000-toy16-tiny" in studio.model_names("generator")
    gallery = client.predict("00000-toy16-tiny", "1", 1.0, 0, "const", api_name="/sample")
    assert gallery[0]["caption"] == "seed 1"
    with pytest.raises(Exception, match="no run"):
        client.predict("../etc", api_name="/run_open")


def test_sessions_are_bounded():
    sessions = Sessions(limit=2)
    labs = [ToyTrainer(ToySettings(batch=8, g_width=8, g_depth=1, d_width=8, d_depth=1), samples=16)
            for _ in range(3)]
    for i, lab in enumerate(labs):
        sessions.put(f"s{i}", lab, "")
    assert len(sessions) == 2 and sessions.get("s0") is None and sessions.get("s2")[0] is labs[2]


def test_the_runs_folder_is_a_launch_option_and_is_never_served(tmp_path):
    import argparse

    from ganstudio.ui.launcher import add_launch_arguments, launch_kwargs, options_from_args

    parser = argparse.ArgumentParser()
    add_launch_arguments(parser)
    assert options_from_args(parser.parse_args([])).runs_dir == Path("runs")
    options = options_from_args(parser.parse_args(["--runs", str(tmp_path / "my-runs")]))
    assert options.runs_dir == tmp_path / "my-runs"
    assert str((tmp_path / "my-runs").resolve()) in launch_kwargs(options)["blocked_paths"]
