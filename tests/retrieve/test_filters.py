"""Filters as they arrive from the CLI, the app and JSON files: blanks mean no filter, bad values get a message."""

import pytest

from assistant.errors import BadFilterError
from assistant.retrieve.filters import Filters


@pytest.mark.parametrize("blank", ["", "   ", "\t\n", None])
def test_a_blank_or_null_value_is_no_filter(blank):
    filters = Filters(council=blank, committee=blank, since=blank, until=blank)
    assert not filters.active and filters.as_dict() == {} and filters.describe() == "none"


def test_values_are_trimmed_and_a_year_may_be_a_number():
    filters = Filters(council="  Rotherham ", since=2019, until=" 2019-06 ")
    assert filters.as_dict() == {"council": "Rotherham", "since": "2019", "until": "2019-06"}
    assert filters.describe() == "council: Rotherham; meeting date: 2019 to 2019-06"


@pytest.mark.parametrize("field, value", [("since", True), ("until", ["2019"]), ("council", 5),
                                          ("committee", {"name": "x"})])
def test_a_value_that_is_not_text_is_refused_with_a_message(field, value):
    with pytest.raises(BadFilterError, match=f"The {field} filter must be text") as caught:
        Filters(**{field: value})
    assert "quotes" in caught.value.hint


@pytest.mark.parametrize("value, said", [("-", "YYYY-MM-DD|date like"), ("spring 2019", "YYYY-MM-DD|date like"),
                                         # written as asked, but no such month or day: said so, not the format
                                         ("2019-13", "does not exist: there is no month 13"),
                                         ("2019-02-30", "does not exist: February 2019 has 28 days"),
                                         # day first, as the app's date boxes take dates too
                                         ("31/02/2019", "does not exist: February 2019 has 28 days"),
                                         ("29.02.2023", "does not exist: February 2023 has 28 days"),
                                         ("12/13/2019", r"does not exist: there is no month 13 \(the day comes"),
                                         ("00/04/2024", "does not exist: there is no day 0"),
                                         ("2024-04-00", "does not exist: there is no day 0")])
def test_a_malformed_date_is_refused_with_a_message(value, said):
    with pytest.raises(BadFilterError, match=said):
        Filters(since=value)


class _Indexed:
    """The councils an index holds, as HybridRetriever.councils_called reads them."""

    def __init__(self, *names: str) -> None:
        from assistant.text import council_key

        self.council_names_by_key = {council_key(name): name for name in names}
        self.council_keys = set(self.council_names_by_key)


@pytest.mark.parametrize("wanted, selected", [
    ("North Somerset", {"north somerset"}),  # not also Somerset, nor Bath and North East Somerset
    ("Somerset Council", {"somerset"}),
    ("Bath and North East Somerset", {"bath north east somerset"}),
    ("Lincolnshire", {"lincolnshire"}),
    ("North East", {"bath north east somerset", "north east lincolnshire"}),  # no such council: all holding it
    ("North Lincolnshire Council", {"north lincolnshire"}),
    ("Kingston upon Hull", {"hull"}),  # no council of that name: the indexed one whose words it holds
    ("Sefton", set()),
])
def test_a_council_filter_selects_the_council_of_that_name_not_its_neighbours(wanted, selected):
    from assistant.retrieve.hybrid import HybridRetriever

    indexed = _Indexed("Somerset Council", "North Somerset Council", "Bath and North East Somerset Council",
                       "Lincolnshire County Council", "North Lincolnshire Council",
                       "North East Lincolnshire Council", "Hull City Council")
    assert HybridRetriever.councils_called(indexed, wanted) == selected


def test_a_date_not_given_as_iso_is_described_as_it_was_read():
    """'01/03/2019' is 1 March to a UK reader and 3 January to an American one: the filters say which."""
    from assistant.retrieve.filters import Filters

    assert Filters(since="01/03/2019").describe() == "meeting date: 01/03/2019 (1 March 2019) to any"
    assert Filters(since="2019-03", until="2020").describe() == "meeting date: 2019-03 to 2020"
    assert Filters(until="3 March 2019").describe() == "meeting date: any to 3 March 2019"


def test_a_question_for_the_newest_figure_keeps_more_hits_and_reads_the_newest_meetings(hashing_assistant):
    """Its newest meeting's item may rank below older ones that read alike (Retrieval.items_read)."""
    from assistant.retrieve.hybrid import NEWEST_READ_HITS
    from assistant.retrieve.question import analyse

    retriever = hashing_assistant.retriever
    latest = retriever.search(analyse("What is the latest number of children in care?", retriever.council_keys))
    plain = retriever.search(analyse("What was the number of children in care?", retriever.council_keys))
    assert latest.newest_read and not plain.newest_read
    assert len(plain.hits) == 8 < len(latest.hits) <= NEWEST_READ_HITS
    compared = retriever.search(analyse("What is the latest number of children in care in Sefton and Barnsley?",
                                        retriever.council_keys))
    assert not compared.newest_read  # a comparison keeps each council's turn


