#!/usr/bin/env python3
"""Writes pretrained-import test fixtures without PyTorch: state dicts with the real
torchvision (ResNet) and timm (ViT, ConvNeXt) key names and shapes, one `.pth` in PyTorch's
zip format, and NumPy reference forwards.

The names and shapes are written out here from the published architectures (torchvision
`resnet.py`, timm `vision_transformer.py` and `convnext.py`), not from pdiff-zoo's Rust code,
so importing them checks our naming. Values are random with sane scales. The reference
forwards follow PyTorch's semantics in float64, independent of burn.

usage: import_fixtures.py OUT_DIR
"""
import collections
import json
import math
import pickle
import struct
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

RNG = np.random.default_rng(7)

# ---------------------------------------------------------------- key / shape lists


def bn(prefix, c, last=False):
    lo, hi = (0.1, 0.3) if last else (0.5, 1.5)
    return [
        (f"{prefix}.weight", (c,), ("uniform", lo, hi)),
        (f"{prefix}.bias", (c,), ("uniform", -0.1, 0.1)),
        (f"{prefix}.running_mean", (c,), ("normal", 0.1)),
        (f"{prefix}.running_var", (c,), ("uniform", 0.5, 1.5)),
        (f"{prefix}.num_batches_tracked", (), ("counter",)),
    ]


def conv(name, cout, cin, k, bias=False):
    out = [(f"{name}.weight", (cout, cin, k, k), ("normal", math.sqrt(2.0 / (cin * k * k))))]
    if bias:
        out.append((f"{name}.bias", (cout,), ("uniform", -0.05, 0.05)))
    return out


def linear(name, cout, cin):
    return [
        (f"{name}.weight", (cout, cin), ("normal", math.sqrt(1.0 / cin))),
        (f"{name}.bias", (cout,), ("uniform", -0.05, 0.05)),
    ]


def ln(name, c):
    return [
        (f"{name}.weight", (c,), ("uniform", 0.8, 1.2)),
        (f"{name}.bias", (c,), ("uniform", -0.1, 0.1)),
    ]


def torchvision_resnet(block, layers, num_classes=1000):
    """torchvision.models.resnet.ResNet: BasicBlock (expansion 1) or Bottleneck (4)."""
    keys = conv("conv1", 64, 3, 7) + bn("bn1", 64)
    expansion = 1 if block == "basic" else 4
    inplanes = 64
    for i, (planes, blocks) in enumerate(zip([64, 128, 256, 512], layers)):
        stride = 1 if i == 0 else 2
        for b in range(blocks):
            p = f"layer{i + 1}.{b}"
            s = stride if b == 0 else 1
            if block == "basic":
                keys += conv(f"{p}.conv1", planes, inplanes, 3) + bn(f"{p}.bn1", planes)
                keys += conv(f"{p}.conv2", planes, planes, 3) + bn(f"{p}.bn2", planes, last=True)
            else:
                keys += conv(f"{p}.conv1", planes, inplanes, 1) + bn(f"{p}.bn1", planes)
                keys += conv(f"{p}.conv2", planes, planes, 3) + bn(f"{p}.bn2", planes)
                keys += conv(f"{p}.conv3", planes * 4, planes, 1)
                keys += bn(f"{p}.bn3", planes * 4, last=True)
            if b == 0 and (s != 1 or inplanes != planes * expansion):
                keys += conv(f"{p}.downsample.0", planes * expansion, inplanes, 1)
                keys += bn(f"{p}.downsample.1", planes * expansion)
            inplanes = planes * expansion
    keys += linear("fc", num_classes, 512 * expansion)
    return keys


