from mednarratives.articles.labels import tesseract_version
from mednarratives.articles.pipeline import pairs_shard
from mednarratives.io import file_digest
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    models = {"subfigure_yolo": {"weights": snakemake.input.weights, "sha256": file_digest(snakemake.input.weights)},
              "ocr": tesseract_version()}
    pairs_shard(snakemake.input.parsed, snakemake.input.filtered, snakemake.input.subfigures,
                snakemake.output.pairs, snakemake.output.ledger, thresholds=p.thresholds,
                use_reading_order=p.reading_order, prior=p.prior, models=models,
                keywords_path=snakemake.input.keywords)
