"""Answers as a policy officer reads them in a committee chair's briefing: from a review of 20 briefing questions asked
of the seed and dev minutes (care leavers, fostering, Ofsted, workforce, budgets)."""

from quoted_items import composed, item_passages, quoting

LEAD_IN = "The Report outlined the following key points:-"


def _item(tmp_path, *chunks: str):
    return item_passages(tmp_path, *chunks, title="Performance report", council="Devon County Council",
                         council_key="devon")


def test_a_list_item_is_shown_after_its_lead_in_when_the_lead_in_ends_the_chunk_before(hashing_assistant, tmp_path):
    """'What were average social worker caseloads in Devon in December?' was answered 'Average caseloads had reduced
    to 16.5 children in December compared to 18.7 in August 2022. [1]', the report's point read as the minutes'
    finding: the list's lead-in, '... the following key points:-', was in the item's chunk before the quote's, and only
    the quote's own chunk was read for it (as 'Placement stability was currently at 56% ...', Bracknell Forest's)."""
    found = _item(tmp_path,
                  f"Minutes:\n\n{LEAD_IN}\n\n-    Assessments performance had continued to improve to 91% in "
                  "December.",
                  "-    Average caseloads had reduced to 16.5 children in December compared to 18.7 in August 2022.\n\n"
                  "-    Children in Care numbers increased in December.",
                  "Members asked about care leavers.\n\n-    Housing for care leavers was discussed.")
    answer = composed(hashing_assistant, found,
                      quoting(found, "Average caseloads had reduced to 16.5 children in December compared to 18.7 in "
                                     "August 2022.", chunk=1),
                      quoting(found, "Children in Care numbers increased in December.", chunk=1))
    assert answer.answer == (f"{LEAD_IN} \u2026 Average caseloads had reduced to 16.5 children in December compared to "
                             "18.7 in August 2022. [1] \u2026 Children in Care numbers increased in December. [2]")
    assert answer.citations[0].quote.startswith("Average caseloads")  # the quote stays the minutes' words alone
    # A list whose chunk gives its own lead-in is shown after that one, not one of an earlier chunk's list.
    answer = composed(hashing_assistant, found, quoting(found, "Housing for care leavers was discussed.", chunk=2))
    assert answer.answer == "Housing for care leavers was discussed. [1]"


def test_a_quote_the_minutes_text_cuts_off_at_a_word_s_first_capital_is_shown_cut_off(hashing_assistant, tmp_path):
    """'What presentation did Lancashire's committee receive on early help?' was answered '... Head of Service Early
    Help, Children and Family Wellbeing on the Early Help Offer for L [1]', with no ellipsis and 'Sarah Callaghan' in
    bold above it: the item's text stops at the first letter of 'Lancashire', and only a quote ending on a lower-case
    word was taken for one the text cuts off. A letter after 'and' may end a list of letters ('options A, B and C')."""
    from assistant.answer.candidates import cut_off_at_item_end

    cut = ("The Committee received a presentation and update from Sarah Callaghan, Director of Education and Skills, "
           "on the Early Help Offer for L")
    found = _item(tmp_path, f"Minutes:\n\n{cut}")
    answer = composed(hashing_assistant, found, quoting(found, cut))
    assert answer.answer == f"{cut} \u2026 [1]"
    assert answer.citations[0].quote == cut  # the quote stays the minutes' words alone
    for ended in ("Members preferred options A, B and C", "The report was set out at Appendix A"):
        found = _item(tmp_path / ended.split()[-2], f"Minutes:\n\n{ended}")
        assert not cut_off_at_item_end(quoting(found, ended), found)
