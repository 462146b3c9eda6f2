"""The config schema (mednarratives/schema.yaml) is the one home of every default: every key has one and a
description, the demo config repeats none differently, Snakemake fills in what a config leaves out, and no stage dataclass carries a
default of its own."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from snakemake.utils import validate

from mednarratives import settings

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "mednarratives"
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
NO_DEFAULT = {"videos.youtube.priority_words"}  # read from the keyword file when the config has none

# The stage parameter dataclasses whose defaults come from the schema (schema_defaults).
PARAMS = ["mednarratives.frames.chunks:ChunkParams", "mednarratives.frames.stage:FramesParams",
          "mednarratives.frames.cursor:TraceParams", "mednarratives.frames.video:VideoTraceParams",
          "mednarratives.traces.stage:TracesParams", "mednarratives.align.video:AlignParams",
          "mednarratives.articles.subfigures:TrainOptions", "mednarratives.articles.subfigures:SubfigureOptions",
          "mednarratives.articles.labels:LetterOptions", "mednarratives.videos.decide:FilterConfig",
          "mednarratives.videos.download:DownloadOptions", "mednarratives.articles.fetch:FetchOptions"]
# (models.train.TrainParams: seed and device from the schema, Table 4 from mednarratives/models/data/variants.yaml.)


def keys(node: dict, path: tuple = ()):
    for key, sub in (node.get("properties") or {}).items():
        yield path + (key,), sub
        yield from keys(sub, path + (key,))


def leaves(value, path: tuple = ()):
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            yield from leaves(sub, path + (key,))
    elif value != {}:
        yield path, value


def test_every_key_has_a_default_and_the_defaults_are_valid():
    missing = [".".join(p) for p, _ in keys(settings.schema())
               if ".".join(p) not in NO_DEFAULT and not _has_default(p)]
    assert missing == []
    Draft202012Validator(settings.schema()).validate(settings.defaults_of_all())


def test_every_key_is_described():
    assert [".".join(p) for p, sub in keys(settings.schema()) if not sub.get("description")] == []


def _has_default(path: tuple) -> bool:
    try:
        settings.defaults(*path)
    except KeyError:
        return False
    return True


def test_the_demo_config_repeats_no_default_differently():
    """config/config.yaml lists the keys users tune; each value is the schema's default, same type."""
    differ = {".".join(p): (v, settings.defaults(*p)) for p, v in leaves(CONFIG)
              if v != settings.defaults(*p) or type(v) is not type(settings.defaults(*p))}
    assert differ == {}


def test_snakemake_fills_in_what_a_config_leaves_out(tmp_path):
    config = yaml.safe_load(yaml.safe_dump(CONFIG))
    del config["speech"]["beam_size"]
    config["videos"]["thresholds"] = {"share": {"mri": 0.2}}
    validate(config, str(PACKAGE / settings.SCHEMA))
    assert config["speech"]["beam_size"] == 10
    assert config["speech"]["corrector"] == settings.defaults("speech", "corrector")
    assert config["videos"]["thresholds"]["share"]["mri"] == 0.2
    assert config["videos"]["thresholds"]["share"]["ct"] == 0.10
    assert config["videos"]["classifier"]["architectures"] == settings.defaults("videos", "classifier",
                                                                                 "architectures")


@pytest.mark.parametrize("name", PARAMS)
def test_stage_params_take_the_schema_defaults(name):
    module, cls = name.split(":")
    params = getattr(importlib.import_module(module), cls)()
    assert params.__config_keys__
    for field, key in params.__config_keys__.items():
        assert getattr(params, field) == settings.defaults(*key), field


def test_a_second_default_is_refused():
    with pytest.raises(TypeError, match="config schema holds it"):
        @dataclasses.dataclass
        @settings.schema_defaults("align")
        class Twice:
            lead_s: float = 3.0


def test_fields_that_are_no_config_key_keep_their_own_default():
    @dataclasses.dataclass
    @settings.schema_defaults("align")
    class Mixed:
        lag_s: float
        label: str = "x"

    assert Mixed() == Mixed(lag_s=2.0, label="x")


def test_no_dataclass_in_the_package_has_a_literal_default_for_a_config_key():
    """A dataclass field named like a config key with a literal default is a second home of that default."""
    names = {p[-1] for p, _ in keys(settings.schema())}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if "demo" in path.relative_to(PACKAGE).parts:
            continue
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef) or not any(
                    "dataclass" in ast.unparse(d) for d in cls.decorator_list):
                continue
            for stmt in cls.body:
                if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                        and isinstance(stmt.value, ast.Constant) and stmt.target.id in names):
                    found.append(f"{path.relative_to(PACKAGE)}:{cls.name}.{stmt.target.id}")
    assert sorted(found) == sorted(ALLOWED), sorted(set(found) - set(ALLOWED))


# Fields named like a config key that are not that key (results, records, other settings) ...
ALLOWED = ["videos/speech_presence.py:SileroVad.threshold", "videos/candidates.py:Candidate.duration",
           "videos/download.py:DownloadResult.path", "videos/download.py:DownloadResult.attempts",
           "articles/jats.py:Article.source", "articles/fetch.py:ArticlePackage.source",
           "articles/labels.py:LabelCandidate.text", "articles/labels.py:LabelCandidate.conf",
           "speech/vocabulary.py:Vocabulary.path", "speech/models.py:PackagedModel.source",
           "benchmark/evaluate.py:ClipBundle.device",
           "models/train.py:TrainParams.workers"]  # data-loader processes, not the YOLO trainer's (no config key)


def test_a_nested_parameter_dataclass_is_built_from_its_sub_section():
    from mednarratives.articles.labels import LetterOptions
    from mednarratives.articles.subfigures import SubfigureOptions
    block = settings.defaults("articles", "subfigures")  # what the rule passes, weights and train included
    assert settings.from_config(SubfigureOptions, block) == SubfigureOptions()
    block["conf"], block["letters"]["rounds"] = 0.4, 5
    options = settings.from_config(SubfigureOptions, block)
    assert options.conf == 0.4 and options.letters == LetterOptions(rounds=5)
