import pytest

from course_utils import env, registry


def test_bad_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "fast")
    with pytest.raises(env.ProfileError, match="auto, full, offline"):
        env.requested_profile()


def test_offline_never_probes_the_network(monkeypatch):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "offline")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: pytest.fail("network probed"))
    assert env.active_profile() == "offline"


def test_full_without_network_fails_fast(monkeypatch):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "full")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: False)
    with pytest.raises(env.ProfileError, match="BERT_COURSE_PROFILE=offline"):
        env.active_profile()


def test_auto_falls_back_and_full_when_reachable(monkeypatch):
    monkeypatch.setenv("BERT_COURSE_PROFILE", "auto")
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: False)
    assert env.active_profile() == "offline"
    monkeypatch.setattr(env, "hub_reachable", lambda *a, **k: True)
    assert env.active_profile() == "full"


class _FakeOpener:
    """Stands in for urllib's opener: records each call's timeout and raises what it is given."""

    def __init__(self, exc):
        self.exc, self.timeouts = exc, []

    def open(self, req, timeout=None):
        self.timeouts.append(timeout)
        raise self.exc


def _fake_opener(monkeypatch, exc):
    opener = _FakeOpener(exc)
    monkeypatch.setattr(env.urllib.request, "build_opener", lambda *handlers: opener)
    env._HUB_CACHE.clear()
    return opener


def test_hub_probe_passes_its_timeout_and_says_why(monkeypatch):
    """No clock: the probe hands its timeout to the opener, reports a timeout as "no answer within …",
    and asks once per URL (the cached answer is reused)."""
    import socket

    opener = _fake_opener(monkeypatch, socket.timeout("timed out"))
    url = "http://hub.invalid/cfg.json"
    ok, reason = env.probe_hub(timeout=1.5, url=url)
    assert (ok, reason) == (False, f"{url}: no answer within 1.5 s")
    assert opener.timeouts == [1.5]
    assert env.probe_hub(timeout=1.5, url=url) == (ok, reason) and opener.timeouts == [1.5]   # cached
    env._HUB_CACHE.clear()


def test_hub_probe_counts_any_http_answer_as_reachable(monkeypatch):
    import urllib.error

    url = "http://hub.invalid/cfg.json"
    _fake_opener(monkeypatch, urllib.error.HTTPError(url, 429, "Too Many Requests", {}, None))
    ok, reason = env.probe_hub(timeout=1.0, url=url)
    assert ok is True and "HTTP 429" in reason
    _fake_opener(monkeypatch, urllib.error.URLError(OSError("Name or service not known")))
    ok, reason = env.probe_hub(timeout=1.0, url=url)
    assert ok is False and "Name or service not known" in reason
    env._HUB_CACHE.clear()


def test_hub_probe_closed_port_is_refused_not_timed_out():
    """A real socket, judged by the reason (refused), not by seconds."""
    env._HUB_CACHE.clear()
    # a TEST-NET-1 address would leave the machine: use a closed local port instead
    ok, reason = env.probe_hub(timeout=5.0, url="http://127.0.0.1:9/")
    assert ok is False and "no answer within" not in reason and "refused" in reason.lower()
    env._HUB_CACHE.clear()


def test_mirror_typo_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(tmp_path / "nope"))
    with pytest.raises(env.AssetNotFoundError, match="BERT_COURSE_ASSETS"):
        env.assets_dir()


def test_mirror_path(monkeypatch, tmp_path):
    (tmp_path / "datasets" / "nsmc").mkdir(parents=True)
    (tmp_path / "datasets" / "nsmc" / "ratings_test.txt").write_text("id\tdocument\tlabel\n")
    monkeypatch.setenv("BERT_COURSE_ASSETS", str(tmp_path))
    assert env.mirror_path("datasets/nsmc/ratings_test.txt").name == "ratings_test.txt"
    assert env.mirror_path("datasets/nsmc/ratings_train.txt") is None
    monkeypatch.delenv("BERT_COURSE_ASSETS")
    assert env.mirror_path("datasets/nsmc/ratings_test.txt") is None


def test_provenance_and_banner(offline, capsys):
    src = env.record_source("model", "bert-base-uncased", "standin", "all-MiniLM-L6-v2", "test")
    assert "OFFLINE STAND-IN" in src.line() and src.line().startswith("⚠️")
    assert src in env.sources()
    text = env.banner()
    assert "profile: offline" in text and "NOT the real BERT" in text and "torch" in text
    with pytest.raises(ValueError):
        env.record_source("model", "x", "somewhere", "y")


def test_setup_notebook_returns_device(offline, capsys):
    info = env.setup_notebook(seed=3)
    assert info["profile"] == "offline" and info["seed"] == 3
    assert "BERT course" in capsys.readouterr().out


def test_registry_pins_and_standins():
    for name, spec in registry.MODELS.items():
        assert spec.standin in registry.STANDINS, name
        if spec.revision and spec.hub_id.startswith(("google-bert/", "klue/")):
            assert len(spec.revision) == 40 and int(spec.revision, 16) >= 0
    for required in ("bert-base-uncased", "bert-base-multilingual-cased", "klue/bert-base",
                     "skt/kobert-base-v1", "tfhub-small-bert", "tfhub-bert-preprocess"):
        assert required in registry.MODELS
    with pytest.raises(KeyError, match="registry knows"):
        registry.model_spec("bert-large")
    for f in registry.DATA_FILES.values():
        assert f.url.startswith("https://")


def test_recorded_result_names_both_places_when_missing():
    import pytest

    from course_utils import env

    assert env.recorded_result("ko_pretraining_results.json").parent.name in ("results", "_results")
    with pytest.raises(FileNotFoundError, match=r"no_such_run\.json.*benchmarks/README\.md"):
        env.recorded_result("no_such_run.json")
