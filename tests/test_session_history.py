from types import SimpleNamespace

from PIL import Image

from ganstudio.ui.session_history import SessionHistory, caption


def _request(session):
    return SimpleNamespace(session_hash=session)


def test_history_is_per_session_newest_first_and_bounded():
    history = SessionHistory(per_session=3, sessions=2)
    image = Image.new("RGB", (4, 4))
    for seed in range(5):
        history.add(_request("a"), image, {"model": "m", "seed": seed})
    assert [e.recipe["seed"] for e in history.entries(_request("a"))] == [4, 3, 2]
    history.add(_request("a"), image, {"model": "m", "seed": 4})  # a repeat is not stored twice
    assert len(history.entries(_request("a"))) == 3
    history.add(_request("b"), image, {"model": "m", "seed": 0})
    history.add(_request("c"), image, {"model": "m", "seed": 0})
    assert history.entries(_request("a")) == []  # the session idle the longest was dropped
    assert len(history.entries(_request("c"))) == 1
    history.add(_request("c"), None, {"model": "m", "seed": 9})
    assert len(history.entries(_request("c"))) == 1


def test_captions_say_how_the_image_was_made():
    assert caption({"model": "faces", "seed": 3}) == "faces · seed 3"
    assert caption({"model": "faces", "seed": None, "edits": [{"direction": "svm/Smiling", "alpha": 1.5}]}) == \
        "faces · inverted · Smiling +1.50"
    assert caption({"command": "translate", "model": "glasses", "to": "B"}) == "translate · glasses → B"
    assert caption(None) == ""
