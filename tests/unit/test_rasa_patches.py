"""ops.rasa_patches, each against plain Rasa: the action-result check (same verdicts and
messages), the ticket lock (cannot wait for ever), TED predictions reused for seen
dialogue states and the direct graph call (same outputs as TensorFlow's), the SQLite
tracker store (same rows with fewer queries), event classes by name (same classes)."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError

from rasa.core.actions.action import RemoteAction
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from ops import rasa_patches


@pytest.fixture(autouse=True)
def plain_rasa_again():
    """install() patches all; every test here starts and ends with plain Rasa."""
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import Event

    from rasa.utils.tensorflow.models import RasaModel

    from rasa.shared.core.trackers import DialogueStateTracker

    patched = [(DialogueStateTracker, "past_states"), (RasaModel, "_rasa_predict"),
               (Event, "resolve_by_type"), (Event, "__init_subclass__"),(LockStore, "_acquire_lock"), (RemoteAction, "_validate_action_result"),
               (TEDPolicy, "predict_action_probabilities"), (SQLTrackerStore, "__init__"),
               (SQLTrackerStore, "_retrieve"), (SQLTrackerStore, "save")]
    originals = [(owner, name, owner.__dict__.get(name)) for owner, name in patched]
    yield
    for owner, name, original in originals:
        if original is None:
            if name in owner.__dict__:
                delattr(owner, name)
        else:
            setattr(owner, name, original)


GOOD = {
    "events": [{"event": "slot", "name": "topic", "value": "x", "timestamp": None}],
    "responses": [{"text": "Hallo", "buttons": [{"title": "Ja", "payload": "/affirm"}]}],
}
BAD = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"responses": "text"},
]


def _action():
    return RemoteAction("action_x", EndpointConfig("http://127.0.0.1:9/webhook"))


def _verdicts(action):
    out = []
    for result in [GOOD] + BAD:
        try:
            out.append(action._validate_action_result(result))
        except ValidationError as error:
            out.append(error.message)
    return out


def test_patched_validation_gives_the_same_verdicts_and_messages():
    original = RemoteAction._validate_action_result
    before = _verdicts(_action())
    try:
        rasa_patches.install()
        assert RemoteAction._validate_action_result is not original
        rasa_patches.install()  # idempotent
        after = _verdicts(_action())
    finally:
        RemoteAction._validate_action_result = original
    assert before[0] is True and all(isinstance(v, str) for v in before[1:])
    assert after == before


@pytest.mark.parametrize("bad", BAD)
def test_patched_validation_rejects_bad_results(bad):
    original = RemoteAction._validate_action_result
    try:
        rasa_patches.install()
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            _action()._validate_action_result(bad)
    finally:
        RemoteAction._validate_action_result = original


def _real_events():
    """One event of every kind, serialised by Rasa itself."""
    from datetime import datetime

    from rasa.shared.core import events as e

    return [ev.as_dict() for ev in [
        e.UserUttered("Outlook", {"name": "setup_client", "confidence": 0.9},
                      [{"entity": "client", "value": "outlook", "start": 0, "end": 7}]),
        e.ActionExecuted("action_set_topic", policy="RulePolicy", confidence=1.0),
        e.SlotSet("client", "outlook"), e.EntitiesAdded([{"entity": "client", "value": "x"}]),
        e.DefinePrevUserUtteredFeaturization(False),
        e.ReminderScheduled("remind", datetime(2026, 11, 28)), e.ReminderCancelled(name="r"),
        e.ActionExecutionRejected("details_form"), e.LoopInterrupted(True),
        e.ActiveLoop("details_form"), e.ActiveLoop(None),
        e.AllSlotsReset(), e.ConversationResumed(), e.ConversationPaused(),
        e.FollowupAction("action_listen"), e.StoryExported("x.yml"), e.Restarted(),
        e.UserUtteranceReverted(), e.ActionReverted(), e.SessionStarted(),
        e.BotUttered("Hallo", {"buttons": [{"title": "Ja", "payload": "/affirm"}]}),
        e.AgentUttered("Hallo"),
    ]] + [{"event": "form", "name": "details_form", "timestamp": None},  # Rasa 2 names
          {"event": "form_validation", "validate": False, "timestamp": None}]


def _variants():
    """Valid responses and, from each event, ones broken in every field."""
    events = _real_events()
    yield {"events": events, "responses": [{"text": "Hallo"}]}
    yield {}
    for event in events:
        yield {"events": [event]}
        for key in list(event) + ["event"]:
            for wrong in (None, 1, 2.5, "x", [], {}, True):
                broken = dict(event)
                broken[key] = wrong
                yield {"events": [event, broken]}
        yield {"events": [{k: v for k, v in event.items() if k != "event"}]}
    for odd in ("text", 1, None, [], [1], ["user"], [{"event": "no_such"}], [{}]):
        yield {"events": odd}
    for odd in (None, "x", 1, []):
        yield odd


def test_the_quick_check_accepts_exactly_what_the_full_schema_accepts():
    import jsonschema

    from ops.rasa_patches.action_validator import _event_types, quick_check

    schema = RemoteAction.action_response_format_spec()
    full = jsonschema.validators.validator_for(schema)(schema)
    quick = quick_check(schema, type(full))
    assert {e["event"] for e in _real_events()} == set(_event_types(schema))  # every type
    variants = list(_variants())
    verdicts = [(quick(v), full.is_valid(v)) for v in variants]
    assert len(variants) > 500
    assert all(q == f for q, f in verdicts), [v for v, (q, f) in zip(variants, verdicts) if q != f][:3]
    assert 50 < sum(f for _, f in verdicts) < len(variants) - 50  # both verdicts tried


def test_the_stack_starts_rasa_with_the_speed_up_and_the_baseline_without(tmp_path):
    from ops.stack import Stack

    ours = Stack(web=False, run_dir=tmp_path / "ours").processes["rasa"].args
    plain = Stack(web=False, run_dir=tmp_path / "plain", plain_rasa=True).processes["rasa"].args
    assert ours[1:4] == ["-m", "ops.rasa_patches", "run"]
    assert plain[0].endswith("/rasa") and plain[1] == "run"
    def options(args):
        return [a for a in args if a.startswith("--") and "=" not in a]
    assert options(ours) == options(plain)  # same options otherwise


# -- the ticket lock ----------------------------------------------------------------------
import asyncio  # noqa: E402
import time  # noqa: E402

from rasa.core.lock_store import InMemoryLockStore  # noqa: E402


async def _both_tickets_expire_before_the_waiter_looks(store: LockStore) -> bool:
    """The holder (a crashed process) and the waiter both outlive their lifetime before the
    waiter's next poll (the event loop was busy). True if the waiter gets the lock."""
    store.issue_ticket("c", 0.3)
    await asyncio.sleep(0.05)
    mine = store.issue_ticket("c", 0.3)
    time.sleep(0.5)  # blocks the loop: both tickets expire
    try:
        await asyncio.wait_for(store._acquire_lock("c", mine, 0.05), 2)
        return True
    except asyncio.TimeoutError:
        return False


