"""Layer-wise learning-rate decay: parameter groups for Transformers models (and other stacks of layers).

Fine-tuning a pretrained transformer commonly gives lower layers smaller learning rates: the head gets ``lr``, the
top layer ``lr * decay``, the one below ``lr * decay ** 2``, ..., and the embeddings the smallest. Every group keeps its
own learning rate, so every hf_lr schedule follows it (each group's schedule is computed from its own ``initial_lr``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from torch import nn

from hf_lr._validation import check_float

__all__ = ["find_layers", "layerwise_lr_decay"]

# Names of the module lists that hold the repeated blocks, in Transformers' models (BERT `layer`, GPT-2 `h`, Llama
# `layers`, T5 `block`); encoder-decoder models have one under the encoder and one under the decoder.
LAYER_LIST_NAMES = ("layer", "layers", "h", "block", "blocks")
NORM_PATTERN = re.compile(r"(^|[._])(norm|ln|layernorm|layer_norm|rmsnorm)", re.IGNORECASE)


def _is_norm(module: nn.Module) -> bool:
    return (
        isinstance(module, (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d))
        or "norm" in type(module).__name__.lower()
    )


def find_layers(model: nn.Module) -> list[str]:
    """The qualified names of the model's repeated blocks, bottom to top (encoder before decoder).

    Example:
        >>> from transformers import BertConfig, BertModel
        >>> model = BertModel(BertConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=8))
        >>> find_layers(model)
        ['encoder.layer.0', 'encoder.layer.1']
    """
    lists = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.ModuleList) and name.split(".")[-1] in LAYER_LIST_NAMES and len(module) > 0
    ]
    if not lists:
        raise ValueError(
            f"{type(model).__name__} has no module list named one of {LAYER_LIST_NAMES}: cannot tell its layers apart"
        )
    # Outermost lists only (a block may contain a list of its own).
    outer = [(name, module) for name, module in lists if not any(name.startswith(other + ".") for other, _ in lists)]

    def order(item: tuple[str, nn.Module]) -> int:
        return 1 if "decoder" in item[0].split(".") else 0

    outer.sort(key=order)
    return [f"{name}.{index}" for name, module in outer for index in range(len(module))]


def layerwise_lr_decay(
    model: nn.Module,
    lr: float,
    decay: float,
    weight_decay: float = 0.0,
    no_weight_decay: Iterable[str] = ("bias",),
    layers: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Parameter groups with layer-wise learning-rate decay, ready for any ``torch.optim`` optimizer.

    Depths count from the top: parameters outside the blocks and the embeddings (the head, poolers, final norms) are
    at depth 0 and get ``lr``; block ``i`` of ``n`` (bottom to top, encoder before decoder) is at depth ``n - i`` and
    gets ``lr * decay ** (n - i)``; the embeddings (parameters whose name contains ``embed`` or ``wte``/``wpe``) are at
    depth ``n + 1``. Biases, norm weights (LayerNorm, RMSNorm, ...) and names ending in ``no_weight_decay`` get no
    weight decay. Groups carry a ``"name"`` key (e.g. ``"layer_3"``, ``"embeddings_no_decay"``) for logs.

    Args:
        model (`torch.nn.Module`):
            A Transformers model (BERT, RoBERTa, GPT-2, Llama, T5, BART, ...) or any model with a ``ModuleList`` of
            blocks named ``layer``, ``layers``, ``h``, ``block`` or ``blocks``.
        lr (`float`):
            The learning rate of the top (the head).
        decay (`float`):
            The factor per layer going down, in (0, 1].
        weight_decay (`float`, *optional*, defaults to 0.0):
            Weight decay of the other parameters.
        no_weight_decay (`Iterable[str]`, *optional*, defaults to `("bias",)`):
            Name suffixes that get no weight decay (norm weights never do).
        layers (`list[str]`, *optional*):
            The blocks' qualified names, bottom to top, if :func:`find_layers` does not find them.

    Example:
        >>> import torch
        >>> from transformers import BertConfig, BertForSequenceClassification
        >>> from hf_lr import get_scheduler, layerwise_lr_decay
        >>> config = BertConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=8)
        >>> groups = layerwise_lr_decay(BertForSequenceClassification(config), lr=1e-3, decay=0.5, weight_decay=0.01)
        >>> sorted({(g["name"].replace("_no_decay", ""), g["lr"]) for g in groups}, key=lambda x: -x[1])
        [('head', 0.001), ('layer_1', 0.0005), ('layer_0', 0.00025), ('embeddings', 0.000125)]
        >>> optimizer = torch.optim.AdamW(groups)
        >>> scheduler = get_scheduler("linear", optimizer, num_warmup_steps=0, num_training_steps=10)
    """
    lr = check_float("lr", lr, minimum=0.0)
    decay = check_float("decay", decay, minimum=0.0, maximum=1.0, exclusive_minimum=True)
    weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
    suffixes = tuple(no_weight_decay)
    layer_names = find_layers(model) if layers is None else list(layers)
    count = len(layer_names)
    norm_params = {id(p) for m in model.modules() if _is_norm(m) for p in m.parameters(recurse=False)}

    groups: dict[tuple[str, bool], dict[str, Any]] = {}
    seen: set[int] = set()
    for name, param in model.named_parameters():
        if not param.requires_grad or id(param) in seen:
            continue  # frozen or tied (shared embeddings appear once)
        seen.add(id(param))
        owner = next((i for i, layer in enumerate(layer_names) if name.startswith(layer + ".")), None)
        if owner is not None:
            depth, label = count - owner, f"layer_{owner}"
        elif re.search(r"embed|(^|\.)(wte|wpe|shared)\.", name):
            depth, label = count + 1, "embeddings"
        else:
            depth, label = 0, "head"
        decayed = not (
            id(param) in norm_params
            or name.endswith(suffixes)
            or NORM_PATTERN.search(name.rsplit(".", 1)[0].split(".")[-1])
        )
        key = (label, decayed)
        if key not in groups:
            groups[key] = {
                "params": [],
                "lr": lr * decay**depth,
                "weight_decay": weight_decay if decayed else 0.0,
                "name": label if decayed else f"{label}_no_decay",
            }
        groups[key]["params"].append(param)
    return sorted(groups.values(), key=lambda g: (-g["lr"], g["name"]))
