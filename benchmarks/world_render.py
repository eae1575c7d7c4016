"""Time ConceptShapes rendering (issue: 10,000 images at 32x32 in under 10 s on a 2-core CPU).

Plain script, not a test: `python benchmarks/world_render.py`. Prints a table and the ratio to the budget.
"""
import time, platform
import torch
from genconcept.world import ConceptShapes, render_world
from genconcept.core import make_generator

def timed(f, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter(); f(); best = min(best, time.perf_counter() - t)
    return best

if __name__ == "__main__":
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    rows = []
    for size, n in [(32, 10_000), (64, 10_000)]:
        c = torch.randint(0, 2, (n, 8), generator=make_generator(0))
        t_raw = timed(lambda: render_world(c, size, make_generator(1)))
        t_ds = timed(lambda: ConceptShapes(n=n, size=size, seed=0).render_all())
        rows.append((size, n, t_raw, t_ds))
    print(f"{'size':>5} {'n':>7} {'render_world s':>15} {'ConceptShapes s':>16} {'budget ratio':>13}")
    for size, n, a, b in rows:
        print(f"{size:>5} {n:>7} {a:>15.2f} {b:>16.2f} {b / 10.0:>13.2f}")
    print("budget: ConceptShapes(10_000 at 32x32).render_all() < 10 s  ->", "met" if rows[0][3] < 10 else "MISSED")
