"""Video acquisition and filtering (paper section 3.2.1-3.2.2, appendix 7.1-7.3).

- candidates: domain keyword x priority word YouTube search (video-first, then channel exploitation with early
  stop and a subscriber cap), or a local folder / manifest; deterministic, deduplicated, sharded.
- download: yt-dlp Python API, low-res for filtering and full-res for kept videos; failures become ledger rows.
- probe: ffprobe facts and the 1 min .. 2 h duration rule.
- speech_presence: speech in the first minute (silero-vad by default), and speech inside an interval.
"""
