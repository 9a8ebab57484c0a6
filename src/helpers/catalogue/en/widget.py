"""The chat widget's words (:mod:`helpers.widget`): buttons, boxes, role labels, the status line, the template panel.

Keys start with ``widget.``; ``catalogue/zh/widget.py`` has the same keys with the same fields. The names of
``generate``'s arguments (temperature, top_p, top_k, repetition_penalty, max_new_tokens) are code, not words: the
widget shows them as they are in every language, so they are not here.
"""

MESSAGES: dict[str, str] = {
    # --- what a saved notebook shows in place of the widget (its text/plain)
    "widget.plain_text": "ChatWidget: run this cell to start the chat. (A widget lives in a running kernel: a saved "
                         "or reopened notebook cannot show it until the cell runs again.)",

    # --- buttons, boxes and their tooltips
    "widget.placeholder": "Type a message, then press Enter or Send",
    "widget.send": "Send",
    "widget.send_tooltip": "Send (or press Enter in the text box)",
    "widget.stop": "Stop",
    "widget.reset": "Reset",
    "widget.reset_tooltip": "Start a new conversation",
    "widget.system_prompt": "System prompt",
    "widget.decoding": "Decoding",
    "widget.mode.sampling": "sampling",
    "widget.mode.greedy": "greedy",
    "widget.seed": "seed",
    "widget.seed_placeholder": "new every Send",
    "widget.template.show": "Show the chat template",
    "widget.template.hide": "Hide the chat template",

    # --- the conversation and the template panel (HTML: the markup is the widget's, the words are these)
    "widget.role.system": "System",
    "widget.role.user": "You",
    "widget.role.assistant": "Assistant",
    "widget.no_messages": "No messages yet.",
    "widget.template.empty": "No messages yet: the chat template has nothing to render.",
    "widget.template.count": "The conversation as the model reads it (notebook 04); Send adds your message and "
                             "<code>&lt;|im_start|&gt;assistant</code>. <b>{count:,} tokens</b> of the model's "
                             "{context_length:,}-token context ({share:.1%}).",

    # --- the decoding settings in one line (status line of a new conversation)
    "widget.settings.greedy": "greedy",
    "widget.settings.sampling": "sampling: temperature {temperature:g}, top_p {top_p:g}, top_k {top_k}, {seed}",
    "widget.settings.seed": "seed {seed}",
    "widget.settings.new_seed": "a new seed every Send",
    "widget.settings.summary": "{decoding}, repetition_penalty {repetition_penalty:g}, "
                               "max_new_tokens {max_new_tokens}",

    # --- the status line
    "widget.status.ready": "Ready ({settings}): type a message and press Enter or Send.",
    "widget.status.new_conversation": "New conversation ({settings}): type a message and press Enter or Send.",
    "widget.status.busy": "Wait for the reply to finish, or press Stop.",
    "widget.status.empty": "Type a message first: an empty message gives the model nothing to answer.",
    "widget.status.bad_seed": "The seed {typed} is not a whole number: type one (e.g. 42) to get the same sample on "
                              "every Send, or empty the box for a new sample each time.",
    "widget.status.no_prompt": "Could not build the prompt: {error}",
    "widget.status.generating": "Generating... (Stop interrupts it)",
    "widget.status.nothing_to_stop": "Nothing to stop: no reply is being generated.",
    "widget.status.stopping": "Stopping...",
    "widget.status.failed": "Generation failed: {error}. Your message is back in the box.",
    "widget.status.no_text": "No text came back ({tokens}, ended by {ended}); your message is back in the box.",
    "widget.status.done": "Done: {tokens} {timing}; ended by {ended}; {how}{read}.",
    "widget.status.stopped": "Stopped: {tokens} {timing}; ended by {ended}; {how}{read}.",
    # the parts of a finished reply's status line
    "widget.tokens.one": "{count} new token",
    "widget.tokens.many": "{count} new tokens",
    "widget.timing": "in {seconds:.1f} s",
    "widget.timing.first": "in {seconds:.1f} s, first token after {first:.2f} s",
    "widget.ended.stop": "Stop",
    "widget.ended.end_of_turn": "end of turn",
    "widget.ended.max_new_tokens": "max_new_tokens",
    "widget.how.greedy": "greedy",
    "widget.how.sampled": "sampled with seed {seed}",
    "widget.read": "; read {computed} of {prompt} prompt tokens, {reused} from the kept cache",
}
