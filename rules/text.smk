# Stage text (mednarratives.text; paper 7.4-7.5): the narration cue (a transcript that is not medical drops its
# video), then medical / ROI text, keywords, entities, subdomain and modality tags of each utterance; one job per
# video shard. Records: docs/data_contract.md.


rule text_video:
    # rules backend: seconds per shard; llm backend: one request per utterance to the endpoint
    input:
        speech="results/speech/{shard}.jsonl",
    output:
        records="results/text/{shard}.jsonl",
        ledger="results/ledger/text/{shard}.jsonl",
    params:
        text=text_params(),
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