async def test_unpatched_rasa_waits_for_ever_when_the_own_ticket_expired():
    # the defect the patch exists for; if Rasa fixes it, this fails and the patch can go
    assert await _both_tickets_expire_before_the_waiter_looks(InMemoryLockStore()) is False


async def test_patched_lock_is_acquired_when_the_own_ticket_expired():
    rasa_patches.install()
    assert await _both_tickets_expire_before_the_waiter_looks(InMemoryLockStore()) is True


async def test_patched_lock_still_serves_tickets_in_order():
    rasa_patches.install()
    store = InMemoryLockStore()
    first = store.issue_ticket("c", 30)
    second = store.issue_ticket("c", 30)
    waiter = asyncio.ensure_future(store._acquire_lock("c", second, 0.02))
    await asyncio.sleep(0.2)
    assert not waiter.done()  # the first ticket is still being served
    assert (await store._acquire_lock("c", first, 0.02)) is not None
    store.cleanup("c", first)
    assert await asyncio.wait_for(waiter, 2) is not None


async def test_patched_lock_skips_an_expired_holder():
    rasa_patches.install()
    store = InMemoryLockStore()
    store.issue_ticket("c", 0.2)  # its process died: never cleaned up
    mine = store.issue_ticket("c", 30)
    started = time.monotonic()
    assert await asyncio.wait_for(store._acquire_lock("c", mine, 0.02), 2) is not None
    assert time.monotonic() - started >= 0.15  # waited for the holder to expire


