"""The chat server of notebook 40 (:mod:`helpers.serving`), in English: choosing, starting, waiting for and talking
to an OpenAI-compatible server, and every way that can fail; the label of the bar shown while the model loads.

One text per key; fields in braces are filled in by the code that raises. ``catalogue/zh/serving.py`` has the same
keys with the same fields (``tests/test_catalogue.py``). Every error says what is wrong and how to fix it; commands,
URLs, environment variables and code in it stay as they are in every language.
"""

MESSAGES: dict[str, str] = {
    # --- choosing a server: WORKBOOK_API_BASE, connect, list_models
    "serving.api_base.not_a_url": "{variable}={value} is not a URL. Set it to the base URL of an OpenAI-compatible "
                                  "server, ending in /v1, e.g. http://gpu-box:8000/v1, or unset it to start a local "
                                  "server.",
    "serving.connect.no_server": "No OpenAI-compatible server answered at {base_url}{origin}: {error} Start the "
                                 "server there (on a GPU machine, e.g. `{command}`), check the host, the port and the "
                                 "/v1 at the end, or unset {variable} to start a local server instead.",
    # After the URL above when WORKBOOK_API_BASE named it (starts with its own separator).
    "serving.connect.origin": " (from {variable})",
    "serving.connect.no_model": "The server at {base_url} serves no model (its /models list is empty).",
    "serving.models.key_refused": "the server refused the API key (HTTP {status}): set {variable} to the key it was "
                                  "started with (vLLM's --api-key).",
    "serving.models.not_a_list": "{base_url}/models did not answer with an OpenAI model list (HTTP {status}: "
                                 "{body}).",

    # --- starting a local server: start_server, the model folder, the port
    "serving.start.progress": "Starting transformers serve with {model}",
    "serving.start.cannot_run": "Could not run {program}: {error}. Reinstall the workbook's packages (transformers "
                                "with its serving extras).",
    "serving.folder.fix": "Pass the folder that helpers.model_path() returns (or save_pretrained() wrote), or leave "
                          "model_dir out to use the workbook's chosen model.",
    "serving.folder.no_folder": "The model folder {folder} does not exist, so transformers serve has nothing to "
                                "load. {fix}",
    "serving.folder.no_config": "The model folder {folder} holds no config.json, so transformers serve has nothing "
                                "to load. {fix}",
    "serving.port.not_a_port": "port={port} is not a TCP port: pass a number from 1024 to 65535, or port=None to let "
                               "the helper pick a free one.",
    "serving.port.in_use": "Port {port} on {host} is already in use (another server, or one a notebook left "
                           "running). Pass port=None to pick a free port, or another port such as {free}.",

    # --- waiting until it is healthy
    "serving.health.timeout": "transformers serve did not become healthy within {timeout:g} s ({url} never "
                              "answered 200). The model may still be loading on a slow machine: pass a larger "
                              "ready_timeout. Last lines of its log ({log_path}):\n{log}",
    "serving.exit.message": "transformers serve stopped before it was ready: {why}\nLast lines of its log "
                            "({log_path}):\n{log}",
    # Why it stopped, read off its log (helpers.serving._DIAGNOSES), else how it ended.
    "serving.exit.port_in_use": "port {port} is already in use: another program took it. Start again with port=None "
                                "to pick a free one.",
    "serving.exit.no_serving_extras": "the serving extras are missing: pip install 'transformers[serving]' (the "
                                      "workbook pins them).",
    "serving.exit.no_module": "a Python package is missing in the server's environment: reinstall the workbook's "
                              "pinned packages.",
    "serving.exit.out_of_memory": "the machine ran out of memory while loading the model: close other notebooks and "
                                  "try again.",
    "serving.exit.cannot_load": "the model could not be loaded from its folder: check that it holds config.json, "
                                "the weights and the tokenizer files.",
    "serving.exit.killed": "it was killed by a signal; its log says why.",
    "serving.exit.code": "it exited with code {code}; its log says why.",

    # --- greedy requests
    "serving.kind.unknown": "Unknown server kind {kind}: use one of {kinds}.",

    # --- talking to it: post_chat, a GET request, why a request failed
    "serving.post.timeout": "{url} sent no reply within {timeout:g} s. Generation on a CPU is slow: ask for fewer "
                            "tokens (max_tokens) or pass a larger timeout.",
    "serving.post.unreachable": "Could not reach {url}: {reason}. Is the server still running?",
    "serving.post.http_error": "{url} answered HTTP {status}: {body}",
    "serving.get.timeout": "no answer from {url} within {timeout:g} s.",
    "serving.get.failed": "{reason}.",
    "serving.reason.refused": "connection refused (nothing listens on that port)",
    "serving.reason.unknown_host": "the host name is unknown",
}
