import pytest

from ganstudio.registry import ARCHS, DATASETS, DIRECTIONS, LOSSES, Registry, RegistryError


def test_unknown_name_lists_known_ones():
    reg = Registry("widget")
    reg.register("b")(object)
    reg.register("a")(int)
    with pytest.raises(RegistryError) as err:
        reg.get("x")
    assert str(err.value) == "unknown widget 'x'; known: a, b"


def test_duplicate_registration_is_refused_but_re_registering_same_object_is_fine():
    reg = Registry("widget")
    reg.register("a")(int)
    reg.register("a")(int)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("a")(float)


def test_project_registries_exist_and_archs_are_registered():
    import ganstudio.models  # noqa: F401

    assert "tiny" in ARCHS
    assert ARCHS.name_of(ARCHS.get("tiny")) == "tiny"
    for reg in (LOSSES, DATASETS, DIRECTIONS):
        assert isinstance(reg, Registry)
