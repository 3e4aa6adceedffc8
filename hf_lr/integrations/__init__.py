"""Integrations with other libraries, each imported only when used (``import hf_lr.integrations.transformers``)."""
