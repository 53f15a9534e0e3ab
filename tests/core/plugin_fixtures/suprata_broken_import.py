"""Broken import: a plugin that raises while its module is imported."""

raise RuntimeError("this plugin cannot be imported")
