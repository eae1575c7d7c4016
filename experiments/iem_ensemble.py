"""Do an ensemble of IEMs, or stronger weight decay, leave the pointing–accuracy frontier? (issue #4; `iem_ensemble.csv`, read in 08)

Plain script, not a test; it reuses `iem_frontier.py`'s data steps and scoring. For each data seed (1,000 training
samples per class, the `vgg:tiny_local` IEM, `run_cortex_experiment`'s training recipe) it trains:

- three IEMs per epoch count (8 and 15) that differ only in their initialisation and shuffling (`member` 0, 1, 2), and
  scores each alone (`kind="single"`) and their logit average (`kind="ensemble3"`: TIS of the averaged logit is the
  average of the members' gradients before the channel max);
- member 0 again with Adam weight decay 1e-3 and 1e-2 (the default is 1e-4).

`--settings` changes the epoch counts and adds training noise (`epochs:σ`), `--weight-decays ''` drops the second
part. With `--device cpu` and the default sizes the token data are the ones `run_cortex_experiment` draws for the
same seed on the CPU (point `--work` at copies of its cache to skip drawing them again).

Each row has the test top-1 on generated tokens, the top-1 on 1,000 encoded real images and the TIS pointing (top 5,
`compute_tis` defaults) on their ground-truth masks.

    python experiments/iem_ensemble.py --by shape,colour --seeds 0,1,2 --out ensemble.csv

`iem_ensemble.csv` was made on one H100 (torch 2.11, fp32 training), nine of these processes side by side
(shape × colour seeds 0–6, shape × texture seeds 0–1), in about 90 s. `iem_ensemble_cpu.csv` was made on the 2-core
CPU on the CPU experiment's own data (seeds 0–4, two processes, about 10 minutes):

    python experiments/iem_ensemble.py --device cpu --seeds 0,1,2,3,4 --settings 8:0,15:0.1 --weight-decays '' --out iem_ensemble_cpu.csv
"""
import argparse, json, os
import numpy as np, pandas as pd, torch, torch.nn as nn
from genconcept.core import get_device
from genconcept.world import ClassView
from genconcept.generators.vq import load_world_vq
from genconcept.cortex.iem import make_iem, train_iem
from iem_frontier import InMemory, pointing, top1, world_data  # the script's own folder is on sys.path

class LogitAverage(nn.Module):
    "An ensemble of IEMs as one model: the mean of the members' logits (so `compute_tis` and `test_iem` take it as is)."
    def __init__(self, members):
        super().__init__(); self.members = nn.ModuleList(members); self.in_channels = getattr(members[0], "in_channels", None)
    def forward(self, x): return torch.stack([m(x) for m in self.members]).mean(0)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--by", default="shape,colour"); ap.add_argument("--seeds", default="0")
    ap.add_argument("--work", default="/tmp/iem_ensemble"); ap.add_argument("--out", default="iem_ensemble.csv")
    ap.add_argument("--device", default=None)
    ap.add_argument("--n-train", type=int, default=1000, help="training samples per class")
    ap.add_argument("--settings", default="8:0,15:0", help="IEM settings epochs:σ (σ: `train_iem`'s input_noise)")
    ap.add_argument("--weight-decays", default="1e-3,1e-2", help="weight decays to try on member 0 ('' for none)")
    a = ap.parse_args()
    dev = get_device(a.device); view = ClassView(tuple(a.by.split(","))); gen = load_world_vq(device=dev)
    for seed in (int(s) for s in a.seeds.split(",")):
        d = world_data(gen, view, seed, a.n_train, a.work); cb = d["codebook"]
        train, val = InMemory(d["train"]), InMemory(d["val"])

        def fit(epochs, member=0, weight_decay=1e-4, sigma=0.0):
            torch.manual_seed(seed * 1000 + member)  # the member's initialisation
            iem = make_iem("vgg", cb.shape[1], view.n_classes, grid=gen.grid_shape, preset="tiny_local")
            return train_iem(iem, train, val, epochs=epochs, batch_size=128, lr=1e-3, weight_decay=weight_decay, step_size=max(1, epochs // 2 + 1), input_grad_penalty=0.0,
                             input_noise=sigma, seed=seed * 1000 + member, mixed_precision="no", progress=False).model.to(dev).eval()

        def record(model, **cfg):
            row = dict(by="_".join(view.by), seed=seed, **cfg, test_top1=top1(model, d["test"], dev),
                       real_top1=top1(model, d["world"], dev), pointing_tis=pointing(model, d["ids"], d["labels"], d["on_mask"], cb)["tis"])
            row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
            pd.DataFrame([row]).to_csv(a.out, mode="a", header=not os.path.exists(a.out), index=False)
            print(json.dumps(row), flush=True)

        for setting in a.settings.split(","):
            epochs, sigma = int(setting.split(":")[0]), float(setting.split(":")[1])
            cfg = dict(epochs=epochs, input_noise=sigma)
            members = [fit(epochs, member=i, sigma=sigma) for i in range(3)]
            for i, m in enumerate(members): record(m, kind="single", **cfg, weight_decay=1e-4, member=i)
            record(LogitAverage(members), kind="ensemble3", **cfg, weight_decay=1e-4, member=-1)
            for wd in (float(w) for w in a.weight_decays.split(",") if w):
                record(fit(epochs, weight_decay=wd, sigma=sigma), kind="single", **cfg, weight_decay=wd, member=0)

if __name__ == "__main__":
    main()
