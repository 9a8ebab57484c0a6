"""Exercise feedback in English: what :mod:`helpers.exercises` says about a learner's answer.

One text per key; fields in braces are filled in by the check. ``catalogue/zh/exercises.py`` has the same keys with
the same fields (``tests/test_catalogue.py``). A wrong answer's message says how to find the answer, never the answer.
"""

# The feedback texts, one per key. Fields in braces are filled in by the check; a translation keeps the same fields.
MESSAGES: dict[str, str] = {
    "no_answer": "No answer yet: replace None with your answer and run the cell again.",
    "type.int": "{what} should be a whole number (an int), got {type} {value}.",
    "type.number": "the ceiling should be a number of tokens per second, got {type} {value}.",
    "ids.text": "{what} should be token ids (numbers), but you gave text: {text}. Use tokenizer.encode(...) or the "
                "ids tensor.",
    "ids.dict": "{what} should be ids, but you gave a dict with keys {keys}: take its 'input_ids'.",
    "ids.type": "{what} should be a list of ints or a tensor, got {type}.",
    "ids.match": "{what}: all {count} ids match.",
    "ids.length": "{what}: expected {expected} ids, got {got}.",
    "ids.position": "{what}: right length, but position {position} differs (you have {got} there).",
    # 00
    "threads.right": "torch uses {expected} threads here.",
    "threads.wrong": "{value} is not the number torch uses on this machine: ask torch.get_num_threads().",
    # 01
    "heads.right": "{query} query heads / {kv} key/value heads = {expected}.",
    "heads.all_queries": "{value} is the number of query heads; divide it by the number of key/value heads.",
    "heads.wrong": "{value} is not it: divide config.num_attention_heads by config.num_key_value_heads.",
    "bytes.right": "{count:,} parameters x 4 bytes = {expected:,} bytes ({gib:.2f} GiB).",
    "bytes.bfloat16": "that is the size in bfloat16 (2 bytes per parameter); float32 takes 4.",
    "bytes.count": "that is the number of parameters; multiply by the bytes per float32 number (4).",
    "bytes.wrong": "{value:,} bytes is not it: count the parameters (sum of p.numel() over model.parameters()) "
                   "and multiply by 4 bytes.",
    # 02
    "special.right": "{token} is id {expected}.",
    "special.wrong": "{token} is not id {value}{other}; try tokenizer.convert_tokens_to_ids({token_repr}).",
    # 03
    "chat.invalid": "not a valid messages list yet: {error}",
    "chat.system_first": "the first message should be the system message, but it is {role}.",
    "chat.one_sentence": "the system message should ask for answers of one sentence (in any language); "
                         "yours says {content}.",
    "chat.user_last": "the last message should be the user's question, but it is {role}.",
    "chat.empty_question": "the user's question is empty.",
    "chat.right": "a valid conversation of {count} messages: system first, asking for one sentence; the user's "
                  "question last.",
    # 04
    "template.type": "expected the rendered text (a str); got {type}. Use tokenize=False.",
    "template.right": "right: the text ends with {ending}, after the last message; no assistant turn opened.",
    "template.generation_prompt": "this text still ends with the generation prompt '<|im_start|>assistant\\n': "
                                  "set add_generation_prompt=False.",
    "template.wrong": "this is not the template's text for these messages: render `messages` with "
                      "apply_chat_template(messages, tokenize=False, add_generation_prompt=False).",
    # 05 and 13
    "batch.not_inputs": "expected the tokenizer's output, with 'input_ids' and 'attention_mask'.",
    "batch.lists": "the ids are Python lists: add return_tensors='pt'.",
    "batch.rows": "expected a batch of {expected} rows, got {got}: pass the list of texts.",
    "batch.width": "rows should be padded to the longest prompt, {expected} tokens; got {got}.",
    "batch.right_padding": "the padding is on the right (mask ends with 0): set tokenizer.padding_side = 'left'.",
    "batch.right": "a {rows} x {width} batch, padded on the left; {padding} padding positions masked with 0.",
    # 06
    "generate.slice": "these ids do not start with the prompt: give generate's whole output, not a slice.",
    "generate.other_prompt": "these ids do not start with the prompt: generate from these model_inputs.",
    "generate.nothing_new": "no new tokens: did you pass max_new_tokens=0?",
    "generate.too_long": "{new} new tokens, more than max_new_tokens={limit}.",
    "generate.right": "{prompt} prompt ids + {new} new ids.",
    # 07
    "slice.right": "the reply alone: {count} ids, starting with {start}.",
    "slice.text": "this is text, not ids: slicing cuts the numbers in generated_ids, before anything is decoded "
                  "(decoding is notebook 08). Slice generated_ids itself.",
    "slice.batch_axis": "your slice is empty (shape {shape}): generated_ids has shape {full_shape}, one row per "
                        "conversation, and slicing its first axis skips whole rows of a batch of {rows}. Take the "
                        "row first, generated_ids[0], and slice that (or slice the second axis: generated_ids[:, ...]).",
    "slice.empty": "your slice is empty: it should hold every id generated after the prompt.",
    "slice.len_of_batch": "you cut at position {cut}: len(model_inputs.input_ids) is the number of rows in the "
                          "batch ({cut}), not the number of prompt tokens. Use the length of a row: "
                          "model_inputs.input_ids.shape[1] or len(model_inputs.input_ids[0]).",
    "slice.dropped_end": "you dropped the last id, {token} ({id}): it belongs to the reply (the model's "
                         "end-of-turn). Slice to the end, with nothing after the colon; "
                         "skip_special_tokens=True leaves it out of the text when you decode (notebook 08).",
    "slice.dropped_last": "you dropped the last id: slice to the end, with nothing after the colon.",
    "slice.kept_prompt": "your slice kept the prompt: expected {expected} ids, got {got}.",
    "slice.is_prompt": "this is the prompt ({count} ids), not the reply: keep what comes after the prompt.",
    "slice.wrong_start": "your slice starts at position {start} of the full row, but the prompt takes the first "
                         "{prompt} positions: cut at the prompt's length, model_inputs.input_ids.shape[1].",
    "slice.stops_early": "your slice stops {missing} id(s) before the end of the row: slice to the end, with "
                         "nothing after the colon.",
    "slice.not_from_row": "these ids are not a piece of generated_ids: slice the generated_ids of this notebook "
                          "(generating again, or from other inputs, gives other ids).",
    # 08
    "decode.list": "batch_decode returns a list of {count} string(s): take [0].",
    "decode.type": "expected the reply as a str, got {type}.",
    "decode.right": "the reply, {count} characters, no control tokens.",
    "decode.full": "this text starts with 'system': you decoded the full ids; decode the sliced ones.",
    "decode.special": "the text still contains <|im_end|>: pass skip_special_tokens=True.",
    "decode.empty": "the text is empty.",
    "decode.wrong": "this is not the reply decoded from the sliced ids.",
    # 09
    "reply.type": "chat should return a str, got {type}: decode and take [0].",
    "reply.empty": "the reply is empty: did generation stop at once, or did you slice everything off?",
    "reply.prompt": "the reply still contains the prompt: slice the prompt ids off before decoding.",
    "reply.special": "the reply contains <|im_end|>: decode with skip_special_tokens=True.",
    "reply.right": "a reply of {count} characters.",
    # 10
    "first.right": "id {expected}, {text}.",
    "first.first_position": "that is the prediction after the first position; use the last one, logits[0, -1].",
    "first.rank": "id {value} is the number {rank} candidate at the last position, not the likeliest: take the "
                  "argmax of logits[0, -1].",
    "first.wrong": "id {value} is not the argmax of the last position's logits: take logits[0, -1].argmax().",
    # 11
    "cache.right": "{layers} layers x 2 (keys, values) x {heads} heads x {head_dim} x {size} bytes x {tokens} "
                   "tokens = {expected:,} bytes.",
    "cache.half": "half the expected size: count keys and values (x 2).",
    "cache.all_heads": "you counted all attention heads; the cache only keeps the key/value heads.",
    "cache.wrong": "{value:,} bytes is not it: multiply layers x 2 (keys and values) x key/value heads x head_dim "
                   "x bytes per number x tokens.",
    # 12
    "candidates.right": "{expected} tokens can still be drawn.",
    "candidates.vocabulary": "{value} is the size of the whole vocabulary: count only the entries that keep a "
                             "probability above 0.",
    "candidates.zero": "at least one token always survives, or nothing could be drawn: count the entries with "
                       "probability > 0.",
    "candidates.too_many": "{value} is more than survive: count the entries with probability > 0, "
                           "e.g. int((probabilities > 0).sum()).",
    "candidates.too_few": "{value} is fewer than survive: count the entries with probability > 0, "
                          "e.g. int((probabilities > 0).sum()).",
    # 13
    "side.type": "answer 'left' or 'right', got {type}.",
    "side.right": "left: every row then ends with its own last prompt token, where the reply starts.",
    "side.wrong_side": "right padding puts padding between the prompt and the reply; generate warns about it.",
    "side.other": "answer 'left' or 'right', got {value}.",
    # 14
    "turn.invalid": "not a valid messages list: {error}",
    "turn.right": "{count} messages: the history, the reply as 'assistant', the new question as 'user'.",
    "turn.missing_reply": "the model's reply is missing: append it as an 'assistant' message before the new "
                          "question.",
    "turn.role": "the reply should have the role 'assistant', not {role}.",
    "turn.history": "the earlier messages changed: keep the history as it was and append to it.",
    "turn.wrong": "expected {expected} messages ending with the reply and the question; got {got}.",
    # 30
    "ceiling.right": "{expected:.1f} tokens per second: no program can decode faster with these weights here.",
    "ceiling.inverted": "upside down: that is seconds per token. Divide the bandwidth by the bytes per token.",
    "ceiling.units": "right digits, wrong units: use bytes per second and bytes per token (not GB or MB).",
    "ceiling.wrong": "{value:g} is not it: divide the bandwidth (bytes per second) by the bytes read per token.",
    # 40
    "request.type": "a request body is a dict (it becomes a JSON object), got {type}.",
    "request.messages": "'messages' is not a valid messages list: {error}",
    "request.roles": "the messages should start with a system message and end with your question as 'user'.",
    "request.generate_args": "{fields} are generate() arguments, not OpenAI fields: transformers serve rejects them "
                             "(HTTP 422). Use temperature, frequency_penalty and max_tokens.",
    "request.temperature": "without \"temperature\": 0 the server samples, with the temperature 0.7 of "
                           "generation_config.json; 0 makes it greedy.",
    "request.penalty": "the server would keep generation_config.json's repetition_penalty of 1.1: "
                       "\"frequency_penalty\": 0 makes it 1 + 0 = 1.0, as GREEDY does locally.",
    "request.max_tokens": "ask for at most {limit} new tokens with \"max_tokens\": {limit} (got {got}).",
    "request.stream": "leave \"stream\" out: this request should come back as one JSON reply.",
    "request.right": "a greedy request of {count} messages, at most {limit} new tokens.",
    # What the checks name in the messages above ({what}, {other}), and the marks of a right and a wrong answer.
    "what.thread_count": "The thread count",
    "what.heads_per_kv": "The number of query heads per key/value head",
    "what.bytes": "The number of bytes",
    "what.id": "The id",
    "what.id_of": "The id of {token}",
    "what.count": "The count",
    "what.answer": "Your answer",
    "what.slice": "Your slice",
    "what.ids_of": "the ids of {text}",
    "what.reply_ids": "the reply's ids",
    "special.other": " ({value} is {other})",
    "feedback.right_mark": "✓",
    "feedback.wrong_mark": "✗",
}
