"""Bring NVlabs StyleGAN2-ADA and StyleGAN3 network pickles into the studio without running them.

`stylegan-pkl`: the `network-snapshot-*.pkl` files of NVlabs/stylegan2-ada-pytorch and
NVlabs/stylegan3, a pickled dict whose `G_ema` (besides G, D, augment_pipe and
training_set_kwargs) is the generator to import.
Those pickles carry the Python source of every network class and rebuild the networks by running
it (torch_utils.persistence). Here they are read as data: an unpickler that resolves a short list
of globals turns every persistent network into a `PersistentRecord` (class name, persistence
version, attribute dict), rebuilds tensors from their bytes with the weights-only loader and
plain numpy arrays (StyleGAN3 keeps layer sizes in them) from theirs, and refuses any other
global before anything is called. The stored source is never imported or run.

A 'skip'-architecture Generator has the same layers as ganstudio's `stylegan` arch, with
equalized-lr weights stored the same way, so conversion is renaming: its settings come from the
recorded init kwargs, and every key and shape is checked before anything is written. The fp16
settings (num_fp16_res, channels-last) only change precision: the import computes in float32.
A StyleGAN3 Generator (configs T and R) becomes the `stylegan3` arch (see nvlabs_stylegan3).
The pickle's `D` becomes the `stylegan_d` arch beside it where it converts (see
nvlabs_discriminator); where it does not, G_ema is imported alone and the checkpoint says why.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping

import numpy as np
import torch

from . import checkpoint
from .checkpoint import CheckpointError
from .importers import _listing
from .models.layers import FIR_TAPS, fir_kernel
from .models.stylegan import StyleGANConfig, StyleGANGenerator

SOURCE = "NVlabs stylegan2-ada-pytorch"

# Tensor rebuilders that only build a tensor or parameter from a storage and its layout.
_TENSOR_REBUILDS = ("_rebuild_tensor_v2", "_rebuild_parameter")
# Harmless builtins; dict is also the base class argument of copyreg._reconstructor.
_BUILTINS = ("set", "frozenset", "slice", "dict")
# Names Python 3 writes for builtins and copyreg in protocol 0-2 pickles.
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}
# What numpy.ndarray resolves to: a marker for _ndarray's check, so the class itself is never called.
_NDARRAY = object()


class EasyDict(dict):
    """Stands in for dnnlib.util.EasyDict (a dict with attribute access): here a plain dict."""


@dataclass(eq=False)
class PersistentRecord:
    """One pickled torch_utils.persistence object, as data: the class name and the attribute
    dict it was pickled with (for a network, the nn.Module internals and `_init_kwargs`)."""

    class_name: str
    version: Any
    state: dict[str, Any]
    origin: str = field(default="", repr=False)  # the file, for error messages

    @property
    def init_args(self) -> tuple:
        """Positional constructor arguments (StyleGAN2-ADA builds its networks from kwargs alone)."""
        return tuple(self.state.get("_init_args") or ())

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """The keyword arguments the network was constructed with (its settings)."""
        kwargs = self.state.get("_init_kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise CheckpointError(f"{self.origin}: {self.class_name} has no readable init kwargs")
        return dict(kwargs)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Parameters and persistent buffers of this module and its submodules, keyed like
        nn.Module.state_dict(), so the layout can be checked key by key."""
        tensors: dict[str, torch.Tensor] = {}
        self._collect("", tensors)
        return tensors

    def _collect(self, prefix: str, tensors: dict[str, torch.Tensor]) -> None:
        skip = self.state.get("_non_persistent_buffers_set") or set()
        for kind in ("_parameters", "_buffers"):
            for name, value in (self.state.get(kind) or {}).items():
                if value is None or (kind == "_buffers" and name in skip):
                    continue
                if not isinstance(value, torch.Tensor):
                    raise CheckpointError(f"{self.origin}: {prefix}{name} is a {type(value).__name__}, not a tensor")
                tensors[prefix + name] = value.detach()
        for name, child in (self.state.get("_modules") or {}).items():
            if isinstance(child, PersistentRecord):
                child._collect(f"{prefix}{name}.", tensors)
            elif child is not None:
                raise CheckpointError(f"{self.origin}: submodule {prefix}{name} is not a persistent network")


