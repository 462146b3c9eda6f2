# Speech and text (paper 3.2.3, 7.4-7.5): Whisper ASR with word timestamps + medical-term correction, then
# medical / ROI text, keywords, entities, subdomain and modality tags; one job per manifest shard, over the
# videos its filter kept. Records: docs/data_contract.md.
SPEECH = config["speech"]
TEXT = config["text"]


rule speech_asr:
    # GPU-capable (faster-whisper/CTranslate2): on clusters set device/compute_type in config and gpu=1 in the profile.
    input:
        media="results/videos/full/{shard}",
    output:
        records="results/speech/{shard}.jsonl",
        ledger="results/ledger/speech/{shard}.jsonl",
    params:
        # the script reads cache_dir from the config; score_tolerance_s is speech_score's
        speech={k: v for k, v in SPEECH.items() if k not in ("cache_dir", "score_tolerance_s")},
    log:
        "logs/speech/{shard}.log",
    benchmark:
        "logs/benchmark/speech/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=12 * 60,
    conda:
        "../envs/speech.yaml"
    script:
        "../scripts/speech_asr.py"


rule text_video:
    input:
        speech="results/speech/{shard}.jsonl",
    output:
        records="results/text/{shard}.jsonl",
        ledger="results/ledger/text/{shard}.jsonl",
    params:
        text=pick(TEXT, "backend", "vocabulary", *(["llm"] if TEXT["backend"] == "llm" else [])),
    log:
        "logs/text/{shard}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=4 * 60,
    conda:
        "../envs/speech.yaml"
    script:
        "../scripts/text_video.py"


rule speech_score:
    # Demo only: WER before/after correction and word-timestamp agreement against the narration truth.
    input:
        speech=PER_VIDEO_SHARD("results/speech/{shard}.jsonl"),
        truth=expand(f"{DEMO_DIR}/videos/{{video_id}}.truth.json", video_id=DEMO_VIDEO_IDS),
    output:
        json="results/speech/score.json",
        tsv="results/speech/score.tsv",
    params:
        tolerance=SPEECH["score_tolerance_s"],
    log:
        "logs/speech/score.log",
    conda:
        "../envs/speech.yaml"
    script:
        "../scripts/speech_score.py"


ALL_TARGETS += ["results/speech/score.tsv"] if VIDEO_SOURCE["kind"] == "demo" else []
