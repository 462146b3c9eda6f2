# MedNarratives: narrated medical videos + PMC figures -> localized narratives -> GenMedCLIP -> benchmark.
# Default run: the embedded demo corpus (config/config.yaml). See README.md and docs/data_contract.md.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "src/mednarratives/schema.yaml")  # shipped in the package: code reads the same defaults

# The rules' scripts (and this file) import the project's packages (mednarratives, mednarratives_demo): installed
# ones (`pip install .`) first, else src/ beside this file, so a conda env (--use-conda) needs only the third-party
# packages of envs/*.yaml, not the project installed into it.
sys.path.append(os.path.join(workflow.basedir, "src"))

# Each rules/*.smk appends the final targets of its stage; `rule all` builds them all.
ALL_TARGETS = []


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/videos.smk"
include: "rules/speech.smk"
include: "rules/frames.smk"
include: "rules/articles.smk"
include: "rules/dataset.smk"
include: "rules/ledger.smk"


rule all:
    default_target: True
    input:
        ALL_TARGETS,
