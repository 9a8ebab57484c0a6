"""聊天小部件（:mod:`helpers.widget`）里的文字（中文）：按钮、输入框、角色名、状态栏、对话模板面板。

键和花括号里的字段与 ``catalogue/en/widget.py`` 完全相同。按钮在状态栏里被提到时，用的是按钮上的中文名
（“发送”“停止”“重新开始”）。generate 的参数名（temperature、top_p、top_k、repetition_penalty、max_new_tokens）
是代码，照原样显示，不翻译。
"""

MESSAGES: dict[str, str] = {
    # --- 保存下来的笔记本在小部件的位置显示的文字（text/plain）
    "widget.plain_text": "ChatWidget：运行这个单元格即可开始聊天。（小部件活在正在运行的内核里：保存后或重新打开的"
                         "笔记本要再运行一次这个单元格才能显示它。）",

    # --- 按钮、输入框和它们的提示
    "widget.placeholder": "输入消息，然后按 Enter 或点击“发送”",
    "widget.send": "发送",
    "widget.send_tooltip": "发送（也可以在输入框里按 Enter）",
    "widget.stop": "停止",
    "widget.reset": "重新开始",
    "widget.reset_tooltip": "开始一段新的对话",
    "widget.system_prompt": "系统提示",
    "widget.decoding": "解码方式",
    "widget.mode.sampling": "采样",
    "widget.mode.greedy": "贪心",
    "widget.seed": "随机种子",
    "widget.seed_placeholder": "每次发送都换新的",
    "widget.template.show": "显示对话模板",
    "widget.template.hide": "隐藏对话模板",

    # --- 对话区和对话模板面板（HTML：标记是小部件的，文字是这里的）
    "widget.role.system": "系统",
    "widget.role.user": "你",
    "widget.role.assistant": "助手",
    "widget.no_messages": "还没有消息。",
    "widget.template.empty": "还没有消息：对话模板没有内容可渲染。",
    "widget.template.count": "这是模型读到的对话（笔记本 04）；点击“发送”会加上你的消息和 "
                             "<code>&lt;|im_start|&gt;assistant</code>。<b>{count:,} 个词元</b>，"
                             "占模型 {context_length:,} 个词元上下文的 {share:.1%}。",

    # --- 一行写完的解码设置（新对话开始时的状态栏）
    "widget.settings.greedy": "贪心解码",
    "widget.settings.sampling": "采样：temperature {temperature:g}，top_p {top_p:g}，top_k {top_k}，{seed}",
    "widget.settings.seed": "随机种子 {seed}",
    "widget.settings.new_seed": "每次发送都用新的随机种子",
    "widget.settings.summary": "{decoding}，repetition_penalty 为 {repetition_penalty:g}，"
                               "max_new_tokens 为 {max_new_tokens}",

    # --- 状态栏
    "widget.status.ready": "准备就绪（{settings}）：输入消息，然后按 Enter 或点击“发送”。",
    "widget.status.new_conversation": "新的对话（{settings}）：输入消息，然后按 Enter 或点击“发送”。",
    "widget.status.busy": "请等这条回复生成完，或者点击“停止”。",
    "widget.status.empty": "请先输入消息：空消息没有内容可让模型回答。",
    "widget.status.bad_seed": "随机种子 {typed} 不是整数：输入一个整数（例如 42），每次发送都会得到同样的采样结果；"
                              "清空这个框，则每次都重新采样。",
    "widget.status.no_prompt": "无法构建提示：{error}",
    "widget.status.generating": "正在生成……（点击“停止”可以中断）",
    "widget.status.nothing_to_stop": "没有可停止的：现在没有在生成回复。",
    "widget.status.stopping": "正在停止……",
    "widget.status.failed": "生成失败：{error}。你的消息已放回输入框。",
    "widget.status.no_text": "没有生成任何文字（{tokens}，结束原因：{ended}）；你的消息已放回输入框。",
    "widget.status.done": "完成：{tokens}，{timing}；结束原因：{ended}；{how}{read}。",
    "widget.status.stopped": "已停止：{tokens}，{timing}；结束原因：{ended}；{how}{read}。",
    # 一条回复结束后状态栏的各个部分
    "widget.tokens.one": "{count} 个新词元",
    "widget.tokens.many": "{count} 个新词元",
    "widget.timing": "用时 {seconds:.1f} 秒",
    "widget.timing.first": "用时 {seconds:.1f} 秒，{first:.2f} 秒后出现第一个词元",
    "widget.ended.stop": "点击了“停止”",
    "widget.ended.end_of_turn": "模型结束了这一轮",
    "widget.ended.max_new_tokens": "达到 max_new_tokens",
    "widget.how.greedy": "贪心解码",
    "widget.how.sampled": "采样，随机种子 {seed}",
    "widget.read": "；提示共 {prompt} 个词元，只读了 {computed} 个，另外 {reused} 个来自保留的缓存",
}
