"""The reliability ledger: what the suite tried against the stack and how the stack held.

Tests record each fault they inject, each attack they try and each bad input they send, as a
context manager around the assertions that prove the stack held; a failed assertion records
the attempt as not held. At the end of the run pytest prints one summary line:

    faults injected 6 / survived 6; attacks tried 14 / refused 14; ...; files lost 0
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import pytest

KINDS = {
    "fault": ("faults injected", "survived"),
    "attack": ("attacks tried", "refused"),
    "input": ("bad inputs tried", "rejected cleanly"),
}


@dataclass
class Ledger:
    tried: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    held: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    files_checked: int = 0
    files_lost: list[str] = field(default_factory=list)

    @contextmanager
    def record(self, kind: str, what: str) -> Iterator[None]:
        self.tried[kind].append(what)
        yield  # an exception here (a failed assertion) means the stack did not hold
        self.held[kind].append(what)

    def fault(self, what: str) -> AbstractContextManager[None]:
        return self.record("fault", what)

    def attack(self, what: str) -> AbstractContextManager[None]:
        return self.record("attack", what)

    def bad_input(self, what: str) -> AbstractContextManager[None]:
        return self.record("input", what)

    def files(self, expected: dict[str, str], found: dict[str, str | None]) -> list[str]:
        """Compare files written before a fault with what is read back after it."""
        self.files_checked += len(expected)
        lost = [path for path, content in expected.items() if found.get(path) != content]
        self.files_lost.extend(lost)
        return lost

    def summary(self) -> str:
        parts = [
            f"{label} {len(self.tried[kind])} / {held} {len(self.held[kind])}"
            for kind, (label, held) in KINDS.items()
        ]
        parts.append(f"files checked {self.files_checked}, lost {len(self.files_lost)}")
        return "; ".join(parts)

    def not_held(self) -> list[str]:
        return [
            f"{kind}: {what}"
            for kind in KINDS
            for what in self.tried[kind]
            if what not in self.held[kind]
        ]


LEDGER = Ledger()


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return LEDGER


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not any(LEDGER.tried.values()) and not LEDGER.files_checked:
        return
    terminalreporter.section("mini-SWAN reliability and security")
    terminalreporter.line(LEDGER.summary())
    for item in LEDGER.not_held():
        terminalreporter.line(f"  did not hold: {item}")
    for path in LEDGER.files_lost:
        terminalreporter.line(f"  lost: {path}")
