"""The strong student: an LM with a weak-label head and a truth head, served by
vLLM or run in-process by transformers, giving the same numbers either way."""

from w2s._lazy import exports

_FROM = {**dict.fromkeys(["EngineError", "HFEngine", "VLLMClient"], ".engines"),
         **dict.fromkeys(["DEFAULT_MODEL", "ModelError", "prepare", "resolve"], ".models"),
         **dict.fromkeys(["HEADS", "Head", "Prompter"], ".prompts"),
         **dict.fromkeys(["ServeConfig", "VLLMServer"], ".server"),
         **dict.fromkeys(["FEATURE_DEPTH", "Student", "StudentConfig"], ".student")}
__all__ = list(_FROM)
__getattr__, __dir__ = exports(__name__, _FROM)
