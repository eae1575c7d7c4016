"""Does torch.compile / channels-last / bf16 autocast pay off? Times one training step of the shipped world DDPM's UNet.

Variants (same model, same batch): fp32 eager; bf16 autocast (what `train_ddpm` does on CUDA); bf16 + channels-last;
bf16 + `torch.compile`. Also times the parts of a `train_ddpm` iteration that are not the UNet (rendering the world
batch on the CPU, drawing noise) to show where an iteration's time goes. Prints ms per step and ratios to fp32 eager.
Run it on the machine you train on: `python benchmarks/gpu_speedups.py` (CUDA when present, else CPU).
"""
import argparse, copy, platform, time
import torch, torch.nn.functional as F


def timed(fn, steps, sync):
    fn(); fn(); sync()  # warm-up (and compilation)
    t = time.perf_counter()
    for _ in range(steps): fn()
    sync(); return (time.perf_counter() - t) / steps * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=128); ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant (compilation takes a minute)")
    a = ap.parse_args()
    from genconcept.generators.latent import load_world_ddpm, WorldStream
    from genconcept.core import get_device
    dev = get_device(); cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    base = load_world_ddpm(device=dev).unet.float().train().requires_grad_(True)
    x0 = torch.rand(a.batch, 3, 32, 32, device=dev) * 2 - 1; noise = torch.randn_like(x0); t = torch.randint(0, 1000, (a.batch,), device=dev)

    def step_fn(unet, amp, cl=False):
        opt = torch.optim.AdamW(unet.parameters(), lr=1e-4)
        xin = x0.contiguous(memory_format=torch.channels_last) if cl else x0
        def step():
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                loss = F.mse_loss(unet(xin, t, return_dict=False)[0].float(), noise)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        return step

    rows = [("fp32 eager", timed(step_fn(copy.deepcopy(base), False), a.steps, sync)),
            ("bf16 autocast (train_ddpm's default on CUDA)", timed(step_fn(copy.deepcopy(base), True), a.steps, sync)),
            ("bf16 + channels-last", timed(step_fn(copy.deepcopy(base).to(memory_format=torch.channels_last), True, cl=True), a.steps, sync))]
    if not a.no_compile:
        t0 = time.perf_counter(); u = torch.compile(copy.deepcopy(base)); f = step_fn(u, True); f(); sync(); ct = time.perf_counter() - t0
        rows.append((f"bf16 + torch.compile (compiled in {ct:.0f} s)", timed(f, a.steps, sync)))
    stream = WorldStream(a.batch, seed=0)
    rows.append((f"render {a.batch} world images (CPU)", timed(lambda: stream.next(), a.steps, lambda: None)))
    g = torch.Generator().manual_seed(0)
    rows.append((f"noise + t on the CPU, copied to {dev.type}", timed(lambda: (torch.randn(a.batch, 3, 32, 32, generator=g).to(dev), torch.randint(0, 1000, (a.batch,), generator=g).to(dev)), a.steps, sync)))
    name = torch.cuda.get_device_name(0) if cuda else platform.processor() or platform.machine()
    print(f"device: {dev} ({name}), torch {torch.__version__}, threads {torch.get_num_threads()}, batch {a.batch}, UNet {sum(p.numel() for p in base.parameters())/1e6:.2f} M params")
    ref = rows[0][1]
    print(f"| {'variant':50s} | ms/step | vs fp32 eager |"); print(f"|{'-'*52}|--------:|--------------:|")
    for n, ms in rows: print(f"| {n:50s} | {ms:7.1f} | {ref / ms:12.2f}× |")

if __name__ == "__main__": main()
