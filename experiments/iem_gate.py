"""Does a token gate in the IEM make its TIS point at the class's concepts? (issue #4; `iem_gate_cpu.csv`, read in 08)

Plain script, not a test; it reuses `iem_frontier.py`'s data steps and scoring. For each data seed (the token data
`run_cortex_experiment` draws for that seed: 1,000 prior samples per class, 1,000 encoded real images) it trains the
`vgg:tiny_local` IEM and `vgg:tiny_gated` (the same with `TokenGate` in front of its conv) with the experiment's
recipe (8 epochs), from several initialisations (`init` 0 is the experiment's own: `make_iem(seed=seed)`; init i > 0
uses seed·1000 + i for the weights and the shuffling), and records per IEM:

- `test_top1` (generated test split), `real_top1` (the 1,000 encoded real images), `pointing_tis` (top-5 TIS,
  `compute_tis` defaults, on the ground-truth class mask at ≥ 0.5 coverage) and `pointing_random`;
- where the misses go: `miss_partial`, the share of top-5 positions on patches the class's concepts cover by more
  than 0 and less than 0.5 (the outline), and `miss_background`, on patches they do not touch;
- `gate_on` / `gate_outline` / `gate_background`: the gated IEM's mean gate value on those three kinds of patch;
- a faithfulness check (init 0 only): the IEM's own occlusion map — the drop of the label's logit when one position's
  embedding is replaced by the mean training embedding — its top-5 pointing (`pointing_occlusion`), and the mean
  per-image Spearman correlation of TIS with it (`spearman_tis_occlusion`).

    python experiments/iem_gate.py --seeds 0,1,2,3,4 --inits 0,1,2 --out iem_gate_cpu.csv

`iem_gate_cpu.csv` was made on the 2-core CPU (torch 2.14, one thread per process, two processes, `--seeds 0,1,2,3` and
`--seeds 4,5,6,7`, `--inits 0,1,2`): shape × colour seeds 0–4 (the seeds the gate was tried on first) and 5–7 (run
only after), 48 IEMs in about 25 minutes.
"""
import argparse, json, os
import numpy as np, pandas as pd, torch
from scipy.stats import spearmanr
from genconcept.world import ClassView
from genconcept.generators.vq import load_world_vq
from genconcept.cortex.data import embed_ids
from genconcept.cortex.iem import make_iem, train_iem
from genconcept.cortex.tokens import class_masks, compute_tis, mean_token_embedding
from iem_frontier import InMemory, top1, world_data  # the script's own folder is on sys.path

