from mednarratives_demo.video import build_video, load_plan
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    specs = {spec["id"]: spec for spec in load_plan(snakemake.input.plan, snakemake.input.narration)}
    build_video(
        specs[snakemake.wildcards.video_id],
        seed=snakemake.params.seed,
        out_mp4=snakemake.output.video,
        out_truth=snakemake.output.truth,
        fps=snakemake.params.fps,
        size=tuple(snakemake.params.size),
    )