class _DataUnpickler(pickle.Unpickler):
    """An unpickler whose only globals are data builders; anything else ends the load."""

    def __init__(self, file: BinaryIO, where: str):
        super().__init__(file)
        self.where = where
        # numpy writes its scalar rebuilder as numpy.core... (1.x) or numpy._core... (2.x)
        scalar = np.float64(0).__reduce__()[0]
        self.rebuild_array = np.zeros(1).__reduce__()[0]
        self.allowed: dict[tuple[str, str], Callable[..., Any]] = {
            ("torch_utils.persistence", "_reconstruct_persistent_obj"): self._record,
            ("torch.storage", "_load_from_bytes"): self._storage,
            ("dnnlib.util", "EasyDict"): EasyDict,
            ("collections", "OrderedDict"): OrderedDict,
            ("copyreg", "_reconstructor"): self._reconstructor,
            ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "scalar"): scalar,
            ("numpy._core.multiarray", "scalar"): scalar,
            ("numpy.core.multiarray", "_reconstruct"): self._ndarray,
            ("numpy._core.multiarray", "_reconstruct"): self._ndarray,
            ("numpy", "ndarray"): _NDARRAY,
            **{("torch._utils", name): getattr(torch._utils, name) for name in _TENSOR_REBUILDS},
            **{("builtins", name): getattr(builtins, name) for name in _BUILTINS},
        }

    def find_class(self, module: str, name: str) -> Any:
        module = _PY2_MODULES.get(module, module)
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise CheckpointError(
                f"{self.where}: refused global {module}.{name} (network pickles are read as data: only "
                f"network records, tensors, dicts and numpy scalars are rebuilt, nothing else is called)"
            ) from None

    def _record(self, meta: Any) -> PersistentRecord:
        """Replaces torch_utils.persistence._reconstruct_persistent_obj: keep the data, drop the source."""
        if not (isinstance(meta, dict) and meta.get("type") == "class" and isinstance(meta.get("class_name"), str)
                and isinstance(meta.get("state"), dict)):
            raise CheckpointError(f"{self.where}: a persistent object without the class_name/state layout")
        return PersistentRecord(meta["class_name"], meta.get("version"), dict(meta["state"]), self.where)

    def _storage(self, data: Any) -> torch.TypedStorage | torch.UntypedStorage:
        """Replaces torch.storage._load_from_bytes, which unpickles the bytes with no restriction."""
        if not isinstance(data, (bytes, bytearray)):
            raise CheckpointError(f"{self.where}: a tensor storage that is not bytes")
        try:
            storage = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            found = re.search(r"unsupported (?:global: )?GLOBAL ([\w.]*\w)", str(exc), re.IGNORECASE)
            refused = f" (refused global {found.group(1)})" if found else ""
            raise CheckpointError(f"{self.where}: a tensor storage the weights-only loader refuses{refused}") from None
        except Exception as exc:  # noqa: BLE001 - any decoder failure means "not a storage"
            raise CheckpointError(f"{self.where}: unreadable tensor storage ({type(exc).__name__})") from None
        if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
            raise CheckpointError(f"{self.where}: a tensor storage holds a {type(storage).__name__}")
        return storage

    def _ndarray(self, cls: Any, shape: Any, typecode: Any) -> np.ndarray:
        """numpy's array rebuilder for plain arrays: an empty array whose dtype, shape and data
        the pickle then sets as data (ndarray.__setstate__)."""
        if cls is not _NDARRAY:
            raise CheckpointError(f"{self.where}: refused numpy array rebuild of {getattr(cls, '__name__', cls)}")
        return self.rebuild_array(np.ndarray, shape, typecode)

    def _reconstructor(self, cls: Any, base: Any, state: Any) -> EasyDict:
        """copyreg._reconstructor, as protocol 0/1 pickles use it for dict subclasses: EasyDict only."""
        if cls is not EasyDict or base is not dict:
            raise CheckpointError(f"{self.where}: refused copyreg._reconstructor for {getattr(cls, '__name__', cls)}")
        return EasyDict(state or {})


