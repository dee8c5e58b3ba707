import argparse
import time

import pytest
import torch
from PIL import Image

from ganstudio.studio import Studio
from ganstudio.ui.app import build_app
from ganstudio.ui.launcher import LaunchError, add_launch_arguments, launch_kwargs, options_from_args
from tests.conftest import launch_local

pytestmark = pytest.mark.slow  # starts a server: the full lane only


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


def test_models_tab_opens_with_the_first_models_header_and_card(checkpoint_dir):
    app = build_app(Studio(checkpoint_dir))  # one model, "tiny", with a card
    values = [getattr(b, "value", None) for b in app.blocks.values()]
    assert any(isinstance(v, dict) and v.get("arch") and "tiny.safetensors" in str(v.get("path")) for v in values)
    assert any(isinstance(v, str) and "A test model." in v for v in values)


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


def test_malloc_arenas_are_capped_unless_the_user_chose(monkeypatch):
    import sys

    from ganstudio.ui.launcher import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False  # the user's setting stands
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    if sys.platform.startswith("linux"):
        import platform

        assert limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")


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
    launch_local(app)
    try:
        client = Client(app.local_url, verbose=False)
        gallery = client.predict("tiny", "1, 2", 1.0, 0, "const", api_name="/sample")
        assert [item["caption"] for item in gallery] == ["seed 1", "seed 2"]
        image = Image.open(gallery[0]["image"])
        assert image.size == (16, 16) and image.format == "PNG"
        with pytest.raises(Exception, match="unknown model"):
            client.predict("nope", "1", 1.0, 0, "const", api_name="/sample")
    finally:
        app.close()


def _unit(tmp_path):
    from ganstudio import checkpoint
    from tests.conftest import make_tiny

    G = make_tiny(num_ws=4)
    folder = tmp_path / "ckpt"
    checkpoint.save(folder / "faces.safetensors", {"G_ema": G}, labels=["Smiling", "Eyeglasses"],
                    extra={"directions.mean_diff": torch.randn(2, G.w_dim, generator=torch.Generator().manual_seed(1))},
                    meta={"directions": {"mean_diff": {"space": "w", "names": ["Smiling", "Eyeglasses"]}}})
    return folder


@pytest.fixture
def launched(tmp_path):
    """The studio launched as `launch.py` launches it (safe defaults), with a 1 MB upload limit."""
    from gradio_client import Client

    folder = _unit(tmp_path)
    studio = Studio(folder)
    app = build_app(studio)
    kwargs = launch_kwargs(options_from_args(_args("--checkpoints", str(folder), "--max-upload-mb", "1")))
    launch_local(app, **{**kwargs, "quiet": True})
    try:
        yield studio, Client(app.local_url, verbose=False)
    finally:
        app.close()


def test_edit_endpoint_renders_recipes(launched):
    studio, client = launched
    recipe = studio.seed_recipe("faces", 3).with_edits([])
    plain_path, plain_recipe = client.predict(recipe.to_json(), api_name="/edit")
    from ganstudio.editing.recipe import Edit

    edited = recipe.with_edits([Edit("mean_diff/Smiling", 2.0)])
    edited_path, edited_recipe = client.predict(edited.to_json(), api_name="/edit")
    assert Image.open(plain_path).tobytes() != Image.open(edited_path).tobytes()
    assert edited_recipe["edits"][0]["alpha"] == 2.0
    with pytest.raises(Exception, match="not valid JSON"):
        client.predict("{broken", api_name="/edit")


def test_invert_endpoint_streams_frames_and_rejects_bad_uploads(launched, tmp_path):
    from gradio_client import handle_file

    _, client = launched
    photo = tmp_path / "photo.png"
    Image.new("RGB", (32, 32), (180, 90, 60)).save(photo)
    job = client.submit("faces", handle_file(str(photo)), 1, "w+", 0.0, 0.0, 20, api_name="/invert")
    frames = list(job)
    assert len(frames) >= 3  # step 0, 5, 10, 15, 20 (or an early stop)
    final = job.outputs()[-1]
    assert "Done" in final[2] and "PSNR" in final[2] and Image.open(final[1]).size == (16, 16)
    assert final[4]["model"] == "faces" and final[4]["code"]  # the recipe, for /edit
    bad = tmp_path / "evil.png"
    bad.write_text("<svg onload=alert(1)>")
    with pytest.raises(Exception, match="not an image"):
        client.predict("faces", handle_file(str(bad)), 1, "w+", 0.0, 0.0, 20, api_name="/invert")


