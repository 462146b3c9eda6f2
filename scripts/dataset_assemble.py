import os

from mednarratives.dataset.assemble import assemble
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    assemble(list(snakemake.input.videos) + list(snakemake.input.articles),
             os.path.dirname(snakemake.output.splits), snakemake.output.ledger,
             heldout_fraction=p.heldout_fraction, seed=p.seed, max_hamming=p.max_hamming, maxcount=p.shard_size,
             min_heldout_groups=p.min_heldout_groups, dataset_id=p.dataset_id)
