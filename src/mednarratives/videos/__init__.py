"""Video acquisition and filtering (paper section 3.2.1-3.2.2, appendix 7.1-7.3).

- candidates: domain keyword x priority word YouTube search (video-first, then channel exploitation with early
  stop and a subscriber cap), or a local folder / manifest; deterministic, deduplicated, sharded.
- download: yt-dlp Python API, low-res for filtering and full-res for kept videos; failures become ledger rows.
- probe: ffprobe facts and the 1 min .. 2 h duration rule.
- speech_presence: speech in the first minute (silero-vad by default), and speech inside an interval.
- manifest: manifest shards (demo / local / youtube sources), media of a row, full media of kept videos.
- decode: ffmpeg decoding into numpy batches (also the frames stage's decoder).
- keyframes: one low-resolution decode pass; ffmpeg scene detection (static domains) or PySceneDetect adaptive
  detection (non-static), per-domain parameters; cut-recall scoring.
- classify: key-frame domain classifiers: by default ImageNet EfficientNet-Lite0 features + a logistic
  head, the backbone's last 1x1 convolution fine-tuned with it (holds on real video, devsets/videos); per-domain binary ResNet-50 / ViT-Small (Table 5) or tiny_cnn;
  demo ImageFolder from the catalogued real images, load_classifier(path).predict(images).
- decide: Table 3 positive / near-positive / negative, narrative streaks (static) or speech around medical
  key-frames (non-static), the per-shard filter with its ledger, kept.tsv, the demo score.
"""