def test_translate_endpoints_serve_cyclegan_and_stargan(tmp_path):
    from gradio_client import Client, handle_file

    from ganstudio.ui.common import DEFAULT_PSI

    from tests.tiny_translation import save_cyclegan, save_stargan

    folder = _unit(tmp_path)
    save_cyclegan(folder / "horse2zebra.safetensors")
    save_stargan(folder / "hair.safetensors")
    studio = Studio(folder)
    assert studio.model_names("translation") == ["hair", "horse2zebra"]
    assert studio.model_names("generator") == ["faces"]
    app = build_app(studio)
    launch_local(app)
    try:
        client = Client(app.local_url, verbose=False)
        photo = tmp_path / "photo.png"
        Image.new("RGB", (40, 40), (30, 140, 200)).save(photo)
        source = client.predict(handle_file(str(photo)), api_name="/translate_upload")
        out = client.predict("horse2zebra", handle_file(source), "B", [], api_name="/translate")
        assert Image.open(out).size == (16, 16)
        star = client.predict("hair", handle_file(source), "B", ["Blond_Hair", "Smiling"], api_name="/translate")
        assert Image.open(star).size == (16, 16)
        grid = client.predict("hair", handle_file(source), api_name="/translate_all")
        assert Image.open(grid).size[0] > 5 * 16
        with pytest.raises(Exception, match="Purple_Hair"):
            client.predict("hair", handle_file(source), "B", ["Purple_Hair"], api_name="/translate")
        with pytest.raises(Exception, match="not a translation model"):
            client.predict("faces", handle_file(source), "B", [], api_name="/translate")
        sampled = client.predict("faces", 3, api_name="/translate_sample")  # a sample as the input
        expected = studio.render(studio.seed_recipe("faces", 3, psi=DEFAULT_PSI)).image  # the tabs' default ψ
        assert Image.open(sampled).tobytes() == expected.tobytes()
        sent = client.predict(handle_file(star), api_name="/invert_to_translate")
        assert Image.open(sent).tobytes() == Image.open(star).tobytes()
    finally:
        app.close()


def test_history_collects_what_the_session_made_and_reproduces_it(launched, tmp_path):
    from gradio_client import handle_file

    from ganstudio.editing.recipe import read_recipe_file

    studio, client = launched
    client.predict("faces", "4, 5", 1.0, 0, "const", api_name="/sample")
    grid = client.predict("faces", "1", "2, 3", "coarse", 0, 2, 1.0, "const", api_name="/mix")
    assert Image.open(grid).size[0] > 16 * 3  # header column + two columns
    gallery = client.predict(api_name="/history")
    assert [item["caption"] for item in gallery] == ["mix · faces", "faces · seed 4", "faces · seed 5"]

    download = client.predict(1, api_name="/history_download")
    path = download["value"] if isinstance(download, dict) else download
    recipe = read_recipe_file(path)
    assert recipe.seed == 4 and recipe.model == "faces"
    expected = studio.render(recipe).image
    assert Image.open(path).convert("RGB").tobytes() == expected.tobytes()

    gallery, shown, _ = client.predict(handle_file(path), api_name="/history_reproduce")
    assert shown["seed"] == 4 and len(gallery) == 4
    with pytest.raises(Exception, match="select an image"):
        client.predict(99, api_name="/history_download")


