"""The Inspect codes tab through gradio_client: every endpoint on the tiny, InfoGAN and oracle models."""

import json

import pytest
from PIL import Image

from ganstudio.ui.app import build_app
from tests._metrics_data import ATTRIBUTES, AttributeImages, install_fake_data, one_thread  # noqa: F401
from tests.conftest import launch_local
from tests.test_inspection import inspector  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow  # starts a server: the full lane only


@pytest.fixture
def client(inspector, monkeypatch):  # noqa: F811
    from gradio_client import Client

    class Faces(AttributeImages):
        factor_names = ATTRIBUTES

    install_fake_data(monkeypatch, faces=lambda: Faces(n=100))
    app = launch_local(build_app(inspector.studio))
    try:
        yield Client(app.local_url, verbose=False)
    finally:
        app.close()


def test_inspect_endpoints(client):
    about, axis, method, methods, data, judge, *results = client.predict("info", api_name="/inspect_model")
    assert "c1=0..2" in about and axis["value"] == "c1" and "c3" in str(axis["choices"])
    assert results == [None, "", None, None, None, None]  # nothing of the model shown before stays
    # a continuous InfoGAN code starts at its training range; directions and dimensions at +-3
    assert client.predict("info", "c3", api_name="/inspect_axis_range") == (-1.0, 1.0)
    assert client.predict("info", "z[0]", api_name="/inspect_axis_range") == (-3.0, 3.0)
    grid, caption = client.predict("info", "c1", "0, 1", -1, 1, 5, "all", 0, 1, 0.7, "", api_name="/traverse")
    assert Image.open(grid).size == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2) and "c1" in caption
    assert "rows" not in caption  # a code moves every row; the caption names rows only when some are left out

    client.predict("oracle", api_name="/inspect_model")
    heat, table = client.predict("oracle", "exact", "judge", 16, 3.0, api_name="/leakage")
    values = (table if isinstance(table, dict) else json.loads(table))["values"]
    assert values[0][0] > 0.9 and Image.open(heat).width > 60
    assert Image.open(client.predict("oracle", ["exact", "tangled"], api_name="/direction_cosines")).height > 100
    score = client.predict("oracle", "faces", 100, api_name="/disentanglement")
    assert score["n"] == 100 and score["dci"]["disentanglement"] > 0.5


def test_inspect_errors_are_messages(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="dimensions 0 to 7"):
        client.predict("tiny", "z[50]", "0", -1, 1, 3, "all", 0, 1, 0.7, "", api_name="/traverse")
    with pytest.raises(AppError, match="no encoder"):
        client.predict("tiny", "faces", 100, api_name="/disentanglement")
