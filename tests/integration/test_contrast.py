"""Contrast items written by a real student: vLLM's generate path and transformers
write the same greedy edits, and a campaign that experiments on its supervisor
(before the first gold and again once its predictions have moved), killed while the
student writes, resumes to the same end and reports."""

import signal
import subprocess
import textwrap
import time

import pytest

from w2s.agent.contrast.edits import EDITS
from w2s.agent.student import HFEngine, Student, StudentConfig
from w2s.agent.student.models import SMOLLM2
from w2s.store import Contrast, Store
from w2s.store.datasets.builtin import CUE

from test_campaign import PAID_ORACLE, W2S, end_state, make_workspace, w2s

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TEXTS = [CUE + "Paris is the capital of France.", "The whale is a fish."]


def _prompts(student):
    return [student.prompter.render(t, EDITS[e].instruction)
            for t in TEXTS for e in ("drop-lead", "negate")]


def test_the_vllm_server_and_transformers_write_the_same_edits(vllm_server, model_dir, tmp_path):
    served = Student(StudentConfig(model=SMOLLM2, url=vllm_server.url), tmp_path).open()
    prompts = _prompts(served)
    got = dict(served.engine.generate(prompts, 24))
    again = dict(served.engine.generate(prompts, 24))
    served.close()
    local = dict(HFEngine(model_dir, batch_size=2).generate(prompts, 24))
    written = [got[s][k] for s in sorted(got) for k in range(len(got[s]))]
    assert len(written) == len(prompts) and all(w.strip() for w in written)
    assert again == got  # greedy: the same text every time
    local_written = [local[i][0] for i in range(len(prompts))]
    # CPU kernels round differently: the first words agree
    assert [w.split()[:3] for w in written] == [w.split()[:3] for w in local_written]


CONTRAST = textwrap.dedent("""
    [contrast]
    enabled = true
    parents = 24
    edits = ["drop-lead", "add-lead", "negate"]
    max_tokens = 32
    runs = 2
    rerun_after = 0.02
    """)


@pytest.fixture(scope="module")
def contrast_baseline(tmp_path_factory):
    root = tmp_path_factory.mktemp("contrast")
    ws, config, env = make_workspace(root, "whole")
    config.write_text(config.read_text() + CONTRAST)
    (root / "paid_oracle.py").write_text(textwrap.dedent(PAID_ORACLE))
    r = w2s(ws, "campaign", "run", str(config), "--name", "c", env=env, timeout=1800)
    return root, ws, config, env, r


def test_a_campaign_reports_on_its_supervisor(contrast_baseline):
    root, ws, _, env, r = contrast_baseline
    assert "contrast items (run 1, round 0)" in r.stdout and "valid of 72" in r.stdout
    assert "experiments on its supervisor again" in r.stdout
    with Store(ws / "w2s.duckdb", read_only=True) as s:
        written = s.select(Contrast, "campaign_id = 'c'")
        assert len(written) == 144 and {c.generator for c in written} == {SMOLLM2}
        assert all(c.status == "valid" or c.reason for c in written)
        runs = {}
        for c in written:
            runs.setdefault(c.round, set()).add(c.parent_id)
        first, again = sorted(runs)
        assert first == 0 and again > 0 and not runs[first] & runs[again]  # new parents
    audit = w2s(ws, "audit", "c", env=env).stdout
    assert "the supervisor report" in audit and "contrast items written" in audit
    assert (ws / "audit" / "c" / "supervisor.png").exists()


def test_resume_after_a_kill_while_the_student_writes(contrast_baseline):
    root, base_ws, config, env, _ = contrast_baseline
    ws, _, _ = make_workspace(root, "killed", features_from=base_ws)
    proc = subprocess.Popen([W2S, "-w", str(ws), "campaign", "run", str(config), "--name", "c"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 900
    for line in proc.stdout:  # the first batch of 32 is logged: kill inside the second
        assert time.monotonic() < deadline
        if "contrast items: 32 of 72 written" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Store(ws / "w2s.duckdb", read_only=True) as s:
        assert 32 <= len(s.select(Contrast)) < 72
    w2s(ws, "campaign", "resume", "c", env=env)
    assert end_state(ws) == end_state(base_ws)
    with Store(ws / "w2s.duckdb", read_only=True) as s, \
            Store(base_ws / "w2s.duckdb", read_only=True) as b:
        strip = lambda cs: sorted(c.model_dump(exclude={"created_at"}).items() for c in cs)
        assert strip(s.select(Contrast)) == strip(b.select(Contrast))
