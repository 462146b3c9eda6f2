"""ASR benchmark: real-time factor per backend, WER before/after medical correction, word-timestamp agreement.

Generates a 60-90 s espeak-ng narration of medical sentences (word truth times from libespeak-ng events), then for
each model x backend: load time, transcription time, RTF (= transcription seconds / audio seconds, with the model
loaded and warmed up on 3 s), WER of the raw and of the corrected transcript, number of corrections, and the
fraction of words whose start is within 0.5 s of the truth (aligned by edit distance). Ratios are against
faster-whisper on the same model and set.

    python benchmarks/bench_asr.py                                  # base (the config default), all installed backends, both sets
    python benchmarks/bench_asr.py --models tiny.en base --backends faster-whisper --sets heldout
    python benchmarks/bench_asr.py --json /tmp/bench_asr.json
    python benchmarks/bench_asr.py --stage MEDIA [MEDIA ...] [--rounds 3] [--beam-size 10]

--stage: the speech stage's cost over its floor on real media. Per file, interleaved rounds of (a) raw
faster-whisper (decode + ``WhisperModel.transcribe`` with the same model, beam, VAD, word timestamps and
decoding options, segments consumed) and (b) the stage (``speech.stage.transcribe_video``: the same
transcription plus the speech regions, the language check, medical correction and acoustic rescoring); the
fastest round of each gives its time (the round least disturbed by other processes), the ratio is stage / raw,
in wall and in CPU seconds of the process (on a loaded machine the CPU ratio is the steadier one).

"dev" holds the sentences the correction was developed on; "heldout" was written before any run on it.
The machine is shared: the load average before/after each run is printed, RTFs under load are pessimistic.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from mednarratives.speech import asr, metrics, models, synth
from mednarratives.speech.correction import MedicalCorrector, correct_transcript

SETS = {
    "dev": [
        "The chest radiograph shows a right lower lobe consolidation with air bronchograms.",
        "There is a large left sided pneumothorax with mediastinal shift.",
        "On this axial CT slice you can see a hypodense lesion in the left hepatic lobe.",
        "The findings are consistent with hepatocellular carcinoma in a cirrhotic liver.",
        "Notice the blunting of the costophrenic angle, which suggests a small pleural effusion.",
        "Here the ultrasound shows an anechoic structure with posterior acoustic enhancement.",
        "The sagittal MRI demonstrates a herniated disc compressing the thecal sac.",
        "This histology slide shows glandular structures lined by atypical columnar epithelium.",
        "The endoscopic view reveals an ulcer in the gastric antrum with a clean base.",
        "A fundus photograph shows microaneurysms and hard exudates from diabetic retinopathy.",
    ],
    "heldout": [
        "The lateral view confirms a wedge compression fracture of the first lumbar vertebra.",
        "In this coronal CT image the appendix is dilated with surrounding fat stranding.",
        "The echocardiogram shows a large pericardial effusion with right ventricular collapse.",
        "Dermoscopy of this pigmented lesion reveals an atypical pigment network and regression structures.",
        "This periapical radiograph shows a radiolucency at the apex of the lower first molar.",
        "On the mammogram there is a spiculated mass with clustered microcalcifications in the upper outer quadrant.",
        "The high power view shows keratin pearls typical of squamous cell carcinoma.",
        "Diffusion weighted imaging shows restricted diffusion in the left middle cerebral artery territory.",
        "The colonoscopy image shows a pedunculated polyp in the sigmoid colon.",
        "Optical coherence tomography demonstrates subretinal fluid beneath the fovea.",
        "The abdominal ultrasound shows gallstones with posterior acoustic shadowing and a thickened gallbladder wall.",
        "There are bilateral hilar lymph nodes consistent with sarcoidosis.",
    ],
}


def available_backends() -> list[str]:
    out = ["faster-whisper"]
    if importlib.util.find_spec("whisper"):
        out.append("openai-whisper")
        if importlib.util.find_spec("stable_whisper"):
            out.append("stable-ts")
    return out


def preload(model: str, backend: str, cache: Path, threads: int, audio) -> float:
    """Load (assemble/convert if needed) and warm up on 3 s of the audio: one-time costs (numba JIT of the
    word-alignment DTW, first ONNX/oneDNN calls) stay out of the timed run. Returns the load seconds."""
    t = time.perf_counter()
    mdir = models.resolve_model(model, cache_dir=cache)
    if backend == "faster-whisper":
        asr._faster_whisper_model(str(mdir), "int8", threads)
    else:
        asr.load_openai_whisper(str(models.convert_ct2_to_openai(mdir, cache)))
        if backend == "stable-ts":
            import stable_whisper  # noqa: F401
    t_load = time.perf_counter() - t
    asr.transcribe(audio[: 3 * asr.SAMPLE_RATE], model, backend, beam_size=1, vad_filter=False, cpu_threads=threads,
                   cache_dir=cache)
    return t_load


def sentence_agreement(narr: synth.Narration, hyp_words: list[dict], tol: float = 0.5) -> float:
    """Fraction of sentences whose first word's aligned hypothesis word starts within ``tol`` of the truth."""
    ref = metrics.flatten_words(narr.words)
    hyp = metrics.flatten_words(hyp_words)
    pairs = {i: j for op, i, j in metrics.align([w["word"] for w in ref], [w["word"] for w in hyp])
             if op in ("ok", "sub")}
    firsts, k = [], 0
    for s in narr.sentences:
        firsts.append(k)
        k += len(metrics.normalize_words(s["text"]))
    ok = sum(1 for i in firsts if i in pairs and abs(ref[i]["start"] - hyp[pairs[i]]["start"]) <= tol)
    return ok / max(len(firsts), 1)


