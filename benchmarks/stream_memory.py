"""Peak memory of streaming: reading a TokenDataset and scoring it with TIS must not grow with the number of samples.

Plain script, not a test: `python benchmarks/stream_memory.py [--small 2000] [--factor 10] [--work DIR]`.

A token dataset (ToyTokenGenerator, 8×8 grid, D = 32, 32×32 images, 4 classes) is generated once into `--work`
with two splits, `small` (N samples) and `big` (factor × N). Each measurement then runs in a FRESH subprocess, so its
`ru_maxrss` (peak resident set size, Linux: KiB) belongs to that one job alone:

- read:        `TokenDataset(folder, split)` iterated in full through a DataLoader (batch 64): ids → embeddings
- read+images: the same with `with_images=True` (touches every stored image through the memory map)
- score:       `score_dataset(tiny IEM, TokenDataset, out)` (batch 64, 2 SmoothGrad draws), streamed to a memmap
- materialise: the NON-streaming control — `torch.stack` of every embedding in memory (N × D × H × W float32):
               it shows the measurement does see memory that grows with N.

Each row prints the peak RSS and, per job, the ratio big / small (target for the streaming jobs: < 1.2, i.e. a rise
below 20%), and the growth of the peak during the job itself (peak after − peak before the job, after imports and
opening the dataset), which does not hide behind the ~0.75 GiB that importing torch costs. Memory-mapped pages that were touched count in RSS too (they are file-backed and reclaimable), so the
read+images job rises by about the size of the images it read.
"""
import argparse, json, os, platform, resource, subprocess, sys, time
from pathlib import Path

CHILD = "--child"

def _peak_mib() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def child(job: str, folder: str, split: str, out: str):
    import numpy as np, torch
    torch.set_num_threads(1)
    from torch.utils.data import DataLoader
    from genconcept.cortex.data import TokenDataset
    from genconcept.cortex.iem import make_iem
    from genconcept.cortex.tis import score_dataset
    ds = TokenDataset(folder, split, with_images=job == "read+images")
    base = _peak_mib(); t0 = time.time()
    if job in ("read", "read+images"):
        tot = 0.0
        for b in DataLoader(ds, batch_size=64):
            tot += float(b["embedding"].sum()) + (float(b["image"].sum()) if "image" in b else 0.0)
    elif job == "score":
        torch.manual_seed(0)
        iem = make_iem("vgg", 32, 4, stages=((16, 1), (16, 1)), head=(32,)).eval()
        res = score_dataset(iem, ds, out, batch_size=64, n_samples=2, overwrite=True, progress=False)
        assert res.complete
    elif job == "materialise":
        allemb = torch.stack([ds[i]["embedding"] for i in range(len(ds))])
        assert allemb.shape[0] == len(ds)
    else: raise ValueError(job)
    print(json.dumps(dict(job=job, split=split, n=len(ds), base_mib=base, peak_mib=_peak_mib(), seconds=time.time() - t0)))

def make_dataset(folder: Path, small: int, factor: int):
    import torch
    torch.set_num_threads(1)
    from genconcept.cortex.data import ToyTokenGenerator, generate_token_dataset
    from genconcept.world import ClassView
    gen = ToyTokenGenerator(n_codes=64, dim=32, grid=(8, 8), patch=4)
    view = ClassView(("shape", "colour"))
    generate_token_dataset(gen, view, folder, {"small": small // view.n_classes, "big": small * factor // view.n_classes},
                           batch_size=500, seed=0, progress=False)

def run(job, folder, split, work):
    r = subprocess.run([sys.executable, __file__, CHILD, job, str(folder), split, str(work / f"scores_{split}")],
                       capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{job} {split} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--small", type=int, default=2000, help="samples in the small split (a multiple of 4)")
    p.add_argument("--factor", type=int, default=10, help="the big split has factor × small samples")
    p.add_argument("--work", default="/tmp/genconcept_stream_memory", help="folder for the dataset and scores (reused)")
    a = p.parse_args()
    work = Path(a.work); folder = work / f"data_{a.small}x{a.factor}"
    if not (folder / "dataset.json").is_file():
        t0 = time.time(); make_dataset(folder, a.small, a.factor); print(f"generated {folder} in {time.time() - t0:.0f} s")
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}; each job in a fresh process, 1 torch thread\n")
    rows = []
    for job in ("read", "read+images", "score", "materialise"):
        r = {s: run(job, folder, s, work) for s in ("small", "big")}
        rows.append((job, r["small"], r["big"]))
    print("| job          | N small | N big  | peak RSS small (MiB) | peak RSS big (MiB) | big / small | rise  | growth in job small / big (MiB) | time small / big (s) |")
    print("|--------------|--------:|-------:|---------------------:|-------------------:|------------:|------:|--------------------------------:|---------------------:|")
    for job, s, b in rows:
        ratio = b["peak_mib"] / s["peak_mib"]
        g = lambda r: r["peak_mib"] - r["base_mib"]
        print(f"| {job:12s} | {s['n']:7,} | {b['n']:6,} | {s['peak_mib']:20.1f} | {b['peak_mib']:18.1f} | {ratio:11.3f} | "
              f"{100 * (ratio - 1):4.1f}% | {g(s):14.1f} / {g(b):14.1f} | {s['seconds']:8.1f} / {b['seconds']:9.1f} |")
    print()
    for job, s, b in rows:
        if job == "materialise": continue
        ratio = b["peak_mib"] / s["peak_mib"]
        print(f"{job}: peak RSS rises {100 * (ratio - 1):.1f}% for {a.factor}× the samples -> {'PASS' if ratio < 1.2 else 'FAIL'} (< 20%)")
    print(f"materialise (control): the in-memory job grows by {rows[-1][2]['peak_mib'] - rows[-1][1]['peak_mib']:.0f} MiB")

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == CHILD: child(*sys.argv[2:6])
    else: main()
