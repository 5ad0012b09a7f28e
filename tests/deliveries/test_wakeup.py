"""Wake-up countdowns on a broker that delays them in whole seconds (RabbitMQ quorum queues, Celery's native delay)."""

from __future__ import annotations

import threading
import time

import pytest

from deliveries import tasks, wakeup


@pytest.fixture
def whole_seconds(monkeypatch):
    """The broker as RabbitMQ with quorum queues; what reaches Celery's send_task is recorded."""
    sent = []
    monkeypatch.setattr(wakeup, "whole_seconds", lambda: True)
    monkeypatch.setattr(
        wakeup.current_app, "send_task", lambda name, countdown=None, kwargs=None, **_: sent.append((countdown, kwargs))
    )
    return sent


def test_a_countdown_travels_in_whole_seconds_with_its_due_time_and_the_rest_on_the_timer(whole_seconds):
    # when: a wake-up in 1.7 s, one in 0.25 s
    before = time.time()
    wakeup.publish(countdown=1.7)
    wakeup.publish(countdown=0.25)

    # then: 1 s through the broker, carrying when it is due; nothing yet for the sub-second one
    [(countdown, kwargs)] = whole_seconds
    assert countdown == 1 and before + 1.7 <= kwargs["due"] <= time.time() + 1.7
    # the sub-second one is published by this process's timer when it is due, without a countdown
    deadline = time.time() + 5
    while len(whole_seconds) < 2 and time.time() < deadline:
        time.sleep(0.01)
    assert whole_seconds[1] == (None, None) and time.time() >= before + 0.25


def test_a_wake_up_that_comes_early_goes_back_to_the_timer_instead_of_running(whole_seconds, monkeypatch):
    ran = threading.Event()
    monkeypatch.setattr(tasks.runs, "run", lambda: ran.set())

    # when: the broker hands over a message 0.3 s before its due time
    assert tasks.work_task.run(due=time.time() + 0.3) == 0

    # then: no run now; a plain wake-up is published when it is due
    assert not ran.is_set()
    deadline = time.time() + 5
    while not whole_seconds and time.time() < deadline:
        time.sleep(0.01)
    assert whole_seconds == [(None, None)]