def test_model_calls_share_one_queue_and_run_one_after_the_other(launched):
    import time

    studio, client = launched
    running, overlaps = [], []
    original = studio.sample

    def slow_sample(*args, **kwargs):
        overlaps.append(len(running))
        running.append(1)
        time.sleep(0.3)
        running.pop()
        return original(*args, **kwargs)

    studio.sample = slow_sample
    jobs = [client.submit("faces", str(seed), 1.0, 0, "const", api_name="/sample") for seed in (1, 2)]
    results = [job.result(timeout=30) for job in jobs]
    assert [r[0]["caption"] for r in results] == ["seed 1", "seed 2"]
    assert overlaps == [0, 0], "two model calls ran at once"


def test_upload_limit_and_file_route_guards(launched, tmp_path):
    import httpx

    _, client = launched
    root = client.src.rstrip("/")
    big = b"0" * (2 * 1024 * 1024)
    answer = httpx.post(f"{root}/gradio_api/upload", files={"files": ("big.png", big, "image/png")})
    assert answer.status_code == 413
    small = httpx.post(f"{root}/gradio_api/upload", files={"files": ("ok.txt", b"hello", "text/plain")})
    assert small.status_code == 200
    checkpoint = next((tmp_path / "ckpt").glob("*.safetensors"))
    for path in ("/etc/passwd", str(checkpoint.resolve())):
        refused = httpx.get(f"{root}/gradio_api/file={path}")
        assert refused.status_code in (403, 404), (path, refused.status_code)
        assert b"root:" not in refused.content and refused.content != checkpoint.read_bytes()


def test_keep_fixed_offers_the_directions_of_the_set_in_use(launched):
    from ganstudio.editing.directions import DirectionSet

    studio, client = launched
    folder = studio.catalogue.entry("faces").path.parent
    DirectionSet("smile_only", "w", ["Smiling"], torch.ones(1, studio.generator("faces").w_dim),
                 studio.catalogue.generator_hash("faces")).save(folder / "faces.smile_only.directions.safetensors")
    loaded = client.predict("faces", 5, 0.7, api_name="/edit_start")
    method, keep = loaded[1], loaded[2]
    assert method["value"] == "mean_diff" and [c[0] for c in keep["choices"]] == ["Smiling", "Eyeglasses"]
    switched = client.predict("faces", "smile_only", "all", api_name="/edit_method")  # the recipe is session state
    keep = switched[2]
    assert [c[0] for c in keep["choices"]] == ["Smiling"] and keep["value"] == []


def test_sample_edit_and_history_endpoints_answer_through_gradio_client(launched, tmp_path):
    from gradio_client import handle_file

    from ganstudio.editing.recipe import read_recipe_file

    studio, client = launched
    seeds = client.predict("1, 2", api_name="/random_seeds")
    assert len([s for s in seeds.split(",") if s.strip().isdigit()]) == 2
    for endpoint, args in (("/interpolate", ("faces", 1, 2, "z", 4, "gif", 1.0)),
                           ("/walk", ("faces", "1, 2, 3", "w", 6, "webm", 1.0))):
        animation, preview = client.predict(*args, api_name=endpoint)
        assert Image.open(preview).format == "GIF" and Image.open(preview).n_frames >= 4
        assert animation.endswith(args[-2])
    loaded = client.predict("faces", 5, 0.7, api_name="/edit_start")
    before, after, shown = loaded[3], loaded[4], loaded[5]
    assert shown["seed"] == 5 and Image.open(before).tobytes() == Image.open(after).tobytes()
    exported = client.predict(shown, api_name="/edit_export")
    path = exported["value"] if isinstance(exported, dict) else exported
    assert read_recipe_file(path).seed == 5
    client.predict("faces", "6", 1.0, 0, "const", api_name="/sample")
    captions = [item["caption"] for item in client.predict(api_name="/history")]
    assert captions == ["faces · seed 6", "faces · seed 5"]  # the sample, and the Edit tab's starting point
    reopened = client.predict(0, api_name="/history_to_edit")
    assert reopened[5]["seed"] == 6 and reopened[5]["model"] == "faces"
    seed_box, psi_box = reopened[-2:]
    assert seed_box["value"] == 6 and psi_box["value"] == 1.0  # "Start from this seed" starts from this face
    with pytest.raises(Exception, match="choose a recipe file"):
        client.predict(None, api_name="/edit_load_recipe")
    with pytest.raises(Exception, match="less than minimum value 0"):  # gradio checks the field first
        client.predict("faces", -1, 0.7, api_name="/edit_start")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (16, 16), (10, 200, 30)).save(photo)
    sent = client.predict(handle_file(str(photo)), api_name="/translate_to_invert")
    assert Image.open(sent).size == (16, 16)