# -- TED predictions from the cache ----------------------------------------------------
import json  # noqa: E402
import sqlite3  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from ops.rasa_patches import sqlite_store, ted_cache  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "mailhilfe.tar.gz"


COMPARED = []  # (cached path's prediction, TensorFlow's prediction, policy) per TED call


@pytest.fixture(scope="module")
def agent():
    """The trained model, loaded with TED's predictions going through the cache and, for
    comparison, through TensorFlow as well (Rasa binds policy methods when it loads)."""
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL.relative_to(ROOT)}: run `make train` first")
    from rasa.core.agent import Agent
    from rasa.core.policies.ted_policy import TEDPolicy

    plain = TEDPolicy.predict_action_probabilities
    ted_cache.install()
    cached = TEDPolicy.predict_action_probabilities

    def compare(self, tracker, domain, rule_only_data=None, precomputations=None, **kwargs):
        got = cached(self, tracker, domain, rule_only_data=rule_only_data,
                     precomputations=precomputations, **kwargs)
        want = plain(self, tracker, domain, rule_only_data=rule_only_data,
                     precomputations=precomputations, **kwargs)
        COMPARED.append((got, want, self))
        return got

    TEDPolicy.predict_action_probabilities = compare
    try:
        return Agent.load(str(MODEL))
    finally:
        TEDPolicy.predict_action_probabilities = plain


def _story_trackers(agent):
    from rasa.core.test import _create_data_generator

    trackers = []
    for path in sorted(ROOT.glob("tests/test_stories*.yml")):
        trackers += _create_data_generator(str(path), agent).generate_story_trackers()
    return trackers


def _all_prediction_points(agent):
    return [point for story in _story_trackers(agent) for point in _prediction_points(story)]


