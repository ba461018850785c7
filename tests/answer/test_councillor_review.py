"""How answers read to a councillor on a children's services scrutiny committee: from a review of 40 such questions
asked of the seed and dev minutes ('What did Cardiff say about the regional adoption service?')."""

from quoted_items import composed, item_passages, quoting

TITLE = "Regional Adoption Service Annual Report"


def _item(tmp_path, text: str, title: str = TITLE):
    return item_passages(tmp_path, text, title=title, council="Cardiff Council", council_key="cardiff")


def test_a_heading_shown_with_what_the_minutes_say_under_it_is_not_run_into_their_first_sentence(hashing_assistant,
                                                                                                 tmp_path):
    """'Regional Adoption Service Annual Report To enable Members to review the Annual Report of the Regional Adoption
    Service. [1]' read as one sentence, the heading as its subject; so did 'Statement from the Chair The Chair
    referred to ...'."""
    found = _item(tmp_path, f"Agenda item\n\n{TITLE}\n\nTo enable Members to review the Annual Report of the Regional "
                            "Adoption Service.")
    answer = composed(hashing_assistant, found, quoting(found, TITLE))
    assert answer.answer == (f"{TITLE}: To enable Members to review the Annual Report of the Regional Adoption "
                             "Service. [1]")
    assert answer.sentences[0].text == answer.answer  # as the chat and a briefing show it
    # The citation quotes the minutes' own words under the heading, as before.
    assert answer.citations[0].quote == "To enable Members to review the Annual Report of the Regional Adoption Service."


def test_what_is_said_under_a_heading_does_not_end_on_a_list_s_lead_in_without_the_list(hashing_assistant, tmp_path):
    """'What did the Chair say in her statement in Southampton?' was answered with the heading and the sentence under
    it, up to 60 words, which ended 'The panel noted the following: [1]': what the panel noted, the list below, was
    left out, and the answer read as if it had noted nothing."""
    found = _item(tmp_path, (
        "Statement from the Chair\n\nThe Chair referred to the recent Ofsted Inspection of Children's Services and "
        "invited the Cabinet Member and the Executive Director for Children's Services to address the panel about the "
        "findings of the inspection and the improvement plan\n\nThe panel noted the following:\n\n"
        "  \u2022 That the overall judgement of this Ofsted Inspection was that the service required improvement, with a "
        "few areas that were judged overall as good.\n"
        "  \u2022 There were no areas that were judged to be inadequate.\n"), title="Statement from Chair")
    answer = composed(hashing_assistant, found, quoting(found, "Statement from the Chair"))
    assert answer.answer.endswith("The panel noted the following: \u2022 That the overall judgement of this Ofsted "
                                  "Inspection was that the service required improvement, with a few areas that were "
                                  "judged overall as good. \u2026 [1]")
    # The citation quotes the minutes under the heading, as before.
    assert answer.citations[0].quote.endswith("The panel noted the following:")


def test_a_list_item_is_shown_after_a_lead_in_that_ends_with_a_colon_and_a_dash(hashing_assistant, tmp_path):
    """'Did Exeter agree a council tax exemption for care leavers?' was answered 'There had been a Devon wide process
    for supporting care leavers with a Council Tax liability, which had been agreed by Members in 2019. [1]', an officer's
    point read as the minutes' finding: its list's lead-in, '... made particular reference to:-', ends with ':-', as
    minutes often write it, and only a final ':' was read as one (a list's own lead-in sentence was, ':-' and all)."""
    found = _item(tmp_path, (
        "The Service Lead Revenues, Benefits and Customer Access presented the report and made particular reference "
        "to:-\n\n\u00b7         There had been a Devon wide process for supporting care leavers with a Council Tax "
        "liability, which had been agreed by Members in 2019.\n"), title="Council Tax Exemption for Care Leavers")
    answer = composed(hashing_assistant, found, quoting(found, "There had been a Devon wide process"))
    assert answer.answer.startswith("The Service Lead Revenues, Benefits and Customer Access presented the report and "
                                    "made particular reference to:- \u2026 There had been a Devon wide process")
