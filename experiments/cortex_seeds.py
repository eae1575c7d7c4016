"""`run_cortex_experiment` over class definitions and seeds, one row of its summary per run (issue #4; `cortex_seeds_cpu.csv`, read in 08).

Plain script, not a test. Each row is the experiment exactly as `genconcept cortex-eval` runs it (its defaults unless
given here): token data sampled from the shipped prior for that seed, the IEM trained on them, TIS, ground-truth
pointing on 1,000 encoded real images, image- and concept-level masking under the two shipped judges. Columns: the
class definition, seed, the IEM settings, then every number of the run's `summary` (`pointing_*`, `image_drop_n10_*`,
`concept_drop_*`, `iem_top1*`, the `bar_*` verdicts).

    python experiments/cortex_seeds.py --by shape,colour shape,texture --seeds 0,1,2,3,4 --out cortex_seeds_cpu.csv

`cortex_seeds_cpu.csv` (2-core CPU, torch 2.14): the command above with one torch thread (OMP_NUM_THREADS=1), then,
after everything else, `--by shape,colour --seeds 8,9,10` and the same with `--input-grad-penalty 0`, with the
default two threads (fresh seeds, with and without the penalty).
"""
import argparse, json, os, time
import pandas as pd
from genconcept.cortex.tokens import run_cortex_experiment

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--by", nargs="+", default=["shape,colour"], help="class definitions, each comma-separated concepts")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--input-grad-penalty", type=float, default=None, help="default: run_cortex_experiment's")
    ap.add_argument("--iem-preset", default=None); ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--out", default="cortex_seeds_cpu.csv")
    a = ap.parse_args()
    kw = {k: v for k, v in dict(input_grad_penalty=a.input_grad_penalty, iem_preset=a.iem_preset, epochs=a.epochs).items() if v is not None}
    for by in a.by:
        for seed in (int(s) for s in a.seeds.split(",")):
            t = time.time()
            res = run_cortex_experiment(tuple(by.split(",")), seed=seed, progress=False, **kw)
            c = res["config"]
            row = dict(by=by.replace(",", "_"), seed=seed, iem_preset=c["iem_preset"], epochs=c["epochs"], input_noise=c["input_noise"],
                       input_grad_penalty=c["input_grad_penalty"], **res["summary"], wall_s=time.time() - t)
            row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
            df = pd.DataFrame([row])
            if os.path.exists(a.out): df = pd.concat([pd.read_csv(a.out), df], ignore_index=True)  # columns may differ between runs
            df.to_csv(a.out, index=False)
            print(json.dumps(row), flush=True)

if __name__ == "__main__":
    main()
