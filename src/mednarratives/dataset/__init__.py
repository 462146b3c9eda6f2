"""Training data export: image-text pairs -> WebDataset tar shards (the format open_clip_train reads)."""

from mednarratives.dataset.webdataset_io import (  # noqa: F401
    encode_jpeg,
    read_shards,
    sanitize_key,
    shard_pattern,
    shards_num_samples,
    write_shards,
)
