"""superres.errors: an UnknownNameError reads as its message (not quoted like a KeyError's), and
exit_status puts back the SIGTERM handler it replaced while the command ran."""

from __future__ import annotations

import signal

from superres.errors import UnknownNameError, exit_status


def test_unknown_name_error_is_its_message_unquoted(capsys):
    exc = UnknownNameError("unknown method 'nosuch'; known: bicubic")
    assert str(exc) == "unknown method 'nosuch'; known: bicubic"

    def command():
        raise exc

    assert exit_status(command, prog="superres") == 1
    assert capsys.readouterr().err == "superres: error: unknown method 'nosuch'; known: bicubic\n"


def test_the_previous_sigterm_handler_is_put_back():
    def mine(signum, frame):
        pass

    before = signal.signal(signal.SIGTERM, mine)
    try:
        seen = []
        assert exit_status(lambda: seen.append(signal.getsignal(signal.SIGTERM)) or 0) == 0
        assert seen and seen[0] is not mine  # replaced while the command ran
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
