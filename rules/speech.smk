# Stage speech (mednarratives.speech; paper 3.2.3, 7.4): Whisper ASR with word timestamps + medical-term
# correction; one job per video shard, over the videos its filter kept. Records: docs/data_contract.md.


rule speech_asr:
    # GPU-capable (faster-whisper/CTranslate2): on clusters set speech.device (cuda or auto) and compute_type.
    input:
        media="results/videos/full/{shard}",
    output:
        records="results/speech/{shard}.jsonl",
        ledger="results/ledger/speech/{shard}.jsonl",
    params:
        speech=speech_params(),
    log:
        "logs/speech/{shard}.log",
    benchmark:
        "logs/timings/speech_asr/{shard}.tsv"
    threads: 1
    # one shard's kept videos (~100 x 3.7 min): Whisper base int8 ~0.12x real time on 1 CPU core, ~45 min
    resources:
        mem_mb=3000,
        runtime=4 * 60,
        gpu=0 if cfg("speech/device") == "cpu" else 1,
    conda:
        "../envs/speech.yaml"
    script:
        "../scripts/speech_asr.py"


rule speech_score:
    # Demo only: WER before/after correction and word-timestamp agreement against the narration truth.
    input:
        speech=per_shard("videos", "results/speech/{shard}.jsonl"),
        truth=demo_files("videos", ".truth.json"),
    output:
        json="results/speech/score.json",
        tsv="results/speech/score.tsv",
    params:
        tolerance=cfg("speech/score_tolerance_s"),
    log:
        "logs/speech/score.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/speech.yaml"
    script:
        "../scripts/speech_score.py"
