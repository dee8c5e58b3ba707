"""One checkpoint format for every network ganstudio saves or serves.

A checkpoint is a `.safetensors` file. Its header metadata describes every
network inside it (arch registry name, role, constructor config), so a model is
rebuilt from the header alone and loaded with `strict=True`. A shipped model is
one file holding several networks under `<role>.` prefixes (G_ema, D, E, ...)
plus optional plain tensors (attribute directions) under `extra.`.

Nothing here ever unpickles: safetensors holds raw tensors and JSON only.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from . import __version__
from .config_io import ConfigError, to_dict
from .errors import UserError
from .registry import ARCHS, RegistryError

FORMAT = "ganstudio/1"
EXTRA_PREFIX = "extra."
_MAX_HEADER_BYTES = 100 * 1024 * 1024
_DTYPE_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}


class CheckpointError(UserError):
    """A file that is not a usable ganstudio checkpoint; the message names the file and the problem."""


@dataclass(frozen=True)
class NetworkInfo:
    role: str
    arch: str
    config: dict[str, Any]
    values: int = 0  # numbers stored for it (parameters and buffers): its size at a glance
    trained: dict[str, Any] | None = None  # its own training length ({"step", "kimg"}), when recorded


@dataclass(frozen=True)
class CheckpointInfo:
    """Everything the header says, read without touching the weights."""

    path: Path
    format: str
    networks: dict[str, NetworkInfo]
    primary: str
    ganstudio_version: str
    created: str
    dataset: str | None = None
    labels: tuple[str, ...] = ()
    step: int | None = None
    kimg: float | None = None
    notes: str | None = None
    extra_keys: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def arch(self) -> str:
        return self.networks[self.primary].arch

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.networks)

    @property
    def resolution(self) -> int | None:
        return self.networks[self.primary].config.get("resolution")

    def to_json(self) -> dict[str, Any]:
        """A plain dict for `ganstudio info` and the Models tab."""
        return {
            "path": str(self.path),
            "format": self.format,
            "arch": self.arch,
            "role": self.primary,
            "roles": list(self.roles),
            "networks": {
                r: {"arch": n.arch, "config": n.config, "values": n.values, **({"trained": n.trained} if n.trained else {})}
                for r, n in self.networks.items()
            },
            "resolution": self.resolution,
            "labels": list(self.labels),
            "dataset": self.dataset,
            "step": self.step,
            "kimg": self.kimg,
            "notes": self.notes,
            "extra": list(self.extra_keys),
            "ganstudio_version": self.ganstudio_version,
            "created": self.created,
            **{k: v for k, v in self.meta.items()},
        }


@dataclass
class Checkpoint:
    """A loaded checkpoint: its header info, rebuilt networks and extra tensors."""

    info: CheckpointInfo
    networks: dict[str, nn.Module]
    extra: dict[str, torch.Tensor]

    def __getitem__(self, role: str) -> nn.Module:
        try:
            return self.networks[role]
        except KeyError:
            raise CheckpointError(
                f"{self.info.path}: no network with role '{role}'; it has {', '.join(self.networks)}"
            ) from None


def arch_of(module: nn.Module) -> str:
    return ARCHS.name_of(type(module))


def state_hash(module: nn.Module) -> str:
    """A short fingerprint of a network's weights: ties recipes and direction sets to one generator."""
    import hashlib

    digest = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_CREATE_MODE = _umask_mode()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write via a temporary file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _CREATE_MODE)  # mkstemp makes 0600; give the file the mode open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(
    path: str | os.PathLike,
    networks: Mapping[str, nn.Module],
    *,
    dataset: str | None = None,
    labels: list[str] | tuple[str, ...] | None = None,
    step: int | None = None,
    kimg: float | None = None,
    notes: str | None = None,
    extra: Mapping[str, torch.Tensor] | None = None,
    meta: Mapping[str, Any] | None = None,
    dtype: torch.dtype | None = None,
    trained: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Save networks (role -> module) into one self-describing safetensors file, atomically.

    `dtype` (e.g. torch.float16) stores floating-point weights smaller; loading casts back.
    `extra` holds plain named tensors (directions, statistics); `meta` more JSON header fields.
    `trained` gives networks their own training length (role -> {"step", "kimg"}) where they
    were trained apart (an encoder fitted to a generator trained before it).
    """
    from safetensors.torch import save as st_save

    if not networks:
        raise ValueError("save() needs at least one network")
    tensors: dict[str, torch.Tensor] = {}
    described = {}
    for role, module in networks.items():
        if "." in role or not role:
            raise ValueError(f"role '{role}' must be a non-empty name without dots")
        described[role] = {"arch": arch_of(module), "config": to_dict(module.config)}
        if trained and role in trained:
            described[role]["trained"] = dict(trained[role])
        for key, value in module.state_dict().items():
            tensors[f"{role}.{key}"] = _prepare(value, dtype)
    for key, value in (extra or {}).items():
        tensors[f"{EXTRA_PREFIX}{key}"] = _prepare(value, None)

    primary = next(iter(networks))
    header = {
        "format": FORMAT,
        "arch": described[primary]["arch"],
        "role": primary,
        "config": json.dumps(described[primary]["config"]),
        "networks": json.dumps(described),
        "ganstudio_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    optional = {"dataset": dataset, "step": step, "kimg": kimg, "notes": notes}
    header.update({k: str(v) for k, v in optional.items() if v is not None})
    if labels is not None:
        header["labels"] = json.dumps(list(labels))
    for key, value in (meta or {}).items():
        if key in header:
            raise ValueError(f"meta key '{key}' clashes with a standard header field")
        header[key] = value if isinstance(value, str) else json.dumps(value)
    atomic_write_bytes(path, st_save(tensors, metadata=header))
    return Path(path)


def _prepare(value: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    value = value.detach().to("cpu")
    if dtype is not None and value.is_floating_point():
        value = value.to(dtype)
    return value.contiguous().clone()


def _read_header(path: Path) -> dict[str, Any]:
    """Parse and validate the safetensors header by hand: cheap, and strict about truncation."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise CheckpointError(f"{path}: file is too short to be a safetensors checkpoint ({size} bytes)")
            (n,) = struct.unpack("<Q", head)
            if n == 0 or n > _MAX_HEADER_BYTES or 8 + n > size:
                raise CheckpointError(
                    f"{path}: not a safetensors file (a pickle or other file renamed, or truncated header)"
                )
            raw = fh.read(n)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: not a safetensors file (header is not JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: not a safetensors file (header is not a JSON object)")
    data_len = size - 8 - n
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            start, end = entry["data_offsets"]
            expected = _numel(entry) * _DTYPE_BYTES.get(entry["dtype"], 0)
        except (TypeError, KeyError, ValueError):
            raise CheckpointError(f"{path}: malformed tensor entry '{key}' in header") from None
        if end > data_len:
            raise CheckpointError(f"{path}: file is truncated (tensor '{key}' ends past the end of the file)")
        if end - start != expected:
            raise CheckpointError(f"{path}: tensor '{key}' has {end - start} bytes, its shape needs {expected}")
    return header


def read_info(path: str | os.PathLike) -> CheckpointInfo:
    """Read only the header: used to list models without loading any weights."""
    path = Path(path)
    header = _read_header(path)
    meta = header.get("__metadata__") or {}
    fmt = meta.get("format", "")
    if not fmt.startswith("ganstudio/"):
        raise CheckpointError(f"{path}: safetensors file without ganstudio metadata (format={fmt or 'missing'})")
    if fmt != FORMAT:
        raise CheckpointError(f"{path}: unsupported checkpoint format '{fmt}' (this ganstudio reads {FORMAT})")
    try:
        if "networks" in meta:
            raw_nets = json.loads(meta["networks"])
        else:  # a single network described by the flat fields only
            raw_nets = {meta["role"]: {"arch": meta["arch"], "config": json.loads(meta["config"])}}
        networks = {
            role: NetworkInfo(role, str(n["arch"]), dict(n["config"]), _stored_values(header, role),
                              dict(n["trained"]) if isinstance(n.get("trained"), dict) else None)
            for role, n in raw_nets.items()
        }
        labels = tuple(json.loads(meta["labels"])) if "labels" in meta else ()
        step = int(meta["step"]) if "step" in meta else None
        kimg = float(meta["kimg"]) if "kimg" in meta else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: malformed ganstudio metadata ({exc.__class__.__name__}: {exc})") from None
    if not networks:
        raise CheckpointError(f"{path}: header describes no networks")
    standard = {"format", "arch", "role", "config", "networks", "ganstudio_version", "created",
                "dataset", "labels", "step", "kimg", "notes"}
    rest = {k: _maybe_json(v) for k, v in meta.items() if k not in standard}
    extra_keys = tuple(k[len(EXTRA_PREFIX):] for k in header if k.startswith(EXTRA_PREFIX))
    return CheckpointInfo(
        path=path,
        format=fmt,
        networks=networks,
        primary=meta.get("role") if meta.get("role") in networks else next(iter(networks)),
        ganstudio_version=meta.get("ganstudio_version", "?"),
        created=meta.get("created", "?"),
        dataset=meta.get("dataset"),
        labels=labels,
        step=step,
        kimg=kimg,
        notes=meta.get("notes"),
        extra_keys=extra_keys,
        meta=rest,
    )


def _numel(entry: dict[str, Any]) -> int:
    """Elements of one tensor entry of a safetensors header."""
    return math.prod(int(d) for d in entry["shape"])


def _stored_values(header: dict[str, Any], role: str) -> int:
    """How many numbers the file holds under `role.` (entries were checked by _read_header)."""
    return sum(_numel(entry) for key, entry in header.items() if key.startswith(f"{role}."))


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


def build_network(path: Path, net: NetworkInfo) -> nn.Module:
    """Construct an (untrained) network from its header description."""
    import ganstudio.models  # noqa: F401  (registers the archs)

    try:
        cls = ARCHS.get(net.arch)
        return cls.from_config(net.config)
    except RegistryError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: config for '{net.role}' ({net.arch}) is invalid: {exc}") from None


def load(
    path: str | os.PathLike,
    roles: list[str] | tuple[str, ...] | None = None,
    device: str | torch.device = "cpu",
) -> Checkpoint:
    """Rebuild the networks from the header alone and load their weights strictly."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    info = read_info(path)
    wanted = list(roles) if roles is not None else list(info.networks)
    for role in wanted:
        if role not in info.networks:
            raise CheckpointError(f"{path}: no network with role '{role}'; it has {', '.join(info.networks)}")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read tensors ({exc})") from None

    networks = {}
    for role in wanted:
        module = build_network(path, info.networks[role])
        prefix = f"{role}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            detail = "; ".join(line.strip() for line in first[:4])
            raise CheckpointError(f"{path}: weights for '{role}' do not fit its config: {detail}") from None
        networks[role] = module.to(device).eval()
    extra = {k[len(EXTRA_PREFIX):]: v for k, v in tensors.items() if k.startswith(EXTRA_PREFIX)}
    return Checkpoint(info=info, networks=networks, extra=extra)
