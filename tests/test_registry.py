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


def test_plug_ins_carry_their_own_traits():
    methods: Registry = Registry("direction method")
    methods.register("a", supervised=True)(len)
    methods.register("b", supervised=False)(abs)
    methods.register("c")(min)
    assert methods.having(supervised=True) == ["a"] and methods.having(supervised=False) == ["b"]
    assert methods.traits("a") == {"supervised": True} and methods.traits("c") == {}
    with pytest.raises(RegistryError, match="unknown direction method 'd'"):
        methods.traits("d")


def test_the_project_plug_ins_say_what_the_training_code_asks():
    import ganstudio.editing.directions  # noqa: F401  (fills DIRECTIONS)
    import ganstudio.training  # noqa: F401  (fills RECIPES and LOSSES)
    from ganstudio.registry import RECIPES

    assert {"gan", "aegan", "encoder", "cyclegan", "stargan", "toy"} <= set(RECIPES.names())
    assert ARCHS.get("stylegan").discriminator == "stylegan_d" and ARCHS.get("stylegan").train_defaults["lr"] == 0.0025
    assert LOSSES.get("nonsaturating").probability and not LOSSES.get("wgan-gp").probability
    assert not LOSSES.get("wgan-gp").scores_only and LOSSES.get("hinge").scores_only
    assert set(DIRECTIONS.having(supervised=False)) == {"pca", "sefa", "condition"}
    assert DIRECTIONS.having(conditional=True) == ["condition"]  # needs z and conditions, not sampled w