@pytest.mark.parametrize("wanted, selected", [
    ("North Somerset", set()),  # not Bath and North East Somerset, whose words it shares
    ("South Gloucestershire", set()),  # not Gloucestershire
    ("North East Lincolnshire", set()),  # neither Lincolnshire nor North Lincolnshire
    ("Bath", {"bath north east somerset"}),
    ("Gloucestershire", {"gloucestershire"}),
    ("Hull", {"kingston upon hull"}),
    ("Windsor", {"windsor maidenhead"}),
    ("BANES", {"bath north east somerset"}),  # an initialism of one directory council
    ("Surrey Heath", set()),  # another council of the directory, though it holds Surrey's words
    ("Chester", {"cheshire west chester"}),  # 'west' there is Cheshire's
    ("Taunton", {"somerset west taunton"}),
    ("Norfolk", set()),  # neither King's Lynn and West Norfolk nor North Norfolk
    ("Kent", set()),  # a directory council: not Kent Fire and Rescue, as a question naming Kent is not
    ("Newcastle", {"newcastle upon tyne"}),
])
def test_a_council_filter_never_selects_another_council(wanted, selected):
    from assistant.retrieve.hybrid import HybridRetriever

    indexed = _Indexed("Bath and North East Somerset Council", "Gloucestershire County Council",
                       "Lincolnshire County Council", "North Lincolnshire Council",
                       "Kingston upon Hull City Council", "Royal Borough of Windsor and Maidenhead",
                       "Surrey County Council", "Cheshire West and Chester Council",
                       "Somerset West and Taunton Council", "Borough Council of King's Lynn and West Norfolk",
                       "North Norfolk District Council", "Kent Fire and Rescue Service",
                       "Newcastle upon Tyne City Council")
    assert HybridRetriever.councils_called(indexed, wanted) == selected


def test_a_question_about_a_year_reads_the_items_of_that_year_when_any_is_found(tmp_path, fake_settings):
    """The report of each quarter reads alike, and the reader reads sentences, not their meetings' dates: 'in 2017'
    had been answered from 2019's report. A report made later that names the year is that year's too."""
    import json

    from assistant.answer.service import Assistant
    from assistant.ingest.run import ingest
    from assistant.retrieve.filters import Filters
    from assistant.retrieve.question import analyse

    counts = dict(zip(range(2017, 2023), [401, 415, 433, 448, 462, 470]))
    rows = [{"url": f"https://example.org/sefton/{year}", "council": "Sefton Council", "date": f"{year}-06-12",
             "title": "Children Looked After Performance Report",
             "text": f"The Head of Service presented the quarterly report. The number of children looked after was "
                     f"{count} at the end of the quarter."} for year, count in counts.items()]
    rows.append({"url": "https://example.org/sefton/annual", "council": "Sefton Council", "date": "2016-09-01",
                 "title": "Annual Report", "text": "The annual report for 2015 said the number of children looked "
                                                   "after had been 380."})
    rows.append({"url": "https://example.org/sefton/january", "council": "Sefton Council", "date": "2023-01-20",
                 "title": "Children Looked After Performance Report",
                 "text": "The number of children looked after was 480 at the end of December."})
    # Dated by the year alone: of no quarter of it.
    rows.append({"url": "https://example.org/sefton/year", "council": "Sefton Council", "date": "2023",
                 "title": "Children Looked After Performance Report",
                 "text": "The number of children looked after was 502 at the end of the quarter."})
    rows.append({"url": "https://example.org/sefton/offer", "council": "Sefton Council", "date": "",
                 "title": "Children Looked After Offer", "text": "The offer to children looked after was noted."})
    corpus = tmp_path / "sefton.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in rows))
    settings = fake_settings.with_(data_dir=tmp_path / "index")
    ingest([corpus], settings, progress=False)
    assistant = Assistant(settings)
    retriever = assistant.retriever

    def read(question: str, filters: Filters = Filters()) -> set[str]:
        found = retriever.search(analyse(question, retriever.council_keys), filters)
        return {source_id.rsplit("/", 1)[-1] for source_id, _ in found.items_read(5)}

    try:
        # An undated item may be of any year: it is read, but is no item of the year found.
        assert read("What was the number of children looked after in Sefton in 2018?") == {"2018", "offer"}
        assert read("What was the number of children looked after in Sefton in 2015?") == {"annual", "offer"}
        assert read("How did the number of children looked after in Sefton in 2018 compare with 2021?") == {
            "2018", "2021", "offer"}
        # The last quarter of a year is reported in the quarter after it.
        assert read("What was the number of children looked after in Sefton in December 2022?") == {
            "2022", "january", "offer"}
        # No item of the year, nor naming it: the items found are read as ranked.
        assert len(read("What was the number of children looked after in Sefton in 2012?")) == 5
        # A date filter says which meetings; 'since 2019' asks about no one year.
        assert len(read("What was the number of children looked after in Sefton in 2018?", Filters(since="2017")))\
            == 5
        assert len(read("What was the number of children looked after in Sefton since 2019?")) == 5
    finally:
        assistant.close()


