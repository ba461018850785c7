"""How the chat shows answers to a councillor on a children's services scrutiny committee: from a review of 40 such
questions asked of the seed and dev minutes."""

from assistant.records import Answer, NearestItem


def test_a_refusal_s_nearest_items_in_the_chat_carry_their_addresses_as_the_cli_and_a_briefing_do(hashing_assistant):
    """'How many children went missing in Croydon?' was refused in the chat under 'Update on Missing Children
    Statistics and Return Home Interviews', with no link: the councillor could not open the item to see for themselves
    ('Open a source' lists an answer's sources only), where `ask` and a briefing give its address."""
    from assistant.present.app import ChatHandlers

    croydon = NearestItem("https://democracy.croydon.gov.uk/mgAi.aspx?ID=1754", "London Borough of Croydon", "",
                          "2018", "Update on Missing Children Statistics and Return Home Interviews")
    seed = NearestItem("rotherham-2018-ilsc-performance-feedback", "Rotherham Metropolitan Borough Council",
                       "Improving Lives Select Commission", "2018", "Performance Sub-Group")
    answer = Answer("How many children went missing in Croydon?", "The minutes in the index do not say this.", True,
                    "not_stated", "extractive", nearest=[croydon, seed])
    shown = ChatHandlers(hashing_assistant).render(answer)
    assert ('<a href="https://democracy.croydon.gov.uk/mgAi.aspx?ID=1754" target="_blank" rel="noopener">'
            "https\\://democracy.croydon.gov.uk/mgAi.aspx?ID=1754 (opens in new tab)</a>") in shown
    # An item with no web address is labelled as a source is, its id not read as part of its title.
    assert "(no web address; source: rotherham-2018-ilsc-performance-feedback)" in shown


def _two_councils_answer() -> Answer:
    """An extractive answer quoting two items of Northumberland's minutes and then one of Shropshire's."""
    from assistant.records import Citation, SentenceVerdict

    citations = [Citation(1, "https://n.example/1", "Northumberland County Council", "", "", "Recruitment", "A.", "c1",
                          "https://n.example/1"),
                 Citation(2, "https://n.example/1", "Northumberland County Council", "", "", "Recruitment", "B.", "c2",
                          "https://n.example/1"),
                 Citation(3, "https://s.example/2", "Shropshire Council", "", "", "Social Workers", "C.", "c3",
                          "https://s.example/2")]
    sentences = [SentenceVerdict(f"{quote} [{n}]", (n,), True, True, 1.0, "verbatim")
                 for n, quote in ((1, "Northumberland said A."), (2, "It said B."), (3, "Shropshire said C."))]
    return Answer("Compare?", "Northumberland said A. [1] It said B. [2]\n\nShropshire said C. [3]", False, None,
                  "extractive", citations=citations, sentences=sentences)


def test_quotes_of_two_items_are_two_paragraphs_in_the_chat_as_ask_prints_them(hashing_assistant):
    """'Compare social worker recruitment in Shropshire, Northumberland and Wiltshire': `ask` printed Northumberland's
    quote and Shropshire's as two paragraphs, as the answer is written, but the chat ran them into one, Shropshire's
    heading mid-paragraph, so that two councils' words read as one statement."""
    from assistant.present.app import ChatHandlers

    answer = _two_councils_answer()
    assert ("Northumberland said A. \\[1\\] It said B. \\[2\\]\n\nShropshire said C. \\[3\\]"
            in ChatHandlers(hashing_assistant).render(answer))


def test_a_short_answer_from_undated_minutes_says_that_its_date_is_unknown(hashing_assistant):
    """'Up to what age are care leavers exempt from council tax in Brighton and Hove?' led with '25 (Brighton and Hove
    City Council [1])': with no date where a dated short answer gives its meeting's, a figure of undated minutes read
    as today's, though the source below it said '(date unknown)'."""
    from assistant.present.app import ChatHandlers
    from assistant.present.render import answer_as_text
    from assistant.records import Citation, SentenceVerdict

    quote = "RESOLVED - That a Council Tax exemption for Care Leavers be applied until the age of 25."
    cited = Citation(1, "https://b.example/1", "Brighton and Hove City Council", "", "", "Council Tax", quote, "c1", "")
    answer = Answer("Up to what age?", f"{quote} [1]", False, None, "extractive", citations=[cited],
                    sentences=[SentenceVerdict(f"{quote} [1]", (1,), True, True, 1.0, "verbatim")], short_answer="25")
    assert answer_as_text(answer).splitlines()[0] == "25 (Brighton and Hove City Council, date unknown [1])"
    assert "**25** (Brighton and Hove City Council, date unknown [1])" in ChatHandlers(hashing_assistant).render(answer)


def test_quotes_of_two_items_are_two_paragraphs_in_a_briefing_as_ask_prints_them(tmp_path):
    """A briefing ran an answer's quotes of Northumberland's and Shropshire's minutes into one paragraph, as the chat
    had, where `ask` prints a paragraph for each item quoted; in Word and in Markdown alike."""
    import docx

    from assistant.present.briefing import entry_from_answer, write_briefing

    answer = _two_councils_answer()
    markdown = write_briefing([entry_from_answer(answer)], tmp_path / "b.md").read_text(encoding="utf-8")
    assert "Northumberland said A. [1] It said B. [2]\n\nShropshire said C. [3]\n" in markdown
    word = [p.text for p in docx.Document(str(write_briefing([entry_from_answer(answer)], tmp_path / "b.docx"))).paragraphs]
    assert ["Northumberland said A. [1] It said B. [2]", "Shropshire said C. [3]"] == [
        text for text in word if text.endswith(("[2]", "[3]"))]


def test_a_language_model_s_reply_replaced_by_quotes_is_in_paragraphs_by_item_in_the_chat(hashing_assistant):
    """A reply the model gave that could not be used is replaced by the reader's quotes (`fallback`), composed as an
    extractive answer is, a paragraph for each item: `ask` printed them so and the chat ran them together, being in
    a language model's mode."""
    from dataclasses import replace

    from assistant.present.app import ChatHandlers
    from assistant.records import Citation, SentenceVerdict

    citations = [Citation(1, "https://n.example/1", "Northumberland County Council", "", "", "Recruitment", "A.", "c1",
                          ""),
                 Citation(2, "https://s.example/2", "Shropshire Council", "", "", "Social Workers", "C.", "c2", "")]
    sentences = [SentenceVerdict(f"{quote} [{n}]", (n,), True, True, 1.0, "verbatim")
                 for n, quote in ((1, "Northumberland said A."), (2, "Shropshire said C."))]
    answer = Answer("Compare?", "Northumberland said A. [1]\n\nShropshire said C. [2]", False, None, "llm:test",
                    fallback=True, citations=citations, sentences=sentences)
    handlers = ChatHandlers(hashing_assistant)
    assert "Northumberland said A. \\[1\\]\n\nShropshire said C. \\[2\\]" in handlers.render(answer)
    # A model's own sentences stay one paragraph, as it wrote them and `ask` prints them.
    written = replace(answer, fallback=False, answer="Northumberland said A. [1] Shropshire said C. [2]")
    assert "Northumberland said A. \\[1\\] Shropshire said C. \\[2\\]" in handlers.render(written)
