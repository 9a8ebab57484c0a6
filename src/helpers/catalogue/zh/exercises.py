"""练习反馈（中文）：:mod:`helpers.exercises` 对学习者答案的评语。

Exercise feedback in Chinese: the same keys and fields as ``catalogue/en/exercises.py`` (``tests/test_catalogue.py``
checks both). Terms follow the glossary (词元, 分词器, 控制词元, 对话模板, 批次, 填充, 键值缓存...); code names, ids and
numbers stay as they are. Like the English texts, a wrong answer's message says how to find the answer, never the
answer itself.
"""

MESSAGES: dict[str, str] = {
    "no_answer": "还没有答案：把 None 换成你的答案，再运行这个单元格。",
    "type.int": "{what}：应该是一个整数（int），你给的是 {type} {value}。",
    "type.number": "上限应该是一个数（每秒多少个词元），你给的是 {type} {value}。",
    "ids.text": "{what}：应该是词元 id（数字），但你给的是文字：{text}。请用 tokenizer.encode(...) 或 ids 张量。",
    "ids.dict": "{what}：应该是 id，但你给的是一个字典，它的键是 {keys}：取出其中的 'input_ids'。",
    "ids.type": "{what}：应该是由 int 组成的列表或一个张量，你给的是 {type}。",
    "ids.match": "{what}：全部 {count} 个 id 都对上了。",
    "ids.length": "{what}：应该有 {expected} 个 id，你的有 {got} 个。",
    "ids.position": "{what}：长度对了，但位置 {position} 上不一样（你那里是 {got}）。",
    # 00
    "threads.right": "torch 在这里用 {expected} 个线程。",
    "threads.wrong": "{value} 不是 torch 在这台机器上用的线程数：问问 torch.get_num_threads()。",
    # 01
    "heads.right": "{query} 个查询头 / {kv} 个键/值头 = {expected}。",
    "heads.all_queries": "{value} 是查询头的个数；还要再除以键/值头的个数。",
    "heads.wrong": "{value} 不对：用 config.num_attention_heads 除以 config.num_key_value_heads。",
    "bytes.right": "{count:,} 个参数 × 4 字节 = {expected:,} 字节（{gib:.2f} GiB）。",
    "bytes.bfloat16": "这是 bfloat16 下的大小（每个参数 2 字节）；float32 每个数占 4 字节。",
    "bytes.count": "这是参数的个数；还要乘以每个 float32 数占的字节数（4）。",
    "bytes.wrong": "{value:,} 字节不对：先数出参数的个数（对 model.parameters() 的每个 p 求 p.numel() 之和），"
                   "再乘以 4 字节。",
    # 02
    "special.right": "{token} 的 id 是 {expected}。",
    "special.wrong": "{token} 的 id 不是 {value}{other}；试试 tokenizer.convert_tokens_to_ids({token_repr})。",
    # 03
    "chat.invalid": "还不是一个有效的消息列表：{error}",
    "chat.system_first": "第一条消息应该是系统消息（system），但它的角色是 {role}。",
    "chat.one_sentence": "系统消息应该要求只用一句话回答（用什么语言写都行）；你的系统消息写的是 {content}。",
    "chat.user_last": "最后一条消息应该是用户的问题（user），但它的角色是 {role}。",
    "chat.empty_question": "用户的问题是空的。",
    "chat.right": "一段有效的对话，共 {count} 条消息：系统消息在最前，要求用一句话回答；用户的问题在最后。",
    # 04
    "template.type": "这里要的是渲染出来的文字（一个 str），你给的是 {type}。请用 tokenize=False。",
    "template.right": "对了：文字在最后一条消息之后以 {ending} 结尾，没有开启助手的回合。",
    "template.generation_prompt": "这段文字的结尾还带着生成提示 '<|im_start|>assistant\\n'："
                                  "请设置 add_generation_prompt=False。",
    "template.wrong": "这不是对话模板为这些消息渲染出的文字：请用 "
                      "apply_chat_template(messages, tokenize=False, add_generation_prompt=False) 渲染 `messages`。",
    # 05 and 13
    "batch.not_inputs": "这里要的是分词器的输出，里面有 'input_ids' 和 'attention_mask'。",
    "batch.lists": "这些 id 是 Python 列表：加上 return_tensors='pt'。",
    "batch.rows": "批次应该有 {expected} 行，你的有 {got} 行：把文字的列表整个传进去。",
    "batch.width": "每一行都应该填充到最长的提示那么长，也就是 {expected} 个词元；你的是 {got}。",
    "batch.right_padding": "填充在右边（掩码以 0 结尾）：设置 tokenizer.padding_side = 'left'。",
    "batch.right": "一个 {rows} × {width} 的批次，在左边填充；{padding} 个填充位置的掩码为 0。",
    # 06
    "generate.slice": "这些 id 不是以提示开头的：请给出 generate 的完整输出，而不是切片。",
    "generate.other_prompt": "这些 id 不是以这个提示开头的：请用这里的 model_inputs 来生成。",
    "generate.nothing_new": "没有新词元：你是不是传了 max_new_tokens=0？",
    "generate.too_long": "{new} 个新词元，比 max_new_tokens={limit} 还多。",
    "generate.right": "{prompt} 个提示 id + {new} 个新 id。",
    # 07
    "slice.right": "只剩回复：{count} 个 id，开头是 {start}。",
    "slice.text": "这是文字，不是 id：切片是在解码之前，对 generated_ids 里的数字动手"
                  "（解码是笔记本 08 的内容）。请直接对 generated_ids 切片。",
    "slice.batch_axis": "你的切片是空的（形状 {shape}）：generated_ids 的形状是 {full_shape}，每段对话占一行，"
                        "对第一个轴切片跳过的是整行，而这个批次只有 {rows} 行。先取出那一行 generated_ids[0]，"
                        "再对它切片（或者对第二个轴切片：generated_ids[:, ...]）。",
    "slice.empty": "你的切片是空的：它应该包含提示之后生成的每一个 id。",
    "slice.len_of_batch": "你在位置 {cut} 处切开：len(model_inputs.input_ids) 是批次的行数（{cut}），"
                          "不是提示的词元数。请用一行的长度：model_inputs.input_ids.shape[1] 或 "
                          "len(model_inputs.input_ids[0])。",
    "slice.dropped_end": "你丢掉了最后一个 id，{token}（{id}）：它属于回复（是模型的回合结束标记）。"
                         "一直切到末尾，冒号后面什么都不写；解码时 skip_special_tokens=True 会把它从文字里去掉"
                         "（笔记本 08）。",
    "slice.dropped_last": "你丢掉了最后一个 id：一直切到末尾，冒号后面什么都不写。",
    "slice.kept_prompt": "你的切片保留了提示：应该有 {expected} 个 id，你的有 {got} 个。",
    "slice.is_prompt": "这是提示（{count} 个 id），不是回复：要保留的是提示之后的部分。",
    "slice.wrong_start": "你的切片从整行的位置 {start} 开始，但提示占了前 {prompt} 个位置："
                         "请在提示的长度处切开，即 model_inputs.input_ids.shape[1]。",
    "slice.stops_early": "你的切片在行尾之前 {missing} 个 id 就停了：一直切到末尾，冒号后面什么都不写。",
    "slice.not_from_row": "这些 id 不是 generated_ids 中的一段：请对这个笔记本里的 generated_ids 切片"
                          "（重新生成一次，或者换一组输入，得到的 id 都会不同）。",
    # 08
    "decode.list": "batch_decode 返回的是一个含有 {count} 个字符串的列表：取 [0]。",
    "decode.type": "这里要的是回复的文字（一个 str），你给的是 {type}。",
    "decode.right": "这就是回复，共 {count} 个字符，不含控制词元。",
    "decode.full": "这段文字以 'system' 开头：你解码的是完整的 id；请解码切片后的 id。",
    "decode.special": "文字里还有 <|im_end|>：传入 skip_special_tokens=True。",
    "decode.empty": "文字是空的。",
    "decode.wrong": "这不是从切片后的 id 解码出来的回复。",
    # 09
    "reply.type": "chat 应该返回一个 str，却返回了 {type}：解码后取 [0]。",
    "reply.empty": "回复是空的：是生成一开始就停了，还是你把所有内容都切掉了？",
    "reply.prompt": "回复里还带着提示：解码之前先把提示的 id 切掉。",
    "reply.special": "回复里有 <|im_end|>：解码时加上 skip_special_tokens=True。",
    "reply.right": "一段 {count} 个字符的回复。",
    # 10
    "first.right": "id {expected}，也就是 {text}。",
    "first.first_position": "这是第一个位置之后的预测；请用最后一个位置，logits[0, -1]。",
    "first.rank": "id {value} 是最后一个位置上排第 {rank} 的候选，不是可能性最大的那个：对 logits[0, -1] 取 argmax。",
    "first.wrong": "id {value} 不是最后一个位置的 logits 的 argmax：取 logits[0, -1].argmax()。",
    # 11
    "cache.right": "{layers} 层 × 2（键和值）× {heads} 个头 × {head_dim} × {size} 字节 × {tokens} 个词元 "
                   "= {expected:,} 字节。",
    "cache.half": "只有应有大小的一半：键和值都要算上（× 2）。",
    "cache.all_heads": "你算上了所有注意力头；键值缓存只保存键/值头。",
    "cache.wrong": "{value:,} 字节不对：把层数 × 2（键和值）× 键/值头数 × head_dim × 每个数的字节数 × 词元数"
                   "乘起来。",
    # 12
    "candidates.right": "还有 {expected} 个词元可能被抽到。",
    "candidates.vocabulary": "{value} 是整个词表的大小：只数概率仍然大于 0 的项。",
    "candidates.zero": "总会至少留下一个词元，否则就什么也抽不到了：数一数概率 > 0 的项。",
    "candidates.too_many": "{value} 比留下来的多：数一数概率 > 0 的项，例如 int((probabilities > 0).sum())。",
    "candidates.too_few": "{value} 比留下来的少：数一数概率 > 0 的项，例如 int((probabilities > 0).sum())。",
    # 13
    "side.type": "请回答 'left' 或 'right'，你给的是 {type}。",
    "side.right": "左边：这样每一行都以它自己最后一个提示词元结尾，回复正是从那里开始。",
    "side.wrong_side": "在右边填充，会把填充夹在提示和回复之间；generate 会为此发出警告。",
    "side.other": "请回答 'left' 或 'right'，你给的是 {value}。",
    # 14
    "turn.invalid": "不是有效的消息列表：{error}",
    "turn.right": "{count} 条消息：原来的历史，角色为 'assistant' 的回复，角色为 'user' 的新问题。",
    "turn.missing_reply": "缺了模型的回复：在新问题之前，先把它作为一条 'assistant' 消息追加进去。",
    "turn.role": "回复的角色应该是 'assistant'，而不是 {role}。",
    "turn.history": "之前的消息被改动了：保持历史原样，只在后面追加。",
    "turn.wrong": "应该有 {expected} 条消息，最后是回复和问题；你的有 {got} 条。",
    # 30
    "ceiling.right": "每秒 {expected:.1f} 个词元：用这些权重，在这台机器上任何程序都不可能解码得更快。",
    "ceiling.inverted": "弄反了：这是每个词元要花几秒。请用带宽除以每个词元要读取的字节数。",
    "ceiling.units": "数字对了，单位错了：请用每秒字节数和每个词元的字节数（不要用 GB 或 MB）。",
    "ceiling.wrong": "{value:g} 不对：用带宽（每秒字节数）除以每个词元要读取的字节数。",
    # 40
    "request.type": "请求体是一个字典（它会变成一个 JSON 对象），你给的是 {type}。",
    "request.messages": "'messages' 不是有效的消息列表：{error}",
    "request.roles": "消息应该以一条系统消息开头，以你的问题（角色 'user'）结尾。",
    "request.generate_args": "{fields} 是 generate() 的参数，不是 OpenAI 的字段：transformers serve 会拒绝它们"
                             "（HTTP 422）。请用 temperature、frequency_penalty 和 max_tokens。",
    "request.temperature": "没有 \"temperature\": 0 时，服务器会按 generation_config.json 里的温度 0.7 采样；"
                           "设为 0 才是贪心解码。",
    "request.penalty": "服务器会沿用 generation_config.json 里的 repetition_penalty 1.1："
                       "\"frequency_penalty\": 0 把它变成 1 + 0 = 1.0，和本地的 GREEDY 一样。",
    "request.max_tokens": "用 \"max_tokens\": {limit} 要求最多 {limit} 个新词元（你给的是 {got}）。",
    "request.stream": "不要写 \"stream\"：这个请求应该一次拿回一个完整的 JSON 回复。",
    "request.right": "一个贪心解码的请求，共 {count} 条消息，最多 {limit} 个新词元。",
    # What the checks name in the messages above ({what}, {other}), and the marks of a right and a wrong answer.
    "what.thread_count": "线程数",
    "what.heads_per_kv": "每个键/值头对应的查询头个数",
    "what.bytes": "字节数",
    "what.id": "这个 id",
    "what.id_of": "{token} 的 id",
    "what.count": "这个个数",
    "what.answer": "你的答案",
    "what.slice": "你的切片",
    "what.ids_of": "{text} 的 id",
    "what.reply_ids": "回复的 id",
    "special.other": "（{value} 是 {other}）",
    "feedback.right_mark": "✓",
    "feedback.wrong_mark": "✗",
}
