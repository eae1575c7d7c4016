"""The IEM pointing–accuracy frontier on the ConceptShapes world (issue #4; results in `iem_frontier.csv`, read in 08).

Plain script, not a test. For each data seed it samples a token dataset from the shipped world VQ generator (the
prior, class-conditioned), encodes 1,000 real world images with their ground-truth masks, then for every combination
of training-set size, epochs and training noise σ (`train_iem(..., input_noise=σ)`) trains one IEM and measures:

- `test_top1`: top-1 on the generated test split (50 per class; labels are the prior's conditions);
- `real_top1`: top-1 on the 1,000 encoded real images (labels are the true concepts);
- `pointing_tis`: the fraction of each real image's top-5 TIS positions (20 draws, σ = 0.2 of each sample's range,
  signed channel max: `compute_tis`' defaults) on the ground-truth mask of its class's concepts (`pointing_eval`);
- `pointing_random` and, as diagnostics, pointing with SmoothGrad σ = 0.1 / 0.4, with the plain gradient (σ = 0) and
  with the channel mean instead of the max.

    python experiments/iem_frontier.py --by shape,colour --seeds 0,1,2 --n-train 1000,3000 \
        --noise 0,0.05,0.075,0.1 --epochs 15 --arch vgg:tiny_local --out frontier.csv

It appends one row per IEM to `--out`. The committed CSV was made on one H100 (torch 2.11, fp32 training:
`mixed_precision="no"`, so the numbers are comparable with CPU runs), 146 IEMs in about 9 minutes of machine time
with 8–15 of these processes side by side. On the 2-core CPU one IEM takes about a minute. The committed CSV predates
`make_iem(..., seed=)`: its IEMs started from the global random state of a fresh process, so a re-run gives other
initial weights (which alone move pointing by up to 0.05, see `iem_ensemble_cpu.csv`).
"""
import argparse, json, os, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from torch.utils.data import Dataset
from genconcept.core import get_device
from genconcept.world import ClassView, ConceptShapes
from genconcept.generators.vq import load_world_vq
from genconcept.cortex.data import generate_token_dataset, encode_world_dataset, TokenDataset, embed_ids
from genconcept.cortex.iem import make_iem, train_iem, test_iem
from genconcept.cortex.tokens import class_masks, pointing_eval, compute_tis

class InMemory(Dataset):
    "A token split's embeddings held in memory (the IEMs are tiny: reading per item from disk would dominate)."
    def __init__(self, ds, idx=None):
        idx = np.arange(len(ds)) if idx is None else idx
        self.x = embed_ids(np.array(ds.ids)[idx], ds.codebook.float()).contiguous()
        self.y = torch.as_tensor(np.array(ds.labels)[idx]).long()
    def __len__(self): return len(self.y)
    def __getitem__(self, i): return {"embedding": self.x[i], "label": self.y[i]}

def top1(model, ds, device) -> float:
    "Top-1 of `model` on a token split (`test_iem`); on the encoded real images the labels are the true concepts."
    return float(test_iem(model, ds, ks=(1,), device=device)["top1"].iloc[0])

def pointing(model, ids, labels, on_mask, codebook, **tis):
    s = compute_tis(model, ids, labels, codebook, batch_size=250, progress=False, **tis)
    table, _ = pointing_eval(ids.numpy(), s, labels.numpy(), on_mask, k=5)
    return table.set_index("method").pointing

def world_data(gen, view, seed: int, n_train: int, work):
    "Token splits sampled from `gen` (train: `n_train` per class) and 1,000 encoded real images with their class masks."
    data = Path(work) / f"{'_'.join(view.by)}_s{seed}_n{n_train}"
    generate_token_dataset(gen, view, data, n_per_class={"train": n_train, "val": 100, "test": 50}, seed=seed, progress=False)
    encode_world_dataset(gen, ConceptShapes(1000, size=32, seed=seed + 7_000_001, classes=view), view, data, split="world1000", progress=False)
    world = TokenDataset(data, "world1000", with_masks=True)
    return dict(train=TokenDataset(data, "train"), val=TokenDataset(data, "val"), test=TokenDataset(data, "test"), world=world,
                ids=torch.as_tensor(np.array(world.ids)).long(), labels=torch.as_tensor(np.array(world.labels)).long(),
                on_mask=class_masks(np.load(data / "world1000" / "masks.npy"), view), codebook=world.codebook.float())

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--by", default="shape,colour", help="concepts that define the classes")
    ap.add_argument("--seeds", default="0", help="data seeds (each also seeds its IEMs' training)")
    ap.add_argument("--n-train", default="1000", help="training samples per class (subsets of the largest)")
    ap.add_argument("--noise", default="0", help="training noise σ values (fractions of each sample's range)")
    ap.add_argument("--epochs", default="15")
    ap.add_argument("--arch", default="vgg:tiny_local", help="IEM family:preset")
    ap.add_argument("--work", default="/tmp/iem_frontier", help="where the token data go")
    ap.add_argument("--out", default="iem_frontier.csv")
    ap.add_argument("--device", default=None)
    a = ap.parse_args()
    dev = get_device(a.device)
    view = ClassView(tuple(a.by.split(","))); family, preset = a.arch.split(":")
    n_trains = [int(n) for n in a.n_train.split(",")]; noises = [float(s) for s in a.noise.split(",")]
    gen = load_world_vq(device=dev)
    for seed in (int(s) for s in a.seeds.split(",")):
        d = world_data(gen, view, seed, max(n_trains), a.work)
        train_full, val, test, ids, labels, on_mask, cb = (d[k] for k in ("train", "val", "test", "ids", "labels", "on_mask", "codebook"))
        train_labels, rng = np.array(train_full.labels), np.random.default_rng(seed)
        val_mem = InMemory(val)
        for n in n_trains:
            idx = np.sort(np.concatenate([rng.permutation(np.flatnonzero(train_labels == c))[:n] for c in range(view.n_classes)]))
            train = InMemory(train_full, idx)
            for epochs in (int(e) for e in a.epochs.split(",")):
                for sigma in noises:
                    t = time.time()
                    iem = make_iem(family, cb.shape[1], view.n_classes, grid=gen.grid_shape, preset=preset, seed=seed)
                    r = train_iem(iem, train, val_mem, epochs=epochs, batch_size=128, lr=1e-3, step_size=max(1, epochs // 2 + 1), input_grad_penalty=0.0,
                                  input_noise=sigma, seed=seed, mixed_precision="no", progress=False)
                    m = r.model.to(dev).eval()
                    p = pointing(m, ids, labels, on_mask, cb)
                    row = dict(by="_".join(view.by), family=family, preset=preset, n_train_per_class=n, epochs=epochs, input_noise=sigma, seed=seed,
                               test_top1=top1(m, test, dev), real_top1=top1(m, d["world"], dev),
                               pointing_tis=p["tis"], pointing_random=p["random"],
                               **{f"pointing_tis_noise{s}": pointing(m, ids, labels, on_mask, cb, noise_level=s)["tis"] for s in (0.1, 0.4)},
                               pointing_gradient=pointing(m, ids, labels, on_mask, cb, noise_level=0.0, n_samples=1)["tis"],
                               pointing_tis_channel_mean=pointing(m, ids, labels, on_mask, cb, reduce="mean")["tis"])
                    row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                    pd.DataFrame([row]).to_csv(a.out, mode="a", header=not os.path.exists(a.out), index=False)
                    print(json.dumps(row), f"({time.time() - t:.0f} s)", flush=True)

if __name__ == "__main__":
    main()
