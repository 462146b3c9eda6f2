from mednarratives import ledger
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    rows = ledger.read(snakemake.input)
    problems = ledger.check(rows, snakemake.params.flow)
    for p in problems:
        log.error("%s", p)
    if problems:
        raise SystemExit(f"ledger does not add up: {len(problems)} problems (first: {problems[0]}); see {snakemake.log[0]}")
    ledger.write_funnel(snakemake.output.funnel, ledger.funnel(rows, snakemake.params.flow))
    log.info("%d ledger rows over %d stages add up", len(rows), len({r['stage'] for r in rows}))