def read_network_pickle(path: str | os.PathLike) -> dict[str, Any]:
    """The top-level dict of a network pickle, its networks as PersistentRecords."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = _DataUnpickler(fh, str(path)).load()
    except CheckpointError:
        raise
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not a network pickle"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        raise CheckpointError(f"{path}: not a network pickle ({reason})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not a {SOURCE} network pickle (a {type(data).__name__}, not a dict)")
    return data


# The Generator's settings and their defaults, for settings the pickle does not record.
_GENERATOR_REQUIRED = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")
_MAPPING_DEFAULTS = {"num_layers": 8, "embed_features": None, "layer_features": None, "activation": "lrelu",
                     "lr_multiplier": 0.01, "w_avg_beta": 0.995}
_SYNTHESIS_DEFAULTS = {"channel_base": 32768, "channel_max": 512, "num_fp16_res": 0, "architecture": "skip",
                       "resample_filter": list(FIR_TAPS), "conv_clamp": None, "fp16_channels_last": False,
                       "kernel_size": 3, "use_noise": True, "activation": "lrelu",
                       "fused_modconv_default": True}  # (NVlabs/stylegan3's: which conv code runs, not the result)


def _settings(kwargs: Any, defaults: dict[str, Any], what: str, where: str) -> dict[str, Any]:
    """`kwargs` over `defaults`, refusing names the importer does not know (it could not honour them)."""
    if not isinstance(kwargs, Mapping):
        raise CheckpointError(f"{where}: {what} is a {type(kwargs).__name__}, not a dict")
    unknown = sorted(map(str, set(kwargs) - set(defaults)))
    if unknown:
        raise CheckpointError(f"{where}: {what} has settings this importer does not support: {', '.join(unknown)}")
    return {**defaults, **kwargs}


def recorded_clamp(record: PersistentRecord, path: tuple[str, ...], where: str, required: bool = False,
                   given: Any = None) -> float | None:
    """conv_clamp as the layer at `path` recorded it. The init kwargs hold only what was passed,
    and the default is None in stylegan2-ada-pytorch but 256 in NVlabs/stylegan3's copies of its
    networks (whose train.py passes it only to switch it off). `given`: the kwargs' value, used
    when the layer records none (unless `required`)."""
    layer: Any = record
    for name in path:
        layer = (layer.state.get("_modules") or {}).get(name) if isinstance(layer, PersistentRecord) else None
    state = layer.state if isinstance(layer, PersistentRecord) else {}
    if "conv_clamp" not in state:
        if required:
            raise CheckpointError(f"{where}: no {'.'.join(path)} layer recording its conv_clamp")
        return None if given is None else float(given)
    clamp = state["conv_clamp"]
    if not (clamp is None or isinstance(clamp, (int, float, np.number))):
        raise CheckpointError(f"{where}: {'.'.join(path)} records conv_clamp {clamp!r}, not a number or None")
    return None if clamp is None else float(clamp)


def checked_init_kwargs(record: PersistentRecord, required: tuple[str, ...], what: str, where: str) -> dict[str, Any]:
    """The record's constructor kwargs, or a CheckpointError when one of `required` is missing or
    the network was built with positional arguments (its settings are then not all named)."""
    kw = record.init_kwargs
    missing = [k for k in required if k not in kw]
    if missing or record.init_args:
        problem = f"missing {', '.join(missing)}" if missing else "positional arguments"
        raise CheckpointError(f"{where}: not the {what}'s init kwargs ({problem})")
    return kw


def stylegan_ada_config(G: PersistentRecord, where: str = "G_ema") -> StyleGANConfig:
    """The `stylegan` config equivalent to a StyleGAN2-ADA Generator record, from its init kwargs."""
    if G.class_name != "Generator":
        raise CheckpointError(f"{where}: a {G.class_name}, not a StyleGAN2-ADA Generator")
    kw = checked_init_kwargs(G, _GENERATOR_REQUIRED, "StyleGAN2-ADA Generator", where)
    mapping = _settings(kw.get("mapping_kwargs", {}), _MAPPING_DEFAULTS, "mapping_kwargs", where)
    # stylegan2-ada-pytorch passes the synthesis settings as one dict, NVlabs/stylegan3's StyleGAN2 flat
    flat = {k: v for k, v in kw.items() if k not in (*_GENERATOR_REQUIRED, "mapping_kwargs", "synthesis_kwargs")}
    synthesis = _settings(kw.get("synthesis_kwargs", {}), _SYNTHESIS_DEFAULTS, "synthesis_kwargs", where)
    synthesis = _settings(flat, synthesis, "the Generator's init kwargs", where)
    w_dim = kw["w_dim"]
    refusals = [
        (synthesis["architecture"] != "skip",
         f"synthesis architecture {synthesis['architecture']!r}: only 'skip' (the StyleGAN2 generator) converts"),
        (kw["img_channels"] != 3, f"{kw['img_channels']} image channels: only RGB (3) converts"),
        ((mapping["activation"], synthesis["activation"]) != ("lrelu", "lrelu"),
         f"activation {mapping['activation']!r}/{synthesis['activation']!r}: only 'lrelu' converts"),
        (list(synthesis["resample_filter"]) != list(FIR_TAPS),
         f"resample_filter {list(synthesis['resample_filter'])}: only [1, 3, 3, 1] converts"),
        (mapping["layer_features"] not in (None, w_dim),
         f"mapping layer_features {mapping['layer_features']} != w_dim"),
        (kw["c_dim"] and mapping["embed_features"] not in (None, w_dim),
         f"label embed_features {mapping['embed_features']} != w_dim"),
    ]
    for refused, reason in refusals:
        if refused:
            raise CheckpointError(f"{where}: not convertible to ganstudio's stylegan arch: {reason}")
    clamp = recorded_clamp(G, ("synthesis", "b4", "conv1"), where, given=synthesis["conv_clamp"])
    try:
        return StyleGANConfig(
            resolution=kw["img_resolution"],
            z_dim=kw["z_dim"],
            w_dim=w_dim,
            c_dim=kw["c_dim"],
            mapping_layers=mapping["num_layers"],
            mapping_lr_mul=float(mapping["lr_multiplier"]),
            channel_base=synthesis["channel_base"],
            channel_max=synthesis["channel_max"],
            noise_max_res=None if synthesis["use_noise"] else 0,
            conv_clamp=clamp,
        )
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: not convertible to ganstudio's stylegan arch: {exc}") from None


def ada_key(ours: str) -> str:
    """The StyleGAN2-ADA Generator state-dict key of a `stylegan` generator key."""
    if ours == "w_avg":
        return "mapping.w_avg"
    if found := re.fullmatch(r"mapping_net\.layers\.(\d+)\.(\w+)", ours):
        return f"mapping.fc{found[1]}.{found[2]}"
    if ours.startswith("mapping_net.embed."):
        return "mapping." + ours.removeprefix("mapping_net.")
    if found := re.fullmatch(r"synthesis_net\.blocks\.(\d+)\.(.+)", ours):
        # our modulated convolutions hold weight and affine in `.conv`; ADA's layers hold them directly
        return f"synthesis.b{4 << int(found[1])}.{found[2].replace('.conv.', '.', 1)}"
    raise KeyError(ours)


def _ada_layout(config: StyleGANConfig) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """(ADA key -> our key, ADA key -> shape): the shapes cover every tensor of the ADA Generator,
    including the resample-filter buffers (in every block and styled conv) that have no key of ours."""
    with torch.device("meta"):
        ours = {k: tuple(v.shape) for k, v in StyleGANGenerator(config).state_dict().items()}
    names = {ada_key(k): k for k in ours}
    shapes = {ada_key(k): shape for k, shape in ours.items()}
    for key in ours:
        if found := re.fullmatch(r"synthesis_net\.blocks\.(\d+)\.(conv[01]\.|torgb\.)conv\.weight", key):
            layer = "" if found[2] == "torgb." else found[2]  # once per block, and once per styled conv
            shapes[f"synthesis.b{4 << int(found[1])}.{layer}resample_filter"] = (len(FIR_TAPS), len(FIR_TAPS))
    return names, shapes


def check_layout(theirs: Mapping[str, torch.Tensor], expected: Mapping[str, tuple[int, ...]], problem: str) -> None:
    """A CheckpointError "<problem>: missing ...; unexpected ...; wrong shape ..." unless the file's
    tensors have exactly the expected names and shapes."""
    missing = sorted(set(expected) - set(theirs))
    unexpected = sorted(set(theirs) - set(expected))
    wrong = sorted(k for k in set(expected) & set(theirs) if tuple(theirs[k].shape) != tuple(expected[k]))
    if missing or unexpected or wrong:
        parts = [f"missing {_listing(missing)}"] if missing else []
        if unexpected:
            parts.append(f"unexpected {_listing(unexpected)}")
        if wrong:
            parts.append("wrong shape " + _listing(
                [f"{k} {list(theirs[k].shape)} (expected {list(expected[k])})" for k in wrong]))
        raise CheckpointError(f"{problem}: {'; '.join(parts)}")


def load_renamed(model: torch.nn.Module, record: PersistentRecord, names: Mapping[str, str],
                 expected: Mapping[str, tuple[int, ...]], where: str, layout: str) -> torch.nn.Module:
    """`model` (eval mode) holding the record's tensors under our names (`names`: theirs -> ours),
    after checking every key and shape against `expected`, and that each tensor with no name of
    ours is the [1, 3, 3, 1] resample filter (the only one our layers implement)."""
    theirs = record.state_dict()
    check_layout(theirs, expected, f"{where}: does not match the {layout} layout")
    for key in sorted(set(expected) - set(names)):
        if not torch.allclose(theirs[key].to(torch.float32), fir_kernel(), atol=1e-6):
            raise CheckpointError(f"{where}: {key} is not the [1, 3, 3, 1] filter this importer supports")
    model.load_state_dict({ours: theirs[key].to(torch.float32) for key, ours in names.items()}, strict=True)
    return model.eval()


def convert_g_ema(G: PersistentRecord, where: str = "G_ema") -> StyleGANGenerator:
    """A `stylegan` generator (eval mode) holding the weights and w_avg of a StyleGAN2-ADA G_ema,
    after checking every key, shape and resample filter."""
    config = stylegan_ada_config(G, where)
    names, expected = _ada_layout(config)
    return load_renamed(StyleGANGenerator(config), G, names, expected, where, "StyleGAN2-ADA Generator")


def _discriminator(data: dict[str, Any], in_path: Path, resolution: int) -> tuple[torch.nn.Module | None, str]:
    """The pickle's D as `stylegan_d`, or None and why it is left out ("" when there is no D):
    a D that does not convert costs the import its D only, since G_ema is usable without it."""
    from .nvlabs_discriminator import convert_d  # (it builds on this module)

    record = data.get("D")
    where = f"{in_path.name}: D"
    if record is None:
        return None, ""
    if not isinstance(record, PersistentRecord):
        return None, f"{where} is a {type(record).__name__}, not a network"
    try:
        D = convert_d(record, where)
    except CheckpointError as exc:
        return None, str(exc)
    if D.resolution != resolution:
        return None, f"{where} takes {D.resolution} px images, but G_ema makes {resolution} px"
    return D, ""


def import_stylegan_pkl(in_path: str | os.PathLike, out_path: str | os.PathLike, size: int | None = None) -> Path:
    """Convert the G_ema of a StyleGAN2-ADA or StyleGAN3 network pickle, and its D where that
    converts (else meta["D_left_out"] says why not), into a ganstudio checkpoint.
    `size`, when given, must be the resolution the pickle's generator has."""
    in_path = Path(in_path)
    data = read_network_pickle(in_path)
    record = data.get("G_ema")
    if not isinstance(record, PersistentRecord):
        keys = ", ".join(sorted(map(str, data))[:8]) or "none"
        raise CheckpointError(f"{in_path}: no 'G_ema' network, so not a {SOURCE} network pickle (its keys: {keys})")
    from . import nvlabs_stylegan3  # (it builds on this module)

    where = f"{in_path}: G_ema"
    if nvlabs_stylegan3.is_stylegan3(record):
        G, source = nvlabs_stylegan3.convert_stylegan3(record, where), nvlabs_stylegan3.SOURCE
    else:
        G, source = convert_g_ema(record, where), SOURCE
    if size is not None and G.resolution != size:
        raise CheckpointError(f"{in_path}: G_ema makes {G.resolution} px images, not --size {size}")
    D, left_out = _discriminator(data, in_path, G.resolution)
    notes = f"imported from {source} network pickle {in_path.name} (w_avg from the file)"
    return checkpoint.save(
        out_path,
        {"G_ema": G, **({"D": D} if D is not None else {})},
        notes=f"{notes}; D left out: {left_out}" if left_out else notes,
        meta={"imported_from": source, "source_file": in_path.name, **({"D_left_out": left_out} if left_out else {})},
    )
