# MedNarratives: narrated medical videos + PMC figures -> localized narratives -> GenMedCLIP -> benchmark.
# Default run: the embedded demo corpus (config/config.yaml). See README.md and docs/data_contract.md.
# One rule file per stage package of src/mednarratives, in the order the data flows:
# videos -> speech -> text, frames -> traces -> align, articles, then dataset -> models -> benchmark; the demo
# corpus feeds the demo sources, the ledger checks them all. What they share is in rules/common.smk.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


# The rules' scripts (and this file) import the project's packages (mednarratives, mednarratives_demo): installed
# ones (`pip install .`) first, else src/ beside this file, so a conda env (--use-conda) needs only the third-party
# packages of envs/*.yaml, not the project installed into it.
sys.path.append(os.path.join(workflow.basedir, "src"))

from mednarratives.settings import schema_path
from mednarratives.smk import tune_snakemake

tune_snakemake()  # Snakemake's per-job planning cost (garbage collection, memos): -44% CPU at the paper's scale

validate(config, schema_path())  # src/mednarratives/schema.yaml, shipped in the package: code reads the same defaults


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/videos.smk"
include: "rules/speech.smk"
include: "rules/text.smk"
include: "rules/frames.smk"
include: "rules/traces.smk"
include: "rules/align.smk"
include: "rules/articles.smk"
include: "rules/dataset.smk"
include: "rules/models.smk"
include: "rules/benchmark.smk"
include: "rules/ledger.smk"


rule all:
    default_target: True
    input:
        final_targets(),
