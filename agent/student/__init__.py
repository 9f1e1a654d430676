"""The strong student: an LM with a weak-label head and a truth head, served by
vLLM or run in-process by transformers, giving the same numbers either way."""

from .engines import EngineError, HFEngine, VLLMClient
from .models import DEFAULT_MODEL, ModelError, prepare, resolve
from .prompts import HEADS, Head, Prompter
from .server import ServeConfig, VLLMServer
from .student import FEATURE_DEPTH, Student, StudentConfig

__all__ = ["DEFAULT_MODEL", "FEATURE_DEPTH", "HEADS", "EngineError", "HFEngine", "Head", "ModelError",
           "Prompter", "ServeConfig", "Student", "StudentConfig", "VLLMClient", "VLLMServer",
           "prepare", "resolve"]
