"""Stands in for another CPU's rounding: with ``WORKBOOK_PERTURB=<scale>`` set, every model that transformers loads
gets seeded noise of ``scale`` times each linear layer's weight spread added to that layer's weights.

Python imports ``sitecustomize`` at start-up from the path, so ``python -m tools.perturbation_check`` puts this
folder on ``PYTHONPATH`` and every process of its run (pytest, the Jupyter kernels nbval starts, the HTTP server of
notebook 40) loads perturbed weights. Without the variable it does nothing.
"""

import os
import sys

_SCALE = os.environ.get("WORKBOOK_PERTURB")


def _perturb(model, scale: float) -> None:
    import torch

    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                weight = module.weight.data
                noise = torch.randn(weight.shape, generator=generator, dtype=torch.float32)
                spread = weight.float().std()
                module.weight.data = (weight.float() + noise * spread * scale).to(weight.dtype)


def _patch(modeling_utils) -> None:
    cls = modeling_utils.PreTrainedModel
    original = cls.from_pretrained.__func__

    def from_pretrained(klass, *args, **kwargs):
        model = original(klass, *args, **kwargs)
        _perturb(model, float(_SCALE))
        return model

    cls.from_pretrained = classmethod(from_pretrained)


if _SCALE:
    import importlib.abc
    import importlib.util

    class _AfterImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name != "transformers.modeling_utils":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                _patch(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _AfterImport())
