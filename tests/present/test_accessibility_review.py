"""From an accessibility review of the chat app and its briefings (WCAG 2.2 AA, GOV.UK-style expectations): what
tells a control apart from the page, a quote told by more than its colour, links that say they open a new tab, and
a Word briefing's headings at AA contrast. The real browser's side is in test_browser.py."""

import re

from docx import Document

from assistant.present.app import APP_CSS, READABLE_COLOURS, ChatHandlers, Turn
from assistant.records import Answer, Citation, SentenceVerdict

# The backgrounds a control sits on: a block of Gradio's default theme, in light and in dark mode.
BLOCK_BACKGROUND = ("#ffffff", "#27272a")


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two colours written #rrggbb."""
    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_a_fields_border_an_unticked_box_and_a_chosen_radio_are_at_3_to_1_in_both_modes():
    """WCAG 1.4.11: Gradio's pale grey borders were 1.5:1 (a radio button or tick box) and 1.3:1 (a text field) on
    white, and a chosen radio button or ticked box its orange-500, 2.8:1 on white."""
    for name in ("input_border_color", "checkbox_border_color", "checkbox_border_color_hover",
                 "checkbox_border_color_focus", "checkbox_border_color_selected",
                 "checkbox_background_color_selected"):
        for colour, background in zip(READABLE_COLOURS[name], BLOCK_BACKGROUND):
            assert contrast(colour, background) >= 3, (name, colour, background)
    # A field's border, dark before it is focused too, changes little on focus: a focused field is ringed, 2 px wide.
    for shadow, background in zip(READABLE_COLOURS["input_shadow_focus"], BLOCK_BACKGROUND):
        ring = re.fullmatch(r"0 0 0 (\d+)px (#[0-9a-f]{6})", shadow)
        assert ring and int(ring.group(1)) >= 2 and contrast(ring.group(2), background) >= 3, shadow


def test_the_highlighted_quote_is_ringed_not_told_by_its_yellow_alone():
    """WCAG 1.4.1: the quote's yellow is 1.3:1 on white, too faint for a member who cannot tell the colour."""
    rule = re.search(r"#source-panel mark, #chat mark \{([^}]*)\}", APP_CSS)
    assert rule, APP_CSS
    ring = re.search(r"box-shadow: 0 0 0 1px (#[0-9a-f]{6})", rule.group(1))
    assert ring and contrast(ring.group(1), "#ffffff") >= 3 and contrast(ring.group(1), "#ffe066") >= 3


def _answer_with_a_link() -> Answer:
    citation = Citation(1, "item-1", "Rotherham Council", "Board", "2019-01-01", "Children in care",
                        "In 2018 148 children left care.", "chunk-1", "https://example.org/1")
    return Answer("How many children left care?", "In 2018 148 children left care. [1]", False, None, "extractive",
                  citations=[citation],
                  sentences=[SentenceVerdict("In 2018 148 children left care. [1]", (1,), True, True, 1.0,
                                             "verbatim")])


def test_a_sources_link_says_that_it_opens_a_new_tab(hashing_assistant):
    """A source's link opens in a new tab (the page keeps the conversation): GOV.UK's style has the link say so, so
    that a member, and a screen reader, know before the page changes under them."""
    handlers = ChatHandlers(hashing_assistant)
    answer = _answer_with_a_link()
    for shown in (handlers.render(answer), handlers.source_panel(Turn("a" * 32, answer), 1)):
        link = re.search(r'<a href="https://example.org/1" target="_blank" rel="noopener">([^<]*)</a>', shown)
        assert link and link.group(1).endswith(" (opens in new tab)"), shown


def test_a_word_briefings_headings_are_at_aa_contrast(tmp_path):
    """python-docx's template colours a second-level heading ("Sources", 13 pt bold, which is not large text) in
    #4F81BD, 4.0:1 on white; WCAG AA asks 4.5:1 of it (3:1 of large text: 18 pt, or 14 pt bold)."""
    from assistant.present.briefing import entry_from_answer, write_briefing

    out = write_briefing([entry_from_answer(_answer_with_a_link())], tmp_path / "briefing.docx")
    document = Document(str(out))
    headings = {p.style.name: p.style for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))}
    assert set(headings) >= {"Title", "Heading 1", "Heading 2"}
    for style in headings.values():
        colour = next(s.font.color.rgb for s in _style_chain(style) if s.font.color.rgb is not None)
        size = next((s.font.size.pt for s in _style_chain(style) if s.font.size is not None), 11)
        bold = next((s.font.bold for s in _style_chain(style) if s.font.bold is not None), False)
        large = size >= 18 or (bold and size >= 14)
        assert contrast(f"#{colour}", "#ffffff") >= (3 if large else 4.5), (style.name, str(colour), size, bold)


def _style_chain(style):
    while style is not None:
        yield style
        style = style.base_style
