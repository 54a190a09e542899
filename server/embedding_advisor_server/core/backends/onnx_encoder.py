"""Frozen-encoder features through ONNX Runtime.

The encoder is exported once (torch's TorchScript-based ONNX exporter, dynamic batch and length),
fused with ONNX Runtime's transformer optimizer where the architecture is known to it (attention,
LayerNorm and GELU fusions), optionally quantised to int8 (dynamic quantisation of the weights),
and cached by the hash of the model's weights and this recipe. Sessions run with every graph
optimisation on, on the CUDA execution provider when onnxruntime-gpu and a GPU are present and on
the CPU otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .files import weights_digest, write_atomically
from .torch_encoder import Encoder

log = logging.getLogger(__name__)

RECIPE_VERSION = 1
OPSET = 17
# model_type in the Hugging Face config -> ONNX Runtime transformer optimizer's model type.
FUSABLE = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "distilbert": "bert"}


def providers(device: str = "auto") -> list[str]:
    """CUDA when asked for (or ``auto``) and available, else the CPU."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        raise RuntimeError("CUDA was asked for but onnxruntime has no CUDA execution provider")
    return ["CPUExecutionProvider"]


def model_file(path: Path, cache_dir: Path, quantize: bool) -> Path:
    """Where the exported (and, with ``quantize``, int8) model of the encoder at ``path`` is
    cached; it exists once exported."""
    key = hashlib.sha256(
        (weights_digest(path) + json.dumps([RECIPE_VERSION, OPSET])).encode()
    ).hexdigest()[:20]
    return Path(cache_dir) / "onnx" / f"{key}-{'int8' if quantize else 'fp32'}.onnx"


@contextlib.contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


@contextlib.contextmanager
def _eager_attention(model):
    """Export the plain attention graph: ONNX Runtime fuses it into one Attention op; the SDPA
    graph it cannot fuse."""
    before = getattr(model.config, "_attn_implementation", None)
    setter = getattr(model, "set_attn_implementation", None)
    if setter is None or before in (None, "eager"):
        yield
        return
    setter("eager")
    try:
        yield
    finally:
        setter(before)


class OnnxEncoder(Encoder):
    """``Encoder`` whose forward pass runs in ONNX Runtime (see the module doc)."""

    def __init__(
        self,
        path: Path,
        cache_dir: Path,
        quantize: bool = False,
        device: str = "auto",
        threads: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(path, device="cpu", **kwargs)  # torch only exports; ORT runs it
        import onnxruntime as ort

        self.quantize = quantize
        self.input_names = [
            n
            for n in ("input_ids", "attention_mask", "token_type_ids")
            if n in self.tokenizer.model_input_names
        ]
        model_file = self._prepare(Path(cache_dir))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or self._torch.get_num_threads()
        self.providers = providers(device)
        self.session = ort.InferenceSession(
            str(model_file), sess_options=options, providers=self.providers
        )
        self.model_file = model_file
        self.backend = f"onnxruntime {'int8' if quantize else 'fp32'}"

    def hidden(self, enc: dict[str, np.ndarray]) -> np.ndarray:
        feed = {n: enc[n].astype(np.int64) for n in self.input_names}
        return self.session.run(["last_hidden_state"], feed)[0]

    # -- export, fuse, quantise, cache ---------------------------------------------------------

    def _prepare(self, cache_dir: Path) -> Path:
        fp32 = model_file(self.path, cache_dir, quantize=False)
        if not fp32.exists():
            write_atomically(fp32, self._export_fused, suffix=".tmp.onnx")
        if not self.quantize:
            return fp32
        int8 = model_file(self.path, cache_dir, quantize=True)
        if not int8.exists():
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            def write(out: Path) -> None:
                with _quiet_root_logger():  # "consider pre-processing": a hint for static quant
                    _quantize(out)

            def _quantize(out: Path) -> None:
                quantize_dynamic(
                    fp32,
                    out,
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    # Fused contrib ops defeat shape inference; their outputs are float.
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                )

            write_atomically(int8, write, suffix=".tmp.onnx")
        return int8

    def _export_fused(self, out: Path) -> None:
        torch = self._torch
        model = self.model

        class LastHidden(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = model

            def forward(self, *args):
                return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

        names = self.input_names
        dummy = self.tokenizer(
            ["a short example", "and another"], return_tensors="pt", padding=True
        )
        axes = {n: {0: "batch", 1: "pieces"} for n in [*names, "last_hidden_state"]}
        with tempfile.TemporaryDirectory() as tmp, _eager_attention(model):
            raw = Path(tmp) / "raw.onnx"
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the exporter's notes on tracing, not errors
                torch.onnx.export(
                    LastHidden().eval(),
                    tuple(dummy[n] for n in names),
                    str(raw),
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes=axes,
                    opset_version=OPSET,
                    dynamo=False,
                )
            model_type = FUSABLE.get(getattr(model.config, "model_type", ""))
            if model_type is None:
                os.replace(raw, out)
                return
            from onnxruntime.transformers.optimizer import optimize_model

            fused = optimize_model(
                str(raw),
                model_type=model_type,
                num_heads=int(model.config.num_attention_heads),
                hidden_size=int(model.config.hidden_size),
                opt_level=1,
                use_gpu=False,
            )
            fused.save_model_to_file(str(out))
            log.info("exported %s to ONNX (%s)", self.name, fused.get_fused_operator_statistics())
