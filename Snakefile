# MedNarratives: narrated medical videos + PMC figures -> localized narratives -> GenMedCLIP -> benchmark.
# Default run: the embedded demo corpus (config/config.yaml). See README.md.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


include: "rules/common.smk"
include: "rules/demo.smk"


rule all:
    default_target: True
    input:
        rules.demo_corpus.output,
