"""Speech: offline Whisper ASR with word timestamps, and Quilt-1M style medical-term correction.

* ``models``      packaged/local CTranslate2 Whisper models (``resolve_model``), CTranslate2 -> openai-whisper converter
* ``asr``         ``transcribe(audio, model_dir, backend="faster-whisper" | "openai-whisper" | "stable-ts")``
* ``correction``  ``correct_transcript(transcript[, scorer=...])``: find / propose / verify medical-term corrections
* ``rescore``     ``load_scorer(audio, model)``: Whisper's log-likelihood of edited transcripts (acoustic evidence)
* ``vocabulary``  English + medical word, n-gram and term lists in ``speech/data/vocabulary``
* ``metrics``     ``wer``, ``timestamp_agreement``
* ``synth``       espeak-ng narration with known word times (tests, benchmarks)
* ``stage``       one video -> results/speech/{id}.json (contract record) + ledger row
* ``score``       demo score: WER before/after correction, word-timestamp agreement
"""