def test_serve_says_where_it_is_in_its_own_words_with_the_thread_count(checkpoint_dir):
    """Started as `ganstudio --threads 1 serve`, the studio prints its address, its thread count
    and the project's flags for a public link, never Gradio's "set share=True in launch()"."""
    import subprocess
    import sys

    from tests.conftest import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ganstudio", "--threads", "1", "serve", "--checkpoints",
                             str(checkpoint_dir), "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
    finally:
        proc.terminate()
        rest = proc.communicate(timeout=30)[0]
    said = "".join(lines) + rest
    assert f"ganstudio: serving at http://127.0.0.1:{port}" in lines[0] and "1 torch thread)" in lines[0]
    assert "--share --auth USER:PASS" in lines[1]
    assert "share=True" not in said and "launch()" not in said


def test_threads_are_configured_before_torch():
    import subprocess
    import sys

    code = ("from ganstudio.threads import configure; n = configure(1); import os, torch; "
            "print(os.environ['OMP_NUM_THREADS'], n, torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1", "1"]


def test_the_studio_defaults_to_half_the_cores(monkeypatch):
    from ganstudio.threads import server_default

    for cores, expected in ((1, 1), (2, 1), (16, 8), (None, 1)):
        monkeypatch.setattr("os.cpu_count", lambda cores=cores: cores)
        assert server_default() == expected


def test_threads_option_is_checked():
    from ganstudio.cli import main

    with pytest.raises(SystemExit):
        main(["--threads", "0", "info", "x"])


def test_a_released_slider_is_what_history_export_and_reopening_reproduce(launched):
    """Drag (frames at 1.0 and 1.95), release at 2.15: the After image, the History entry and
    its recipe are all the edit at 2.15, whatever frame the drag drew last."""
    from ganstudio.editing.recipe import Recipe

    studio, client = launched
    client.predict("faces", 5, 1.0, api_name="/edit_start")
    rest = [0.0] * 15
    for frame in (1.0, 1.95):
        client.predict("faces", "mean_diff", "all", [], frame, *rest, api_name="/edit_slider_0")
    after, shown = client.predict("faces", "mean_diff", "all", [], 2.15, *rest, api_name="/edit_record_0")
    assert [e["alpha"] for e in shown["edits"]] == [2.15]
    expected = studio.render(Recipe.from_dict(shown)).image
    assert Image.open(after).tobytes() == expected.tobytes()
    assert client.predict(api_name="/history")[0]["caption"].endswith("Smiling +2.15")
    download = client.predict(0, api_name="/history_download")
    path = download["value"] if isinstance(download, dict) else download
    assert Image.open(path).convert("RGB").tobytes() == expected.tobytes()
    reopened = client.predict(0, api_name="/history_to_edit")
    assert [e["alpha"] for e in reopened[5]["edits"]] == [2.15]


