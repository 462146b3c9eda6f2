"""The workflow refuses an invalid config at start, with a message that names the bad key."""

import yaml

from conftest import REPO, run_snakemake

DEFAULT = yaml.safe_load((REPO / "config/config.yaml").read_text())


def dry_run_with(workflow_dir, config):
    path = workflow_dir / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    return run_snakemake(workflow_dir, "-n", "--configfile", str(path), check=False)


def test_unknown_key_is_named(workflow_dir):
    config = {**DEFAULT, "demo": {**DEFAULT["demo"], "sed": 1}}
    proc = dry_run_with(workflow_dir, config)
    assert proc.returncode != 0
    assert "sed" in proc.stderr + proc.stdout
    assert "Additional properties are not allowed" in proc.stderr + proc.stdout


def test_wrong_type_is_named(workflow_dir):
    config = {**DEFAULT, "demo": {**DEFAULT["demo"], "video_fps": "thirty"}}
    proc = dry_run_with(workflow_dir, config)
    assert proc.returncode != 0
    out = proc.stderr + proc.stdout
    assert "video_fps" in out and "thirty" in out


def test_default_config_is_valid(workflow_dir):
    run_snakemake(workflow_dir, "-n")