def _prediction_points(tracker):
    """Every state of the story at which the bot predicts its next action."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = list(tracker.events)
    for end in range(1, len(events)):
        if isinstance(events[end], ActionExecuted) and isinstance(
                events[end - 1], (UserUttered, ActionExecuted)):
            yield DialogueStateTracker.from_events(tracker.sender_id, events[:end],
                                                   slots=tracker.slots.values())


async def test_cached_ted_predictions_equal_tensorflows_for_every_test_story_state(agent):
    points = _all_prediction_points(agent)
    assert len(points) > 100
    COMPARED.clear()
    for _ in range(2):  # the second round is served from the cache throughout
        for tracker in points:
            agent.processor._predict_next_with_tracker(tracker.copy())
    assert len(COMPARED) >= 2 * len(points) - 10  # a follow-up action skips the policies
    cache = getattr(COMPARED[0][2], ted_cache._ATTRIBUTE)
    assert cache.hits >= len(COMPARED) // 2 and 0 < len(cache.entries) < len(points)
    for got, want, _ in COMPARED:
        assert got.policy_name == want.policy_name == "TEDPolicy"
        assert got.is_end_to_end_prediction == want.is_end_to_end_prediction
        assert np.allclose(got.probabilities, want.probabilities, atol=1e-6)
        assert np.argmax(got.probabilities) == np.argmax(want.probabilities)


async def test_direct_graph_calls_give_what_tf_function_gives(agent):
    from rasa.utils.tensorflow.models import RasaModel

    from ops.rasa_patches import tf_predict

    plain = RasaModel._rasa_predict
    tf_predict.install()
    direct = RasaModel._rasa_predict
    batches = []

    def record(self, batch_in):
        batches.append((self, batch_in))
        return plain(self, batch_in)  # also builds the tf.function as Rasa does

    RasaModel._rasa_predict = record
    texts = ["Hallo", "Fehler 554 beim Senden", "Wie richte ich Outlook mit IMAP ein?",
             "ja", "Mein Postfach ist voll", "Passwort vergessen", "asdf qwer"]
    for text in texts:
        await agent.parse_message(text)
    for tracker in _all_prediction_points(agent)[:10]:
        agent.processor._predict_next_with_tracker(tracker.copy())
    RasaModel._rasa_predict = direct
    models = {type(model).__name__ for model, _ in batches}
    assert {"DIET", "TED"} <= models, models
    for model, batch_in in batches:
        want, got = plain(model, batch_in), direct(model, batch_in)
        assert sorted(got) == sorted(want)
        for key in want:
            if isinstance(want[key], np.ndarray):
                assert np.allclose(got[key], want[key], atol=1e-6), key
    used = [direct.concrete_of.get(model) for model, _ in batches]
    assert all(c is not None and c is not tf_predict._REFUSED for c in used)  # the direct call ran


def test_the_cache_keeps_the_most_recently_used_entries():
    cache = ted_cache.PredictionCache(size=2)
    cache.put("a", ((1.0,), False, None))
    cache.put("b", ((2.0,), False, None))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", ((3.0,), False, None))
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    assert (cache.hits, cache.misses) == (3, 1)
    assert cache.summary() == "TED prediction cache: 4 lookups, 75% hits, 2 of 2 entries"
    assert not cache.report_now()
    for _ in range(ted_cache.REPORT_EVERY - 4):
        cache.get("a")
    assert cache.report_now()  # the server logs the hit rate every REPORT_EVERY lookups


@pytest.mark.parametrize("raw, size", [("", 4096), ("0", 0), ("-5", 0), ("100", 100)])
def test_cache_size_from_the_environment(raw, size):
    assert ted_cache.cache_size({"RASA_TED_CACHE_SIZE": raw}) == size


def test_a_wrong_cache_size_stops_with_a_clear_message():
    with pytest.raises(SystemExit, match="RASA_TED_CACHE_SIZE"):
        ted_cache.cache_size({"RASA_TED_CACHE_SIZE": "viele"})


def test_a_switched_off_cache_gives_no_cache(agent):
    from rasa.core.policies.ted_policy import TEDPolicy

    runner = agent.processor.graph_runner
    teds = [node._component for node in runner._instantiated_nodes.values()
            if isinstance(node._component, TEDPolicy)]
    assert teds and ted_cache.is_cacheable(teds[0])  # our TED: no text, max_history 5
    assert ted_cache.cache_of(teds[0], 0) is None


# -- the SQLite tracker store ------------------------------------------------------------
def _sqlite_store(path, domain):
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore(domain, dialect="sqlite", db=str(path))


async def test_sqlite_store_keeps_its_connection_and_loses_nothing_across_stores(tmp_path):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_yaml("version: '3.1'\nintents: [greet]\nresponses:\n  utter_x:\n  - text: x\n")
    sqlite_store.install()
    db = tmp_path / "trackers.db"
    store = _sqlite_store(db, domain)
    assert type(store.engine.pool).__name__ == "QueuePool"
    tracker = DialogueStateTracker("kunde-1", domain.slots)
    for number in range(5):
        tracker.update(UserUttered(f"Nachricht {number}", {"name": "greet"}))
        tracker.update(ActionExecuted("utter_x"))
        await store.save(tracker)
    store.engine.dispose()  # as when Rasa stops

    reopened = _sqlite_store(db, domain)  # as after a restart
    texts = [e.text for e in (await reopened.retrieve("kunde-1")).events if isinstance(e, UserUttered)]
    assert texts == [f"Nachricht {n}" for n in range(5)]
    with reopened.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    with sqlite3.connect(str(db)) as outside:  # an ordinary reader sees every message
        count = outside.execute("SELECT count(*) FROM events WHERE type_name='user'").fetchone()[0]
    assert count == 5


def test_other_databases_keep_rasas_engine():
    from sqlalchemy.engine.url import make_url

    assert sqlite_store._is_sqlite_file(make_url("sqlite:////var/x.db"))
    assert not sqlite_store._is_sqlite_file(make_url("sqlite://"))
    assert not sqlite_store._is_sqlite_file(make_url("postgresql://u@127.0.0.1/rasa"))


DOMAIN_YAML = "version: '3.1'\nintents: [greet]\nresponses:\n  utter_x:\n  - text: x\n"


async def _store_scenario(db, queries):
    """Saves as Rasa does them (new conversation, message after message, a second save of
    the same tracker, a new session, a copied tracker); the rows stored and the trackers
    read back, without timestamps. ``queries`` counts Rasa's event queries."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_yaml(DOMAIN_YAML)
    store = _sqlite_store(db, domain)
    original_query = SQLTrackerStore._event_query

    def counting(self, *args, **kwargs):
        queries.append(kwargs.get("fetch_events_from_all_sessions"))
        return original_query(self, *args, **kwargs)

    store._event_query = counting.__get__(store)
    tracker = DialogueStateTracker("kunde", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    for number in range(3):
        tracker = await store.retrieve("kunde")
        tracker.update(UserUttered(f"Nachricht {number}", {"name": "greet"}))
        tracker.update(ActionExecuted("utter_x"))
        tracker.update(BotUttered("x"))
        await store.save(tracker)
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)  # the same tracker once more
    tracker = await store.retrieve("kunde")
    for event in (ActionExecuted("action_session_start"), SessionStarted(),
                  ActionExecuted("action_listen")):
        tracker.update(event)
    await store.save(tracker)
    tracker.update(UserUttered("nach dem Neustart", {"name": "greet"}))
    await store.save(tracker)  # after a new session: Rasa counts again
    tracker = await store.retrieve("kunde")
    copied = tracker.copy()
    copied.update(UserUttered("Kopie", {"name": "greet"}))
    await store.save(copied)
    empty = DialogueStateTracker("leer", domain.slots)  # as Rasa creates it for a new chat
    await store.save(empty)
    for event in (ActionExecuted("action_session_start"), SessionStarted(),
                  ActionExecuted("action_listen"), UserUttered("Hallo", {"name": "greet"})):
        empty.update(event)
    await store.save(empty)
    read_back = [(await store.retrieve("kunde")).events, (await store.retrieve_full_tracker("kunde")).events,
                 (await store.retrieve("leer")).events]
    store.engine.dispose()

    def plain(data):
        return {k: v for k, v in json.loads(data).items() if k != "timestamp"}

    with sqlite3.connect(str(db)) as connection:
        stored = list(connection.execute("SELECT sender_id, type_name, intent_name, action_name, data, "
                                         "timestamp FROM events ORDER BY id"))
    assert all(row[5] == json.loads(row[4])["timestamp"] for row in stored)
    rows = [(sender, t, intent, action, plain(d)) for sender, t, intent, action, d, _ in stored]
    events = [[{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in evs] for evs in read_back]
    return rows, events


async def test_saves_without_counting_store_what_rasa_stores(tmp_path):
    plain_queries, patched_queries = [], []
    plain = await _store_scenario(tmp_path / "plain.db", plain_queries)
    sqlite_store.install()
    patched = await _store_scenario(tmp_path / "patched.db", patched_queries)
    assert patched == plain
    rows, _ = plain
    assert len(rows) > 20
    assert [d.get("text") for _, t, _, _, d in rows if t == "user"].count("Nachricht 0") == 1
    assert {(t, i, a) for _, t, i, a, _ in rows} >= {("user", "greet", None), ("action", None, "utter_x")}
    # plain Rasa asks the database on every save, the patch only where it cannot know
    # plain Rasa asks the database on each of the 12 saves (plus 7 session reads); the
    # patch only for the new conversations, after a new session and for the copy
    assert plain_queries.count(False) == 12 + 7
    assert patched_queries.count(False) == 4 + 7


# -- event classes by type name ------------------------------------------------------------
def test_event_classes_by_name_are_rasas():
    from rasa.shared.core import events as e
    from ops.rasa_patches import event_types

    names = ["user", "bot", "action", "slot", "session_started", "active_loop", "followup",
             "rewind", "restart", "user_featurization", "loop_interrupted", "reset_slots"]
    plain = [e.Event.resolve_by_type(n) for n in names]
    plain_default = e.Event.resolve_by_type("no_such_event", e.SlotSet)
    event_types.install()
    event_types.install()  # idempotent
    for _ in range(2):  # looked up, then from the table
        assert [e.Event.resolve_by_type(n) for n in names] == plain
    assert e.Event.resolve_by_type("no_such_event", e.SlotSet) is plain_default is e.SlotSet
    assert e.Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        e.Event.resolve_by_type("no_such_event")
    assert e.Event.from_parameters({"event": "slot", "name": "a", "value": 1}) == e.SlotSet("a", 1)

    class Later(e.SlotSet):  # defined after the table was filled
        type_name = "later_event"

    assert e.Event.resolve_by_type("later_event") is Later
    assert e.Event.resolve_by_type("user") is e.UserUttered


# -- dialogue states once per tracker version ------------------------------------------------
def test_remembered_states_are_rasas_for_every_prefix_and_flag(agent):
    from rasa.shared.core.events import ActionExecuted, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from ops.rasa_patches import tracker_states

    domain = agent.domain
    rule_only = {"slots": ["requested_slot"], "loops": []}
    flags = [dict(), dict(ignore_rule_only_turns=True, rule_only_data=rule_only),
             dict(omit_unset_slots=True), dict(ignore_rule_only_turns=True)]
    points = _all_prediction_points(agent)
    plain = [[t.past_states(domain, **f) for f in flags] for t in points]
    tracker_states.install()
    tracker_states.install()  # idempotent
    for _ in range(2):  # computed, then remembered
        assert [[t.past_states(domain, **f) for f in flags] for t in points] == plain
    tracker = points[-1]
    tracker.past_states(domain)[-1].clear()  # callers edit what they get
    assert tracker.past_states(domain) == plain[-1][0]
    tracker.update(SlotSet("client", "outlook"))  # a new version of the tracker
    tracker.update(ActionExecuted("utter_greet"))
    assert tracker.past_states(domain) == DialogueStateTracker.past_states.original(tracker, domain)
    assert len(tracker.past_states(domain)) == len(plain[-1][0]) + 1


async def test_predictions_with_all_patches_are_plain_rasas(agent):
    from rasa.shared.core.trackers import DialogueStateTracker

    from ops import rasa_patches

    points = _all_prediction_points(agent)

    def predictions():
        out = []
        for tracker in points:
            p = agent.processor._predict_next_with_tracker(tracker.copy())
            out.append((agent.domain.action_names_or_texts[p.max_confidence_index],
                        p.policy_name, round(p.max_confidence, 5)))
        return out

    plain = predictions()
    rasa_patches.install()
    assert DialogueStateTracker.past_states.original  # the patched one is in use
    assert predictions() == plain
    assert predictions() == plain  # with every cache warm
