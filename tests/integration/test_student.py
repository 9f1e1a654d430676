"""The student on real components: SmolLM2 from its PyPI package, a real vLLM
server, transformers in-process, real items from the shared data, a DuckDB file."""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from w2s.agent.student import (HEADS, HFEngine, Prompter, Student, StudentConfig, prepare)
from w2s.agent.student.engines import EngineError
from w2s.agent.student.models import MANIFEST, verify
from w2s.agent.student.server import free_port
from w2s.store import Prediction, Store
from w2s.store.datasets import generate, load_named
from w2s.agent.student.models import SMOLLM2

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def sciq_100(shared_data):
    """100 real items: 50 SciQ test questions, each with its answer and a distractor."""
    loaded = load_named("sciq", str(shared_data))
    test = [i for i in loaded.items if i.split == "test"][:100]
    ids = {i.id for i in test}
    return loaded.dataset, test, [g for g in loaded.gold if g.item_id in ids]


def test_prepare_is_idempotent_and_checked(model_dir, tmp_path):
    files = json.loads((model_dir / MANIFEST).read_text())["files"]
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= set(files)
    assert "chat_template" in (model_dir / "tokenizer_config.json").read_text() or \
        (model_dir / "chat_template.jinja").exists()
    mtime = (model_dir / "model.safetensors").stat().st_mtime
    start = time.monotonic()
    assert prepare(SMOLLM2) == model_dir
    assert time.monotonic() - start < 10
    assert (model_dir / "model.safetensors").stat().st_mtime == mtime
    # a damaged copy fails the checksum and is converted again
    copy = tmp_path / "models" / model_dir.name
    shutil.copytree(model_dir, copy)
    (copy / "config.json").write_text("{}")
    assert not verify(copy)
    assert prepare(SMOLLM2, root=tmp_path / "models") == copy
    assert verify(copy)


def test_label_words_are_single_tokens_and_heads_share_the_item_prefix(model_dir, sciq_100):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    prompter = Prompter(tok)
    assert [tok.decode([i]) for i in prompter.label_ids] == ["No", "Yes"]
    dataset, items, _ = sciq_100
    item = items[0]
    weak, true = (prompter.head(item, dataset, h) for h in HEADS)
    shared = os.path.commonprefix([weak, true])
    assert shared.endswith(item.text + "\n\n") and shared.count(item.text) == 1
    ids = [tok.encode(p, add_special_tokens=False) for p in (weak, true)]
    prefix = tok.encode(shared, add_special_tokens=False)
    assert ids[0][:len(prefix) - 1] == ids[1][:len(prefix) - 1] == prefix[:-1]


def test_vllm_server_and_transformers_agree_on_100_real_items(vllm_server, model_dir, sciq_100,
                                                              tmp_path):
    dataset, items, gold = sciq_100
    store = Store(tmp_path / "w2s.duckdb")
    store.import_dataset(dataset, items, gold)
    served = Student(StudentConfig(model=SMOLLM2, url=vllm_server.url), tmp_path).open()
    probs_v = served.predict_to_store(store, items, dataset, "agree", 0)
    served.close()
    local = Student(StudentConfig(model=SMOLLM2, engine="hf"), tmp_path).open()
    probs_h = local.predict_to_store(store, items, dataset, "agree-hf", 0)
    for head in HEADS:
        p, q = probs_v[head], probs_h[head]
        delta = max(np.abs(np.log(p) - np.log(q)).max(), np.abs(np.log1p(-p) - np.log1p(-q)).max())
        assert delta < 1e-3, (head, delta)
    logged = store.select(Prediction, "campaign_id = 'agree'")
    assert len(logged) == 200 and {p.model_version for p in logged} == {model_dir.name}
    store.close()


