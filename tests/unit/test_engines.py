"""The vLLM client in isolation: a stub HTTP server stands in for vLLM so that
retries, errors and batching can be forced. (Agreement with a real vLLM server
is tested in tests/integration/test_student.py.)"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from w2s.agent.student.engines import EngineError, VLLMClient, collect, renormalize
from w2s.agent.student.server import free_port

LABELS = [11, 22]


class Stub:
    """Answers /v1/completions like vLLM in processed-logprobs mode; can fail on demand."""

    def __init__(self, fail_first=0, status=500, omit_label=False):
        self.fail_first, self.status, self.omit_label = fail_first, status, omit_label
        self.calls, self.batch_sizes = 0, []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.calls += 1
                if stub.calls <= stub.fail_first:
                    self.send_response(stub.status)
                    self.end_headers()
                    self.wfile.write(b'{"error": "boom"}')
                    return
                if "input" in body:  # /v1/embeddings: a 2-d "state" fixed by the prompt
                    stub.batch_sizes.append(len(body["input"]))
                    rows = [{"index": i, "embedding": [len(x), len(x) % 7]}
                            for i, x in enumerate(body["input"])]
                    return self._send({"data": rows[::-1]})
                stub.batch_sizes.append(len(body["prompt"]))
                choices = []
                for i, prompt in enumerate(body["prompt"]):
                    p = (len(prompt) % 10 + 1) / 12  # P(label 1) fixed by the prompt
                    top = {f"token_id:{LABELS[1]}": float(np.log(p))}
                    if not stub.omit_label:
                        top[f"token_id:{LABELS[0]}"] = float(np.log(1 - p))
                    choices.append({"index": i, "logprobs": {"top_logprobs": [top]}})
                self._send({"choices": choices[::-1]})  # any order

            def _send(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def stub(request):
    s = Stub(**getattr(request, "param", {}))
    yield s
    s.close()


def expected(prompts):
    p = np.array([(len(x) % 10 + 1) / 12 for x in prompts])
    return np.log(np.stack([1 - p, p], axis=1))


def test_renormalize_gives_log_probs_over_the_label_set():
    out = renormalize(np.log(np.array([[0.1, 0.3], [0.02, 0.02]])))
    assert np.allclose(np.exp(out), [[0.25, 0.75], [0.5, 0.5]])


def test_batches_keep_prompt_order_under_concurrency(stub):
    prompts = ["x" * n for n in range(1, 104)]
    client = VLLMClient(stub.url, "m", batch_size=10, concurrency=3)
    out = collect(client.label_logprobs(prompts, LABELS), len(prompts), 2)
    assert np.allclose(out, expected(prompts))
    assert sorted(stub.batch_sizes) == [3] + [10] * 10


def test_features_keep_prompt_order_and_report_progress(stub):
    prompts = ["x" * n for n in range(1, 58)]
    client = VLLMClient(stub.url, "m", batch_size=8, concurrency=2)
    seen = []
    feats = client.features(prompts, advance=seen.append)
    assert feats.tolist() == [[len(p), len(p) % 7] for p in prompts]
    assert sum(seen) == len(prompts) and sorted(seen) == [1] + [8] * 7


@pytest.mark.parametrize("stub", [{"fail_first": 2}], indirect=True)
def test_server_errors_are_retried_with_backoff(stub):
    client = VLLMClient(stub.url, "m", retries=3, backoff_s=0.01)
    out = collect(client.label_logprobs(["ab", "abc"], LABELS), 2, 2)
    assert np.allclose(out, expected(["ab", "abc"])) and stub.calls == 3


@pytest.mark.parametrize("stub", [{"fail_first": 99}], indirect=True)
def test_a_server_that_keeps_failing_gives_a_clear_error(stub):
    client = VLLMClient(stub.url, "m", retries=2, backoff_s=0.01)
    with pytest.raises(EngineError, match=r"failed /v1/completions after 3 attempts: HTTP 500"):
        collect(client.label_logprobs(["a"], LABELS), 1, 2)


@pytest.mark.parametrize("stub", [{"fail_first": 1, "status": 400}], indirect=True)
def test_a_refused_request_is_not_retried(stub):
    client = VLLMClient(stub.url, "m", retries=3, backoff_s=0.01)
    with pytest.raises(EngineError, match="refused"):
        collect(client.label_logprobs(["a"], LABELS), 1, 2)
    assert stub.calls == 1


@pytest.mark.parametrize("stub", [{"omit_label": True}], indirect=True)
def test_a_server_in_raw_logprobs_mode_is_named(stub):
    client = VLLMClient(stub.url, "m")
    with pytest.raises(EngineError, match="processed_logprobs"):
        collect(client.label_logprobs(["a"], LABELS), 1, 2)


def test_an_unreachable_server_is_named():
    url = f"http://127.0.0.1:{free_port()}"
    client = VLLMClient(url, "m", retries=1, backoff_s=0.01, timeout_s=2)
    with pytest.raises(EngineError, match=url):
        collect(client.label_logprobs(["a"], LABELS), 1, 2)
    with pytest.raises(EngineError, match="no vLLM server"):
        client.models()
