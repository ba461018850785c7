import datetime as dt

import pytest

from assistant.text import (committee_key, council_key, counted, date_span, first_few, lexical_tokens, mentions,
                            name_matches, parse_meeting_date, readable, sentence_spans)


@pytest.mark.parametrize("name, key", [
    ("Sefton Council", "sefton"),
    ("Sefton Metropolitan Borough Council", "sefton"),
    ("City of Bradford Metropolitan District Council", "bradford"),
    ("London Borough of Barnet", "barnet"),
    ("Bath and North East Somerset Council", "bath north east somerset"),
    ("Bournemouth, Christchurch and Poole Council", "bournemouth christchurch poole"),
    ("Council", "council"),  # nothing but noise: keep the words rather than an empty key
])
def test_council_keys_drop_the_words_that_vary(name, key):
    assert council_key(name) == key


def test_loose_name_matching():
    assert name_matches(council_key("Sefton"), council_key("Sefton Metropolitan Borough Council"))
    assert name_matches(council_key("bradford council"), council_key("City of Bradford Metropolitan District Council"))
    assert not name_matches(council_key("Barnsley"), council_key("Bradford Council"))
    assert not name_matches("", "sefton")
    # ModernGov often writes "Childrens"; members type the apostrophe, or leave it out.
    assert name_matches(committee_key("Children's Services"), committee_key("Childrens Services Scrutiny Committee"))
    assert name_matches(committee_key("Childrens Services"), committee_key("Children's Services Committee"))
    assert name_matches(council_key("Kings Lynn"), council_key("Borough Council of King's Lynn and West Norfolk"))
    assert name_matches(committee_key("children's scrutiny"),
                        committee_key("Children and Young People's Scrutiny Committee"))


@pytest.mark.parametrize("raw, iso", [
    ("2018", "2018"), (2018, "2018"), ("2018-9", "2018-09"), ("2018-09-12", "2018-09-12"),
    (dt.date(2020, 10, 7), "2020-10-07"), ("7 October 2020", "2020-10-07"),
    ("Tuesday, 20th September, 2022", "2022-09-20"), ("12/03/2019", "2019-03-12"), ("March 2019", "2019-03"),
    ("Tues 12th March 2024", "2024-03-12"), ("Weds. 8 Mar. 2023", "2023-03-08"),
    ("14 Mawrth 2024", "2024-03-14"), ("Dydd Mawrth, 12 Mawrth 2024", "2024-03-12"), ("Mai 2023", "2023-05"),
    ("", ""), (None, ""),
])
def test_meeting_dates_parse_to_partial_iso(raw, iso):
    assert parse_meeting_date(raw) == iso


@pytest.mark.parametrize("raw", ["next Tuesday", "2018-13", "2019-02-30", "31/31/2019", ["2018"], True, "1066",
                                 "12345678901 March 2023"])  # a day too big for the date type had raised OverflowError
def test_values_that_are_not_dates_are_rejected_with_a_reason(raw):
    with pytest.raises(ValueError, match="date|year|month"):
        parse_meeting_date(raw)


def test_date_spans_cover_the_whole_partial_date():
    assert date_span("2018") == (20180101, 20181231)
    assert date_span("2020-02") == (20200201, 20200229)
    assert date_span("2019-03-12") == (20190312, 20190312)
    assert date_span("") is None


def test_accented_letters_count_as_their_base_letters_however_they_were_saved():
    """'grŵp' had been two tokens, 'gr' and 'p', so that 'grwp', as a member types it, never matched it."""
    typed = lexical_tokens("Ty Glyn grwp Llinos Wyn Sian Zoe")
    assert lexical_tokens("Tŷ Glyn grŵp Llinos Ŵyn Siân Zoë") == typed
    decomposed = "Ty\u0302 Glyn grw\u0302p Llinos W\u0302yn Sia\u0302n Zoe\u0308"  # as some Mac tools save them
    assert lexical_tokens(decomposed) == typed


