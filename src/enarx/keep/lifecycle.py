"""A run's lifecycle as a transition table (the h11 ``_state.py`` way).

loaded -> compiled -> instantiated -> running -> exited | trapped | stopped.
An illegal transition is a runtime bug and raises, naming the event and the state.
"""

from __future__ import annotations

from enum import Enum


class State(Enum):
    LOADED = "loaded"
    COMPILED = "compiled"
    INSTANTIATED = "instantiated"
    RUNNING = "running"
    EXITED = "exited"  # _start returned or proc_exit was called
    TRAPPED = "trapped"  # the guest trapped (or a host function trapped it)
    STOPPED = "stopped"  # the runtime stopped it: a time or memory limit


class Event(Enum):
    COMPILE = "compile"
    INSTANTIATE = "instantiate"
    START = "start"
    EXIT = "exit"
    TRAP = "trap"
    STOP = "stop"


TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.LOADED, Event.COMPILE): State.COMPILED,
    (State.COMPILED, Event.INSTANTIATE): State.INSTANTIATED,
    (State.INSTANTIATED, Event.START): State.RUNNING,
    (State.RUNNING, Event.EXIT): State.EXITED,
    (State.RUNNING, Event.TRAP): State.TRAPPED,
    (State.RUNNING, Event.STOP): State.STOPPED,
}


class IllegalTransition(RuntimeError):
    pass


class Lifecycle:
    def __init__(self) -> None:
        self.state = State.LOADED
        self.history = [State.LOADED]

    def advance(self, event: Event) -> State:
        try:
            self.state = TRANSITIONS[(self.state, event)]
        except KeyError:
            raise IllegalTransition(f"event {event.value!r} is illegal in state {self.state.value!r}") from None
        self.history.append(self.state)
        return self.state

    @property
    def finished(self) -> bool:
        return self.state in (State.EXITED, State.TRAPPED, State.STOPPED)
