"""Discord's size limits on messages, embeds, components and autocomplete choices.

Each check returns Discord's nested "Invalid Form Body" ``errors`` object, empty when the payload is fine.
"""

from __future__ import annotations

from typing import Any

from .codes import ComponentType

Errors = dict[str, Any]

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_FIELDS_MAX = 25
EMBED_TEXT_MAX = {"title": 256, "description": 4096}
ACTION_ROWS_MAX = 5
ROW_ITEMS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100
MESSAGE_FLAG_COMPONENTS_V2 = 1 << 15


def add_error(errors: Errors, path: tuple[str | int, ...], code: str, message: str) -> None:
    node = errors
    for key in path:
        node = node.setdefault(str(key), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _max_len(errors: Errors, path: tuple[str | int, ...], value: Any, limit: int) -> int:
    """Record an error when ``value`` is longer than ``limit``; return its length."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        add_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return len(text)


def check_embeds(embeds: list[dict[str, Any]], errors: Errors) -> None:
    """Per-embed limits, the 25-field limit, 10 embeds and 6000 characters across all embeds."""
    if len(embeds) > EMBEDS_MAX:
        add_error(errors, ("embeds",), "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_TEXT_MAX.items():
            total += _max_len(errors, ("embeds", i, key), embed.get(key), limit)
        total += _max_len(errors, ("embeds", i, "footer", "text"), (embed.get("footer") or {}).get("text"), 2048)
        total += _max_len(errors, ("embeds", i, "author", "name"), (embed.get("author") or {}).get("name"), 256)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            add_error(errors, ("embeds", i, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, field in enumerate(fields):
            total += _max_len(errors, ("embeds", i, "fields", j, "name"), field.get("name"), 256)
            total += _max_len(errors, ("embeds", i, "fields", j, "value"), field.get("value"), 1024)
    if total > EMBED_TOTAL_MAX:
        message = f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"
        add_error(errors, ("embeds",), "MAX_EMBED_SIZE_EXCEEDED", message)


def _check_component(component: dict[str, Any], path: tuple[str | int, ...], errors: Errors) -> None:
    if "custom_id" in component:
        _max_len(errors, (*path, "custom_id"), component["custom_id"], CUSTOM_ID_MAX)
    if component.get("type") == ComponentType.BUTTON:
        _max_len(errors, (*path, "label"), component.get("label"), BUTTON_LABEL_MAX)
    options = component.get("options") or []
    if len(options) > SELECT_OPTIONS_MAX:
        add_error(errors, (*path, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for k, option in enumerate(options):
        _max_len(errors, (*path, "options", k, "label"), option.get("label"), CHOICE_TEXT_MAX)
        _max_len(errors, (*path, "options", k, "value"), option.get("value"), CHOICE_TEXT_MAX)
    for k, child in enumerate(component.get("components") or []):
        _check_component(child, (*path, "components", k), errors)


def check_components(components: list[dict[str, Any]], flags: int, errors: Errors) -> None:
    """At most 5 action rows of at most 5 items (classic layout); custom_id, label and option lengths."""
    if not flags & MESSAGE_FLAG_COMPONENTS_V2:
        if len(components) > ACTION_ROWS_MAX:
            add_error(errors, ("components",), "BASE_TYPE_MAX_LENGTH", f"Must be {ACTION_ROWS_MAX} or fewer in length.")
        for i, row in enumerate(components):
            if len(row.get("components") or []) > ROW_ITEMS_MAX:
                path = ("components", i, "components")
                add_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {ROW_ITEMS_MAX} or fewer in length.")
    for i, component in enumerate(components):
        _check_component(component, ("components", i), errors)


def check_message(payload: dict[str, Any]) -> Errors:
    """All limits on a message create or edit body (content, embeds, components)."""
    errors: Errors = {}
    _max_len(errors, ("content",), payload.get("content"), CONTENT_MAX)
    check_embeds(payload.get("embeds") or [], errors)
    check_components(payload.get("components") or [], payload.get("flags") or 0, errors)
    return errors


def check_choices(data: dict[str, Any]) -> Errors:
    """Autocomplete result: at most 25 choices, name and string value at most 100 characters."""
    errors: Errors = {}
    choices = data.get("choices") or []
    if len(choices) > CHOICES_MAX:
        add_error(errors, ("choices",), "BASE_TYPE_MAX_LENGTH", f"Must be {CHOICES_MAX} or fewer in length.")
    for i, choice in enumerate(choices):
        _max_len(errors, ("choices", i, "name"), choice.get("name"), CHOICE_TEXT_MAX)
        if isinstance(choice.get("value"), str):
            _max_len(errors, ("choices", i, "value"), choice["value"], CHOICE_TEXT_MAX)
    return errors


def is_empty_message(payload: dict[str, Any]) -> bool:
    """True when a new message would have nothing to show (Discord error 50006)."""
    keys = ("content", "embeds", "components", "attachments", "sticker_ids", "poll")
    return not any(payload.get(key) for key in keys)


def allowed_mentions_problem(payload: dict[str, Any]) -> str | None:
    """Why ``allowed_mentions`` could ping someone (project rule: ``parse: []`` everywhere), or None."""
    allowed = payload.get("allowed_mentions")
    if allowed is None:
        return "allowed_mentions is missing, so Discord would parse every mention in the content"
    if allowed.get("parse"):
        return f"allowed_mentions.parse allows {allowed['parse']}"
    if allowed.get("users") or allowed.get("roles"):
        return "allowed_mentions lists users or roles to ping"
    if allowed.get("replied_user"):
        return "allowed_mentions.replied_user pings the author of the replied-to message"
    return None
