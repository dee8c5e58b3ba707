import argparse

import pytest
from PIL import Image

from ganstudio.studio import Studio
from ganstudio.ui.app import build_app
from ganstudio.ui.launcher import LaunchError, add_launch_arguments, launch_kwargs, options_from_args


def _args(*argv):
    p = argparse.ArgumentParser()
    add_launch_arguments(p)
    return p.parse_args(list(argv))


def test_build_app_constructs_with_and_without_models(checkpoint_dir, tmp_path):
    import gradio as gr

    assert isinstance(build_app(Studio(checkpoint_dir)), gr.Blocks)
    empty = build_app(Studio(tmp_path / "nothing"))
    text = " ".join(str(getattr(b, "value", "")) for b in empty.blocks.values())
    assert "No models yet" in text and "ganstudio train" in text


def test_every_event_has_an_api_name(checkpoint_dir):
    app = build_app(Studio(checkpoint_dir))
    names = [dep.api_name for dep in app.fns.values()]
    assert names and all(names), names


def test_safe_launch_defaults():
    kwargs = launch_kwargs(options_from_args(_args()))
    assert kwargs["server_name"] == "127.0.0.1"
    assert kwargs["enable_monitoring"] is False and kwargs["run_history"] is False
    assert kwargs["max_file_size"] == "25mb" and kwargs["share"] is False and kwargs["auth"] is None
    assert any(p.endswith("checkpoints") for p in kwargs["blocked_paths"])


def test_share_needs_auth():
    with pytest.raises(LaunchError, match="--auth"):
        options_from_args(_args("--share"))
    assert options_from_args(_args("--share", "--auth", "ann:secret")).auth == (("ann", "secret"),)
    assert options_from_args(_args("--share", "--share-without-auth")).share
    with pytest.raises(LaunchError, match="USER:PASS"):
        options_from_args(_args("--auth", "nocolon"))


def test_launched_app_answers_sample_through_gradio_client(checkpoint_dir):
    from gradio_client import Client

    app = build_app(Studio(checkpoint_dir))
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=None, quiet=True,
               enable_monitoring=False, run_history=False, ssr_mode=False)
    try:
        client = Client(app.local_url, verbose=False)
        path = client.predict("tiny", "1", 1.0, api_name="/sample")
        image = Image.open(path)
        assert image.size == (16, 16) and image.format == "PNG"
        with pytest.raises(Exception, match="unknown model"):
            client.predict("nope", "1", 1.0, api_name="/sample")
    finally:
        app.close()