def test_zero_shot_answers_with_the_prefix_cache_equal_those_without(vllm_server, sciq_100,
                                                                     tmp_path):
    """The zero-shot answers every item gets (pool and test, one cached pass) through a
    server whose 32-token blocks let the prefix cache skip the shared system turn equal
    those of a server that never hits it (vLLM's CPU default of 128-token blocks)."""
    from w2s.agent.student import ServeConfig
    from w2s.agent.training.trainers import zero_shot

    dataset, items, _ = sciq_100
    cached = zero_shot(Student(StudentConfig(model=SMOLLM2, url=vllm_server.url), tmp_path),
                       items, dataset, tmp_path / "cache", lambda _: None)
    fresh = zero_shot(Student(StudentConfig(model=SMOLLM2, serve=ServeConfig(
        block_size=128, enable_lora=False)), tmp_path), items, dataset, tmp_path / "other",
        lambda _: None)
    assert np.abs(cached - fresh).max() <= 1e-3
    assert np.abs(fresh - 0.5).max() > 0.05  # real answers, not all alike
    deadline = time.monotonic() + 20  # the server logs its cache hit rate every 10 s
    while True:
        hits = [float(h) for h in re.findall(r"Prefix cache hit rate: ([\d.]+)%",
                                             vllm_server.log_path.read_text())]
        if max(hits, default=0) > 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert max(hits, default=0) > 0, "the shared system turn never hit the prefix cache"


def test_hf_engine_features_are_last_token_hidden_states(model_dir):
    engine = HFEngine(model_dir)
    prompts = ["The sky is", "Two plus two is four. Is that true?"]
    feats = engine.features(prompts)
    assert feats.shape == (2, engine.model.config.hidden_size)
    alone = engine.features(prompts[:1])
    assert np.allclose(feats[0], alone[0], atol=1e-4)  # padding does not leak in


def test_runtime_lora_loading_is_enabled(vllm_server):
    r = httpx.post(f"{vllm_server.url}/v1/load_lora_adapter",
                   json={"lora_name": "nope", "lora_path": "/nonexistent/adapter"}, timeout=60)
    assert r.status_code == 404 and "No adapter found" in r.text


def test_a_dead_server_is_a_clear_error(model_dir, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    student = Student(StudentConfig(model=SMOLLM2, url=url, served_name="m", retries=1),
                      tmp_path).open()
    d = generate()
    with pytest.raises(EngineError, match=url):
        student.predict(d.items[:3], d.dataset)


def _vllm_processes() -> set[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    # a <defunct> entry is an exited process waiting to be reaped by init: not running
    return {line.strip() for line in out.splitlines()
            if ("VLLM::" in line or "vllm.entrypoints" in line) and "<defunct>" not in line}


def test_w2s_predict_runs_and_stops_its_own_server_cleanly(tmp_path, model_dir):
    import importlib.util
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("vLLM is not installed")
    w2s = str(Path(sys.executable).parent / "w2s")
    ws = str(tmp_path / "ws")
    env = {**os.environ, "COLUMNS": "200"}
    subprocess.run([w2s, "-w", ws, "data", "import", "builtin"], check=True, env=env,
                   capture_output=True)
    before_tmp, before_procs = set(os.listdir("/tmp")), _vllm_processes()
    r = subprocess.run([w2s, "-w", ws, "predict", "builtin", "--limit", "16", "--engine", "vllm",
                        "--model", SMOLLM2],
                       capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "logged 32 predictions" in r.stdout and "accuracy vs gold" in r.stdout
    assert _vllm_processes() == before_procs  # no orphans
    assert set(os.listdir("/tmp")) - before_tmp == set()  # no stray files in /tmp
    assert list((tmp_path / "ws" / "logs").glob("vllm-*.log"))
    with Store.in_workspace(ws, read_only=True) as s:
        assert len(s.select(Prediction)) == 32


def test_w2s_serve_runs_until_interrupted_and_leaves_nothing(tmp_path, model_dir):
    import importlib.util
    import signal
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("vLLM is not installed")
    w2s = str(Path(sys.executable).parent / "w2s")
    port = free_port()
    before_tmp, before_procs = set(os.listdir("/tmp")), _vllm_processes()
    proc = subprocess.Popen([w2s, "-w", str(tmp_path / "ws"), "serve", "--port", str(port),
                             "--model", SMOLLM2],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            # a shell's background job (CI started with `&`) ignores SIGINT,
                            # and children inherit that: give w2s a normal Ctrl-C
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        # Ctrl-C once w2s says it serves
        deadline = time.monotonic() + 600
        while not any("serving" in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)[-2000:]
            time.sleep(0.5)
        models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10).json()["data"]
        assert [m["id"] for m in models] == [model_dir.name]
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=120)
        reader.join(10)
        out = "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out[-2000:]
    assert "serving" in out and "stopping" in out
    assert _vllm_processes() == before_procs
    assert set(os.listdir("/tmp")) - before_tmp == set()
