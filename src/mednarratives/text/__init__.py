"""Text stage (paper 3.2.3, 7.4-7.5): medical / ROI text, RAKE keywords, vocabulary entities, subdomain and
cross-modality tags, from the corrected ASR record.

* ``extract``  rule backend (default, offline) and ``extract(speech_record, backend)``
* ``rake``     RAKE keywords (also the align stage's raw-text keywords)
* ``llm``      OpenAI-compatible chat backend with no-new-words check and fallback to rules
* ``stage``    one video: results/speech/{id}.json -> results/text/{id}.json + ledger row
"""
