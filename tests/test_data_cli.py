import torch

from ganstudio.cli import main
from ganstudio.data import open_dataset
from ganstudio.data.labels import read_label_file
from ganstudio.data.synthfaces import ATTRIBUTES, FACTORS, SynthFaces


def test_cli_writes_synthfaces_that_the_folder_loader_reads_back_identically(tmp_path, capsys):
    out = tmp_path / "faces"
    assert main(["data", "synthfaces", "--n", "64", "--out", str(out), "--seed", "2"]) == 0
    assert "wrote 64 faces" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "images").iterdir())[:2] == ["000000.png", "000001.png"]
    assert len(list((out / "images").iterdir())) == 64   # no temp files left behind
    lines = (out / "list_attr.txt").read_text().splitlines()
    assert lines[0] == "64" and lines[1].split() == list(ATTRIBUTES) and lines[2].startswith("000000.png ")
    names, files, _ = read_label_file(out / "list_attr.txt")
    assert names == list(ATTRIBUTES) and files[63] == "000063.png"
    assert (out / "factors.csv").read_text().splitlines()[0].split(",") == ["file", *FACTORS]

    source = SynthFaces(64, n=64, seed=2)
    loaded = open_dataset(f"celeba:{out}")
    assert len(loaded) == 64 and loaded.skipped == 0 and loaded.label_names == list(ATTRIBUTES)
    assert torch.equal(loaded.label_table(), source.label_table())
    for i in (0, 37):
        image, labels = loaded[i]
        expected_image, expected_labels, _ = source[i]
        assert torch.equal(labels, expected_labels)
        assert torch.equal(image, expected_image)   # PNG is lossless: the very same pixels
    smiling = open_dataset(f"celeba:{out}?attrs=Smiling")
    assert smiling.label_table()[:, 0].tolist() == source.label_table()[:, 0].tolist()


def test_cli_refuses_to_overwrite_without_asking(tmp_path, capsys):
    out = tmp_path / "faces"
    assert main(["data", "synthfaces", "--n", "2", "--resolution", "32", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["data", "synthfaces", "--n", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--overwrite" in err[0]
    assert main(["data", "synthfaces", "--n", "3", "--resolution", "32", "--out", str(out), "--overwrite"]) == 0
    assert (out / "list_attr.txt").read_text().splitlines()[0] == "3"
    assert main(["data", "synthfaces", "--n", "1", "--resolution", "20", "--out", str(tmp_path / "x")]) == 2
    assert "32 to 256" in capsys.readouterr().err
