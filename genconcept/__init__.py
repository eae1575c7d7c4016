"""Explain and steer generative image models through human concepts.

The front doors: `genconcept.cortex` (CORTEX, for VQ token generators) and `genconcept.cbae` (CB-AE and the Concept
Controller, for GANs and diffusion models). This package exports the shared ground they stand on: concepts, devices,
seeding, recipes, the ConceptShapes world and the shipped world models.

Every name is imported on first use (PEP 562), so `import genconcept` stays instant and loads no torch.
"""
# Hand-written, not exported from a notebook: nbdev keeps `__version__` here (update_version, bump-version), and an
# exported file would be overwritten from the notebook. The wings' `__init__.py` are exported (nbs/cortex_api.ipynb,
# nbs/cbae_api.ipynb) and use `_lazy` below.
__version__ = "0.1.0"

def _lazy(package: str, where: dict):
    "PEP 562 `(__getattr__, __dir__)` for `package`: each name of `where` (`{name: '.submodule'}`) is imported on first use"
    import importlib, sys
    def __getattr__(name):
        if name not in where: raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        setattr(sys.modules[package], name, value)  # cached: the next lookup does not come here
        return value
    def __dir__(): return sorted(set(vars(sys.modules[package])) | set(where))
    return __getattr__, __dir__

_where = {name: mod for mod, names in {
    ".core": ["Concept", "ConceptSet", "Recipes", "get_device", "seed_everything"],
    ".world": ["WORLD_CONCEPTS", "ConceptShapes", "ClassView"],
    ".generators.vq": ["load_world_vq"],
    ".generators.latent": ["load_world_gan", "load_world_ddpm"],
    ".concepts.labelers": ["load_judge", "load_pseudo_labeler"],
}.items() for name in names}
__all__ = list(_where)
__getattr__, __dir__ = _lazy(__name__, _where)
