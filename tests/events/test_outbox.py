"""The outbox's publisher thread: a commit never waits for the broker, and bursts share one wake-up."""

import threading
import time

from events import outbox


def test_a_burst_of_commits_shares_few_wake_ups(monkeypatch):
    # given: a broker that takes 20 ms per publish
    published = []

    def slow_publish():
        time.sleep(0.02)
        published.append(time.monotonic())

    monkeypatch.setattr(outbox, "_dispatcher", slow_publish)
    monkeypatch.setattr(outbox, "_background", True)
    monkeypatch.setattr(outbox, "_current", None)
    # when: 200 commits notify within a few milliseconds
    started = time.monotonic()
    for _ in range(200):
        outbox.notify()
    notify_time = time.monotonic() - started
    deadline = time.monotonic() + 5
    while (not published or outbox._current._published < outbox._current._asked) and time.monotonic() < deadline:
        time.sleep(0.01)
    # then: the callers did not wait for the broker, and a handful of publishes covered all of them
    assert notify_time < 0.02 * 5
    assert 1 <= len(published) <= 3
    assert outbox._current._published == outbox._current._asked == 200


def test_a_wake_up_still_wanted_at_exit_is_published_by_flush(monkeypatch):
    # given: a publisher whose thread is stuck in a publish
    release, calls = threading.Event(), []

    def stuck():
        calls.append("wake-up")
        if len(calls) == 1:
            release.wait(2)

    monkeypatch.setattr(outbox, "_dispatcher", stuck)
    monkeypatch.setattr(outbox, "_background", True)
    monkeypatch.setattr(outbox, "_current", None)
    outbox.notify()
    deadline = time.monotonic() + 2
    while not calls and time.monotonic() < deadline:
        time.sleep(0.005)
    outbox.notify()  # wanted while the first publish is in flight
    # when: the process exits (atexit runs flush)
    outbox._current.flush()
    # then: the second wake-up was published at exit, not lost with the daemon thread
    assert calls == ["wake-up", "wake-up"]
    release.set()
