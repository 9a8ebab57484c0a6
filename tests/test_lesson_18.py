"""Lesson 18 (prompt lookup): the notebook's own propose_draft and accept, run here from its cells on small id lists,
the loop's stopping and cropping on a fake model, and check_appended's feedback on the usual mistakes."""

from pathlib import Path

import pytest
import torch

from helpers import exercises as ex
from tools.edition import cell_source

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "18_faster_without_changing_the_answer.ipynb"
END = 151645   # <|im_end|>


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "en")


def page_function_sources():
    """The definitions of the notebook's cells c06 and c08, without the lines that run the model."""
    draft_cell = cell_source(NOTEBOOK, "c06")
    return draft_cell[:draft_cell.index("\nPARAGRAPH")], cell_source(NOTEBOOK, "c08")


@pytest.fixture(scope="module")
def page():
    """The notebook's own propose_draft, accept and prompt_lookup_greedy, defined by running its cells."""
    namespace = {"torch": torch, "END_IDS": {END, 151643}}
    for source in page_function_sources():
        exec(source, namespace)
    return namespace


# ------------------------------------------------------------------------------------------------------ the draft

@pytest.mark.parametrize("ids, kwargs, draft", [
    ([1, 2, 3, 4, 5, 1, 2], {}, [3, 4, 5, 1, 2]),                  # the pair (1, 2) found: what followed it
    ([1, 2, 3, 4, 5, 1, 2], {"draft_length": 2}, [3, 4]),           # at most draft_length ids
    ([7, 2, 3, 9, 2, 3, 8, 5, 2, 3], {}, [9, 2, 3, 8, 5, 2, 3]),   # the first place wins, not the nearest
    ([1, 2, 3, 4, 5, 9, 2], {}, [3, 4, 5, 9, 2]),                  # no pair (9, 2) before: the last id alone
    ([1, 2, 3, 4], {}, []),                                        # nothing repeats: no draft
    ([5, 6, END, 7, 5, 6], {}, []),                                # the draft stops before an end-of-turn id
    ([5, 6, 8, END, 7, 5, 6], {}, [8]),
    ([4, 5, 6, 4, 5], {"max_ngram": 3}, [6, 4, 5]),                 # (6, 4, 5) not found, (4, 5) is
    ([3, 3, 3], {}, [3]),                                          # the match may overlap the tail
])
def test_the_draft_is_what_followed_the_last_ids_earlier(page, ids, kwargs, draft):
    assert page["propose_draft"](ids, **kwargs) == draft


def test_a_draft_length_of_zero_drafts_nothing(page):
    assert page["propose_draft"]([1, 2, 3, 1, 2], draft_length=0) == []


# ---------------------------------------------------------------------------------------------------- acceptance

@pytest.mark.parametrize("draft, verified, accepted, appended", [
    ([5, 6, 7], [5, 6, 7, 8], 3, [5, 6, 7, 8]),          # all right: the draft and the model's next token
    ([5, 6, 7], [5, 9, 7, 8], 1, [5, 9]),                # stops at the first mismatch, even if later ones agree
    ([5, 6, 7], [4, 6, 7, 8], 0, [4]),                   # nothing right: one token, as a plain greedy step
    ([], [4], 0, [4]),                                   # no draft: a plain greedy step
])
def test_accept_keeps_the_agreeing_prefix_and_the_models_own_token(page, draft, verified, accepted, appended):
    assert page["accept"](draft, verified) == (accepted, appended)


class Cache:
    """A cache that only counts its entries, with DynamicCache's crop (a negative count drops the last entries)."""

    def __init__(self):
        self.length = 0

    def crop(self, count):
        assert count < 0, "the loop crops with a negative count"
        self.length += count


