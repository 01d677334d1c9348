"""How the reference scripts load a checkpoint folder in Hugging Face transformers, in one place
(scripts/check_exports_transformers.py, scripts/fixtures/make_reference.py, the interop test).

A few model types are published under a config name transformers has no class for, while transformers
runs their weights with another type's classes: Kimi-K2's config.json says model_type "kimi_k2" and
architectures ["DeepseekV3ForCausalLM"], and transformers' own Kimi-K2.5 config maps a kimi_k2 text
config to deepseek_v3. AutoConfig cannot resolve such a name (the release relies on remote code), so the
folder's config.json is read with the classes' own config class and handed to AutoModelForCausalLM,
renamed to the type it runs as, exactly as transformers' Kimi-K2.5 config does for its text model (the name
selects transformers' conversion of per-expert tensors into fused experts; without it the experts would
be left uninitialised)."""
import json
import os

# config.json model_type -> the transformers model type that runs it.
RUN_AS = {"kimi_k2": "deepseek_v3"}


def load_causal_lm(folder, **kwargs):
    """AutoModelForCausalLM.from_pretrained(folder, **kwargs), through RUN_AS for aliased model types
    (an expert-map export keeps its auto_map model class: trust_remote_code as the caller asks)."""
    from transformers import AutoModelForCausalLM
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    with open(os.path.join(folder, "config.json")) as f:
        model_type = json.load(f).get("model_type")
    if model_type in RUN_AS and "config" not in kwargs:
        config_kwargs = {k: kwargs[k] for k in ("trust_remote_code",) if k in kwargs}
        config = CONFIG_MAPPING[RUN_AS[model_type]].from_pretrained(folder, **config_kwargs)
        # The name picks transformers' on-disk weight conversions (per-expert tensors -> fused experts);
        # transformers' Kimi-K2.5 config renames its kimi_k2 text config the same way.
        config.model_type = RUN_AS[model_type]
        kwargs["config"] = config
    return AutoModelForCausalLM.from_pretrained(folder, **kwargs)
