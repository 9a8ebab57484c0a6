"""A pytest plugin (registered by the repository's ``conftest.py``): the slowest files first.

``make test`` runs on two workers, each taking whole files (a notebook's cells share one kernel). Started last, a
one-minute notebook leaves the other worker idle for that minute; started first, the short files fill in around it
(longest-processing-time-first scheduling). The ranking comes from ``--durations`` of a whole run; a file not named
keeps its place after these. Within a file the order never changes.
"""

from __future__ import annotations

SLOWEST = (
    "tests/test_browser.py", "31_what_int4_costs", "30_why_is_decoding_slow", "16_tools", "17_structured_output",
    "18_faster_without_changing_the_answer", "40_the_same_messages_over_http",
    "14_multi_turn_and_streaming", "13_batching_and_padding", "09_the_whole_pipeline", "10_inside_generate",
    "20_chat_widget", "90_solutions", "12_sampling", "11_kv_cache", "tests/test_conversation_cache.py", "tests/test_perf.py",
    "tests/test_serving.py", "06_generate", "07_slicing", "08_decoding", "15_same_model_other_words",
)


def rank(path: str) -> int:
    return next((i for i, name in enumerate(SLOWEST) if name in path), len(SLOWEST))


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: rank(item.path.as_posix()))  # a stable sort: cells keep their order
