"""Loader and schema validation of the knowledge base, including broken files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from bot.kb import KBError, get_kb, load_kb
from bot.kb.loader import default_kb_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def kb_dir(tmp_path: Path) -> Path:
    """A writable copy of data/kb."""
    target = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), target)
    return target


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def edit(kb_dir: Path, name: str, change: Callable[[Any], None]) -> None:
    """Load one KB file, apply ``change`` to the data and write it back."""
    path = kb_dir / name
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    change(data)
    path.write_text(yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False), encoding="utf-8")


def find(items: list[dict], item_id: str) -> dict:
    return next(item for item in items if item["id"] == item_id)


def load_error(kb_dir: Path) -> KBError:
    with pytest.raises(KBError) as info:
        load_kb(kb_dir)
    return info.value


# -- the real KB --------------------------------------------------------------------
def test_repository_kb_loads_and_is_cached():
    kb = get_kb()
    assert kb is get_kb()
    assert len(kb.articles()) >= 60


def test_load_kb_accepts_str_and_path(kb_dir: Path):
    assert load_kb(str(kb_dir)).server("smtp").host == "smtp.dokom.net"
    assert load_kb(kb_dir).server("pop3").host == "pop3.dokom.net"


def test_unrelated_yaml_files_are_ignored(kb_dir: Path):
    (kb_dir / "bounce_rules.yml").write_text("rules: [whatever: {", encoding="utf-8")
    assert load_kb(kb_dir).server("imap").host == "imap.dokom.net"


def test_ids_are_unique_across_files():
    ids = [a.id for a in get_kb().articles()]
    assert len(ids) == len(set(ids))


def test_every_article_has_required_texts():
    for article in get_kb().articles():
        assert article.title and article.summary and article.source, article.id
        assert article.keywords, article.id
        assert article.file.endswith(".yml"), article.id


def test_bot_kb_does_not_import_rasa():
    code = ("import sys, bot.kb; bot.kb.get_kb().search('Postfach voll'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk', 'spacy')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# -- broken files ----------------------------------------------------------------------
def test_missing_required_field_names_file_and_key(kb_dir: Path):
    edit(kb_dir, "guides.yml", lambda d: find(d["guides"], "guide_outlook_imap").pop("title"))
    err = load_error(kb_dir)
    assert err.file == "guides.yml"
    assert "guides[guide_outlook_imap].title" in str(err)
    assert "missing" in str(err)


def test_port_must_be_an_integer(kb_dir: Path):
    edit(kb_dir, "servers.yml", lambda d: d["servers"]["imap"]["options"][0].update(port="993a"))
    err = load_error(kb_dir)
    assert str(err).startswith("servers.yml: servers.imap.options[0].port:")
    assert "integer" in str(err)


def test_port_as_quoted_number_is_rejected(kb_dir: Path):
    edit(kb_dir, "servers.yml", lambda d: d["servers"]["smtp"]["options"][1].update(port="587"))
    assert "servers.smtp.options[1].port" in str(load_error(kb_dir))


def test_port_out_of_range(kb_dir: Path):
    edit(kb_dir, "servers.yml", lambda d: d["servers"]["pop3"]["options"][0].update(port=99999))
    err = load_error(kb_dir)
    assert "servers.pop3.options[0].port" in str(err) and "range" in str(err)


def test_unknown_encryption_value(kb_dir: Path):
    edit(kb_dir, "servers.yml", lambda d: d["servers"]["imap"]["options"][0].update(encryption="ssl"))
    err = load_error(kb_dir)
    assert "servers.imap.options[0].encryption" in str(err)
    assert "ssl_tls" in str(err)


def test_guide_port_must_exist_on_server(kb_dir: Path):
    def change(data):
        find(data["guides"], "guide_other_imap")["incoming"]["options"].append(
            {"port": 995, "encryption": "ssl_tls"})
    edit(kb_dir, "guides.yml", change)
    err = load_error(kb_dir)
    assert "guides[guide_other_imap].incoming.options[3]" in str(err)
    assert "not offered" in str(err)


def test_guide_port_in_guide_must_be_int(kb_dir: Path):
    def change(data):
        find(data["guides"], "guide_outlook_imap")["outgoing"]["options"][0]["port"] = "465"
    edit(kb_dir, "guides.yml", change)
    assert "guides[guide_outlook_imap].outgoing.options[0].port" in str(load_error(kb_dir))


def test_unknown_referenced_id(kb_dir: Path):
    edit(kb_dir, "problems.yml",
         lambda d: find(d["problems"], "problem_not_receiving")["related"].append("problem_does_not_exist"))
    err = load_error(kb_dir)
    assert err.file == "problems.yml"
    assert "problems[problem_not_receiving].related" in str(err)
    assert "problem_does_not_exist" in str(err)


def test_unknown_variant_article_id(kb_dir: Path):
    def change(data):
        find(data["problems"], "problem_bounce_554")["variants"][0]["article_id"] = "bounce_nope"
    edit(kb_dir, "problems.yml", change)
    err = load_error(kb_dir)
    assert "problems[problem_bounce_554].variants[a].article_id" in str(err)


def test_unknown_id_in_contradiction(kb_dir: Path):
    edit(kb_dir, "contradictions.yml",
         lambda d: d["contradictions"][0]["related"].append("info_missing"))
    err = load_error(kb_dir)
    assert err.file == "contradictions.yml" and "info_missing" in str(err)


def test_yaml_syntax_error_names_file_and_key(kb_dir: Path):
    path = kb_dir / "limits.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  max_message_size_mb:\n    value: 50",
                                 "  max_message_size_mb:\n    value: [50"), encoding="utf-8")
    err = load_error(kb_dir)
    assert err.file == "limits.yml"
    assert "YAML syntax error" in str(err)
    assert "line" in str(err)
    assert err.key  # names the nearest key


def test_yaml_tab_indentation_error(kb_dir: Path):
    path = kb_dir / "clients.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("    name: Mozilla Thunderbird",
                                                             "\tname: Mozilla Thunderbird"), encoding="utf-8")
    err = load_error(kb_dir)
    assert err.file == "clients.yml" and "YAML syntax error" in str(err)


def test_duplicate_yaml_key_is_an_error(kb_dir: Path):
    path = kb_dir / "servers.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    host: imap.dokom.net\n", "    host: imap.dokom.net\n    host: imap2.dokom.net\n"), encoding="utf-8")
    err = load_error(kb_dir)
    assert err.file == "servers.yml" and "duplicate key 'host'" in str(err)


def test_duplicate_article_id_across_files(kb_dir: Path):
    def change(data):
        data["policies"][0]["id"] = "problem_mailbox_full"
    edit(kb_dir, "policies.yml", change)
    err = load_error(kb_dir)
    assert "duplicate id 'problem_mailbox_full'" in str(err)


def test_missing_file(kb_dir: Path):
    (kb_dir / "contacts.yml").unlink()
    err = load_error(kb_dir)
    assert err.file == "contacts.yml" and "missing" in str(err)


def test_missing_folder(tmp_path: Path):
    with pytest.raises(KBError, match="does not exist"):
        load_kb(tmp_path / "nope")


def test_wrong_top_level_key(kb_dir: Path):
    (kb_dir / "policies.yml").write_text("policy:\n  - id: x\n", encoding="utf-8")
    err = load_error(kb_dir)
    assert err.file == "policies.yml" and "policies" in str(err)


def test_unknown_field_is_reported(kb_dir: Path):
    edit(kb_dir, "procedures.yml",
         lambda d: find(d["procedures"], "proc_change_password").update(sumary="Tippfehler"))
    err = load_error(kb_dir)
    assert "procedures[proc_change_password].sumary" in str(err) and "unknown field" in str(err)


def test_missing_guide_for_client_and_protocol(kb_dir: Path):
    edit(kb_dir, "guides.yml",
         lambda d: d["guides"].remove(find(d["guides"], "guide_thunderbird_pop3")))
    err = load_error(kb_dir)
    assert "guide_thunderbird_pop3" in str(err) and err.file == "guides.yml"


def test_guide_client_must_be_known(kb_dir: Path):
    edit(kb_dir, "guides.yml", lambda d: find(d["guides"], "guide_outlook_imap").update(client="eudora"))
    err = load_error(kb_dir)
    assert "guides[guide_outlook_imap].client" in str(err) and "eudora" in str(err)


def test_missing_bounce_category(kb_dir: Path):
    edit(kb_dir, "bounce_categories.yml",
         lambda d: d["bounce_categories"].remove(find(d["bounce_categories"], "bounce_temporary")))
    err = load_error(kb_dir)
    assert err.file == "bounce_categories.yml" and "temporary" in str(err)


def test_required_design_id_missing(kb_dir: Path):
    edit(kb_dir, "problems.yml",
         lambda d: d["problems"].remove(find(d["problems"], "problem_outlook_data_file")))
    edit(kb_dir, "guides.yml",
         lambda d: find(d["guides"], "guide_outlook_auto_setup")["related"].remove("problem_outlook_data_file"))
    err = load_error(kb_dir)
    assert err.key == "problem_outlook_data_file" and "required article is missing" in str(err)


def test_removing_a_referenced_article_is_caught(kb_dir: Path):
    edit(kb_dir, "policies.yml",
         lambda d: d["policies"].remove(find(d["policies"], "info_webagent")))
    err = load_error(kb_dir)
    assert "unknown article id 'info_webagent'" in str(err)


def test_safe_password_set_must_be_the_intersection(kb_dir: Path):
    edit(kb_dir, "limits.yml", lambda d: d["limits"]["password_special_chars_safe"].update(value=",;.-:_#~!$"))
    err = load_error(kb_dir)
    assert "limits.password_special_chars_safe.value" in str(err)


def test_limit_must_be_int(kb_dir: Path):
    edit(kb_dir, "limits.yml", lambda d: d["limits"]["mailbox_quota_mb"].update(value="300 MB"))
    assert "limits.mailbox_quota_mb.value" in str(load_error(kb_dir))


def test_activation_hours_must_match_limits(kb_dir: Path):
    edit(kb_dir, "procedures.yml",
         lambda d: find(d["procedures"], "proc_setup_forwarding").update(activation_hours=3))
    assert "procedures[proc_setup_forwarding].activation_hours" in str(load_error(kb_dir))


def test_unknown_intent(kb_dir: Path):
    edit(kb_dir, "problems.yml",
         lambda d: find(d["problems"], "problem_login").update(intents=["login_problems"]))
    assert "problems[problem_login].intents[0]" in str(load_error(kb_dir))


def test_error_is_not_a_deep_traceback(kb_dir: Path):
    (kb_dir / "servers.yml").write_text("servers: {imap: [", encoding="utf-8")
    err = load_error(kb_dir)
    assert err.__cause__ is None and err.__suppress_context__


def test_cli_validate_reports_file_and_key_without_traceback(kb_dir: Path):
    edit(kb_dir, "servers.yml", lambda d: d["servers"]["smtp"]["options"][0].update(port="465x"))
    result = subprocess.run([sys.executable, "-m", "bot.kb", "validate", str(kb_dir)], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "servers.yml: servers.smtp.options[0].port" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_validate_ok():
    result = subprocess.run([sys.executable, "-m", "bot.kb", "validate"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("OK:")
