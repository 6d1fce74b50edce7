"""Leases: one holder at a time, elected through the database, taken over once expired."""

import time

from devtone.domain import leases


def test_one_holder_at_a_time_and_a_takeover_once_it_expires(app):
    with app.app_context():
        assert leases.hold("job", "first", 0.3)
        assert leases.hold("job", "first", 0.3)  # renewed by its holder
        assert not leases.hold("job", "second", 60)
        time.sleep(0.4)  # the first holder stopped renewing it
        assert leases.hold("job", "second", 60)
        assert not leases.hold("job", "first", 60)


def test_a_released_lease_is_taken_at_once(app):
    with app.app_context():
        assert leases.hold("job", "first", 60)
        leases.release("job", "second")  # not its holder: nothing happens
        assert not leases.hold("job", "second", 60)
        leases.release("job", "first")
        assert leases.hold("job", "second", 60)


def test_leases_of_other_jobs_are_their_own(app):
    with app.app_context():
        assert leases.hold("mail-out", "first", 60)
        assert leases.hold("other job", "second", 60)
