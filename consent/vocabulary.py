"""The portal's one vocabulary of AI uses and choices (see DESIGN.md), in plain words."""

from django.db import models


class Use(models.TextChoices):
    TRAIN_GENAI = "train-genai", "Training generative AI"
    TRAIN_AI = "train-ai", "Training any AI model"
    AI_INPUT = "ai-input", "Use when running AI (retrieval, answers, prompts)"
    SEARCH = "search", "Search indexing that links back"
    STYLE = "style", "Imitating my style, voice or likeness"


class Choice(models.TextChoices):
    ALLOW = "allow", "Allowed"
    DENY = "deny", "Not allowed"
    LICENCE = "licence", "Only under licence (with payment and credit)"


USES = [use.value for use in Use]
AI_USES = ("train-genai", "train-ai", "ai-input", "style")

# Until a creator says otherwise: every AI use denied, search allowed.
DEFAULTS = {
    "train-genai": Choice.DENY,
    "train-ai": Choice.DENY,
    "ai-input": Choice.DENY,
    "search": Choice.ALLOW,
    "style": Choice.DENY,
}

# deny is stricter than licence, which is stricter than allow.
STRICTNESS = {Choice.ALLOW: 0, Choice.LICENCE: 1, Choice.DENY: 2}

# What each use allows or refuses, said plainly for "this work" (the UI shows it next to every
# choice). ``{kind}`` is the work's kind in lower case ("book", "photograph"…).
_UNDER_LICENCE = "only under a licence, with payment and credit"
PLAIN = {
    ("train-genai", "allow"): "AI companies may train generative models on this {kind}.",
    ("train-genai", "deny"): "AI companies may not train generative models on this {kind}.",
    ("train-genai", "licence"): "AI companies may train generative models on this {kind} "
    + _UNDER_LICENCE
    + ".",
    ("train-ai", "allow"): "AI companies may train any AI model on this {kind}.",
    ("train-ai", "deny"): "AI companies may not train any AI model on this {kind}.",
    ("train-ai", "licence"): "AI companies may train AI models on this {kind} "
    + _UNDER_LICENCE
    + ".",
    (
        "ai-input",
        "allow",
    ): "AI tools may use this {kind} to answer questions (retrieval, grounding).",
    ("ai-input", "deny"): "AI tools may not use this {kind} to answer questions or as input.",
    ("ai-input", "licence"): "AI tools may use this {kind} as input " + _UNDER_LICENCE + ".",
    ("search", "allow"): "Search engines may index this {kind} and link back to it.",
    ("search", "deny"): "Search engines may not index this {kind}.",
    ("search", "licence"): "Search engines may index this {kind} only under a licence.",
    ("style", "allow"): "AI may imitate the style, voice or likeness in this {kind}.",
    ("style", "deny"): "AI may not imitate the style, voice or likeness in this {kind}.",
    ("style", "licence"): "AI may imitate the style, voice or likeness in this {kind} "
    + _UNDER_LICENCE
    + ".",
}
