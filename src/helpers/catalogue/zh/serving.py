"""笔记本 40 的聊天服务器（:mod:`helpers.serving`），中文：选择、启动、等待 OpenAI 兼容的服务器并与它通信时
可能出的各种错，以及加载模型时进度条上的文字。

键和花括号里的字段与 ``catalogue/en/serving.py`` 完全相同（``tests/test_catalogue.py`` 会检查）。每条报错都说明
哪里错了、该怎么改；其中的命令、URL、环境变量和代码保持原样，不翻译。
"""

MESSAGES: dict[str, str] = {
    # --- 选择服务器：WORKBOOK_API_BASE、connect、list_models
    "serving.api_base.not_a_url": "{variable}={value} 不是 URL。请把它设为某个 OpenAI 兼容服务器的基础 URL，"
                                  "以 /v1 结尾，例如 http://gpu-box:8000/v1；或者取消这个变量，改为在本机启动服务器。",
    "serving.connect.no_server": "{base_url}{origin}：没有 OpenAI 兼容的服务器在这里应答。{error}请先在那台机器上"
                                 "启动服务器（在 GPU 机器上，例如 `{command}`），检查主机名、端口和结尾的 /v1，"
                                 "或者取消 {variable}，改为在本机启动服务器。",
    # 接在上面的 URL 之后，说明这个 URL 来自 WORKBOOK_API_BASE。
    "serving.connect.origin": "（来自 {variable}）",
    "serving.connect.no_model": "{base_url} 上的服务器没有提供任何模型（它的 /models 列表是空的）。",
    "serving.models.key_refused": "服务器拒绝了 API 密钥（HTTP {status}）：请把 {variable} 设为启动服务器时用的"
                                  "密钥（vLLM 的 --api-key）。",
    "serving.models.not_a_list": "{base_url}/models 返回的不是 OpenAI 格式的模型列表（HTTP {status}：{body}）。",

    # --- 在本机启动服务器：start_server、模型文件夹、端口
    "serving.start.progress": "正在启动 transformers serve（模型 {model}）",
    "serving.start.cannot_run": "无法运行 {program}：{error}。请重新安装工作簿的依赖包（带 serving 扩展的 "
                                "transformers）。",
    "serving.folder.fix": "请传入 helpers.model_path() 返回的文件夹（或 save_pretrained() 写出的文件夹），"
                          "或者不传 model_dir，使用工作簿选定的模型。",
    "serving.folder.no_folder": "模型文件夹 {folder} 不存在，transformers serve 没有可加载的模型。{fix}",
    "serving.folder.no_config": "模型文件夹 {folder} 里没有 config.json，transformers serve 没有可加载的模型。{fix}",
    "serving.port.not_a_port": "port={port} 不是 TCP 端口：请传入 1024 到 65535 之间的数字，或者传 port=None，"
                               "让辅助函数挑一个空闲端口。",
    "serving.port.in_use": "{host} 上的端口 {port} 已被占用（另一个服务器，或者某个笔记本没有停掉的服务器）。"
                           "请传 port=None 挑一个空闲端口，或者换一个端口，例如 {free}。",

    # --- 等待服务器就绪
    "serving.health.timeout": "transformers serve 在 {timeout:g} 秒内没有就绪（{url} 始终没有返回 200）。"
                              "在较慢的机器上模型可能还在加载：请传入更大的 ready_timeout。"
                              "它的日志（{log_path}）最后几行：\n{log}",
    "serving.exit.message": "transformers serve 在就绪之前就停止了：{why}\n它的日志（{log_path}）最后几行：\n{log}",
    # 从日志里读出的停止原因（helpers.serving._DIAGNOSES），读不出时说明它是怎么结束的。
    "serving.exit.port_in_use": "端口 {port} 已被占用：另一个程序占用了它。请用 port=None 重新启动，挑一个空闲端口。",
    "serving.exit.no_serving_extras": "缺少 serving 扩展：pip install 'transformers[serving]'（工作簿固定了它们的"
                                      "版本）。",
    "serving.exit.no_module": "服务器的环境里缺少某个 Python 包：请重新安装工作簿固定版本的依赖包。",
    "serving.exit.out_of_memory": "加载模型时机器内存不足：请关掉其他笔记本后再试。",
    "serving.exit.cannot_load": "无法从模型文件夹加载模型：请检查里面有没有 config.json、权重文件和分词器文件。",
    "serving.exit.killed": "它被信号终止了；原因见它的日志。",
    "serving.exit.code": "它以退出码 {code} 结束；原因见它的日志。",

    # --- 贪心请求
    "serving.kind.unknown": "未知的服务器类型 {kind}：请使用 {kinds} 之一。",

    # --- 与服务器通信：post_chat、GET 请求、请求失败的原因
    "serving.post.timeout": "{url} 在 {timeout:g} 秒内没有回复。在 CPU 上生成很慢：请少要一些词元（max_tokens），"
                            "或者传入更大的 timeout。",
    "serving.post.unreachable": "无法连接 {url}：{reason}。服务器还在运行吗？",
    "serving.post.http_error": "{url} 返回了 HTTP {status}：{body}",
    "serving.get.timeout": "{url} 在 {timeout:g} 秒内没有应答。",
    "serving.get.failed": "请求失败，{reason}。",
    "serving.reason.refused": "连接被拒绝（那个端口上没有程序在监听）",
    "serving.reason.unknown_host": "无法识别这个主机名",
}
