"""Discord's numbers, named as its API documentation names them: interaction types, the callback (interaction
response) types a bot answers with, channel, command, option and component types, and the message flags the fake
reads. IntEnums, so a payload holds the plain number Discord sends."""

from enum import IntEnum


class InteractionType(IntEnum):
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4


class Callback(IntEnum):
    """Interaction response types (1 PONG is only for HTTP interactions, never the gateway)."""

    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5  # "thinking…"
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7  # the component's message edited in place
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class ChannelType(IntEnum):
    GUILD_TEXT = 0
    DM = 1
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_FORUM = 15


THREAD_TYPES = frozenset({ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD})


class CommandType(IntEnum):
    CHAT_INPUT = 1  # a slash command
    MESSAGE = 3  # a message's context menu


class OptionType(IntEnum):
    SUB_COMMAND = 1
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    NUMBER = 10
    ATTACHMENT = 11


class ComponentType(IntEnum):
    ACTION_ROW = 1
    BUTTON = 2


EPHEMERAL = 1 << 6  # only the user who interacted sees the message
LOADING = 1 << 7  # a deferred reply still "thinking…"


class MessageType(IntEnum):
    DEFAULT = 0
    REPLY = 19


REFERENCE_DEFAULT = 0  # a message reference's type: a reply (1 would be a forward)