class Scripted:
    """A fake model that wants to write ``wanted`` (prompt and reply): its greedy choice after L ids is wanted[L]. It
    records what the loop feeds it, and keeps a cache that only counts its entries."""

    def __init__(self, wanted):
        self.wanted, self.fed = wanted, []

    def __call__(self, input_ids, cache, use_cache):
        cache = cache or Cache()
        fed = input_ids[0].tolist()
        self.fed.append(fed)
        cache.length += len(fed)
        logits = torch.zeros(1, len(fed), 200000)
        for i in range(len(fed)):
            logits[0, i, self.wanted[cache.length - len(fed) + i + 1]] = 1.0
        return type("Output", (), {"logits": logits, "cache": cache})()


def test_the_loop_writes_the_models_reply_and_feeds_each_id_once(page):
    prompt, reply = [1, 2, 3, 4], [1, 2, 3, 9, 1, 2, 3, 4, 19]
    model = Scripted(prompt + reply + [0] * 10)
    ids, counts = page["prompt_lookup_greedy"](model, torch.tensor([prompt]), max_new_tokens=len(reply))
    assert ids == reply
    assert counts == {"drafted": 7, "accepted": 5, "forward passes": 4}
    fed = [token for step in model.fed for token in step]
    assert len(fed) == len(prompt) + len(ids) - 1 + counts["drafted"] - counts["accepted"], (
        "every id is fed once, except the rejected drafted ids, which the cache forgets")
    assert model.fed[1] == [1, 2, 3, 4, 1], "the model's own last token, then the draft"


def test_the_loop_stops_at_max_new_tokens_and_at_an_end_id(page):
    ids, _ = page["prompt_lookup_greedy"](Scripted([1, 2, 3] * 10), torch.tensor([[1, 2, 3]]), max_new_tokens=5)
    assert ids == [1, 2, 3, 1, 2], "a draft never takes the reply past max_new_tokens"
    ids, counts = page["prompt_lookup_greedy"](Scripted([1, 2, 3, 1, 2, END] + [0] * 10), torch.tensor([[1, 2, 3]]),
                                               max_new_tokens=20)
    assert ids == [1, 2, END] and counts["forward passes"] == 2, "the reply ends with its end-of-turn id"


# -------------------------------------------------------------------------------------------------- the exercise

DRAFT = [" was", " v", "erry", " happy", "."]
VERIFIED = [" was", " very", "ery", " happy", ".", " After"]


def test_the_right_answer_passes():
    feedback = ex.check_appended([" was", " very"], DRAFT, VERIFIED)
    assert feedback and feedback.key == "appended.right" and "' very'" in feedback.message


def test_a_fully_accepted_draft_appends_the_model_token_after_it():
    assert ex.check_appended([1, 2, 3], [1, 2], [1, 2, 3])
    assert ex.check_appended((4,), [], [4])


@pytest.mark.parametrize("answer, key", [
    (None, "no_answer"),
    (" was very", "appended.text"),
    (3, "appended.type"),
    ([" was"], "appended.own_token"),                                  # the model's own token forgotten
    ([" was", " v"], "appended.draft_token"),                          # the draft's token at the mismatch
    ([" was", " happy", "."], "appended.past_mismatch"),               # every agreeing position, past the mismatch
    ([" was", " happy", ".", " After"], "appended.past_mismatch"),
    ([" was", " very", "ery", " happy", "."], "appended.past_mismatch"),
    (DRAFT, "appended.past_mismatch"),
    (VERIFIED, "appended.past_mismatch"),
    ([" very"], "appended.wrong"),
])
def test_each_usual_mistake_gets_its_own_feedback(answer, key):
    feedback = ex.check_appended(answer, DRAFT, VERIFIED)
    assert not feedback and feedback.key == key


def test_a_wrong_answer_never_prints_the_expected_tokens():
    for answer in ([" was"], [" was", " happy", "."], [" very"]):
        assert "' very'" not in ex.check_appended(answer, DRAFT, VERIFIED).message


def test_the_feedback_is_chinese_under_workbook_lang_zh(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    assert "草稿" in ex.check_appended([" was", " very"], DRAFT, VERIFIED).message
    assert "草稿" in ex.check_appended([" was"], DRAFT, VERIFIED).message or \
        "模型" in ex.check_appended([" was"], DRAFT, VERIFIED).message
