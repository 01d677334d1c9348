# Modeling file of a MoEScope expert-map checkpoint (written into the export folder and registered in
# config.json's auto_map, so that transformers loads the folder with trust_remote_code=True).
#
# The checkpoint is the paper's tied model: every MoE block keeps its original router over all E
# experts, but stores only K weight slots (the merged groups), and config.json's
#   "moescope_expert_map": {"<decoder layer>": [slot of each of the E router experts]}
# says which slot serves each router expert. This class is the stock transformers model of the source
# architecture with, in each mapped block, the experts module shrunk to K slots and the router's
# expert indices translated to slots before the experts run (an experts module called without
# indices, Llama-4's, instead sees each slotted parameter with one row per router expert, its slot's).
# Routing, weights of the top-k and every other module are the stock code, so any experts
# implementation (eager, grouped_mm, batched_mm) works.
import importlib
import inspect

import torch
from torch import nn

_MODEL_TYPE = "{{MODEL_TYPE}}"
_BASE_CLASS = "{{BASE_CLASS}}"

try:
    _base = getattr(importlib.import_module(f"transformers.models.{_MODEL_TYPE}.modeling_{_MODEL_TYPE}"), _BASE_CLASS)
except ModuleNotFoundError:  # a model_type without a module of its own (llama4_text lives in llama4)
    _base = getattr(importlib.import_module("transformers"), _BASE_CLASS)


def _experts_module(layer, num_experts):
    """The routed-experts module of a decoder layer: named 'experts', holding num_experts weight slots."""
    for name, module in layer.named_modules():
        if name.split(".")[-1] == "experts" and getattr(module, "num_experts", None) == num_experts:
            return module
    raise ValueError(f"no routed-experts module with {num_experts} experts in {type(layer).__name__}")


def _translate_indices(module, args, kwargs):
    """Forward pre-hook: router expert ids (second argument) -> weight slots; out-of-range ids
    (the sentinel some implementations use for masked entries) stay out of range."""
    if len(args) < 2:
        raise ValueError("expert-map: the experts module was called without positional expert indices")
    index = args[1]
    table = module._moescope_slot_table
    if table is None or table.device != index.device:
        table = torch.tensor(module._moescope_slot_of_expert + [module.num_experts], dtype=torch.long,
                             device=index.device)
        module._moescope_slot_table = table
    slots = table[index.clamp(min=0, max=table.numel() - 1).long()].to(index.dtype)
    return (args[0], slots) + tuple(args[2:]), kwargs


def _takes_expert_indices(module):
    """Whether the experts module is called with the router's expert indices (most families); Llama-4's
    takes only its input, every router expert's rows of it in turn."""
    return len(inspect.signature(module.forward).parameters) >= 2


def _per_router_expert(module, forward):
    """The forward of an experts module that runs every router expert on its own rows of the input: for
    the call, each slotted parameter is seen with one row per router expert, its slot's."""
    def run(*args, **kwargs):
        stored = {name: module._parameters[name] for name in module._moescope_slotted}
        try:
            for name, param in stored.items():
                rows = torch.tensor(module._moescope_slot_of_expert, dtype=torch.long, device=param.device)
                module._parameters[name] = param.index_select(0, rows)
            return forward(*args, **kwargs)
        finally:
            module._parameters.update(stored)
    return run


def _decoder_layers(model):
    """The decoder layers: model.model.layers, or the text decoder's of a multimodal wrapper (Llama-4)."""
    decoder = getattr(model, "model", None)
    if not hasattr(decoder, "layers"):
        decoder = model.get_decoder()
        while not hasattr(decoder, "layers") and hasattr(decoder, "model"):
            decoder = decoder.model
    return decoder.layers


class MoEScopeExpertMapForCausalLM(_base):
    def __init__(self, config, *args, **kwargs):
        super().__init__(config, *args, **kwargs)
        expert_map = getattr(config, "moescope_expert_map", None) or {}
        slots = getattr(config, "moescope_expert_slots", None) or {}
        layers = _decoder_layers(self)
        for key, slot_of_expert in expert_map.items():
            layer = int(key)
            num_slots = int(slots.get(key, max(slot_of_expert) + 1))
            if not 0 <= layer < len(layers):
                raise ValueError(f"moescope_expert_map names decoder layer {layer}, the model has {len(layers)}")
            if sorted(set(slot_of_expert)) != list(range(num_slots)):
                raise ValueError(f"moescope_expert_map[{key}] must use every slot 0..{num_slots - 1}")
            experts = _experts_module(layers[layer], len(slot_of_expert))
            # Shrink every per-expert parameter (leading dimension E) to the stored slots; the
            # checkpoint's tensors then load with their own shapes.
            slotted = []
            for name, param in list(experts.named_parameters(recurse=False)):
                if param.dim() >= 1 and param.shape[0] == len(slot_of_expert):
                    shape = (num_slots,) + tuple(param.shape[1:])
                    setattr(experts, name, nn.Parameter(torch.empty(shape, dtype=param.dtype, device=param.device),
                                                        requires_grad=param.requires_grad))
                    slotted.append(name)
            indexed = _takes_expert_indices(experts)
            experts.num_experts = num_slots
            experts._moescope_slot_of_expert = [int(s) for s in slot_of_expert]
            experts._moescope_slot_table = None
            experts._moescope_slotted = slotted
            if indexed:
                experts.register_forward_pre_hook(_translate_indices, with_kwargs=True)
            else:
                experts.forward = _per_router_expert(experts, experts.forward)