def test_letters_unicode_does_not_decompose_and_invisible_characters_inside_a_word_do_not_split_it():
    """'Søren' had been 's' and 'ren', so 'Soren' never matched it; a soft hyphen or a zero-width space kept by a word
    processor inside 'recommendation' made it 'recom' and 'mendation'."""
    assert lexical_tokens("Søren Bjørnsen, Straße, Łódź, mediæval, Œuvre") == lexical_tokens(
        "Soren Bjornsen, Strasse, Lodz, mediaeval, Oeuvre")
    assert lexical_tokens("recom\u00admendation safe\u200bguarding \ufeffcare well\u2011being") == lexical_tokens(
        "recommendation safeguarding care well-being")


def test_a_ligature_or_a_full_width_digit_is_its_plain_letters_and_a_fraction_no_figure_of_its_own():
    assert lexical_tokens("ﬁnance ofﬁcer １２３") == lexical_tokens("finance officer 123")
    assert lexical_tokens("1½ hours") == ["1", "hour"]  # not the figures '11' and '2'


def test_the_people_a_text_names_are_those_after_a_title():
    from assistant.text import names_in

    text = ("Cllr J. Smith and Councillors Brown and Jones spoke; Dr Okafor (Chair) and Mr O\u2019Brien agreed. "
            "Cynghorydd Llinos Parry thanked the Corporate Parenting Panel for the report on Sufficiency.")
    assert names_in(text) == {"Smith", "Brown", "Jones", "Okafor", "O\u2019Brien", "Llinos", "Parry"}


def test_hyphenated_words_also_count_joined():
    assert "restructur" in lexical_tokens("after the re-structure")
    assert "restructur" in lexical_tokens("after the restructure")


def test_a_name_of_the_question_that_the_evidence_never_mentions_is_missing():
    from assistant.text import missing_names

    evidence = "Corporate Parenting Board January 2024 " \
               "Looked after children had their return home interviews within 72 hours in England."
    councils = ["Bournemouth, Christchurch and Poole Council"]
    # Its words, its prefix ('English' for 'England'), the council's initials (BCP) and acronyms the evidence
    # spells out (LAC, RHI) are all mentions; Wirral and Leeds are not.
    assert missing_names("What did BCP say about LAC and RHI for English children?", evidence, councils) == []
    assert missing_names("What did Wirral say about Leeds and the RHI figures?", evidence, councils) == ["Wirral",
                                                                                                        "Leeds"]
    assert missing_names("how many children were looked after?", evidence, councils) == []


@pytest.mark.parametrize("message", ["Hello", "hi!", "Thank you very much.", "Thanks", "Good morning",
                                     "Hi there, good afternoon", "ok", "Cheers", "thank you so much, that's all"])
def test_conversation_is_small_talk(message):
    from assistant.text import is_small_talk

    assert is_small_talk(message)


@pytest.mark.parametrize("message", ["What did scrutiny say about dental checks for children in care?",
                                     "Hello, how many children were in care in Rotherham in 2018?",
                                     "Who thanked the foster carers?", "How are you?", "What can you do?",
                                     "morning briefing attendance", "thank you letters from care leavers",
                                     "Hi, how many in 2019?"])
def test_a_question_with_a_topic_is_not_small_talk(message):
    from assistant.text import is_small_talk

    assert not is_small_talk(message)


