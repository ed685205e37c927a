from ari_app.ari.events import Backoff


def test_backoff_doubles_and_caps() -> None:
    b = Backoff(initial_s=0.2, maximum_s=1.0)
    assert [b.next_delay() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    b.reset()
    assert b.next_delay() == 0.2


def test_backoff_jitter_stays_near() -> None:
    b = Backoff(initial_s=1.0, maximum_s=1.0, jitter=0.1)
    for _ in range(20):
        assert 0.9 <= b.next_delay() <= 1.1
