"""The chat pipeline of lessons 03-14: messages (:mod:`.messages`); template, ids, generate, slice and decode
(:mod:`.generation`, re-exported here); one step at a time (:mod:`.stepping`); sampling (:mod:`.sampling`); a
conversation's token budget (:mod:`.conversation`) and its kept key/value cache (:mod:`.conversation_cache`)."""

from helpers.chat.generation import GREEDY, Generation, build_inputs, chat, generate, render_prompt

__all__ = ["GREEDY", "Generation", "build_inputs", "chat", "generate", "render_prompt"]
