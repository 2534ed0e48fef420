"""The content loads, and `check` names the file and field of every kind of fault."""

from pathlib import Path

from content.load import check, content_version, load


def test_bundled_content_is_sound():
    assert [] == check()
    library = load()
    assert "T2" in library.codes
    assert library.codes["T2"].flow == "t2"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_missing_language_names_file_and_field(content_dir):
    edit(content_dir / "codes" / "T2.toml", 'title = { zh = ', 'title = { zz = ')
    [problem] = check(content_dir)
    assert problem.startswith("codes/T2.toml: ")
    assert "$.title" in problem


def test_step_pointing_at_missing_step(content_dir):
    edit(content_dir / "flows" / "t2.toml", 'not_fixed = "network"', 'not_fixed = "nowhere"')
    assert any(p.startswith("flows/t2.toml: steps.power.not_fixed: no step 'nowhere'") for p in check(content_dir))


def test_flow_loop_without_exit(content_dir):
    path = content_dir / "flows" / "loop.toml"
    path.write_text('''
id = "loop"
code = "paper-out"
title = { zh = "环", en = "Loop" }
start = "a"
support = []
[[steps]]
id = "a"
title = { zh = "甲", en = "A" }
do = { zh = "做", en = "Do" }
look = { zh = "看", en = "Look" }
tells = { zh = "说明", en = "Tells" }
fixed = "b"
not_fixed = "b"
cant_check = "b"
[[steps]]
id = "b"
title = { zh = "乙", en = "B" }
do = { zh = "做", en = "Do" }
look = { zh = "看", en = "Look" }
tells = { zh = "说明", en = "Tells" }
fixed = "a"
not_fixed = "a"
cant_check = "a"
''', encoding="utf-8")
    problems = check(content_dir)
    assert "flows/loop.toml: steps.a: no path from here ends fixed or at a support card" in problems
    assert "flows/loop.toml: steps.b: no path from here ends fixed or at a support card" in problems
    # paper-out's own file names another flow, so the orphan is reported too
    assert any(p.startswith("flows/loop.toml: code:") for p in problems)


def test_duplicate_code_ignoring_case(content_dir):
    (content_dir / "codes" / "t2-copy.toml").write_text(
        (content_dir / "codes" / "T2.toml").read_text(encoding="utf-8").replace('code = "T2"', 'code = "t2"'),
        encoding="utf-8",
    )
    problems = check(content_dir)
    assert any("not unique" in p for p in problems)


def test_unknown_key_and_bad_toml(content_dir):
    edit(content_dir / "checklists" / "daily.toml", 'frequency = "daily"', 'frequency = "daily"\ncolour = "red"')
    (content_dir / "codes" / "05.toml").write_text("code = ", encoding="utf-8")
    problems = check(content_dir)
    assert any(p.startswith("checklists/daily.toml: Object contains unknown field `colour`") for p in problems)
    assert any(p.startswith("codes/05.toml: ") for p in problems)


def test_schedule_must_match_frequency(content_dir):
    edit(content_dir / "checklists" / "weekly.toml", "weekday = 1", "day = 1")
    assert any(p.startswith("checklists/weekly.toml: schedule: a weekly checklist takes weekday") for p in check(content_dir))


def test_version_changes_with_any_file(content_dir):
    before = content_version(content_dir)
    edit(content_dir / "strings.toml", '"nav.home" = { zh = "首页"', '"nav.home" = { zh = "主页"')
    assert before != content_version(content_dir)


ISSUE_CODES = (
    "00 01 03 04 05 12 13 14 15 19 21 22 25 30 33 34 36 38 39 40 41 43 51 54 55 57 58 59 61 62 65 68 75 "
    "90 91 92 94 96 97 98 99 A0"
).split()
FAULTS = ["paper-out", "comm-fail", "card-read", "key-error", "sign-on", "battery"]


def test_the_library_holds_every_code_and_fault():
    library = load()
    assert set(ISSUE_CODES) | set(FAULTS) | {"T2"} <= set(library.codes)
    assert all(library.codes[code].kind == "host" for code in ISSUE_CODES)
    for fault in FAULTS:  # each terminal fault has its own short flow
        assert library.codes[fault].kind == "fault" and library.codes[fault].flow == fault


def test_t2_flow_covers_every_cause_of_the_article():
    library = load()
    causes = {cause.id for cause in library.codes["T2"].causes}
    assert causes == {"hardware", "software", "network", "configuration", "issuer", "input", "amount"}
    tested = {step.cause for step in library.flows["t2"].steps}
    assert causes <= tested
    assert {card.who for card in library.flows["t2"].support} >= {"acquirer", "vendor", "technician"}


def test_a_synonym_names_one_guide(content_dir):
    # "没网" means comm-fail; T2 claiming it too would make the search's answer a coin toss.
    edit(content_dir / "codes" / "T2.toml", "[keywords]", '[synonyms]\nzh = ["没　网"]\n\n[keywords]')
    assert check(content_dir) == []  # "没　网" (a full-width space) is another word than "没网"
    edit(content_dir / "codes" / "T2.toml", '["没　网"]', '["ＮＯ网", "没网"]')
    assert check(content_dir) == ["codes/comm-fail.toml: synonyms.zh: '没网' already means codes/T2.toml"]


def test_search_words_are_compared_normalised(content_dir):
    # Full-width, case and "T-2" are what a query is normalised to: a word repeated that way is one word.
    edit(content_dir / "codes" / "T2.toml", 'zh = ["T2", ', 'zh = ["Ｔ－２", "T2", ')
    assert check(content_dir) == ["codes/T2.toml: keywords.zh: 'T2' repeats another word of this guide"]


def test_a_synonym_may_not_be_another_guides_code(content_dir):
    edit(content_dir / "codes" / "T2.toml", "[keywords]", '[synonyms]\nen = ["5 1"]\n\n[keywords]')
    assert check(content_dir) == []  # "5 1" is not "51": only a lone letter joins its digits
    edit(content_dir / "codes" / "T2.toml", '["5 1"]', '["５１"]')
    assert check(content_dir) == ["codes/T2.toml: synonyms.en: '５１' already means codes/51.toml"]


def test_a_blank_search_word_is_refused(content_dir):
    edit(content_dir / "codes" / "T2.toml", 'zh = ["T2", ', 'zh = ["\u3000", "T2", ')
    assert check(content_dir) == ["codes/T2.toml: keywords.zh: '\\u3000' is blank once normalised"]