@torch.no_grad()
def occlusion(model, ids, labels, codebook, baseline, batch: int = 25) -> np.ndarray:
    "(N, H·W): the label's logit drop when one position's embedding is replaced by `baseline` (D,), every position in turn."
    N, H, W = ids.shape; P = H * W; out = np.empty((N, P), np.float32)
    for i in range(0, N, batch):
        x = embed_ids(ids[i:i + batch], codebook); y = labels[i:i + batch]; b = len(x)
        xs = x[:, None].repeat(1, P, 1, 1, 1)  # (b, P, D, H, W): copy p has position p replaced
        for p in range(P): xs[:, p, :, p // W, p % W] = baseline
        clean = model(x).gather(1, y[:, None])
        out[i:i + b] = (clean - model(xs.flatten(0, 1)).view(b, P, -1).gather(2, y[:, None, None].expand(b, P, 1))[..., 0]).numpy()
    return out

COLUMNS = ["by", "seed", "preset", "init", "epochs", "test_top1", "real_top1", "pointing_tis", "pointing_random", "miss_partial", "miss_background",
           "gate_on", "gate_outline", "gate_background", "pointing_occlusion", "spearman_tis_occlusion"]

def share_at(mask, scores) -> float:
    "Share of each image's top-5 positions (stable descending sort, as `pointing_eval` takes them) that lie on `mask`."
    return float(np.take_along_axis(mask, np.argsort(-scores, 1, kind="stable")[:, :5], 1).mean())

def seed_data(gen, view, seed: int, work) -> dict:
    "One seed's token data (`world_data`) with the splits in memory, the three kinds of patch, and the occlusion baseline."
    d = world_data(gen, view, seed, 1000, work); N = len(d["labels"])
    on = d["on_mask"].reshape(N, -1)  # the class's concepts cover >= 0.5 of the patch (`class_masks`, as the experiment scores)
    touched = class_masks(np.asarray(d["world"].masks), view, threshold=1e-6).reshape(N, -1)  # any coverage at all
    return dict(d, train_mem=InMemory(d["train"]), val_mem=InMemory(d["val"]), N=N, on=on, outline=touched & ~on, background=~touched,
                baseline=mean_token_embedding(d["train"].ids, d["codebook"]))

def seed_parser(doc: str, out: str) -> argparse.ArgumentParser:
    "The options every per-seed IEM script here shares (the caller adds its own)."
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--by", default="shape,colour"); ap.add_argument("--seeds", default="0")
    ap.add_argument("--inits", default="0", help="initialisations per setting and seed (0: the experiment's own)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--work", default="/tmp/iem_gate"); ap.add_argument("--out", default=out)
    return ap

def each_seed(a):
    "(view, gen, seed, seed_data) for every seed of `a.seeds`, on the CPU."
    view = ClassView(tuple(a.by.split(","))); gen = load_world_vq(device=torch.device("cpu"))
    for seed in (int(s) for s in a.seeds.split(",")): yield view, gen, seed, seed_data(gen, view, seed, a.work)

def main():
    ap = seed_parser(__doc__, "iem_gate_cpu.csv")
    ap.add_argument("--presets", default="tiny_local,tiny_gated")
    a = ap.parse_args(); dev = torch.device("cpu")
    for view, gen, seed, d in each_seed(a):
        cb, train, val, ids, labels, N = d["codebook"], d["train_mem"], d["val_mem"], d["ids"], d["labels"], d["N"]
        on, outline, background, baseline = d["on"], d["outline"], d["background"], d["baseline"]
        for preset in a.presets.split(","):
            for init in (int(i) for i in a.inits.split(",")):
                s0 = seed if init == 0 else seed * 1000 + init
                iem = make_iem("vgg", cb.shape[1], view.n_classes, grid=gen.grid_shape, preset=preset, seed=s0)
                m = train_iem(iem, train, val, epochs=a.epochs, batch_size=128, lr=1e-3, step_size=max(1, a.epochs // 2 + 1), input_grad_penalty=0.0,
                              seed=s0, mixed_precision="no", progress=False).model.eval()
                tis = compute_tis(m, ids, labels, cb, batch_size=250, progress=False).reshape(N, -1)
                row = dict(by="_".join(view.by), seed=seed, preset=preset, init=init, epochs=a.epochs,
                           test_top1=top1(m, d["test"], dev), real_top1=top1(m, d["world"], dev),
                           pointing_tis=share_at(on, tis), pointing_random=float(on.mean()), miss_partial=share_at(outline, tis), miss_background=share_at(background, tis))
                if preset == "tiny_gated":
                    with torch.no_grad(): g = m.features[0].gate(embed_ids(ids, cb))[:, 0].reshape(N, -1).numpy()
                    row.update(gate_on=float(g[on].mean()), gate_outline=float(g[outline].mean()), gate_background=float(g[background].mean()))
                if init == 0:
                    occ = occlusion(m, ids, labels, cb, baseline)
                    row.update(pointing_occlusion=share_at(on, occ), spearman_tis_occlusion=float(np.nanmean([spearmanr(tis[i], occ[i])[0] for i in range(N)])))
                row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                pd.DataFrame([row]).reindex(columns=COLUMNS).to_csv(a.out, mode="a", header=not os.path.exists(a.out), index=False)
                print(json.dumps(row), flush=True)

if __name__ == "__main__":
    main()