def test_invert_says_what_it_did_to_odd_uploads_and_leaves_nothing_stale(launched, tmp_path, monkeypatch):
    from gradio_client import handle_file

    studio, client = launched
    tiny = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (200, 30, 30)).save(tiny)
    def invert(path):
        job = client.submit("faces", handle_file(str(path)), 1, "w+", 0.0, 0.0, 0, api_name="/invert")
        job.result()
        return job.outputs()[-1]

    final = invert(tiny)
    assert "Done" in final[2] and "1×1 px, blown up 16×" in final[2] and "means little" in final[2]
    wide = tmp_path / "wide.png"
    strip = Image.new("RGB", (48, 16), (255, 0, 0))
    strip.paste((0, 255, 0), (16, 0, 32, 16))  # green in the middle third
    strip.save(wide)
    final = invert(wide)
    assert "48×16 px: the model sees only its middle 16×16 square" in final[2]
    shown = Image.open(final[0]).convert("RGB")  # the input as the model gets it: the centre crop, not squashed
    assert shown.size == (16, 16) and shown.getpixel((0, 8)) == (0, 255, 0) == shown.getpixel((15, 8))
    # a new run first clears the last one's result, status and recipe
    assert client.predict(api_name="/invert_clear") == (None, None, "Starting…", None, None)

    # Stop: the running inversion ends at its next step with a "Stopped at step N" frame. The tiny
    # model would reach its plateau in well under a second, before a press could arrive, so each
    # step here takes 20 ms: the press has 20 s to land
    steps_of = studio.invert

    def slow_invert(*args, **kwargs):
        for step in steps_of(*args, **kwargs):
            time.sleep(0.02)
            yield step

    monkeypatch.setattr(studio, "invert", slow_invert)
    job = client.submit("faces", handle_file(str(wide)), 1, "w+", 0.0, 0.0, 1000, api_name="/invert")
    while not job.outputs():
        time.sleep(0.05)
    client.predict(api_name="/invert_stop")
    job.result()
    last = job.outputs()[-1]
    assert last[2].startswith("**Stopped** at step ") and int(last[2].split()[3]) < 1000
    assert last[4]["code"]  # the result so far is kept, ready for Send to Edit
    client.predict(api_name="/invert_stop")  # a press while nothing runs is dropped ...
    assert "Done" in invert(wide)[2]  # ... so it does not stop the next run


def test_stop_applies_to_the_run_waiting_or_running_in_its_session():
    from types import SimpleNamespace

    from ganstudio.ui.tabs.invert import StopRequests

    mine, other = SimpleNamespace(session_hash="a"), SimpleNamespace(session_hash="b")
    stops = StopRequests()
    stops.press(mine)  # a press before any run was asked for ...
    stops.ask(mine)  # the click; the run now waits in the queue
    stops.press(other)
    since = stops.begin(mine)
    assert not stops.take(mine, since)  # ... does not stop it, nor does another session's press
    stops.ask(mine)
    stops.press(mine)  # pressed while the run waits ...
    since = stops.begin(mine)  # ... it begins ...
    assert stops.take(mine, since) and not stops.take(mine, since)  # ... and takes the press once
    since = stops.begin(mine)  # an API call: asked for as it begins
    stops.press(mine)
    assert stops.take(mine, since)


def test_fit_notes_name_crops_and_blow_ups():
    from ganstudio.imaging import fit_notes

    assert fit_notes((64, 64), 64) == [] and fit_notes((80, 64), 64) == []
    assert fit_notes((300, 100), 64) == ["the picture is 300×100 px: the model sees only its middle 100×100 square"]
    assert "centre 20×20 square" in fit_notes((20, 90), 64)[0] and "blown up 3×" in fit_notes((20, 90), 64)[1]


def test_grids_say_which_tile_is_which():
    from ganstudio.imaging import CAPTION_HEIGHT, make_grid

    tiles = [Image.new("RGB", (16, 16), (0, 0, 0)) for _ in range(3)]
    plain = make_grid(tiles, columns=3)
    captioned = make_grid(tiles, columns=3, captions=["input", "", "Blond_Hair"])
    assert captioned.size == (plain.width, plain.height + CAPTION_HEIGHT)
    strip = captioned.crop((0, 18, captioned.width, captioned.height - 2)).convert("L")
    column = lambda i: strip.crop((2 + i * 18, 0, 18 + i * 18, strip.height)).getextrema()[0]  # noqa: E731
    assert column(0) < 200 and column(1) == 255 and column(2) < 200  # text under the captioned tiles only
    with pytest.raises(ValueError, match="2 captions for 3 images"):
        make_grid(tiles, columns=3, captions=["a", "b"])
