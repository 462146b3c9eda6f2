"""LLM backend: any OpenAI-compatible ``/v1/chat/completions`` endpoint (vLLM, llama.cpp server, ...).

Temperature 0, retries with exponential backoff on connection errors / 5xx / 429. Every answer is checked:
JSON object with the expected keys, and no word absent from the input utterance (the paper conditions the LLM
to "refrain from introducing new words"; here the code enforces it). A rejected answer raises
``LLMRejected``; ``extract.extract`` then falls back to the rule backend for that utterance and records why.
Only the standard library is used (urllib), so nothing is downloaded and no client package is needed.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
import urllib.error
import urllib.request

import yaml

from .. import settings
from ..domains import DOMAINS
from .extract import RuleBackend, new_words, resource_dir

__all__ = ["LLMBackend", "LLMRejected", "LLMUnavailable"]

LLM = settings.defaults("text", "llm")  # the defaults of LLMBackend's keyword arguments


class LLMRejected(ValueError):
    """The endpoint answered, but the answer is malformed or introduces new words."""


class LLMUnavailable(RuntimeError):
    """The endpoint could not be reached after all retries."""


@functools.lru_cache(maxsize=1)
def _prompts() -> dict:
    return yaml.safe_load((resource_dir() / "prompts.yaml").read_text())


def _json_in(text: str):
    text = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        text = fence.group(1).strip()
    return json.loads(text)


class LLMBackend:
    name = "llm"

    def __init__(self, url: str, model: str, *, api_key_env: str = LLM["api_key_env"],
                 timeout_s: float = LLM["timeout_s"], retries: int = LLM["retries"], backoff_s: float = LLM["backoff_s"],
                 max_tokens: int = LLM["max_tokens"], vocab_dir: str | None = None):
        self.url = url.rstrip("/")
        if not self.url.endswith("/chat/completions"):
            self.url += "/chat/completions" if self.url.endswith("/v1") else "/v1/chat/completions"
        self.model, self.timeout_s, self.retries, self.backoff_s = model, timeout_s, retries, backoff_s
        self.max_tokens = max_tokens
        self.api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        self.rules = RuleBackend(vocab_dir)

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "url": self.url, "temperature": 0.0,
                "fallback": self.rules.name}

    def chat(self, system: str, user: str) -> str:
        body = json.dumps({"model": self.model, "temperature": 0.0, "max_tokens": self.max_tokens,
                           "messages": [{"role": "system", "content": system},
                                        {"role": "user", "content": user}]}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
                    data = json.loads(r.read().decode("utf-8"))
                return str(data["choices"][0]["message"]["content"])
            except urllib.error.HTTPError as e:
                last = e
                if e.code < 500 and e.code != 429:
                    raise LLMUnavailable(f"HTTP {e.code} from {self.url}") from e
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
                last = e
            except (KeyError, IndexError, TypeError, ValueError) as e:
                raise LLMRejected(f"malformed completion: {e}") from e
        raise LLMUnavailable(f"{self.url}: {last}")

    def utterance(self, text: str) -> dict:
        p = _prompts()
        answer = self.chat(p["extract_system"], p["extract_user"].format(text=text))
        try:
            obj = _json_in(answer)
        except ValueError as e:
            raise LLMRejected(f"not JSON: {answer[:80]!r}") from e
        if not isinstance(obj, dict):
            raise LLMRejected("not a JSON object")
        med, roi, kws = obj.get("medical_text", ""), obj.get("roi_text", ""), obj.get("keywords", [])
        if not isinstance(med, str) or not isinstance(roi, str) or not isinstance(kws, list) \
                or not all(isinstance(k, str) for k in kws):
            raise LLMRejected("wrong field types")
        added = new_words(" ".join([med, roi, *kws]), text)
        if added:
            raise LLMRejected(f"new words: {', '.join(added[:10])}")
        return {"medical_text": med.strip(), "roi_text": roi.strip(),
                "keywords": sorted({k.strip().lower() for k in kws if k.strip()})}

    def video(self, text: str) -> dict:
        p = _prompts()
        types = ", ".join(DOMAINS)
        answer = self.chat(p["modalities_system"].format(types=types), text)
        try:
            mods = _json_in(answer)
        except ValueError as e:
            raise LLMRejected(f"modalities not JSON: {answer[:80]!r}") from e
        if not isinstance(mods, list) or not all(isinstance(m, str) and m.lower() in DOMAINS for m in mods):
            raise LLMRejected(f"modalities outside {types}: {answer[:80]!r}")
        subs = list(yaml.safe_load((resource_dir() / "subdomains.yaml").read_text())) + ["general"]
        sub = self.chat(p["subdomain_system"].format(types=", ".join(subs)), text).strip().strip("\"'.").lower()
        if sub not in subs:
            raise LLMRejected(f"subdomain outside the list: {sub[:40]!r}")
        return {"modalities": sorted({m.lower() for m in mods}), "subdomain": sub}


def make_backend(cfg: dict | None):
    """``text.backend`` config -> a backend (``rules`` unless ``backend: llm`` with ``llm.url``)."""
    cfg = settings.merged(cfg, "text")
    if cfg["backend"] == "llm":
        llm = dict(cfg["llm"])
        return LLMBackend(llm.pop("url"), llm.pop("model"), vocab_dir=cfg.get("vocabulary"), **llm)
    return RuleBackend(cfg.get("vocabulary"))