def run(args) -> list[dict]:
    cache = Path(args.cache_dir or tempfile.mkdtemp(prefix="bench-asr-cache-"))
    corrector = MedicalCorrector()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for set_name in args.sets:
            narr = synth.synthesize(SETS[set_name], pause=0.8, lead=0.5)
            wav = synth.write_wav(Path(tmp) / f"{set_name}.wav", narr.audio, narr.sample_rate)
            audio = asr.load_audio(wav)
            print(f"# set {set_name}: {len(SETS[set_name])} sentences, {narr.duration:.1f} s, "
                  f"{len(narr.words)} truth words", flush=True)
            for model in args.models:
                for backend in args.backends:
                    load_before = os.getloadavg()[0]
                    t_load = preload(model, backend, cache, args.threads, audio)
                    t0 = time.perf_counter()
                    res = asr.transcribe(audio, model, backend, beam_size=args.beam_size, cpu_threads=args.threads,
                                         cache_dir=cache)
                    t_asr = time.perf_counter() - t0
                    t1 = time.perf_counter()
                    fixed = correct_transcript(res, corrector)
                    t_corr = time.perf_counter() - t1
                    words = metrics.transcript_words(res)
                    w_raw = metrics.wer(narr.text, asr.transcript_text(res))
                    w_fix = metrics.wer(narr.text, asr.transcript_text(fixed))
                    ts = metrics.timestamp_agreement(narr.words, words, 0.5)
                    ts_fix = metrics.timestamp_agreement(narr.words, metrics.transcript_words(fixed), 0.5)
                    row = {"set": set_name, "model": model, "backend": backend, "audio_s": round(narr.duration, 2),
                           "load_s": round(t_load, 2), "asr_s": round(t_asr, 2),
                           "rtf": round(t_asr / narr.duration, 4), "correction_s": round(t_corr, 3),
                           "wer_raw": round(w_raw["wer"], 4), "wer_corrected": round(w_fix["wer"], 4),
                           "n_corrections": len(fixed["corrections"]),
                           "ts_agreement": round(ts["agreement"], 4), "ts_agreement_all": round(ts["agreement_all"], 4),
                           "ts_agreement_corrected": round(ts_fix["agreement"], 4),
                           "ts_median_abs_error_s": ts["median_abs_error"] and round(ts["median_abs_error"], 3),
                           "sentence_start_agreement": round(sentence_agreement(narr, words), 4),
                           "loadavg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                           "corrections": [f'{c["word"]} -> {c["replacement"]}' for c in fixed["corrections"]],
                           "text": asr.transcript_text(res)}
                    rows.append(row)
                    print(json.dumps({k: v for k, v in row.items() if k not in ("text",)}), flush=True)
    return rows


def table(rows: list[dict]) -> str:
    base = {(r["set"], r["model"]): r["rtf"] for r in rows if r["backend"] == "faster-whisper"}
    head = (f'{"set":8} {"model":8} {"backend":15} {"audio s":>7} {"load s":>6} {"asr s":>7} {"RTF":>6} '
            f'{"x fw":>6} {"WER raw":>7} {"WER fix":>7} {"fixes":>5} {"ts@0.5":>6} {"sent@0.5":>8} {"load":>11}')
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = r["rtf"] / base[(r["set"], r["model"])] if (r["set"], r["model"]) in base else float("nan")
        lines.append(f'{r["set"]:8} {r["model"]:8} {r["backend"]:15} {r["audio_s"]:7.1f} {r["load_s"]:6.1f} '
                     f'{r["asr_s"]:7.1f} {r["rtf"]:6.3f} {ratio:6.2f} {r["wer_raw"]:7.3f} {r["wer_corrected"]:7.3f} '
                     f'{r["n_corrections"]:5d} {r["ts_agreement"]:6.3f} {r["sentence_start_agreement"]:8.3f} '
                     f'{r["loadavg"][0]:5.1f}/{r["loadavg"][1]:<5.1f}')
    return "\n".join(lines)


