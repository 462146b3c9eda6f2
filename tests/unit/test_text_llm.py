"""LLM backend against a local OpenAI-compatible server (127.0.0.1, started here): good, garbage and new-word
answers, retries on 5xx, fallback to the rule backend, and the stage's ledger row."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mednarratives.io import read_jsonl, write_jsonl
from mednarratives.text import extract as ex
from mednarratives.text.llm import LLMBackend, LLMRejected, LLMUnavailable, make_backend
from mednarratives.text.stage import run_shard

SENTS = ["The vertebral body and pedicles form a ring around the spinal canal.",
         "Look here at the frontal bone, where the tables are intact.",
         "The liver shows a hypodense lesion."]


class Server:
    """mode(user_text, system_text) -> (status, content) decides each answer; requests are recorded."""

    def __init__(self, mode):
        self.mode, self.requests, self.fail_first = mode, [], 0
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if self.path != "/v1/chat/completions":
                    self.send_response(404), self.end_headers()
                    return
                if outer.fail_first > 0:
                    outer.fail_first -= 1
                    self.send_response(503), self.end_headers()
                    return
                system, user = body["messages"][0]["content"], body["messages"][1]["content"]
                status, content = outer.mode(user, system)
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def good(user, system):
    if "subdomain" in system:
        return 200, "spine"
    if "classifier" in system:
        return 200, '["ct"]'
    text = user.split(":", 1)[1].strip()
    if "frontal" in text:
        return 200, json.dumps({"medical_text": "", "roi_text": "the frontal bone", "keywords": ["frontal bone"]})
    kws = ["Spinal Canal"] if "spinal canal" in text else ["liver"]
    return 200, "```json\n" + json.dumps({"medical_text": text, "roi_text": "", "keywords": kws}) + "\n```"


def bad(user, system):
    if "classifier" in system:
        return 200, '["ct", "radiology-ish"]'
    text = user.split(":", 1)[1].strip()
    if "vertebral" in text:   # introduces a new word
        return 200, json.dumps({"medical_text": "The vertebral body is fractured.", "roi_text": "", "keywords": []})
    if "frontal" in text:     # garbage
        return 200, "Sure! Here is the answer you asked for"
    return 200, json.dumps({"medical_text": 3, "roi_text": "", "keywords": []})  # wrong type


def _speech():
    words, t = [], 0.0
    for s in SENTS:
        for w in s.split():
            words.append({"word": w, "start": round(t, 3), "end": round(t + 0.3, 3), "p": 0.9})
            t += 0.35
    return {"video_id": "v1", "words": words, "segments": []}


@pytest.fixture
def server(request):
    s = Server(request.param)
    yield s
    s.close()


@pytest.mark.parametrize("server", [good], indirect=True)
def test_good_answers_used_with_temperature_zero(server):
    rec = ex.extract(_speech(), LLMBackend(server.url, "m", backoff_s=0.01))
    u = rec["utterances"]
    assert rec["fallbacks"] == []
    assert u[0]["medical_text"] == SENTS[0] and u[0]["keywords"] == ["spinal canal"]
    assert u[1]["roi_text"] == "the frontal bone" and u[1]["medical_text"] == ""
    assert rec["modalities"] == ["ct"] and rec["subdomain"] == "spine"
    assert rec["model"]["backend"] == "llm"
    assert all(r["temperature"] == 0.0 for r in server.requests)


@pytest.mark.parametrize("server", [bad], indirect=True)
def test_new_words_and_garbage_fall_back_to_rules(server):
    rec = ex.extract(_speech(), LLMBackend(server.url, "m", backoff_s=0.01))
    rules = ex.extract(_speech())
    reasons = [f["reason"] for f in rec["fallbacks"]]
    assert any("new words: fractured, is" in r for r in reasons)
    assert any("not JSON" in r for r in reasons)
    assert any("wrong field types" in r for r in reasons)
    assert any("modalities outside" in r for r in reasons)
    assert len(rec["fallbacks"]) == 4
    assert [u["medical_text"] for u in rec["utterances"]] == [u["medical_text"] for u in rules["utterances"]]
    assert rec["modalities"] == rules["modalities"]
    with pytest.raises(LLMRejected):
        LLMBackend(server.url, "m").utterance(SENTS[0])


@pytest.mark.parametrize("server", [good], indirect=True)
def test_retries_with_backoff_on_503(server):
    server.fail_first = 2
    out = LLMBackend(server.url, "m", retries=3, backoff_s=0.01).utterance(SENTS[2])
    assert out["medical_text"] == SENTS[2]
    assert len(server.requests) == 3
    server.fail_first = 5
    with pytest.raises(LLMUnavailable):
        LLMBackend(server.url, "m", retries=1, backoff_s=0.01).utterance(SENTS[2])


def test_unreachable_endpoint_falls_back_and_stage_ledgers(tmp_path):
    sp = tmp_path / "s.jsonl"
    broken = {"video_id": "v2", "words": [{"word": "liver"}]}  # a word without times
    write_jsonl(sp, [{**_speech(), "video_id": "v1"}, broken])
    cfg = {"backend": "llm", "llm": {"url": "http://127.0.0.1:9/v1", "model": "m", "retries": 1, "backoff_s": 0.01,
                                     "timeout_s": 2}}
    assert isinstance(make_backend(cfg), LLMBackend)
    rec, bad = run_shard(str(sp), str(tmp_path / "t.jsonl"), str(tmp_path / "l.jsonl"), cfg)
    assert len(rec["fallbacks"]) == 4 and rec["utterances"][0]["medical_text"]
    assert read_jsonl(tmp_path / "t.jsonl") == [rec, bad]
    row, bad_row = read_jsonl(tmp_path / "l.jsonl")
    assert row["decision"] == "kept" and row["detail"]["fallbacks"] == 4
    # a broken record is ledgered, not raised; the shard goes on
    assert bad_row["unit"] == "v2" and bad_row["decision"] == "dropped" and bad_row["reason"] == "text_failed"
    assert bad["utterances"] == []