def test_a_comparison_of_the_councils_a_question_names_searches_only_them(tmp_path, fake_settings):
    """'Compare ... in Gateshead and Rotherham' had searched every council, and led with Bridgend's figure."""
    import json

    from assistant.answer.service import Assistant
    from assistant.ingest.run import ingest
    from assistant.retrieve.filters import Filters
    from assistant.retrieve.question import analyse

    rows = [{"url": f"https://example.org/{council.split()[0].lower()}", "council": council, "date": "2019-06-12",
             "title": "Children Looked After", "text": f"The number of looked after children was {count} at the end "
                                                        "of March, the Head of Service reported."}
            for council, count in [("Gateshead Council", 371), ("Rotherham Metropolitan Borough Council", 634),
                                   ("Bridgend County Borough Council", 380), ("Sefton Council", 520)]]
    corpus = tmp_path / "councils.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in rows))
    settings = fake_settings.with_(data_dir=tmp_path / "index")
    ingest([corpus], settings, progress=False)
    retriever = Assistant(settings).retriever

    def councils_searched(question: str) -> set[str]:
        found = retriever.search(analyse(question, retriever.council_keys), Filters())
        return {hit.metadata["council_key"] for hit in found.hits}

    assert councils_searched("Compare the number of looked after children in Gateshead and Rotherham") == {
        "gateshead", "rotherham"}
    assert councils_searched("Which councils besides Sefton reported the number of looked after children?") == {
        "gateshead", "rotherham", "bridgend", "sefton"}


@pytest.mark.parametrize("wanted", ["BCP", "Bournemouth, Christchurch and Poole", "BCP Council"])
def test_a_council_indexed_under_its_name_and_its_initials_is_selected_under_both(wanted):
    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.retrieve.question import analyse

    indexed = _Indexed("BCP Council", "Bournemouth, Christchurch and Poole Council", "Dorset Council")
    both = {"bcp", "bournemouth christchurch poole"}
    assert HybridRetriever.councils_called(indexed, wanted) == both
    assert set(analyse(f"What was the projected overspend in {wanted}?", indexed.council_keys).councils) == both


def test_three_letters_that_are_an_indexed_council_s_initials_select_it_only_where_it_is_indexed_so():
    from assistant.retrieve.hybrid import HybridRetriever

    indexed = _Indexed("North West Leicestershire District Council", "Leicester City Council")
    assert HybridRetriever.councils_called(indexed, "NWL") == set()


def test_a_date_written_day_first_with_dashes_is_read_as_with_slashes():
    assert Filters(since="01-04-2024").describe() == "meeting date: 01-04-2024 (1 April 2024) to any"
    with pytest.raises(BadFilterError, match="February 2019 has 28 days"):
        Filters(until="31-02-2019")


@pytest.mark.parametrize("field", ["council", "committee"])
def test_a_council_or_committee_far_longer_than_any_name_is_refused(field):
    """From the security review: a council field of megabytes, sent to the app's API, was searched, echoed in the
    answer and written to the audit log with every question (5 MB a request), though a question is held to 2,000
    characters."""
    from assistant.retrieve.filters import MAX_NAME_FILTER_CHARS

    assert Filters(**{field: "x" * MAX_NAME_FILTER_CHARS}).as_dict() == {field: "x" * MAX_NAME_FILTER_CHARS}
    with pytest.raises(BadFilterError, match=f"The {field} filter is 1,000,000 characters long; the limit is 500") \
            as caught:
        Filters(**{field: "x" * 1_000_000})
    assert caught.value.field == field and "leave it empty" in caught.value.hint


@pytest.mark.parametrize("field", ["since", "until"])
def test_a_date_that_cannot_be_read_is_not_echoed_whole(field):
    # From the code review: a date filter of 100 KB was repeated whole in its message.
    with pytest.raises(BadFilterError) as caught:
        Filters(**{field: "z" * 100_000})
    assert len(caught.value.message) < 200 and "(100,000 characters)" in caught.value.message
    with pytest.raises(BadFilterError, match="date must be like 2019-04-01, not 'last spring'"):
        Filters(**{field: "last spring"})
