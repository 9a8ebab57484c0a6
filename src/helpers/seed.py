"""What the seed article uses and shows: its model, its messages and the prompt ids it printed."""

SEED_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"

SEED_SYSTEM_PROMPT = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
SEED_PROMPT = "Give me a short introduction to large language model."
SEED_CHINESE_PROMPT = "请介绍一下iPhone"

# The 39 ids the seed printed for tokenizer([text]) of its messages, control tokens included.
SEED_PROMPT_IDS = [
    151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13, 1446, 525, 264, 10950, 17847, 13,
    151645, 198, 151644, 872, 198, 35127, 752, 264, 2805, 16800, 311, 3460, 4128, 1614, 13, 151645, 198,
    151644, 77091, 198,
]


def seed_messages(prompt: str = SEED_PROMPT, system: str = SEED_SYSTEM_PROMPT) -> list[dict]:
    """The seed's conversation: one system message and one user message."""
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": prompt},
    ]
