"""A faster encoder: the same model exported to ONNX on this machine (optionally int8-quantised) and run with
ONNX Runtime. The export is checked against the original model before it is ever used. Imported only when
a config asks for an ONNX backend."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import RetrievalError
from .embed import token_offsets, token_words, word_pieces

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PROBES = ["How many refugees were resettled?", "A short note.", "Cells divide and the moon pulls the sea. " * 20]
AGREEMENT = {"onnx": 0.999, "onnx-int8": 0.98}  # least cosine to the original model's vectors on the probes
DEFAULT_MAX_LENGTH = 256
EMBEDDING, TOKENS = "embedding", "tokens"  # the export's outputs: the text's vector, its last layer's token vectors
# Bumped when the export's graph changes, so an export made by an earlier version is made again. 2: the token
# vectors as a second output (late interaction reads the question's from the same run as its vector).
EXPORT_VERSION = 2


class OnnxEncoder:
    """Encodes like `Encoder`, through ONNX Runtime; texts are batched by length to waste little padding."""

    def __init__(self, identity, batch_size: int, cache: Path, threads: int | None = None) -> None:
        import onnxruntime
        from transformers import AutoTokenizer

        self.identity = identity
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(str(identity.path))
        self.max_length = max_length(identity.path)
        model_file = exported(identity, cache)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        # Threads that sleep between runs rather than spin: a question is one short run, and on a busy machine
        # spinning threads only take turns from the one that works (a question's p50 16 ms against 22 ms on the
        # loaded 2-core machine, float32; BENCHMARKS.md, "Answering fast again").
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        return self.encode_with_tokens(texts, on_batch, tokens=False)[0]

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self.encode_with_tokens(texts)[1]

    def encode_with_tokens(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None,
                           tokens: bool = True) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors and (with `tokens`) their token vectors, as `Encoder.encode_with_tokens` gives them:
        the export's two outputs of one run."""
        order = np.argsort([-len(text) for text in texts], kind="stable")
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pieces: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        wanted = [EMBEDDING, TOKENS] if tokens else [EMBEDDING]
        for start in range(0, len(texts), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="np")
            outputs = self.session.run(wanted, {name: batch[name].astype(np.int64) for name in INPUTS})
            vectors[rows] = outputs[0]
            if tokens:
                lengths = batch["attention_mask"].sum(axis=1)
                for row, hidden, length in zip(rows.tolist(), outputs[1], lengths.tolist(), strict=True):
                    pieces[row] = word_pieces(hidden[:length])
            if on_batch:
                on_batch(len(rows))
        return vectors, pieces if tokens else []

    def token_words(self, text: str) -> list[str]:
        return token_words(self.tokenizer, text, self.max_length)

    def token_offsets(self, texts: Sequence[str]) -> list[np.ndarray]:
        return token_offsets(self.tokenizer, texts, self.max_length)


def max_length(model_path: Path) -> int:
    config = model_path / "sentence_bert_config.json"
    return int(json.loads(config.read_text()).get("max_seq_length", DEFAULT_MAX_LENGTH)) if config.is_file() \
        else DEFAULT_MAX_LENGTH


def exported(identity, cache: Path) -> Path:
    """The ONNX file for this model and backend, exported, optimised, quantised and checked on first use."""
    folder = Path(cache) / f"{identity.sha256[:16]}-{identity.backend}-v{EXPORT_VERSION}"
    model_file = folder / "model.onnx"
    if model_file.is_file():
        return model_file
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        export(identity, staging / "model.onnx", quantize=identity.backend == "onnx-int8")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return model_file


def export(identity, target: Path, quantize: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from sentence_transformers import SentenceTransformer

    original = SentenceTransformer(str(identity.path), device="cpu")
    transformer = original[0].auto_model.eval()
    # a padded batch, so the traced graph keeps the attention mask path that padded batches need
    probe = original.tokenizer(["hello world", "a longer sentence, so that the first one is padded"],
                               return_tensors="pt", padding=True)
    raw = target.with_name("raw.onnx")
    dynamic = {name: {0: "batch", 1: "tokens"} for name in INPUTS} | {EMBEDDING: {0: "batch"},
                                                                      TOKENS: {0: "batch", 1: "tokens"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's advice is about models with data-dependent control flow
        torch.onnx.export(MeanPooled(transformer), tuple(probe[name] for name in INPUTS), str(raw),
                          input_names=list(INPUTS), output_names=[EMBEDDING, TOKENS], dynamic_axes=dynamic,
                          opset_version=17, dynamo=False)
    config = transformer.config
    fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                     hidden_size=config.hidden_size, opt_level=1)
    fused.save_model_to_file(str(target))
    if quantize:
        quantize_dynamic(str(target), str(target), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    raw.unlink()
    check_agreement(original, target, identity.backend)


def check_agreement(original, model_file: Path, backend: str) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    batch = original.tokenizer(PROBES, padding=True, truncation=True, max_length=original.max_seq_length,
                               return_tensors="np")
    mine = session.run([EMBEDDING], {name: batch[name].astype(np.int64) for name in INPUTS})[0]
    theirs = original.encode(PROBES, normalize_embeddings=True)
    agreement = float((mine * theirs).sum(axis=1).min())
    if agreement < AGREEMENT[backend]:
        raise RetrievalError(f"the {backend} export of {original} disagrees with the model (cosine {agreement:.3f}); "
                             "use backend = \"torch\" for this model")


class MeanPooled(torch.nn.Module):
    """The transformer followed by mean pooling and L2 normalisation, as sentence-transformers does; and the last
    layer's token vectors, as they are before pooling."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1), hidden