def timm_vit(dim, depth, heads, patch=16, img=224, num_classes=1000):
    """timm VisionTransformer with class token, mlp_ratio 4, qkv bias."""
    del heads
    tokens = (img // patch) ** 2 + 1
    keys = [
        ("cls_token", (1, 1, dim), ("normal", 0.02)),
        ("pos_embed", (1, tokens, dim), ("normal", 0.02)),
    ]
    keys += conv("patch_embed.proj", dim, 3, patch, bias=True)
    for i in range(depth):
        p = f"blocks.{i}"
        keys += ln(f"{p}.norm1", dim) + linear(f"{p}.attn.qkv", 3 * dim, dim)
        keys += linear(f"{p}.attn.proj", dim, dim) + ln(f"{p}.norm2", dim)
        keys += linear(f"{p}.mlp.fc1", 4 * dim, dim) + linear(f"{p}.mlp.fc2", dim, 4 * dim)
    keys += ln("norm", dim) + linear("head", num_classes, dim)
    return keys


def timm_convnext(depths, dims, num_classes=1000):
    """timm ConvNeXt: patchify stem, LayerNorm2d + 2x2 conv downsampling, layer scale."""
    keys = conv("stem.0", dims[0], 3, 4, bias=True) + ln("stem.1", dims[0])
    for i, (depth, dim) in enumerate(zip(depths, dims)):
        if i > 0:
            keys += ln(f"stages.{i}.downsample.0", dims[i - 1])
            keys += conv(f"stages.{i}.downsample.1", dim, dims[i - 1], 2, bias=True)
        for j in range(depth):
            p = f"stages.{i}.blocks.{j}"
            keys += [(f"{p}.conv_dw.weight", (dim, 1, 7, 7), ("normal", math.sqrt(2.0 / 49)))]
            keys += [(f"{p}.conv_dw.bias", (dim,), ("uniform", -0.05, 0.05))]
            keys += ln(f"{p}.norm", dim)
            keys += linear(f"{p}.mlp.fc1", 4 * dim, dim) + linear(f"{p}.mlp.fc2", dim, 4 * dim)
            keys += [(f"{p}.gamma", (dim,), ("uniform", 0.05, 0.2))]
    keys += ln("head.norm", dims[-1]) + linear("head.fc", num_classes, dims[-1])
    return keys


ARCHS = {
    "resnet18": lambda: torchvision_resnet("basic", [2, 2, 2, 2]),
    "resnet50": lambda: torchvision_resnet("bottleneck", [3, 4, 6, 3]),
    "vit-tiny": lambda: timm_vit(192, 12, 3),
    "vit-small": lambda: timm_vit(384, 12, 6),
    "vit-base": lambda: timm_vit(768, 12, 12),
    "convnext-tiny": lambda: timm_convnext([3, 3, 9, 3], [96, 192, 384, 768]),
    "convnext-base": lambda: timm_convnext([3, 3, 27, 3], [128, 256, 512, 1024]),
}
# Storage precision per fixture (big ones in float16 to keep the files small).
DTYPES = {
    "resnet18": "f32",
    "resnet50": "f16",
    "vit-tiny": "f32",
    "vit-small": "f16",
    "vit-base": "bf16",
    "convnext-tiny": "f16",
    "convnext-base": "f16",
}


def draw(shape, init):
    kind = init[0]
    if kind == "counter":
        return np.array(1000, dtype=np.int64)
    if kind == "uniform":
        return RNG.uniform(init[1], init[2], size=shape).astype(np.float32)
    return (RNG.standard_normal(size=shape, dtype=np.float32) * np.float32(init[1]))


def bf16_round(a):
    """Round-to-nearest-even float32 → bfloat16 bit patterns (uint16)."""
    bits = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return bits.astype(np.uint16)


def state_dict(arch):
    """`{name: float32 or int64 array}`, floats already rounded to the storage precision."""
    dtype = DTYPES[arch]
    out = {}
    for name, shape, init in ARCHS[arch]():
        a = draw(shape, init)
        if a.dtype == np.float32 and dtype == "f16":
            a = a.astype(np.float16).astype(np.float32)
        elif a.dtype == np.float32 and dtype == "bf16":
            a = (bf16_round(a).astype(np.uint32) << 16).view(np.float32)
        out[name] = a
    return out


# ---------------------------------------------------------------- writers


def write_safetensors_raw(path, tensors):
    """Minimal safetensors writer for dtypes NumPy lacks: `{name: (dtype, shape, bytes)}`."""
    header, offset, blobs = {}, 0, []
    for name, (dtype, shape, data) in sorted(tensors.items()):
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for b in blobs:
            f.write(b)


def write_state_dict(path, sd, dtype):
    if dtype == "bf16":
        raw = {}
        for k, v in sd.items():
            if v.dtype == np.int64:
                raw[k] = ("I64", v.shape, v.tobytes())
            else:
                raw[k] = ("BF16", v.shape, bf16_round(v).tobytes())
        write_safetensors_raw(path, raw)
        return
    np_dtype = np.float16 if dtype == "f16" else np.float32
    save_file({k: (v if v.dtype == np.int64 else v.astype(np_dtype)) for k, v in sd.items()}, str(path))


def write_pth(path, top):
    """A PyTorch zip checkpoint (`torch.save` layout) of nested dicts of float32 / int64
    arrays, pickled against stand-in `torch` modules so no PyTorch is needed."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def storage_class(name):
        cls = type(name, (), {})
        cls.__module__ = "torch"
        setattr(torch, name, cls)
        return cls

    float_storage, long_storage = storage_class("FloatStorage"), storage_class("LongStorage")

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("stand-in only")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    saved = {m: sys.modules.get(m) for m in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

    storages = {}

    class Storage:
        def __init__(self, key, cls, numel):
            self.key, self.cls, self.numel = key, cls, numel

    class Tensor:
        def __init__(self, array):
            key = str(len(storages))
            storages[key] = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
            cls = long_storage if array.dtype == np.int64 else float_storage
            self.storage = Storage(key, cls, int(array.size))
            self.shape = tuple(int(d) for d in array.shape)
            strides, acc = [], 1
            for d in reversed(self.shape):
                strides.append(acc)
                acc *= d
            self.stride = tuple(reversed(strides))

        def __reduce__(self):
            return (_rebuild_tensor_v2, (self.storage, 0, self.shape, self.stride, False, collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", obj.cls, obj.key, "cpu", obj.numel)
            return None

    def convert(value):
        if isinstance(value, dict):
            return collections.OrderedDict((k, convert(v)) for k, v in value.items())
        if isinstance(value, np.ndarray):
            return Tensor(value)
        return value

    import io

    buffer = io.BytesIO()
    try:
        Pickler(buffer, protocol=2).dump(convert(top))
    finally:
        for m, old in saved.items():
            if old is None:
                del sys.modules[m]
            else:
                sys.modules[m] = old
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buffer.getvalue())
        z.writestr("archive/byteorder", "little")
        for key, data in storages.items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")


# ---------------------------------------------------------------- reference forwards (float64)


def conv2d(x, w, b=None, stride=1, pad=0, groups=1):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = w.shape[2]
    if groups == 1:
        win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
        y = np.einsum("nchwij,ocij->nohw", win, w, optimize=True)
    else:  # depthwise
        n, c, hp, wp = x.shape
        ho, wo = (hp - k) // stride + 1, (wp - k) // stride + 1
        y = np.zeros((n, c, ho, wo))
        for i in range(k):
            for j in range(k):
                y += x[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride] * w[None, :, 0, i, j, None, None]
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def batchnorm(x, sd, p):
    scale = sd[f"{p}.weight"] / np.sqrt(sd[f"{p}.running_var"] + 1e-5)
    return (x - sd[f"{p}.running_mean"][None, :, None, None]) * scale[None, :, None, None] + sd[f"{p}.bias"][None, :, None, None]


def layernorm(x, sd, p, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * sd[f"{p}.weight"] + sd[f"{p}.bias"]


def layernorm2d(x, sd, p):
    return layernorm(x.transpose(0, 2, 3, 1), sd, p).transpose(0, 3, 1, 2)


ERF = np.frompyfunc(math.erf, 1, 1)


def gelu(x):
    return 0.5 * x * (1.0 + ERF(x / math.sqrt(2.0)).astype(np.float64))


def lin(x, sd, p):
    return x @ sd[f"{p}.weight"].T + sd[f"{p}.bias"]


def relu(x):
    return np.maximum(x, 0.0)


def resnet_forward(sd, x, bottleneck):
    x = relu(batchnorm(conv2d(x, sd["conv1.weight"], stride=2, pad=3), sd, "bn1"))
    x = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    x = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))[:, :, ::2, ::2].max(axis=(-1, -2))
    for layer in range(1, 5):
        b = 0
        while f"layer{layer}.{b}.conv1.weight" in sd:
            p = f"layer{layer}.{b}"
            stride = 2 if (layer > 1 and b == 0) else 1
            if bottleneck:
                y = relu(batchnorm(conv2d(x, sd[f"{p}.conv1.weight"]), sd, f"{p}.bn1"))
                y = relu(batchnorm(conv2d(y, sd[f"{p}.conv2.weight"], stride=stride, pad=1), sd, f"{p}.bn2"))
                y = batchnorm(conv2d(y, sd[f"{p}.conv3.weight"]), sd, f"{p}.bn3")
            else:
                y = relu(batchnorm(conv2d(x, sd[f"{p}.conv1.weight"], stride=stride, pad=1), sd, f"{p}.bn1"))
                y = batchnorm(conv2d(y, sd[f"{p}.conv2.weight"], pad=1), sd, f"{p}.bn2")
            if f"{p}.downsample.0.weight" in sd:
                x = batchnorm(conv2d(x, sd[f"{p}.downsample.0.weight"], stride=stride), sd, f"{p}.downsample.1")
            x = relu(x + y)
            b += 1
    return lin(x.mean(axis=(2, 3)), sd, "fc")


def vit_forward(sd, x, heads):
    w = sd["patch_embed.proj.weight"]
    x = conv2d(x, w, sd["patch_embed.proj.bias"], stride=w.shape[2])
    n, d = x.shape[0], x.shape[1]
    x = x.reshape(n, d, -1).transpose(0, 2, 1)
    cls = np.broadcast_to(sd["cls_token"], (n, 1, d))
    x = np.concatenate([cls, x], axis=1) + sd["pos_embed"]
    hd = d // heads
    i = 0
    while f"blocks.{i}.norm1.weight" in sd:
        p = f"blocks.{i}"
        y = layernorm(x, sd, f"{p}.norm1")
        t = y.shape[1]
        qkv = lin(y, sd, f"{p}.attn.qkv").reshape(n, t, 3, heads, hd).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = q @ k.transpose(0, 1, 3, 2) * hd**-0.5
        a = np.exp(a - a.max(-1, keepdims=True))
        a = a / a.sum(-1, keepdims=True)
        y = (a @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
        x = x + lin(y, sd, f"{p}.attn.proj")
        y = layernorm(x, sd, f"{p}.norm2")
        x = x + lin(gelu(lin(y, sd, f"{p}.mlp.fc1")), sd, f"{p}.mlp.fc2")
        i += 1
    x = layernorm(x, sd, "norm")
    return lin(x[:, 0], sd, "head")


def convnext_forward(sd, x):
    x = layernorm2d(conv2d(x, sd["stem.0.weight"], sd["stem.0.bias"], stride=4), sd, "stem.1")
    s = 0
    while f"stages.{s}.blocks.0.gamma" in sd:
        if s > 0:
            x = layernorm2d(x, sd, f"stages.{s}.downsample.0")
            x = conv2d(x, sd[f"stages.{s}.downsample.1.weight"], sd[f"stages.{s}.downsample.1.bias"], stride=2)
        j = 0
        while f"stages.{s}.blocks.{j}.gamma" in sd:
            p = f"stages.{s}.blocks.{j}"
            y = conv2d(x, sd[f"{p}.conv_dw.weight"], sd[f"{p}.conv_dw.bias"], pad=3, groups=x.shape[1])
            y = layernorm(y.transpose(0, 2, 3, 1), sd, f"{p}.norm")
            y = lin(gelu(lin(y, sd, f"{p}.mlp.fc1")), sd, f"{p}.mlp.fc2") * sd[f"{p}.gamma"]
            x = x + y.transpose(0, 3, 1, 2)
            j += 1
        s += 1
    x = layernorm(x.mean(axis=(2, 3)), sd, "head.norm")
    return lin(x, sd, "head.fc")


# ---------------------------------------------------------------- main


REFERENCES = {
    # arch: (input CxHxW, forward)
    "resnet50": ((3, 64, 64), lambda sd, x: resnet_forward(sd, x, bottleneck=True)),
    "vit-tiny": ((3, 224, 224), lambda sd, x: vit_forward(sd, x, heads=3)),
    "convnext-tiny": ((3, 64, 64), convnext_forward),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"files": {}, "references": {}}
    for arch in ARCHS:
        sd = state_dict(arch)
        path = out / f"{arch}.safetensors"
        write_state_dict(path, sd, DTYPES[arch])
        manifest["files"][arch] = {"file": path.name, "dtype": DTYPES[arch], "tensors": len(sd)}
        if arch == "resnet18":
            # The same weights as a training checkpoint: {"state_dict": {"module.*": ...}, "epoch": 3}.
            wrapped = {"state_dict": {f"module.{k}": v for k, v in sd.items()}, "epoch": 3}
            write_pth(out / "resnet18.pth", wrapped)
            # A plain torchvision-style .pth of the same weights.
            write_pth(out / "resnet18_plain.pth", sd)
        if arch in REFERENCES:
            shape, forward = REFERENCES[arch]
            x = RNG.standard_normal((2, *shape)).astype(np.float32)
            sd64 = {k: v.astype(np.float64) for k, v in sd.items() if v.dtype != np.int64}
            logits = forward(sd64, x.astype(np.float64)).astype(np.float32)
            save_file({"input": x, "logits": logits}, str(out / f"{arch}.reference.safetensors"))
            manifest["references"][arch] = {"input": list(shape), "file": f"{arch}.reference.safetensors"}
    # An integer tensor where weights are expected.
    save_file({"conv1.weight": np.zeros((64, 3, 7, 7), dtype=np.int32)}, str(out / "int32.safetensors"))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
