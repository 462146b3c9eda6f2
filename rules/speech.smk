# Speech and text (paper 3.2.3, 7.4-7.5): Whisper ASR with word timestamps + medical-term correction, then
# medical / ROI text, keywords, entities, subdomain and modality tags. Records: docs/data_contract.md.
SPEECH = config["speech"]
TEXT = config["text"]


rule speech_asr:
    # GPU-capable (faster-whisper/CTranslate2): on clusters set device/compute_type in config and gpu=1 in the profile.
    input:
        media=lambda wc: video_media(wc.video_id),
    output:
        record="results/speech/{video_id}.json",
        ledger="results/ledger/speech/{video_id}.jsonl",
    params:
        speech=SPEECH,
    log:
        "logs/speech/{video_id}.log",
    benchmark:
        "logs/benchmark/speech/{video_id}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    conda:
        "../envs/speech.yaml"
    script:
        "../scripts/speech_asr.py"


rule text_video:
    input:
        speech="results/speech/{video_id}.json",
    output:
        record="results/text/{video_id}.json",
        ledger="results/ledger/text/{video_id}.jsonl",
    params:
        text=TEXT,
    log:
        "logs/text/{video_id}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/speech.yaml"
    script:
        "../scripts/text_video.py"


rule speech_score:
    # Demo only: WER before/after correction and word-timestamp agreement against the narration truth.
    input:
        speech=for_kept_videos("results/speech/{video_id}.json"),
        truth=for_kept_videos(f"{DEMO_DIR}/videos/{{video_id}}.truth.json"),
    output:
        json="results/speech/score.json",
        tsv="results/speech/score.tsv",
    params:
        tolerance=0.5,
    log:
        "logs/speech/score.log",
    conda:
        "../envs/speech.yaml"
    script:
        "../scripts/speech_score.py"


ALL_TARGETS += ["results/speech/score.tsv"] if VIDEO_SOURCE["kind"] == "demo" else []