def test_no_question_in_the_project_files_reads_as_small_talk():
    """Every question written for evaluation and training asks about the minutes: none may be taken for chat."""
    import json
    from pathlib import Path

    from assistant.text import is_small_talk

    root = Path(__file__).resolve().parents[2]
    files = sorted([*root.glob("eval/*questions*.jsonl"), *root.glob("training/reader_*.jsonl")])
    questions = [json.loads(line)["question"] for path in files for line in path.read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
    assert len(files) >= 10 and len(questions) > 10_000
    assert [q for q in questions if is_small_talk(q)] == []


def test_counts_and_short_lists_read_as_english():
    assert [counted(n, "item") for n in (0, 1, 2)] == ["0 items", "1 item", "2 items"]
    assert first_few(["a", "b"]) == "a, b"
    assert first_few(["a", "b", "c", "d", "e"], 3, "; ") == "a; b; c and 2 more"


def test_a_sentence_written_over_several_lines_is_one_sentence():
    """Minutes saved at a fixed width break sentences at line ends ('the Committee was advised that a' /
    'reduction was ...'); each piece had been quoted as if it were a whole sentence."""
    text = ("- In response to a\nquery regarding the reduction, the Committee was advised that the\nreduction was largely"
            " due to partnerships. Officers agreed.\nRESOLVED:\nthat the report be noted.\nMembers asked about\n"
            "(a) placements;\nb. recruitment\no respite\nAdditional documents\n\nminutes of the last meeting\n"
            "Referrals 1,234\nre-referrals 17%")
    assert [span.of(text) for span in sentence_spans(text)] == [
        "- In response to a\nquery regarding the reduction, the Committee was advised that the\nreduction was largely"
        " due to partnerships.",
        "Officers agreed.", "RESOLVED:", "that the report be noted.", "Members asked about", "(a) placements;",
        "b. recruitment", "o respite", "Additional documents", "minutes of the last meeting",
        "Referrals 1,234\nre-referrals 17%",
    ]


@pytest.mark.parametrize("text, sentences", [
    ("Councillor J.W. Thomas was elected Chairman. The meeting closed.",
     ["Councillor J.W. Thomas was elected Chairman.", "The meeting closed."]),
    ("Present: Councillors K. Hatton and Mrs. M.R. Wilkinson. Apologies were noted.",
     ["Present: Councillors K. Hatton and Mrs. M.R. Wilkinson.", "Apologies were noted."]),
    ("Apologies were received from Cllrs. Mike Johnson and Ann Lee.",
     ["Apologies were received from Cllrs. Mike Johnson and Ann Lee."]),
    ("It dates from the late 1990's. The Children's Service grew.",
     ["It dates from the late 1990's.", "The Children's Service grew."]),
    ("This is shown in Appendix A. The Committee was advised.",
     ["This is shown in Appendix A.", "The Committee was advised."]),
    ("The report by J. Smith was noted. It was agreed.", ["The report by J. Smith was noted.", "It was agreed."]),
])
def test_initials_are_not_sentence_ends_and_a_label_or_an_apostrophe_s_is_no_initial(text, sentences):
    """A review of the real minutes found 'Councillor J.W.' / 'Thomas was elected' cut in two (who attended, lost),
    and 'the late 1990's.' or 'Appendix A.' running two sentences into one."""
    assert [span.of(text) for span in sentence_spans(text)] == sentences


def test_readable_text_can_be_written_as_utf8():
    """A name from os.walk that was not UTF-8 keeps its readable part; ingest's identities and the CLI's output use it."""
    import os

    assert readable(os.fsdecode(b"r\xe9union.txt")) == "r\ufffdunion.txt"
    assert readable("caf\u00e9 \ud800") == "caf\u00e9 ?"  # a lone surrogate no byte could have made
    assert readable("plain") == "plain"


def test_a_name_is_not_taken_for_the_initials_of_some_run_of_the_evidence_s_words():
    """'Multi Agency Needs Coordination' spells 'manc', the first four letters of 'Manchester': a question about a
    council the minutes found never mention had been answered from another council's minutes."""
    from assistant.text import missing_names

    evidence = "The Multi Agency Needs Coordination panel met foster carers."
    assert missing_names("What did Manchester City Council say about foster carers?", evidence,
                         ["Hampshire County Council"]) == ["Manchester"]
    assert missing_names("What did the MANC panel say?", evidence) == []  # an acronym still matches its words
    # The usual initials of a council's full name, 'County Council' and all, still match its council field.
    for question, council in (("What did KCC say about foster carers?", "Kent County Council"),
                              ("What did ESCC say about foster carers?", "East Sussex County Council"),
                              ("What did RMBC say about foster carers?", "Rotherham Metropolitan Borough Council")):
        assert missing_names(question, evidence, [council]) == [], council


@pytest.mark.parametrize("question, councils", [
    ("What about 2019?", ()), ("And Sefton?", ("sefton",)), ("What about Barnsley in March 2020?", ("barnsley",)),
    ("how many in that year?", ()), ("And BCP?", ("bournemouth christchurch poole",)),
    ("What about Sefton Council then?", ("sefton",)), ("And the Borough of Sefton?", ("sefton",)),
    ("What about Sefton Metropolitan Borough Council in 2019?", ("sefton",)),
    ("And Caerdydd?", ("cardiff",)), ("What about Cyngor Caerdydd in 2019?", ("cardiff",)),
    # a pronoun pointing back and one word else: answered alone, with whoever presented another item
    ("And who presented it?", ()), ("How much did it cost?", ()), ("What did they decide in 2019?", ()),
    ("When was it approved by Sefton?", ("sefton",))])
def test_a_follow_up_that_names_only_a_council_or_a_year_has_no_topic(question, councils):
    from assistant.text import has_a_topic

    assert not has_a_topic(question, councils)


@pytest.mark.parametrize("question, councils", [
    ("What did Sefton say?", ("sefton",)), ("What about care leavers in 2019?", ()),
    ("How many children left care in Sefton in 2019?", ("sefton",)), ("Ofsted?", ()),
    ("What about Barnsley?", ()),  # a council the index lacks: its name is all there is to search for
    # From a code review: kinds of council, and words of a council's name, away from the name ask about something.
    ("Is Sefton a unitary authority?", ("sefton",)), ("What is a combined authority?", ()),
    ("Is there a town council?", ()), ("What did Sefton do in 2019?", ("sefton",)),
    ("What about the test in Test Valley?", ("test valley",)),
    ("What did they say about care leavers?", ()), ("Who presented the fostering report?", ()),
    ("Is it true that adoptions rose?", ())])
def test_a_question_with_a_word_to_search_for_has_a_topic(question, councils):
    from assistant.text import has_a_topic

    assert has_a_topic(question, councils)


def test_no_question_in_the_project_files_lacks_a_topic():
    """Every question written for evaluation and training names what it asks about, however many councils the
    index holds: none may be turned away as a bare follow-up."""
    import json
    from pathlib import Path

    from assistant.ingest.moderngov.directory import load_directory
    from assistant.text import council_key, has_a_topic, named_councils

    root = Path(__file__).resolve().parents[2]
    files = sorted([*root.glob("eval/*questions*.jsonl"), *root.glob("training/reader_*.jsonl")])
    questions = [json.loads(line)["question"] for path in files for line in path.read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
    keys = {council_key(council.name) for council in load_directory()} | {"rotherham", "sefton", "bradford"}
    assert len(keys) > 100 and len(questions) > 10_000
    assert [q for q in questions if not has_a_topic(q, named_councils(q, keys))] == []


@pytest.mark.parametrize("iso, shown", [
    ("2024-03-12", "12 March 2024"), ("2024-03-02", "2 March 2024"), ("2024-03", "March 2024"), ("2024", "2024"),
    ("", ""), ("2024-13", "2024-13"), ("soon", "soon"),
])
def test_a_meeting_date_reads_as_a_member_writes_it(iso, shown):
    from assistant.text import readable_date

    assert readable_date(iso) == shown


@pytest.mark.parametrize("question, latest", [
    ("What is the latest number of looked-after children?", True), ("How many are in care now?", True),
    ("What was the most recent Ofsted judgement?", True), ("Is the council currently meeting its target?", True),
    ("What is the current figure for 2023?", False),  # a year says which
    ("How many children were in care?", False), ("Which recent reports were noted?", False),
])
def test_a_question_asks_for_the_latest_figure_by_its_words(question, latest):
    from assistant.text import asks_for_the_latest

    assert asks_for_the_latest(question) is latest


@pytest.mark.parametrize("question, years", [
    ("How many looked-after children did Northbrook have in 2025?", (2025,)),
    ("How many were in care at 31 March 2019?", (2019,)), ("What was said in March 2023?", (2023,)),
    ("What was the spend for 2024?", (2024,)),
    ("How has it changed since 2019?", ()), ("What changed between 2019 and 2022?", ()),  # bounds of a span
    ("What is the 2025 strategy?", ()),  # a name
    ("Did Dale agree a payment of £2000 to each care leaver?", ()), ("Was it a total of 2,019?", ()),  # amounts
    ("How many children were in care?", ()),
])
def test_the_years_a_question_asks_about_are_tied_to_it(question, years):
    from assistant.text import years_asked_about

    assert years_asked_about(question) == years


def test_a_sentence_wrapped_before_a_figure_keeps_its_subject():
    """'... the Department had received' / '7,230 referrals ...': the figure's line had been a sentence of its own,
    so a quote of it lost who received them. A list's number, a numbered heading and a table's cells keep their
    lines."""
    text = ("The Department had received\n7,230 referrals during the year. Female employees made up\n86% of the "
            "workforce.\nThe panel will scrutinise the work for\n2023/24.\nThe Committee agreed to\n2) Approve the plan"
            "\nMatters arising from the last meeting\n160.1 The Minutes were agreed.\nReferrals\n1,234\nItems\n2.")
    assert [span.of(text) for span in sentence_spans(text)] == [
        "The Department had received\n7,230 referrals during the year.",
        "Female employees made up\n86% of the workforce.",
        "The panel will scrutinise the work for\n2023/24.",
        "The Committee agreed to", "2) Approve the plan", "Matters arising from the last meeting",
        "160.1 The Minutes were agreed.", "Referrals", "1,234", "Items", "2.",
    ]


def test_a_heading_keeps_its_line_over_a_paragraph_opening_with_a_figure():
    """'2. Adoption Update' / '71 children were placed ...': a heading ends no clause, and the paragraph under it often
    opens with a figure, so figure_runs_on alone had run the heading into the paragraph's first sentence."""
    text = ("2. Adoption Update\n71 children were placed for adoption.\nKey Figures\n2023/24 figures were noted."
            "\nPerformance Dashboard\n1,234 referrals were received.\nThe Department had received\n7,230 referrals.")
    assert [span.of(text) for span in sentence_spans(text)] == [
        "2. Adoption Update", "71 children were placed for adoption.", "Key Figures", "2023/24 figures were noted.",
        "Performance Dashboard", "1,234 referrals were received.", "The Department had received\n7,230 referrals.",
    ]


@pytest.mark.parametrize("council, place", [
    ("Sefton Metropolitan Borough Council", "Sefton"),
    ("Royal Borough of Windsor and Maidenhead", "Windsor and Maidenhead"),
    ("Vale of Glamorgan Council", "Vale of Glamorgan"),
    ("Isle of Anglesey County Council", "Isle of Anglesey"),
    ("City and County of Swansea Council", "Swansea"),
    ("The City of London Corporation", "City of London"),
])
def test_a_council_s_place_name_keeps_the_words_that_join_it(council, place):
    """Refusals and the app's example questions name councils by place: 'The index holds no minutes of Vale
    Glamorgan' and 'What did Corporation say ...?' read as mistakes."""
    from assistant.text import place_name

    assert place_name(council) == place


def test_lexical_tokens_are_remembered_for_short_texts_alone_and_each_caller_gets_its_own_list():
    """Tokens of short texts (sentences, questions) are kept, as an answer asks for them again and again; a long text
    (an item's whole text, a chunk at ingest) is not, so that a long-running app holds no memory for it."""
    from assistant.text import _REMEMBERED_TEXT_CHARS, _remembered_tokens, lexical_tokens

    sentence = "The number of looked after children rose to 148 per cent of the target."
    first = lexical_tokens(sentence)
    first.append("changed by its caller")
    assert lexical_tokens(sentence) == first[:-1]
    kept = _remembered_tokens.cache_info().currsize
    long_text = " ".join(["Fostering placements were reviewed by the panel."] * 40)
    assert len(long_text) > _REMEMBERED_TEXT_CHARS
    assert lexical_tokens(long_text) == lexical_tokens(long_text)[:]
    assert _remembered_tokens.cache_info().currsize == kept


@pytest.mark.parametrize("text, words, held", [
    ("What happened to JAYDEN O\u2019BRIEN's placement", "Jayden O'Brien", True),
    ("Zo\u00eb  Smith-Jones was placed", "zoe smith jones", True),
    ("\u0645\u062d\u0645\u062f \u0639\u0644\u064a asked", "\u0645\u062d\u0645\u062f", True),  # a name in any script
    ("Jayden was placed", "Jay", False),  # a word inside another is no mention
    ("the quality of care", "Ali", False),
    ("Jayden was placed", "...", False),  # no words: nothing is mentioned
])
def test_mentions_finds_whole_words_whatever_their_case_accents_and_punctuation(text, words, held):
    assert mentions(text, words) is held