def stage_overhead(media: list[str], model: str, beam_size: int, threads: int, rounds: int, cache: Path) -> list[dict]:
    """Fastest-round seconds of raw faster-whisper and of the speech stage on each media file (see --stage)."""
    from faster_whisper.audio import decode_audio

    from mednarratives import settings
    from mednarratives.speech import stage

    cfg = settings.merged({"model": model, "beam_size": beam_size, "device": "cpu", "cache_dir": str(cache)}, "speech")
    fw = asr._faster_whisper_model(str(models.resolve_model(model, cache_dir=cache)), cfg["compute_type"], threads)

    def raw(path):
        segs, _ = fw.transcribe(decode_audio(path, sampling_rate=asr.SAMPLE_RATE), language=cfg["language"],
                                beam_size=beam_size, best_of=1, temperature=[0.0], word_timestamps=True,
                                vad_filter=cfg["vad_filter"], condition_on_previous_text=False)  # as the stage
        return [w for s in segs for w in (s.words or [])]

    rows = []
    for path in media:
        stage.transcribe_video("warm-up", path, cfg, threads)  # one-time costs (first ONNX / oneDNN calls) out of the timing
        t_raw, t_stage = [], []  # (wall, CPU) seconds per round
        for _ in range(rounds):
            t, c = time.perf_counter(), time.process_time()
            n_raw = len(raw(path))
            t_raw.append((time.perf_counter() - t, time.process_time() - c))
            t, c = time.perf_counter(), time.process_time()
            rec, _ = stage.transcribe_video(Path(path).stem, path, cfg, threads)
            t_stage.append((time.perf_counter() - t, time.process_time() - c))
        best = {k: [round(min(x[i] for x in ts), 2) for i in (0, 1)] for k, ts in (("raw", t_raw), ("stage", t_stage))}
        row = {"media": Path(path).name, "audio_s": rec["duration"], "raw_s": best["raw"][0],
               "stage_s": best["stage"][0], "raw_cpu_s": best["raw"][1], "stage_cpu_s": best["stage"][1],
               "ratio": round(best["stage"][0] / best["raw"][0], 3),
               "cpu_ratio": round(best["stage"][1] / best["raw"][1], 3), "raw_words": n_raw,
               "stage_words": len(rec["words"]), "corrections": len(rec["corrections"]),
               "loadavg": round(os.getloadavg()[0], 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    for kind, a, b in (("wall", "stage_s", "raw_s"), ("CPU", "stage_cpu_s", "raw_cpu_s")):
        st, rw = sum(r[a] for r in rows), sum(r[b] for r in rows)
        print(f"stage / raw faster-whisper ({model}, beam {beam_size}, {threads} thread(s), best of {rounds}), "
              f"{kind}: {st:.1f} s / {rw:.1f} s = {st / rw:.3f} ({100 * (st / rw - 1):+.1f}%)")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["base"])
    ap.add_argument("--backends", nargs="+", default=None, help=f"default: installed of {asr.BACKENDS}")
    ap.add_argument("--sets", nargs="+", default=["dev", "heldout"], choices=sorted(SETS))
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1,
                    help="CPU threads per backend (1: on a shared 2-core machine torch with 2 threads thrashed)")
    ap.add_argument("--cache-dir", default=None, help="assembled/converted models (default: a temporary folder)")
    ap.add_argument("--json", default=None, help="write all rows (with transcripts and corrections) here")
    ap.add_argument("--stage", nargs="+", default=None, metavar="MEDIA",
                    help="time the speech stage against raw faster-whisper on these media files (see above)")
    ap.add_argument("--rounds", type=int, default=3, help="--stage: interleaved rounds per file")
    args = ap.parse_args(argv)
    if args.stage:
        cache = Path(args.cache_dir or tempfile.mkdtemp(prefix="bench-asr-cache-"))
        rows = stage_overhead(args.stage, args.models[0], args.beam_size, args.threads, args.rounds, cache)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
        return 0
    args.backends = args.backends or available_backends()
    if not synth.espeak_available():
        print("espeak-ng is required", file=sys.stderr)
        return 2
    rows = run(args)
    print()
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
