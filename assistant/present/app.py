"""The Gradio chat for members and the briefing export for officers.

`build_app()` returns the Blocks; `app.py` at the top level launches it. Every handler is a plain
method of `ChatHandlers`, so tests call them directly without a browser.
"""


import asyncio
import atexit
import html
import itertools
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import aclosing, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from assistant.errors import AssistantError, BadFilterError, IndexStaleError, ModelError
from assistant.present.render import (address_or_label, answer_as_text, in_languages, markdown_literal,
                                      not_shown_note, short_answer_line, source_line, visible_text, web_address)
from assistant.records import Answer, Citation, Provenance, SentenceVerdict
from assistant.answer.service import EXTRACTIVE, Assistant, ModelFailure, error_in_log
from assistant.present.audit import AnswerRecorder
from assistant.present.auth import FAILURES_PER_NAME, HELD_BACK_S
from assistant.retrieve.filters import Filters
from assistant.text import (INSTRUCTION_REASON, MODEL_DECLINED, REPLY_CUT_OFF, addresses_in, counted, noun_for,
                            place_name, question_in_log)

# Set, not defaulted: a GRADIO_ANALYTICS_ENABLED=True inherited from the environment would have Gradio send usage
# reports (and look up its servers) from a council's machine; nothing here is meant to leave it.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
log = logging.getLogger(__name__)

# The theme's hint text (under a field) and placeholders are pale grey on white, about 1.9:1: too faint to read for
# many members. These keep them above the 4.5:1 that WCAG AA asks of text, in light and dark mode alike.
# Colours at WCAG AA: hints and placeholders 4.5:1; the primary buttons' white text 5.2:1 on orange-700 (Gradio's
# orange-500 gave 2.8:1); a focused field's border 6.7:1 on white (Gradio's pale blue gave 1.8:1, under the 3:1 that
# a focus indicator needs), and a focused radio or tick box gets the same colour as a ring (Gradio only tints its
# 1 px border, 2.8:1, and a checked radio not at all). The quote's highlight sets its own dark text: in dark mode the
# inherited pale text on yellow was 1.2:1. Long links in a source wrap, so a narrow screen needs no sideways
# scrolling.
# What tells a control apart from the page is at the 3:1 WCAG 1.4.11 asks: a text field's, an unticked box's and an
# unchosen radio button's border (Gradio's pale grey gave 1.3:1 and 1.5:1 on white: a field showed by its label
# alone), and a chosen radio button's or ticked box's fill (Gradio's orange-500, 2.8:1 on white: orange-700 there, as
# on Ask; orange-500 kept in dark mode, where orange-700 would be 2.9:1). A field's border, dark now before it is
# focused too, changes too little on focus to be seen at a glance: a focused field is ringed (its focus shadow, Gradio's
# a 1.1:1 pale blue), as a radio button is.
# The quote is ringed as well as yellow (the yellow is 1.3:1 on white, the ring 6.3:1): not told by its colour alone.
# (light, dark) for each of the theme's colours that is changed. They go into Gradio's theme (`page_theme`), which the
# sign-in page uses too (its Login button had the 2.8:1 orange: APP_CSS is not put on that page), and into APP_CSS.
READABLE_COLOURS = {
    "block_info_text_color": ("#52525b", "#c4c4cc"), "body_text_color_subdued": ("#52525b", "#c4c4cc"),
    "input_placeholder_color": ("#62626c", "#b4b4bd"),
    "button_primary_background_fill": ("#c2410c", "#c2410c"),
    "button_primary_background_fill_hover": ("#9a3412", "#9a3412"),
    "button_primary_text_color": ("#ffffff", "#ffffff"), "button_primary_text_color_hover": ("#ffffff", "#ffffff"),
    "input_border_color_focus": ("#1d4ed8", "#93c5fd"),
    "input_border_color": ("#71717a", "#a1a1aa"), "input_shadow_focus": ("0 0 0 2px #1d4ed8", "0 0 0 2px #93c5fd"),
    "checkbox_border_color": ("#71717a", "#a1a1aa"), "checkbox_border_color_hover": ("#52525b", "#d4d4d8"),
    "checkbox_border_color_focus": ("#1d4ed8", "#93c5fd"),
    "checkbox_border_color_selected": ("#c2410c", "#f97316"),
    "checkbox_background_color_selected": ("#c2410c", "#f97316"),
}


def _colour_variables(dark: bool) -> str:
    return " ".join(f"--{name.replace('_', '-')}: {pair[dark]};" for name, pair in READABLE_COLOURS.items())


def page_theme():
    """Gradio's default theme with READABLE_COLOURS: for `launch(theme=...)`."""
    import gradio as gr

    return gr.themes.Default().set(**{name: light for name, (light, _) in READABLE_COLOURS.items()},
                                   **{f"{name}_dark": dark for name, (_, dark) in READABLE_COLOURS.items()})


APP_CSS = f"""
:root {{ {_colour_variables(dark=False)} }}
.dark {{ {_colour_variables(dark=True)} }}
.source-panel {{ max-height: 520px; overflow-y: auto; padding-right: 6px; }}
.source-panel h3 {{ font-size: 1em; }}
#source-panel a, #chat a {{ overflow-wrap: anywhere; }}
#source-panel mark, #chat mark {{ background: #ffe066; color: #1a1a1a; padding: 0 2px; box-shadow: 0 0 0 1px #7a5c00;
  -webkit-box-decoration-break: clone; box-decoration-break: clone; }}
input[type=radio]:focus-visible, input[type=checkbox]:focus-visible {{ outline: 3px solid #1d4ed8;
  outline-offset: 2px; }}
.dark input[type=radio]:focus-visible, .dark input[type=checkbox]:focus-visible {{ outline-color: #93c5fd; }}
.container .wrap:has(input[role=combobox]):not(:focus-within) {{ border-color: var(--input-border-color); }}
#chat label.float {{ position: static; }}
#chat button[aria-label="Clear"] {{ display: none; }}
#chat .top-panel button:has(svg[viewBox="0 0 32 32"]) {{ display: none; }}
@media (max-width: 640px) {{
  #chat ul, #chat ol {{ padding-left: 16px; }}
  #chat .message-row {{ max-width: 100%; margin-left: 0; margin-right: 0; }}
  #chat .message-row .message {{ padding-left: 6px; padding-right: 6px; }}
  #chat blockquote, #source-panel blockquote {{ margin-left: 0; margin-right: 0; padding-left: 8px; }}
}}
@media (pointer: coarse) {{
  #chat .icon-button {{ min-width: 40px; min-height: 40px; }}
  button.primary, button.secondary, #sign-out {{ min-height: 44px; }}
}}
"""
# A question that names nothing indexed: the question box's placeholder, and the example shown until a page has loaded
# the index's own.
GENERIC_EXAMPLE = "How many children left care in 2018?"
# Gradio shows an example's first 60 characters on its button, and "..." for the rest, cut mid-word.
EXAMPLE_BUTTON_CHARS = 60
RATING_CHOICES = [("Helpful", "helpful"), ("Not helpful", "not_helpful"), ("A source is wrong", "source_wrong")]
# The filters' no-filter choice, in words a screen reader can read; it means what an empty field means.
ALL_COUNCILS, ALL_COMMITTEES = "All councils", "All committees"
# Under each date field: how to write a date there.
DATE_HINT = "Year, month, day: such as 2019-03-01."
# The filters' messages name the CLI's --since and --until; the app names its own fields instead.
APP_FIELD_NAMES = {"since": "\u201cMeetings from\u201d", "until": "\u201cMeetings until\u201d"}
# Said in a source's link, which opens in a new tab (the page keeps the conversation): a member, or a screen reader,
# is told before the page they are on gives way to another, as GOV.UK's style asks.
NEW_TAB = "(opens in new tab)"
NO_SOURCES = "<p>The sources of an answer show here once a question is answered.</p>"
# The note an answer that stopped part-way is audited with: what the member saw, and why the rest never came.
CUT_SHORT_LEFT = ("Cut short: the answer stopped before it was complete (the page was closed or reloaded, or the "
                  "chat cleared); these are the sentences the member's page had taken until then.")
CUT_SHORT_FAILED = ("Cut short: answering failed part-way (the app's log says why); these are the sentences shown to "
                    "the member before it failed.")
# A source panel whose item an ingest has changed since the answer quoted it.
SOURCE_CHANGED = "This item has changed since the answer was given; the quoted words are no longer in it."
SOURCE_STILL = "This item has changed since the answer was given; the quoted words are still in it, marked below."
# While an answer comes, under the question box: why Ask and Enter do nothing until it is done.
ANSWERING_NOTE = ("_An answer is on its way: wait for it to finish before asking again, or press \u201cClear "
                  "conversation\u201d to stop it. What you type meanwhile stays in the box._")
# In place of the answer while every slot the app allows is answering others.
WAITING_NOTE = ("_Waiting for a free slot: the assistant is answering as many questions as it can at once. Yours "
                "starts as soon as one of them is done._")
# How many chat answers Gradio starts for each of the app's answer slots (the rest wait in its queue), and how long an
# API call waits for a slot before it is told to ask again.
CHAT_ANSWERS_PER_SLOT, API_SLOT_WAIT_S = 4, 60.0
API_BUSY = ("The assistant is answering as many questions as it can at once, and none finished within a minute: ask "
            "again shortly.")
# On the sign-in page: Gradio says only "Incorrect Credentials", for a typo and for a name held back alike.
SIGN_IN_NOTE = (f"Sign in with the name and password you were given. After {FAILURES_PER_NAME} wrong passwords within "
                f"{HELD_BACK_S // 60} minutes, a name is held back for {HELD_BACK_S // 60} minutes, and its right "
                "password is refused meanwhile too: wait, then try again.")
# The sign-in page's title, and what it says for a name and password refused (Gradio's own words, "Incorrect
# Credentials", are shown without being announced, the same for a typo and for a name held back).
SIGN_IN_TITLE = "Sign in: Council minutes assistant"
SIGN_IN_REFUSED = ("That name and password were not accepted. Check both and try again (a name held back after wrong "
                   "passwords is refused until its wait is over).")
# Added to Gradio's sign-in page alone (auth.SignInPageHead): its title, kept while Gradio's client leaves it empty,
# and its refusal as an alert a screen reader reads out, in the app's words. Gradio shows its refusal once and leaves
# it: a second refusal changed nothing but the emptied boxes, and was not read out; the alert is said again (emptied,
# then filled a moment later: a change within one moment is none to a screen reader).
SIGN_IN_PAGE_HEAD = f"""<title>{html.escape(SIGN_IN_TITLE)}</title><script>
(() => {{
  const title = {json.dumps(SIGN_IN_TITLE)}, refused = {json.dumps(SIGN_IN_REFUSED)};
  const mend = () => {{
    if (!document.title) document.title = title;
    for (const note of document.querySelectorAll("p.creds:not([role])")) {{
      note.setAttribute("role", "alert");
      note.textContent = refused;
    }}
  }};
  new MutationObserver(mend).observe(document.documentElement, {{childList: true, subtree: true, characterData: true}});
  mend();
  const plainFetch = window.fetch;
  window.fetch = async (...args) => {{
    const response = await plainFetch(...args);
    const url = String(args[0] && args[0].url ? args[0].url : args[0]);
    if (response.status === 400 && /\\/login\\/?$/.test(url)) {{
      for (const note of document.querySelectorAll("p.creds[role]")) {{
        note.textContent = "";
        setTimeout(() => {{ note.textContent = refused; }}, 150);
      }}
    }}
    return response;
  }};
}})();
</script>"""
# A member whose session ended (removed from the users file, a new password, or signed out in another tab).
SIGNED_OUT = ("You are signed out (your sign-in was ended, or you signed out in another tab). Reload the page to "
              "sign in again.")
# A page whose session has ended (Sign out in another tab, or the member's line removed from the users file) has
# every request refused before any handler runs, and Gradio shows a bare "Error" on each output: the page says what
# happened instead, and how to sign in again. The sign-in page's own check is left alone.
SIGNED_OUT_SCRIPT = """<script>
(() => {
  const askedByThePage = (url) => /\\/(queue\\/join|queue\\/data|run\\/|call\\/|heartbeat|upload)/.test(String(url));
  const plainFetch = window.fetch;
  window.fetch = async (...args) => {
    const response = await plainFetch(...args);
    const url = args[0] && args[0].url ? args[0].url : args[0];
    if (response.status === 401 && askedByThePage(url) && !document.getElementById("signed-out")) {
      const note = document.createElement("div");
      note.id = "signed-out";
      note.setAttribute("role", "alert");
      note.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:100000;padding:16px;background:#fff3cd;"
        + "color:#222;border-bottom:2px solid #b58900;font-size:1.1em;text-align:center";
      note.textContent = "You are signed out (you signed out in another tab, or your sign-in was ended). "
        + "Reload the page to sign in again. ";
      const again = document.createElement("button");
      again.textContent = "Sign in again";
      again.style.cssText = "margin-left:8px;padding:4px 12px;border:1px solid #555;border-radius:4px";
      again.onclick = () => window.location.reload();
      note.appendChild(again);
      document.body.appendChild(note);
    }
    return response;
  };
})();
</script>"""
# The conversation, and the answers a member may tick for a briefing, live in the page alone: a reload or a closed
# tab loses them (the audit log keeps the answers, but not where a member can reach them). Once there is an answer
# to lose, the browser asks before the page goes. A signed-out page, or one whose member pressed "Sign out", is left
# to go: its member leaves it on purpose.
LEAVING_SCRIPT = """<script>
if (!window.askBeforeLeaving) {  // once, however often the page's head is put in
  let signingOut = false;  // "Sign out" leaves the page on purpose
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("#sign-out")) signingOut = true;
  }, true);
  window.askBeforeLeaving = (event) => {
    const chat = document.getElementById("chat");
    if (signingOut || document.getElementById("signed-out") || !chat
        || !chat.querySelector('[data-testid="bot"]')) return;
    event.preventDefault();
    event.returnValue = "";
  };
  window.addEventListener("beforeunload", window.askBeforeLeaving);
}
</script>"""
# What `launch` is given besides the Blocks (Gradio takes the page's CSS and head there, not in the Blocks).
# Gradio names each chat message by its source text: a screen reader that reads a message's name would speak the
# answer's Markdown and HTML ('**', '\\[1\\]', '<a href=...>', '<mark>'). Each message is named by its text as
# shown instead, kept so as it streams. The feedback's and the export's messages are status regions, announced, and
# the sections that open and close say whether they are open.
MESSAGE_NAME_SCRIPT = """<script>
if (!window.nameMessagesByText) {  // once, however often the page's head is put in
  window.nameMessagesByText = () => {
    for (const message of document.querySelectorAll('#chat [data-testid="bot"], #chat [data-testid="user"]')) {
      const label = message.getAttribute("aria-label");
      if (label === null) continue;
      const who = message.getAttribute("data-testid") === "bot" ? "The assistant's answer: " : "Your question: ";
      const shown = who + message.innerText.replace(/\\s+/g, " ").trim();
      if (label !== shown) message.setAttribute("aria-label", shown);
    }
    // What Send and Export say ("Thank you ...", "Briefing with 1 answer written.") and the note while an answer
    // comes are announced where they appear: the text alone, not Gradio's timer ("queue: 1/1 | processing"), which
    // it draws in the same block.
    for (const block of document.querySelectorAll("#feedback-status, #export-status, #asking-note")) {
      if (block.getAttribute("role") === "status") block.removeAttribute("role");
      const text = block.querySelector(".prose") || block;
      if (text.getAttribute("role") !== "status") text.setAttribute("role", "status");
    }
    // The briefing's download link is named by its file, as a link out of context needs: Gradio's says only its size
    // and an arrow ("767.0 B" and U+21E3), the file's name sitting in a table cell of its own beside it.
    for (const link of document.querySelectorAll("#briefing-file a[download]")) {
      const size = link.innerText.replace(/[\\s\\u21e3]+/g, " ").trim();
      const named = `Download the briefing ${link.getAttribute("download")}` + (size ? ` (${size})` : "");
      if (link.getAttribute("aria-label") !== named) link.setAttribute("aria-label", named);
    }
    // A section that opens and closes (Feedback, Briefing) says which it is: Gradio shows it by a turned arrow alone.
    for (const toggle of document.querySelectorAll("button.label-wrap")) {
      const open = String(toggle.classList.contains("open"));
      if (toggle.getAttribute("aria-expanded") !== open) toggle.setAttribute("aria-expanded", open);
    }
  };
  // A set of radio buttons or tick boxes is named by the label shown above it ("Was it useful?", "Answers to
  // include"), which Gradio does not tie to it. Gradio also gives each radio button a name of its own, made anew as it
  // changes: each was a set of one ("1 of 1"), a Tab stop of its own, and the arrow keys did not move between them.
  // Put right as soon as Gradio changes them, not a frame later: a key pressed meanwhile would find them apart.
  let setsNamed = 0;
  window.nameSetsByLabel = () => {
    for (const group of document.querySelectorAll("fieldset.block")) {
      const label = group.querySelector(':scope > [data-testid="block-info"]');
      if (!label) continue;
      if (!label.id) label.id = `set-label-${++setsNamed}`;
      if (group.getAttribute("aria-labelledby") !== label.id) group.setAttribute("aria-labelledby", label.id);
      for (const radio of group.querySelectorAll('input[type="radio"]')) {
        if (radio.name !== label.id) radio.name = label.id;
      }
    }
  };
  // While an answer comes (Ask is off), the chat's log is busy: a screen reader waits for the whole answer rather
  // than reading each streamed step of it as it replaces the last. And Gradio's announcer says "common.complete" (a
  // phrase its English lacks) as each step the page asked for ends: it says "Done." instead.
  window.answerBusyAndDone = () => {
    const log = document.querySelector('#chat [role="log"]'), ask = document.getElementById("ask");
    const busy = String(Boolean(ask && ask.disabled));
    if (log && log.getAttribute("aria-busy") !== busy) log.setAttribute("aria-busy", busy);
    for (const status of document.querySelectorAll('.sr-only[role="status"]')) {
      for (const words of status.childNodes) {  // in place: Gradio keeps writing into the same text node
        if (words.nodeType === Node.TEXT_NODE && words.nodeValue.trim() === "common.complete") {
          words.nodeValue = "Done.";
        }
      }
    }
  };
  let queued = false;  // once a frame at most, however many changes a streamed answer makes
  new MutationObserver(() => {
    window.nameSetsByLabel();
    window.answerBusyAndDone();
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; window.nameMessagesByText(); });
  }).observe(document.documentElement,
      {subtree: true, childList: true, characterData: true, attributes: true,
       attributeFilter: ["aria-label", "class", "name", "disabled"]});
}
</script>"""
# Ask is turned off while its answer comes ("Answering..."), and a button turned off loses the keyboard's focus, which
# fell to the top of the page: pressed, Ask hands the focus to the question box, where the next question is typed
# (Enter in the box keeps it there already).
ASK_FOCUS_SCRIPT = """<script>
if (!window.focusQuestionAfterAsk) {  // once, however often the page's head is put in
  window.focusQuestionAfterAsk = (event) => {
    if (!event.target.closest || !event.target.closest("#ask")) return;
    if (event.pointerType === "touch") return;  // a tap: focus would bring the screen keyboard back over the answer
    setTimeout(() => { const box = document.querySelector("#question textarea"); if (box) box.focus(); }, 0);
  };
  document.addEventListener("click", window.focusQuestionAfterAsk, true);
}
</script>"""
# Gradio's drop-down fields (Council, Committee, Open a source) and the keyboard: Tab out of one stopped on its list,
# then on nothing (the page), and left the list open over the fields below (the Committee box, Tab's next stop, hidden
# under the councils' list), since Gradio's handler of any key opens the list a moment later, the field left by then;
# and a choice made with Enter dropped the focus to the page, where a screen reader says nothing of the field just set.
# So Tab, and a key that only modifies another (Shift+Tab's Shift), are the browser's alone here; the list is reached
# from its box by the arrow keys, never by Tab; and the box has the focus back once a choice is made.
DROPDOWN_KEYS_SCRIPT = """<script>
if (!window.dropdownKeys) {  // once, however often the page's head is put in
  let refocused = null;  // a box given back the focus after a choice: its list stays closed
  window.dropdownKeys = (event) => {
    const box = event.target.matches && event.target.matches('input[role="combobox"]') ? event.target : null;
    if (!box) return;
    if (["Shift", "Control", "Alt", "Meta"].includes(event.key)) {
      event.stopPropagation();
    } else if (event.key === "Tab") {
      const list = document.getElementById(box.getAttribute("aria-controls"));
      if (list) list.setAttribute("tabindex", "-1");
      event.stopPropagation();
    } else if (event.key === "Enter" && box.getAttribute("aria-expanded") === "true") {
      setTimeout(() => {
        if (document.activeElement && document.activeElement !== document.body) return;
        refocused = box;
        box.focus();
        refocused = null;
      }, 0);
    }
  };
  document.addEventListener("keydown", window.dropdownKeys, true);
  // Gradio opens a box's list whenever the box takes the focus: not when it is given back just after a choice.
  document.addEventListener("focus", (event) => { if (event.target === refocused) event.stopPropagation(); }, true);
}
</script>"""
# A new question is shown at the top of the chat, its answer below it: Gradio's own scrolling showed the end of each
# answer, its short answer and first quote scrolled out of sight above (on a phone, a whole screen above). Where the
# question is out of the page's view as well (a phone, the question box below the chat), the page scrolls to it. A
# source opened beside the chat opens at its highlighted quote, not at the top of its item.
NEW_QUESTION_SCRIPT = """<script>
if (!window.showNewQuestionAtTop) {  // once, however often the page's head is put in
  let questionsSeen = 0, pinned = null, placed = null;
  // Held at the top while its answer comes in below it (Ask is off meanwhile), until the member moves: scrolls the
  // chat or the page themselves (by wheel, bar, keys or swipe: any scroll that leaves them elsewhere than where this
  // put them), presses anywhere, or moves the focus out of the chat and the question box.
  const letGo = () => { pinned = null; };
  for (const moved of ["wheel", "touchmove", "pointerdown"]) window.addEventListener(moved, letGo, {passive: true});
  document.addEventListener("focusin", (event) => {
    if (!event.target.closest || !event.target.closest("#chat, #question")) letGo();
  });
  document.addEventListener("scroll", (event) => {
    if (!pinned || !placed) return;
    const where = event.target === document ? window.scrollY : event.target === placed.box ? placed.box.scrollTop
      : null;
    const meant = event.target === document ? placed.page : placed.top;
    if (where !== null && Math.abs(where - meant) > 2) letGo();
  }, true);
  window.showNewQuestionAtTop = () => {
    const chat = document.getElementById("chat");
    const questions = chat ? chat.querySelectorAll('[data-testid="user"]') : [];
    if (questions.length > questionsSeen) pinned = questions[questions.length - 1];
    if (questions.length < questionsSeen) pinned = null;  // cleared
    questionsSeen = questions.length;
    if (pinned && pinned.isConnected) {
      // The chat's scrolling box: Gradio's inner one at a fixed height, the chat's block at a largest height.
      const box = [chat.querySelector(".bubble-wrap"), chat].find((element) => element
        && /auto|scroll/.test(getComputedStyle(element).overflowY) && element.scrollHeight > element.clientHeight);
      if (box) box.scrollTop += pinned.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
      const shown = pinned.getBoundingClientRect().top;
      if (shown < 0 || shown > window.innerHeight - 96) window.scrollBy({top: shown - 8});
      placed = {box: box, top: box ? box.scrollTop : 0, page: window.scrollY};
      const ask = document.getElementById("ask");
      if (!ask || !ask.disabled) pinned = null;  // the answer is complete: the page is the member's again
    }
    const panel = document.querySelector("#source-panel .source-panel");
    const quote = panel && panel.querySelector("mark");
    if (quote && panel.dataset.atQuote !== quote.textContent) {
      panel.dataset.atQuote = quote.textContent;
      panel.scrollTop += quote.getBoundingClientRect().top - panel.getBoundingClientRect().top - 48;
    }
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; window.showNewQuestionAtTop(); });
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true});
}
</script>"""
# "Copy message" and "Copy conversation" copied what Gradio holds, each message's Markdown source: a member pasting
# an answer into an email got '\[1\]', '**', '<mark>' and 'https\://'. They copy the text as shown instead, as a
# screen reader reads it (MESSAGE_NAME_SCRIPT), whichever way Gradio copies (the clipboard API, or on a page served
# over plain HTTP, which has none, a copy command on a text box of its own; there it had not copied the conversation).
COPY_AS_SHOWN_SCRIPT = """<script>
if (!window.copyAsShown) {  // once, however often the page's head is put in
  let pressed = null;  // the chat's button being pressed, while its click runs
  document.addEventListener("click", (event) => {
    pressed = event.target.closest ? event.target.closest("#chat button") : null;
    setTimeout(() => { pressed = null; }, 0);
    // Gradio copies the conversation through the clipboard API alone: over plain HTTP, Copy conversation did nothing.
    if (pressed && pressed.closest(".top-panel") && !("clipboard" in navigator)) {
      const box = document.createElement("textarea");
      box.value = window.copyAsShown() || "";
      box.style.cssText = "position:fixed;top:0;opacity:0";
      document.body.appendChild(box);
      box.select();
      document.execCommand("copy");
      box.remove();
      pressed.focus();
    }
  }, true);
  const shownText = (message) => message.innerText.replace(/\\n{3,}/g, "\\n\\n").trim();
  window.copyAsShown = () => {
    const chat = document.getElementById("chat");
    if (!pressed || !chat) return null;
    const buttons = pressed.closest(".message-buttons");
    if (buttons) {  // a message's own Copy: the message row just before its buttons
      let row = buttons.previousElementSibling;
      while (row && !row.classList.contains("message-row")) row = row.previousElementSibling;
      const message = row && row.querySelector('[data-testid="bot"], [data-testid="user"]');
      return message ? shownText(message) : null;
    }
    if (!pressed.closest(".top-panel")) return null;
    return [...chat.querySelectorAll('[data-testid="user"], [data-testid="bot"]')].map((message) =>
      (message.getAttribute("data-testid") === "user" ? "user: " : "assistant: ") + shownText(message)).join("\\n\\n");
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const plainWrite = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => plainWrite(window.copyAsShown() || text);
  }
  document.addEventListener("copy", (event) => {
    const shown = window.copyAsShown();
    if (shown && event.clipboardData) {
      event.clipboardData.setData("text/plain", shown);
      event.preventDefault();
    }
  });
}
</script>"""
# The question box is emptied once the question is accepted, a moment after it was sent: emptied by the server, it lost
# whatever the member had typed in that moment (the next question begun at once). So the server only says that the
# question was taken, and which (a new mark in #question-taken), and the page takes it out of the box, keeping what was
# typed after it; a box changed otherwise meanwhile (the question rewritten) is left as it is. The question comes from
# the server, not from the page's Ask or Enter: an Enter pressed on the next question while the first was being taken,
# which Gradio holds back, had been taken for the question sent, and emptied the box. A question that fails once taken
# is put back the same way (the mark has data-put-back), and only into an empty box: put back by the server, it took
# the place of the next question typed meanwhile.
TYPED_AHEAD_SCRIPT = """<script>
if (!window.keepTypedAhead) {  // once, however often the page's head is put in
  let seen = null;
  window.keepTypedAhead = () => {
    const mark = document.querySelector("#question-taken [data-taken]");
    if (!mark || mark.dataset.taken === seen) return;
    seen = mark.dataset.taken;
    const box = document.querySelector("#question textarea");
    const sent = mark.dataset.question;
    if (!box || sent === undefined) return;
    if (mark.dataset.putBack !== undefined) {
      if (box.value.trim()) return;
      box.value = sent;
    } else {
      if (!box.value.startsWith(sent)) return;
      const [start, end] = [box.selectionStart, box.selectionEnd];
      const kept = box.value.slice(sent.length).replace(/^\\s+/, "");
      const cut = box.value.length - kept.length;
      box.value = kept;
      // The caret stays where the member is typing (set, the box's text puts it at the end).
      if (document.activeElement === box) box.setSelectionRange(Math.max(start - cut, 0), Math.max(end - cut, 0));
    }
    box.dispatchEvent(new Event("input", {bubbles: true}));  // Gradio's own copy of the box follows
  };
  new MutationObserver(window.keepTypedAhead).observe(document.documentElement,
      {subtree: true, childList: true, attributes: true, attributeFilter: ["data-taken"]});
}
</script>"""
# Gradio keeps 32 px each side of the page, which at 200% zoom on a phone left an answer a few letters wide. Gradio
# puts APP_CSS inside its own container, and this margin is outside it: the rule goes in the page's head.
NARROW_PAGE_STYLE = """<style>
@media (max-width: 640px) { .gradio-container .main.app { padding-left: 8px; padding-right: 8px; } }
</style>"""
# No file may be uploaded (the app takes none): Gradio's upload route is served whatever the page holds, and took files
# of any size from anyone the app lets in (from anyone at all without sign-in), kept in its folder until the app
# stops, or for good in a GRADIO_TEMP_DIR the operator chose, until the disk was full and no answer could be audited.
PAGE_OPTIONS = {"css": APP_CSS, "head": SIGNED_OUT_SCRIPT + LEAVING_SCRIPT + MESSAGE_NAME_SCRIPT + ASK_FOCUS_SCRIPT
                + DROPDOWN_KEYS_SCRIPT + NEW_QUESTION_SCRIPT + COPY_AS_SHOWN_SCRIPT + TYPED_AHEAD_SCRIPT
                + NARROW_PAGE_STYLE, "max_file_size": 0}


def page_options() -> dict:
    """What `launch` is given besides the Blocks: PAGE_OPTIONS and the theme (made here: it imports Gradio)."""
    return {**PAGE_OPTIONS, "theme": page_theme()}
# What a member reads when the index cannot be read, or is being written; the operator's hint goes to the log.
INDEX_UNAVAILABLE = ("Sorry: the assistant cannot answer right now, because the minutes it searches cannot be read. "
                     "Please try again in a few minutes; if it keeps happening, tell whoever runs the assistant.")
MINUTES_UPDATING = "The minutes are being updated just now: please ask again in a minute or two."
# Every answer the app gives is recorded: when the record cannot be made, no answer is given.
AUDIT_UNAVAILABLE = ("Sorry: the assistant cannot answer right now, because it cannot record its answers, as it must. "
                     "Please try again in a minute; if it keeps happening, tell whoever runs the assistant.")
# What a member reads when their feedback cannot be recorded: the log would not take it now, or never had the answer.
FEEDBACK_UNRECORDED = ("Sorry: your feedback could not be recorded just now. Please send it again in a minute; if it "
                       "keeps happening, tell whoever runs the assistant.")
FEEDBACK_ANSWER_UNRECORDED = ("Sorry: this answer could not be recorded when it was given, so feedback on it cannot be "
                              "kept. Please tell whoever runs the assistant.")
# The longest comment recorded with feedback: each comment sent is kept in the audit log, and the comment box took any
# length (a member's 2.4 MB comment, sent twice with two ratings, was kept twice).
MAX_COMMENT_CHARS = 5000
# What a member reads when the language model cannot be reached; the operator's hint goes to the log.
MODEL_UNAVAILABLE = ("Sorry: the assistant cannot answer right now, because a model it relies on is not working. "
                     "Please try again in a few minutes; if it keeps happening, tell whoever runs the assistant.")


@dataclass
class Turn:
    """One answered question in a member's conversation (kept in the session's state)."""

    answer_id: str
    answer: Answer
    # What the index held when it was answered, as a briefing's header says it (briefing.searched_line): an ingest or
    # a takedown before the export changes what the index holds, not what the answer was searched from.
    searched: str = ""

    @property
    def label(self) -> str:
        question = self.answer.question
        # The question first, for a screen reader; the id last, to tell apart the same question asked twice.
        return f"{question[:70]}{'…' if len(question) > 70 else ''} \u00b7 {self.answer_id[:6]}"


@dataclass(frozen=True)
class Reply:
    """The chat's reply to a question so far; `turn` is set on the complete answer, `failed` when none will come."""

    markdown: str
    turn: Turn | None = None
    failed: bool = False
    plain: str = ""  # a failure's message as plain text, for the API (`markdown` escapes it for the chat)


@dataclass(frozen=True)
class ChatStep:
    """What the page holds after each step of a question, for `build_app` to show."""

    history: list[dict]
    turns: list[Turn]  # every answer of the conversation: the briefing offers them
    last: Turn | None  # the answer feedback and the sources panel are about; None while asking and after a failure
    question: str | None  # what the question box should hold; None leaves the member's text as it is
    finished: bool = False


def answering_mode(mode: str) -> str:
    """How the app answers, in words: the page's status line and the console's line at start say it alike."""
    if mode == "extractive":
        return "extractive (verbatim quotes from the minutes, no language model)"
    return f"language model {mode.removeprefix('llm:')}, every sentence checked against the minutes"


def model_endpoint(settings) -> str:
    """Where an `openai:` model is asked, without credentials ('' for another mode): an operator reads at start
    which server every question will go to, rather than learning it from the first failure."""
    if not settings.llm.startswith("openai:"):
        return ""
    from assistant.answer.llm import OPENAI_ITSELF, redact, without_credentials

    # A key some gateways take in the address's path is hidden too, as in the model's error messages.
    return redact(without_credentials(settings.openai_base_url or OPENAI_ITSELF), settings.openai_api_key)


def source_choice_label(c: Citation, quote_words: int = 6) -> str:
    """'[2] Cotswold District Council, Corporate Parenting: \u201cThere were 560 such people across\u2026\u201d'."""
    words = c.quote.split()
    opening = " ".join(words[:quote_words]) + ("\u2026" if len(words) > quote_words else "")
    where = ", ".join(part for part in (c.council or c.source_url, c.item_title) if part)
    return visible_text(f"[{c.marker}] {where}: \u201c{opening}\u201d" if opening else f"[{c.marker}] {where}")


class ChatHandlers:
    """What the UI does, as plain functions over one Assistant."""

    def __init__(self, assistant: Assistant, briefing_dir: Path | None = None) -> None:
        self.assistant = assistant
        self.recorder = AnswerRecorder(assistant)
        self._records_failing = False  # a record failed after its answer was shown, and none has been made since
        self._briefing_dir = briefing_dir
        self._entries_read: tuple[object, dict] = (None, {})
        self._searched_read: tuple[object, str] = (None, "")
        self._index_read: tuple[object, tuple] = (None, ())
        # The last feedback (rating, comment) each member sent on each answer, by (answer id, user).
        self._feedback_sent: dict[tuple[str, str], tuple[str, str]] = {}
        self._feedback_lock = threading.Lock()

    @property
    def _chunk_text(self) -> dict:
        """Each indexed chunk by id, from the keyword index the assistant reads now (an ingest while the app
        serves makes it read the index again)."""
        lexical = self.assistant.lexical
        if self._entries_read[0] is not lexical:
            self._entries_read = (lexical, {e.chunk_id: e for e in lexical.entries})
        return self._entries_read[1]

    def _searched_now(self) -> str:
        """What the index the assistant reads now holds, in a briefing's words (briefing.searched_line)."""
        lexical = self.assistant.lexical
        if self._searched_read[0] is not lexical:
            from assistant.present.briefing import searched_line

            self._searched_read = (lexical, searched_line(self.assistant.index.manifest))
        return self._searched_read[1]

    # -- the index ----------------------------------------------------------------------------
    def councils(self) -> list[str]:
        """One name a council (retrieve.hybrid's choice of the names its minutes give it): a Welsh council's minutes
        in Welsh and in English ('Cyngor Gwynedd', 'Gwynedd Council') are one council's, and either name's filter
        finds both."""
        return sorted(set(self.assistant.council_names.values()))

    def committees(self) -> list[str]:
        return sorted({e.metadata.get("committee", "") for e in self.assistant.lexical.entries} - {""})

    def council_choices(self) -> list[str]:
        return [ALL_COUNCILS] + self.councils()

    def committee_choices(self) -> list[str]:
        return [ALL_COMMITTEES] + self.committees()

    def index_now(self) -> tuple[str, list[str], list[str]]:
        """The status line and the filters' choices of council and committee, from the index as it now stands: what
        a page shows when it is (re)loaded, and checks every INDEX_CHECK_S while open, so that minutes ingested or
        fetched while the app serves can be chosen. Worked out once for each index read: a check is two file stats."""
        self.assistant.follow_index()
        lexical = self.assistant.lexical
        if self._index_read[0] is not lexical:
            self._index_read = (lexical, (self.status_line(), self.council_choices(), self.committee_choices()))
        return self._index_read[1]

    def status_line(self) -> str:
        items = len(self.assistant.index.manifest.finished_ids())
        described = answering_mode(self.assistant.mode)
        return f"**Answering mode:** {described} \u00b7 **Index:** {items} items, {self.assistant.chunk_count} chunks"

    def example_questions(self, limit: int = 4, longest: int = EXAMPLE_BUTTON_CHARS) -> list[str]:
        """Questions about items that are really indexed, one per council where possible. A title is kept as
        written ('Council Tax Exemption for Care Leavers', not 'council Tax ...'), and a question too long for its
        button passed over: the button cuts it off mid-word ('... Exemption for Care Lea...')."""
        seen: set[str] = set()
        examples = []
        for entry in self.assistant.lexical.entries:
            meta = entry.metadata
            council, title = meta.get("council", ""), " ".join(str(meta.get("item_title", "")).split())
            if not council or not title or council in seen:
                continue
            question = f"What did {place_name(council)} say about {title}?"
            if len(question) > longest:  # the whole question counts, the council's name too, not the title alone
                continue
            seen.add(council)
            examples.append(question)
            if len(examples) == limit:
                break
        return examples

    # -- asking ---------------------------------------------------------------------------------
    def replies(self, question: str, council: str = "", committee: str = "", since: str = "", until: str = "",
                user: str = "", field_names: dict[str, str] = APP_FIELD_NAMES, channel: str = "app",
                stopped: Callable[[], bool] = lambda: False) -> Iterator[Reply]:
        """The reply so far, sentence by sentence; the last one carries the Turn, or says that the question failed.

        `field_names` rewrites the date fields' names in a filter's message (the API's parameters keep theirs);
        `channel` is what the audit log records the answer as given through ("app" for the chat, "api");
        `stopped` says when nobody waits for the answer any more, so that a model's reply is read no further."""
        # An Enter or a paste leaves spaces and newlines around a question: they are not part of it, nor of its audit.
        question = (question or "").strip()
        # The chat's sentences of the reply so far, the step being offered included, each with the item it quotes.
        shown: list[tuple[str, str]] = []
        # What the page has taken: a step counts once this generator is resumed after it, which its consumer does
        # only when it wants the next one (Gradio, once it has sent the step to the page). A cut-short answer's audit
        # keeps exactly that: every sentence taken, shown or not, the sources its markers point to, and what it was
        # made with (the reader; a model, its evidence and its reply so far).
        taken = 0  # how many of `shown` the page has taken
        judged: list[SentenceVerdict] = []
        cited: dict[int, Citation] = {}
        made_with = None
        # The keyword indexes the answer is made from, kept for its audit: an ingest meanwhile replaces the index
        # the assistant reads, and with it the chunks the answer quoted.
        indexes: list = []
        filters = None
        recorded = False
        answer_id, record_first = None, False
        try:
            self._note_index(indexes)
            filters = Filters(council=_unless_everything(council, ALL_COUNCILS),
                              committee=_unless_everything(committee, ALL_COMMITTEES), since=since, until=until)
            for event in self.assistant.stream(question, filters, stopped=stopped):
                self._note_index(indexes)
                if isinstance(event, Answer) and event.refusal_reason == "bad_question":
                    # Not a question at all (empty, or too long): like `ask` and `brief`, nothing is audited.
                    yield _failure(event.answer)
                    return
                if answer_id is None:
                    # Before anything is shown: an id from an open log that can be written now. One that cannot be
                    # opened, or that another program holds locked (a SQLite tool), is said in place of the answer.
                    try:
                        answer_id = self.recorder.new_id()
                        self.recorder.check_writable()
                    except AssistantError as exc:  # the audit log, not the minutes: the operator's to mend
                        log.warning("Answering %s stopped before the answer was shown: %s %s",
                                    question_in_log(question), exc.message, exc.hint)
                        yield _failure(AUDIT_UNAVAILABLE)
                        return
                    # A record failed since the last one made (a full disk, which shows only as a record is
                    # committed): until one is made again, an answer is recorded before any of it is shown, and not
                    # given when that fails. (Such an answer closed by the page as it arrives is recorded whole.)
                    record_first = self._records_failing
                if isinstance(event, Answer):
                    turn = Turn(answer_id, event, self._searched_now())
                    if record_first:
                        try:
                            self.recorder.record(event, channel=channel, user=user, answer_id=turn.answer_id,
                                                 indexes=tuple(indexes))
                        except Exception:
                            log.exception("The answer %s to %s could not be audited, so it was not given",
                                          turn.answer_id, question_in_log(question))
                            yield _failure(AUDIT_UNAVAILABLE)
                            return
                        self._records_failing = False
                        recorded = True
                        yield Reply(self.render(event), turn)
                        return
                    yield Reply(self.render(event), turn)
                    # Taken by the page: only now is it the answer given. Closed before (Clear, or the page going
                    # while it was on its way), the audit has what the page had taken until then, as cut short.
                    recorded = True
                    try:
                        self.recorder.record(event, channel=channel, user=user, answer_id=turn.answer_id,
                                             indexes=tuple(indexes))
                    except Exception:  # shown already: the member cannot be told, whoever runs the app must be
                        self._records_failing = True
                        log.exception("The answer %s to %s was shown but could not be audited: until a record is "
                                      "made again, answers are recorded before they are shown, and not given when "
                                      "that fails", turn.answer_id, question_in_log(question))
                    return
                if record_first:
                    continue  # nothing shown before its record is made
                verdict = event.verdict
                if verdict.shown or _marked_unsupported(verdict):
                    # Marked Welsh as it comes, as the complete answer is (`render`): a busy log is not kept from
                    # every screen reader, nor from one reading the page meanwhile.
                    shown.append((in_languages(verdict.text, literal=markdown_literal),
                                   _item_quoted(verdict, event.citations))
                                 if verdict.shown else (_unsupported(verdict.text), ""))
                yield Reply(_in_paragraphs(shown, self.assistant.mode == EXTRACTIVE))
                taken = len(shown)
                judged.append(verdict)
                cited.update((c.marker, c) for c in event.citations)
                made_with = event.provenance or made_with
        except GeneratorExit:
            # The page was closed or reloaded, or the chat cleared, mid-answer: what the member saw is still audited.
            if taken and not recorded:
                self._record_cut_short(question, filters, judged, cited, made_with, CUT_SHORT_LEFT, channel, user,
                                       indexes)
            raise
        except ModelError as exc:  # the model's server is down or failing: the member can only try again later
            recorded_as = ""
            if taken:
                self._record_cut_short(question, filters, judged, cited, made_with, CUT_SHORT_FAILED, channel,
                                       user, indexes)
            elif isinstance(exc, ModelFailure):  # nothing was shown, but the question and the error are audited
                try:
                    recorded_as = self.recorder.record_failure(exc, channel=channel, user=user)
                except Exception as failed:  # the audit failing must not hide from the member that the model failed
                    # Its traceback without the model's failure it was raised in, whose message quotes the server's
                    # words: they are logged below without them.
                    failed.__suppress_context__ = True
                    log.exception("Recording the failed %s failed", question_in_log(question))
            # The server's own words, which may echo the question, are in the audit log's record alone.
            shown_by = (f" (`assistant audit --show {recorded_as[:8]}` shows it all)" if recorded_as and exc.logged
                        else "")
            log.warning("Answering %s failed%s: %s", question_in_log(question), shown_by, error_in_log(exc))
            yield _failure(MODEL_UNAVAILABLE)
        except AssistantError as exc:
            if taken:
                self._record_cut_short(question, filters, judged, cited, made_with, CUT_SHORT_FAILED, channel,
                                       user, indexes)
            if isinstance(exc, BadFilterError):  # the member's own filter: what to type instead
                yield _failure(f"{exc.called(field_names)} {exc.hint}".strip())
            else:
                # The index cannot be read (a Chroma server lost, a folder damaged, an ingest at work): the member
                # is not shown the server's address or the operator's commands; the app's log has them.
                log.warning("Answering %s failed: %s", question_in_log(question), error_in_log(exc))
                yield _failure(MINUTES_UPDATING if isinstance(exc, IndexStaleError) else INDEX_UNAVAILABLE)
        except Exception:  # a fault of the assistant's own: the member gets a plain answer, the log the details
            log.exception("Answering %s failed", question_in_log(question))
            if taken:
                self._record_cut_short(question, filters, judged, cited, made_with, CUT_SHORT_FAILED, channel,
                                       user, indexes)
            yield _failure("Sorry: the assistant failed on this question, and nothing was answered. The details are in "
                           "the app's log; please tell whoever runs it. Other questions can still be asked.")

    def _record_cut_short(self, question: str, filters: Filters, judged: list[SentenceVerdict],
                          cited: dict[int, Citation], made_with: Provenance | None, why: str, channel: str,
                          user: str, indexes: list = ()) -> None:
        """Audit the sentences of an answer that stopped part-way, as far as they went, with the sources their
        markers point to, what they were made with and a note saying why."""
        answer = Answer(question, " ".join(v.text for v in judged if v.shown), False, None, self.assistant.mode,
                        citations=[cited[m] for m in sorted(cited)], sentences=list(judged),
                        filters=filters.as_dict(), notes=[why], provenance=made_with)
        try:
            self.recorder.record(answer, channel=channel, user=user, indexes=tuple(indexes))
        except Exception:  # the audit failing must not hide the failure that cut the answer short
            log.exception("Recording the cut-short answer to %s failed", question_in_log(question))

    def _note_index(self, indexes: list) -> None:
        lexical = getattr(self.assistant, "lexical", None)
        if lexical is not None and all(lexical is not known for known in indexes):
            indexes.append(lexical)

    def stream_answer(self, question: str, council: str = "", committee: str = "", since: str = "",
                      until: str = "", user: str = "") -> Iterator[tuple[str, Turn | None]]:
        """Markdown of the answer so far, sentence by sentence; the last item carries the Turn."""
        for reply in self.replies(question, council, committee, since, until, user):
            yield reply.markdown, reply.turn

    def converse(self, message: str, history: list[dict] | None, turns: list[Turn] | None, council: str = "",
                 committee: str = "", since: str = "", until: str = "", user: str = "",
                 stopped: Callable[[], bool] = lambda: False) -> Iterator[ChatStep]:
        """One question in the chat, step by step: the conversation, the answers so far and the last answer.

        A new question replaces the last answer at once, so feedback or a source opened meanwhile, or after the
        question failed, can never be taken for the answer before. The question box is emptied once the question
        is accepted (its first sentence or its answer), and only then: a question typed while the answer streams stays.
        A failed question is left there to be corrected. A step counts as shown once the next is asked for: closing
        this generator closes the answer's, which audits what the page had taken."""
        # The member's words shown as typed, as the answer shows the minutes' words, line breaks included.
        history = list(history or []) + [{"role": "user", "content": _typed_lines(message)},
                                         {"role": "assistant", "content": "\u2026"}]
        turns = list(turns or [])
        yield ChatStep(history, turns, None, None)
        accepted = False
        with closing(self.replies(message, council, committee, since, until, user, stopped=stopped)) as replies:
            for reply in replies:
                if reply.turn is None and not reply.failed and not reply.markdown:
                    # Only sentences the chat leaves out so far: the member still sees "...", and the question is
                    # not yet taken from the box. A step all the same, so that Clear can stop the answer here.
                    yield ChatStep(history, turns, None, None)
                    continue
                history = history[:-1] + [{"role": "assistant", "content": reply.markdown}]
                if reply.turn is not None:
                    turns = turns + [reply.turn]
                    yield ChatStep(history, turns, reply.turn, None if accepted else "", finished=True)
                    continue  # asked for more, so the page has it: the answer's generator goes on to audit it
                if reply.failed:  # back in the box if it had been emptied (a language model failing mid-answer)
                    yield ChatStep(history, turns, None, message if accepted else None, finished=True)
                    return
                first = not accepted
                accepted = True
                yield ChatStep(history, turns, None, "" if first else None)

    def clear_conversation(self, turns: list[Turn] | None, ticked: list[str] | None) -> list[Turn]:
        """The answers kept when the chat is cleared: those ticked for the briefing, which the member chose to keep."""
        return [t for t in turns or [] if t.label in (ticked or [])]

    @staticmethod
    def briefing_choices(turns: list[Turn]) -> list[str]:
        """Every answer of the conversation, refusals too: a briefing may need to record that the minutes do not
        say, with the nearest items that were searched."""
        return [t.label for t in turns]

    def api_ask(self, question: str, council: str = "", committee: str = "", since: str = "",
                until: str = "", user: str = "") -> str:
        """Plain text: the answer, then its numbered sources (for scripts and gradio_client)."""
        final = Reply("")
        for final in self.replies(question, council, committee, since, until, user, field_names={}, channel="api"):
            pass
        return answer_as_text(final.turn.answer) if final.turn else final.plain or final.markdown

    def render(self, answer: Answer) -> str:
        """The answer as the chat shows it: marked sentences, applied filters, numbered sources."""
        if answer.refused:
            parts = [markdown_literal(answer.answer)]
            if answer.nearest:
                parts.append("\n**Nearest items searched:**")
                # With its address, as `ask` and a briefing list it: 'Open a source' lists an answer's sources only,
                # so this is where a member opens a nearest item to see for themselves what it says.
                parts.extend(f"- {markdown_literal(source_line(n))}"
                             + (f" \u2014 {_address_markdown(n.source_url, n.source_url)}" if n.source_url else "")
                             for n in answer.nearest)
        else:
            # Each Welsh sentence in a span lang="cy", as in the source panel (render.in_languages).
            sentences = [(in_languages(s.text, literal=markdown_literal), _item_quoted(s, answer.citations))
                         if s.shown else (_unsupported(s.text), "")
                         for s in answer.sentences if s.shown or _marked_unsupported(s)]
            parts = [short_answer_line(answer, f"**{in_languages(answer.short_answer, literal=markdown_literal)}**",
                                       markdown_literal) + "\n"] if answer.short_answer else []
            # Quoted, as a language model's reply that could not be used is (`fallback`): composed a paragraph an item.
            parts.append(_in_paragraphs(sentences, answer.mode == EXTRACTIVE or answer.fallback))
            left_out = sum(1 for s in answer.sentences if not s.shown and not _marked_unsupported(s))
            if left_out:  # the /ask text counts what it leaves out; the chat says so too, in the same words
                parts.append(f"\n_{not_shown_note(left_out, answer.mode)}_")
        parts.extend(f"\n_{markdown_literal(note)}_" for note in answer.notes)
        # Every answer says which filters it used, "none" included.
        parts.append("\n_Filters applied: " + markdown_literal(Filters(**answer.filters).describe()) + "_")
        cited = answer.shown_citations
        if cited:
            parts.append("\n**Sources**")
            for c in cited:
                parts.append(self._source_markdown(c))
        return "\n".join(parts)


    def source_choices(self, turn: Turn | None) -> list[tuple[str, int]]:
        """The "Open a source" choices: the sources the answer shows, by number, each with its item's title and the
        quote's first words, so that two quotes of one council (or of one item) can be told apart."""
        if turn is None:
            return []
        return [(source_choice_label(c), c.marker) for c in turn.answer.shown_citations]

    def _source_markdown(self, c: Citation) -> str:
        link = _address_markdown(c.link, c.source_url)
        context = self.quote_in_context(c, width=160)
        # Numbered as its marker says ('[3]'), not as a Markdown list counts: the sources a shown sentence cites can
        # skip a number, and a list would call source [3] item 2.
        return f"- \\[{c.marker}\\] {markdown_literal(source_line(c))} \u2014 {link}\n  > {context}"

    def quote_in_context(self, c: Citation, width: int = 160) -> str:
        """The quote highlighted within a short stretch of the minute text around it."""
        run = self._passage_of(c)
        text = run if run else c.quote
        words = " ".join(c.quote.split())
        plain = " ".join(text.split())
        at = plain.find(words)
        if at < 0:
            return in_languages(words, words, literal=markdown_literal)
        start, end = max(0, at - width), min(len(plain), at + len(words) + width)
        shown_part = in_languages(plain[start:end], words, literal=markdown_literal)
        return ("\u2026" if start else "") + shown_part + ("\u2026" if end < len(plain) else "")

    def _passage_of(self, c: Citation) -> str:
        """The passage holding the cited chunk ('' when the index no longer has it)."""
        if c.chunk_id not in self._chunk_text:
            return ""
        runs = self.assistant.passages.joined_runs(c.source_url)
        return next((text for ids, text in runs if c.chunk_id in ids), "")

    def source_panel(self, turn: Turn | None, marker: int | None) -> str:
        """One source of an answer, opened in the app: breadcrumb, link and the item's indexed text."""
        if turn is None:
            return NO_SOURCES
        if marker is None:
            return ("<p>Choose a source of the last answer to read it here.</p>" if turn.answer.shown_citations
                    else "<p>The last answer cites no sources.</p>")
        citation = next((c for c in turn.answer.citations if c.marker == marker), None)
        if citation is None:
            return "<p>That source is not part of the answer.</p>"
        # The index as it now stands, as a question or a page load reads it: an item withheld since (a takedown) was
        # shown whole here until one of them came.
        self.assistant.follow_index()
        body = []
        quote = visible_text(" ".join(citation.quote.split()))
        runs = [(ids, visible_text(" ".join(text.split())))
                for ids, text in self.assistant.passages.joined_runs(citation.source_url)]
        changed = citation.chunk_id not in self._chunk_text
        if changed:
            # Minutes ingested or fetched since the answer was given have changed the item (or removed it): its
            # text now is not what the answer quoted, and must not pass for it.
            still = any(quote in text for _, text in runs)
            body.append(f'<p class="source-changed"><strong>{html.escape(SOURCE_STILL if still else SOURCE_CHANGED)}'
                        f"</strong></p><p>The answer quoted: {in_languages(quote, quote)}</p>")
            body.append("<p><em>The item as it now reads:</em></p>" if runs
                        else "<p><em>The item is no longer in the index.</em></p>")
        for ids, text in runs:
            body.append(f"<p>{in_languages(text, quote if changed or citation.chunk_id in ids else '')}</p>")
        url = shown(web_address(citation.link))
        link = (f'<a href="{url}" target="_blank" rel="noopener">{url} {NEW_TAB}</a>'
                if url else shown(address_or_label(citation.source_url)))
        # A named region the keyboard can reach and scroll, whether or not the item has a link to Tab to.
        name = shown(f"Source [{citation.marker}]: {source_line(citation)}")
        return (f'<div class="source-panel" style="max-height:520px;overflow-y:auto" role="region" '
                f'aria-label="{name}" tabindex="0" data-source="{shown(citation.source_url)}">'
                f"<h3>[{citation.marker}] {shown(source_line(citation))}</h3><p>{link}</p>{''.join(body)}</div>")

    # -- feedback and briefings ---------------------------------------------------------------
    @property
    def briefing_dir(self) -> Path:
        """Where exported briefings are written for the browser to download. Without a folder given, a private one
        is made at the first export and removed when the app stops: briefings hold minutes and members' questions,
        and each start of the app would otherwise leave one more folder behind."""
        if self._briefing_dir is None:
            self._briefing_dir = Path(tempfile.mkdtemp(prefix="briefings-"))
            atexit.register(shutil.rmtree, self._briefing_dir, ignore_errors=True)
        return self._briefing_dir

    def feedback(self, turn: Turn | None, rating: str, comment: str = "", user: str = "") -> str:
        if turn is None:
            return ("There is no answer to rate: feedback is about the last complete answer, and there is none (an "
                    "answer still coming, no question yet, the last one not answered, or the chat cleared). Rate an "
                    "answer once it is complete.")
        if rating not in dict((v, k) for k, v in RATING_CHOICES):
            return "Choose helpful, not helpful or \u201ca source is wrong\u201d first."
        if len((comment or "").strip()) > MAX_COMMENT_CHARS:
            return (f"Your comment is {len(comment.strip()):,} characters long; the limit is {MAX_COMMENT_CHARS:,}. "
                    "Shorten it and send it again: nothing was recorded.")
        # A second click on Send (or a double click) sends the same feedback again: it is recorded once. A change of
        # mind, back to an earlier rating too, is recorded, so that the log ends with the member's last word.
        about, sent = (turn.answer_id, user), (rating, (comment or "").strip())
        with self._feedback_lock:
            if self._feedback_sent.get(about) != sent:
                # Gradio shows a bare "Error" for what a handler raises: the member is told what became of their
                # feedback instead, the operator the details.
                try:
                    self.recorder.log.record_feedback(turn.answer_id, rating, comment or "", user=user)
                except KeyError:  # the answer's own record failed after it was shown (a full disk)
                    log.warning("Feedback on answer %s was not recorded: the answer is not in the audit log",
                                turn.answer_id)
                    return FEEDBACK_ANSWER_UNRECORDED
                except Exception:  # the log locked by another program, or unwritable: sending again may work
                    log.exception("Recording feedback on answer %s failed", turn.answer_id)
                    return FEEDBACK_UNRECORDED
                self._feedback_sent[about] = sent
        return "Thank you: your feedback is recorded with the answer."

    def _audited(self, answer_id: str) -> bool:
        try:
            return self.recorder.log.get(answer_id) is not None
        except Exception:  # a log that cannot be read now: its ids are not vouched for
            log.exception("Reading the audit log for answer %s failed", answer_id)
            return False

    def export(self, turns: list[Turn], selected: list[str], fmt: str, title: str = "") -> tuple[str | None, str]:
        import datetime as dt

        from assistant.present.briefing import DEFAULT_TITLE, entry_from_answer, searched_line, write_briefing

        chosen = [t for t in turns if t.label in (selected or [])]
        if not chosen:
            return None, "Tick at least one answer to put in the briefing."
        suffix = ".docx" if fmt == "docx" else ".md"
        self._remove_old_exports()
        # A folder of its own for each export: two members exporting at once never write the same file. The name is
        # new in a new folder, and write_briefing would refuse to write over a file all the same. It says what the
        # briefing is and when it was made, in a Downloads folder of many.
        name = f"{file_name_words(title) or file_name_words(DEFAULT_TITLE)}-{dt.date.today().isoformat()}{suffix}"
        out = Path(tempfile.mkdtemp(dir=self.briefing_dir)) / name
        # An answer whose recording failed (shown all the same) is named by no id: the log would not know it.
        write_briefing([entry_from_answer(t.answer, t.answer_id if self._audited(t.answer_id) else "")
                        for t in chosen], out, title=title or DEFAULT_TITLE, replace=False,
                       searched=_searched_by(chosen) or searched_line(self.assistant.index.manifest))
        # Removed once its time is up, whether or not anyone exports again.
        sweep = threading.Timer(EXPORTS_KEPT_SECONDS + 1, self._remove_old_exports)
        sweep.daemon = True
        sweep.start()
        return str(out), f"Briefing with {counted(len(chosen), 'answer')} written."

    def _remove_old_exports(self) -> None:
        if self._briefing_dir is not None:
            remove_old_exports(self._briefing_dir)


# How long an exported briefing stays on the server for its member to download.
EXPORTS_KEPT_SECONDS = 3600


def remove_old_exports(briefings: Path) -> None:
    """Remove the exports made more than EXPORTS_KEPT_SECONDS ago: each was downloaded at once or not at all, and
    they hold minutes and members' questions, which a server keeps no longer than it must."""
    try:
        folders = list(briefings.iterdir())
    except OSError:  # removed meanwhile, by the app that made it stopping
        return
    for folder in folders:
        try:
            if time.time() - folder.stat().st_mtime > EXPORTS_KEPT_SECONDS:
                shutil.rmtree(folder)
        except OSError:
            continue


def _searched_by(turns: list[Turn]) -> str:
    """A briefing's 'Searched' line for its answers: what they were searched from, said once when it is the same for
    them all ('' when not known)."""
    answers_by_line: dict[str, list[str]] = {}
    for number, turn in enumerate(turns, start=1):
        answers_by_line.setdefault(turn.searched, []).append(str(number))
    if "" in answers_by_line:
        return ""
    if len(answers_by_line) == 1:
        return next(iter(answers_by_line))
    return "; ".join(f"{noun_for(len(numbers), 'answer')} {', '.join(numbers)} in {line}"
                     for line, numbers in answers_by_line.items())


def file_name_words(title: str) -> str:
    """A briefing's title as a file name that every system takes: its letters and digits, words joined by hyphens,
    at most 60 characters ('Lead member briefing: care leavers' gives 'Lead-member-briefing-care-leavers')."""
    words = "".join(ch if ch.isalnum() else " " for ch in title).split()
    return "-".join(words)[:60].strip("-")


# Handed over by `in_a_thread_of_its_own`, unasked, when the answer must wait for a slot: its listener can say so.
WAITING_FOR_A_SLOT = object()


async def in_a_thread_of_its_own(steps: Iterator, slots: threading.Semaphore | None = None,
                                 draining: threading.Semaphore | None = None, stop: threading.Event | None = None):
    """The items of a blocking generator as an async generator, each made in a thread of its own when asked for.

    Gradio stops an answer (Clear, or the page going) by cancelling its task, and waits for the task to end. A
    plain generator's task ends only once its thread has made the next item, which a slow language model may take
    seconds to give, and until then the member's next question is dropped (the chat takes one at a time). Here the
    task ends at once; the thread stops after the item in progress and closes the generator there, which audits
    what was shown. Items are made one at a time, as they are asked for, as a plain generator's are.

    `slots`, when given, is taken by the thread before it makes the first item (WAITING_FOR_A_SLOT comes first when
    it must wait), so that no more answers are made at once than the app allows. A stopped answer's thread still
    finishing its step in progress hands its slot on to one of `draining` when one is free, at once, so that the next
    question does not wait for a model to end a sentence nobody will read; with none free (or no `draining`), it
    keeps its slot until it ends, and stopping and asking again never has more model calls at once than both allow.

    `stop`, when given, is the event set when the items are no longer wanted: the generator may watch it too, to cut
    its step in progress short (a model's reply is then read no further)."""
    loop = asyncio.get_running_loop()
    made: asyncio.Queue = asyncio.Queue()
    wanted = threading.Semaphore(0)
    stop = stop if stop is not None else threading.Event()
    finished = object()
    held: list[threading.Semaphore] = []  # the slot the thread holds, if any, under `holding`
    holding = threading.Lock()

    def hand_over(item, failure: BaseException | None = None) -> None:
        try:
            loop.call_soon_threadsafe(made.put_nowait, (item, failure))
        except RuntimeError:  # the event loop has closed (the app is shutting down): nobody is waiting
            pass

    def take_a_slot() -> bool:
        if slots.acquire(blocking=False):
            with holding:
                held.append(slots)
            return True
        hand_over(WAITING_FOR_A_SLOT)
        while not slots.acquire(timeout=0.1):
            if stop.is_set():  # stopped while waiting: the answer is never begun
                return False
        with holding:
            held.append(slots)
        return True

    def give_back() -> None:
        with holding:
            while held:
                held.pop().release()

    def make() -> None:
        try:
            with closing(steps):
                if slots is not None:
                    if not (wanted.acquire() and not stop.is_set() and take_a_slot()):
                        return
                    wanted.release()  # the first item is still wanted
                try:
                    while wanted.acquire() and not stop.is_set():
                        item = next(steps, finished)
                        hand_over(item)
                        if item is finished:
                            return
                finally:
                    give_back()
        except BaseException as exc:  # raised again where the items are taken
            hand_over(finished, exc)

    def drain() -> None:
        """The stopped thread's slot for one of `draining`, if it holds one and one is free."""
        with holding:
            if held == [slots] and draining is not None and draining.acquire(blocking=False):
                held[0] = draining
                slots.release()

    threading.Thread(target=make, name="chat-answer", daemon=True).start()
    try:
        while True:
            wanted.release()
            while True:
                item, failure = await made.get()
                if failure is not None:
                    raise failure
                if item is finished:
                    return
                if item is not WAITING_FOR_A_SLOT:
                    break
                yield item  # not asked for: the item that was is still to come
            yield item
    finally:
        stop.set()
        wanted.release()  # wakes the thread if it waits to be asked, so that it closes the generator
        if slots is not None:
            drain()


def _address_markdown(link: str, source_url: str) -> str:
    """An item's web address as a link that opens in a new tab, else its identity labelled as no web address."""
    url = visible_text(web_address(link))
    return (f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{markdown_literal(url)} {NEW_TAB}</a>'
            if url else markdown_literal(address_or_label(source_url)))


def shown(text: str) -> str:
    """Text from the minutes for the source panel's HTML: escaped, without what no reader sees (visible_text)."""
    return html.escape(visible_text(text))


def _typed_lines(message: str | None) -> str:
    """The member's question for the chat: each line as typed (Shift+Enter's line breaks kept), never as markup; a
    question in Welsh in a span lang="cy" (render.in_languages)."""
    return "\n".join(in_languages(line.strip(), literal=markdown_literal) for line in (message or "").splitlines()
                     if line.strip())


def _failure(message: str) -> Reply:
    return Reply(markdown_literal(message), failed=True, plain=message)


def _marked_unsupported(verdict: SentenceVerdict) -> bool:
    """A hidden sentence the chat shows struck through: one the guard found the cited minutes do not support. The
    rest are left out: a repeat, one off the question, text that gives instructions (struck through, it would still
    be passed on), the model declining, or a sentence a cut-off reply never finished."""
    if verdict.supported:
        return False  # hidden although supported: a repeat, off the question, or instructions
    if addresses_in(verdict.text):
        return False  # 'councillors should visit http://...', 'email ... to admin@...': a lure, even struck through
    return verdict.reason not in (MODEL_DECLINED, REPLY_CUT_OFF, INSTRUCTION_REASON)


def _item_quoted(verdict: SentenceVerdict, citations: list[Citation]) -> str:
    """The item a sentence's first marker cites ("" when it cites none)."""
    return next((c.source_url for c in citations if verdict.markers and c.marker == verdict.markers[0]), "")


def _in_paragraphs(sentences: list[tuple[str, str]], by_item: bool) -> str:
    """An answer's sentences, each with the item it quotes ("" for none), joined as `ask` prints a quoted answer
    (`by_item`): a new paragraph where the item quoted changes, so that two items' words, two councils' perhaps, do
    not read as one statement. A language model's sentences stay one paragraph, as it wrote them."""
    text, previous = "", ""
    for sentence, item in sentences:
        if text:
            text += "\n\n" if by_item and item and previous and item != previous else " "
        text += sentence
        previous = item or previous
    return text


def _unsupported(sentence: str) -> str:
    return f"~~{markdown_literal(sentence)}~~ _(not supported by the cited minutes)_"


def _unless_everything(value: str | None, everything: str) -> str:
    """A filter's value, or "" for its no-filter choice (whose label a member may also type, in any case)."""
    value = (value or "").strip()
    return "" if value.casefold() == everything.casefold() else value


# How often an open page checks whether an ingest or fetch has changed the index (ChatHandlers.index_now).
INDEX_CHECK_S = 30.0
# Components that show minutes or members' words render no LaTeX: Gradio typesets "$$...$$" by default, so a quote
# or a question holding it was not shown as written (markdown_literal escapes Markdown, which LaTeX is not).
SHOWN_AS_WRITTEN = {"latex_delimiters": []}


def build_app(assistant: Assistant, briefing_dir: Path | None = None, sign_out: bool = False, sign_in=None,
              index_check_s: float = INDEX_CHECK_S):
    """The Gradio Blocks of the chat; launch it with `launch_app` or `.launch()`, with page_options(). `sign_out`
    shows a sign-out button, for an app launched with sign-in; `sign_in` is that sign-in (auth.SignIn), whose users
    removed or given a new password meanwhile are signed out at their next request. An open page checks every
    `index_check_s` whether the index has changed."""
    import gradio as gr

    from assistant.present.briefing import DEFAULT_TITLE

    handlers = ChatHandlers(assistant, briefing_dir)
    # Gradio's concurrency limit counts answers whose task is running; a stopped answer's thread may still be
    # finishing its step, so the threads take these slots too. A stopped one moves to a draining slot, when one is
    # free, so that the next question need not wait for a sentence nobody will read.
    answer_slots = threading.BoundedSemaphore(assistant.settings.concurrency)
    draining_slots = threading.BoundedSemaphore(assistant.settings.concurrency)
    questions_taken = itertools.count(1)  # a new mark for each question accepted (TYPED_AHEAD_SCRIPT)

    def end_sessions(names) -> None:
        tokens = getattr(getattr(demo, "server_app", None), "tokens", None)
        for token, name in list((tokens or {}).items()):
            if name in names:
                tokens.pop(token, None)

    if sign_in is not None:
        sign_in.on_ended.append(end_sessions)

    def signed_out(request) -> bool:
        """Whether the member of this request has since been removed from the users file (their sessions end)."""
        if sign_in is None:
            return False
        name = getattr(request, "username", "") or ""
        if sign_in.still_allowed(name):
            return False
        end_sessions({name})
        return True
    with gr.Blocks(title="Council minutes assistant") as demo:
        with gr.Row():
            # The chat looks like a conversation, but each question is searched and answered alone: say so, or a
            # follow-up ('What about 2019?') is answered from whatever its few words find.
            gr.Markdown("# Council minutes assistant\nAsk about what committees said and decided. Every statement "
                        "is tied to the agenda item it came from; when the minutes do not say, the assistant says so. "
                        "Each question is answered on its own, so name the council and the topic every time.")
            if sign_out:
                # Relative, so that it works under a proxy's path too. Every session of the member: Gradio's
                # this-browser-only sign-out revokes the token of the Secure cookie alone, which a browser does not
                # send over plain HTTP, so the session it meant to end stayed valid.
                gr.Button("Sign out", link="logout", size="sm", scale=0, min_width=100,
                          elem_id="sign-out")
        status = gr.Markdown(handlers.status_line(), elem_id="status-line", **SHOWN_AS_WRITTEN)
        index_shown = gr.State(None)  # the status line and the filters' choices as the page shows them (index_now)
        turns = gr.State([])
        last = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                # No "share" button: it posts the conversation to Hugging Face's discussions, which a council's
                # minutes assistant must not, and which cannot work offline (it also had no name a screen reader
                # could read).
                # As tall as its messages, from a few lines to most of the screen (at most 520 px): a fixed 520 px,
                # empty on arrival, had pushed the question box off a phone's first screen. Not scrolled to the end
                # of each answer: the page shows a new question at the top of the chat instead (NEW_QUESTION_SCRIPT),
                # so the short answer is read first.
                chat = gr.Chatbot(label="Conversation", height=None, min_height=160, max_height="min(520px, 70vh)",
                                  autoscroll=False, elem_id="chat", feedback_options=None,
                                  buttons=["copy", "copy_all"], **SHOWN_AS_WRITTEN)
                # One line high, so that Gradio sends on Enter (and a new line takes Shift+Enter); it grows as typed.
                question = gr.Textbox(label="Your question", placeholder=f"e.g. {GENERIC_EXAMPLE}",
                                      info="Enter sends the question; Shift+Enter starts a new line.",
                                      lines=1, max_lines=8, elem_id="question")
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("Clear conversation", elem_id="clear")
                # While an answer comes, Ask and Enter are held back (one answer at a time): this says so.
                busy_note = gr.Markdown("", elem_id="asking-note", **SHOWN_AS_WRITTEN)
                # Marked anew each time a question is accepted: the page then takes it out of the box
                # (TYPED_AHEAD_SCRIPT). Not shown.
                taken = gr.HTML("", elem_id="question-taken", visible="hidden")
                # Filled in as each page loads, from the index as it then stands, never at start: an example names
                # an item's title, and a title made at start stayed in the page (and in its /config) after the item
                # was withheld ('What did Northbrook say about <a child's name> placement?'). It starts with a
                # question naming nothing indexed, since Gradio shows no examples loaded into a list begun empty.
                examples = gr.Examples(examples=[[GENERIC_EXAMPLE]], inputs=[question], label="Example questions")
            with gr.Column(scale=2):
                gr.Markdown("## Filters")
                # A name typed and not picked counts (the search matches it loosely, and says when nothing matches),
                # and an emptied field is no filter. The fields start empty, not showing the no-filter choice, so
                # that a name typed into them is not appended to "All councils".
                council = gr.Dropdown(choices=handlers.council_choices(), value="", label="Council",
                                      info="Choose or type a council; leave it empty for all councils.",
                                      allow_custom_value=True, elem_id="council")
                committee = gr.Dropdown(choices=handlers.committee_choices(), value="", label="Committee",
                                        info="Choose or type a committee; leave it empty for all committees.",
                                        allow_custom_value=True, elem_id="committee")
                with gr.Row():
                    # The format is said under the label: a placeholder goes as the first figure is typed.
                    since = gr.Textbox(label="Meetings from", placeholder="YYYY-MM-DD", info=DATE_HINT,
                                       elem_id="since")
                    until = gr.Textbox(label="Meetings until", placeholder="YYYY-MM-DD", info=DATE_HINT,
                                       elem_id="until")
                gr.Markdown("## Sources of the last answer")
                source_pick = gr.Dropdown(choices=[], label="Open a source", elem_id="source-pick")
                panel = gr.HTML(handlers.source_panel(None, None), elem_id="source-panel")
        with gr.Accordion("Feedback on the last answer", open=False):
            rating = gr.Radio(choices=RATING_CHOICES, label="Was it useful?", elem_id="rating")
            comment = gr.Textbox(label="Comment (optional)", lines=2, elem_id="feedback-comment")
            send_feedback = gr.Button("Send feedback", elem_id="send-feedback")
            feedback_status = gr.Markdown(elem_id="feedback-status", **SHOWN_AS_WRITTEN)
        with gr.Accordion("Briefing for officers", open=True):
            picked = gr.CheckboxGroup(choices=[], label="Answers to include", elem_id="briefing-pick")
            fmt = gr.Radio(choices=[("Word (.docx)", "docx"), ("Markdown (.md)", "md")], value="docx",
                           label="Format", elem_id="briefing-format")
            title = gr.Textbox(label="Title (optional)", placeholder=DEFAULT_TITLE, max_lines=1,
                               elem_id="briefing-title")
            export = gr.Button("Export briefing", elem_id="export")
            # What Export says comes next to it; the file's box shows once there is a file (empty, it looked like a
            # place to upload one, and pushed the message a screen away on a phone).
            export_status = gr.Markdown(elem_id="export-status", **SHOWN_AS_WRITTEN)
            briefing_file = gr.File(label="Briefing", elem_id="briefing-file", visible=False)

        def page_after(n: int, step: ChatStep, message: str) -> tuple:
            # Accepted, the question leaves the box in the page (TYPED_AHEAD_SCRIPT), which keeps what was typed
            # after it; a question failed after it was accepted is put back by the page too, into an empty box only.
            put_back = " data-put-back" if step.question else ""
            mark = (f'<span data-taken="{next(questions_taken)}" data-question="{html.escape(message, quote=True)}"'
                    f'{put_back}></span>' if step.question is not None else gr.update())
            # The sources follow the last answer, which a new question or a failed one leaves empty.
            markers = handlers.source_choices(step.last)
            first = markers[0][1] if markers else None
            # The feedback panel is about the last answer: the question replaces it, so the panel starts afresh,
            # and a rating or comment left there is never sent about the new answer.
            fresh_feedback = (None, "", "") if n == 0 else (gr.update(),) * 3
            return (step.history, gr.update(), step.turns, step.last, gr.update(choices=markers, value=first),
                    handlers.source_panel(step.last, first),
                    gr.update(choices=handlers.briefing_choices(step.turns)) if step.finished else gr.update(),
                    *fresh_feedback, *(ask_busy() if n == 0 else (gr.update(), gr.update())), mark)

        def ask_busy() -> tuple:
            return gr.update(value="Answering\u2026", interactive=False), ANSWERING_NOTE

        def ask_ready() -> tuple:
            return gr.update(value="Ask", interactive=True), ""

        def only(updates: dict) -> tuple:
            """The listener's outputs left as they are, but for those given."""
            return tuple(updates.get(o, gr.update()) for o in outputs)

        async def respond(message, history, turns_so_far, council_v, committee_v, since_v, until_v,
                          request: gr.Request):
            user = getattr(request, "username", "") or ""
            if not (message or "").strip():
                # Ask (or Enter) on an empty box, as a second click after an answer arrived: nothing to send, so
                # the chat, the last answer and its sources stay as they are.
                yield only({})
                return
            if signed_out(request):  # the question stays in the box, for after signing in again
                said = {"role": "assistant", "content": f"{SIGNED_OUT} Your question stays in the box."}
                yield only({chat: list(history or []) + [said]})
                return
            # Stopped at once when the page goes or the chat is cleared mid-answer; the steps are then closed in
            # their thread, which audits what was shown.
            stop = threading.Event()  # set when the answer is stopped: the model's reply is then read no further
            steps = handlers.converse(message, history, turns_so_far, council_v, committee_v, since_v, until_v, user,
                                      stopped=stop.is_set)
            # The question and "..." at once (the first step does no work), before waiting for a free slot.
            first = next(steps)
            try:
                yield page_after(0, first, message)
            except BaseException:
                steps.close()
                raise
            async with aclosing(in_a_thread_of_its_own(steps, answer_slots, draining_slots, stop)) as made:
                n = 1
                async for step in made:
                    if step is WAITING_FOR_A_SLOT:
                        step = ChatStep(first.history[:-1] + [{"role": "assistant", "content": WAITING_NOTE}],
                                        first.turns, None, None)
                    yield page_after(n, step, message)
                    n += 1

        def clear_conversation(turns_so_far, ticked):
            kept = handlers.clear_conversation(turns_so_far, ticked)
            return ([], kept, None, gr.update(choices=[], value=None), handlers.source_panel(None, None),
                    gr.update(choices=handlers.briefing_choices(kept), value=[t.label for t in kept]), None, "", "",
                    *ask_ready())

        def open_source(last_turn, marker):
            return handlers.source_panel(last_turn, marker)

        def give_feedback(last_turn, rating_v, comment_v, request: gr.Request):
            if signed_out(request):
                return SIGNED_OUT
            user = getattr(request, "username", "") or ""
            return handlers.feedback(last_turn, rating_v, comment_v, user)

        def export_briefing(turns_so_far, selected, fmt_v, title_v, request: gr.Request):
            if signed_out(request):
                return gr.update(value=None, visible=False), SIGNED_OUT
            path, said = handlers.export(turns_so_far or [], selected, fmt_v, title_v or "")
            return gr.update(value=path, visible=path is not None), said

        outputs = [chat, question, turns, last, source_pick, panel, picked, rating, comment, feedback_status, ask,
                   busy_note, taken]
        inputs = [question, chat, turns, council, committee, since, until]
        # One listener for both ways of sending: two would each run an Enter followed at once by a click on Ask
        # (Gradio's "once" holds back a listener's own repeat only), answering and auditing the question twice.
        # Gradio's timer ("processing 0.2/0.7s") shows on the chat alone: in the feedback's status region, which a
        # screen reader announces, it would be read out all through every answer.
        # Held in Gradio's queue only past a few times the app's own slots: up to there an answer starts at once and
        # waits for a slot, saying so (WAITING_NOTE); held in the queue, a member saw "Answering..." for seconds with
        # no sign that others were ahead. Bounded, so that waiting answers cannot take every worker Gradio has.
        asking = gr.on([ask.click, question.submit], respond, inputs, outputs, api_visibility="private",
                       trigger_mode="once", show_progress_on=chat,
                       concurrency_limit=CHAT_ANSWERS_PER_SLOT * assistant.settings.concurrency)
        # Ready again however the answer ended, a fault included (Clear does the same when it stops one); only once it
        # has ended, its audit record written after its last step: Gradio drops a question asked before.
        asking.then(ask_ready, None, [ask, busy_note], api_visibility="private", show_progress="hidden")
        # The chat's own Clear (its bin icon) and the button do the same: stop an answer still coming (or it would
        # put itself back), and forget the last answer, its sources and any feedback begun on it.
        cleared = [chat, turns, last, source_pick, panel, picked, rating, comment, feedback_status, ask, busy_note]
        clear.click(clear_conversation, [turns, picked], cleared, api_visibility="private", cancels=[asking],
                    show_progress="hidden")
        chat.clear(clear_conversation, [turns, picked], cleared, api_visibility="private", cancels=[asking],
                   show_progress="hidden")
        source_pick.change(open_source, [last, source_pick], panel, api_visibility="private")
        send_feedback.click(give_feedback, [last, rating, comment], feedback_status, api_visibility="private",
                            show_progress="hidden")
        export.click(export_briefing, [turns, picked, fmt, title], [briefing_file, export_status],
                     api_visibility="private", show_progress_on=export_status)

        def ask_api(question: str, council: str = "", committee: str = "", since: str = "", until: str = "",
                    request: gr.Request = None) -> str:
            """Answer a question from the minutes; returns the answer and its numbered sources as text."""
            if signed_out(request):
                return SIGNED_OUT
            # Audited under the signed-in user, as the chat's answers are (gradio_client signs in with `auth=`); in one
            # of the slots the chat's answers take, so that no more answers are made at once than the app allows, and
            # refused when none comes free in time (a caller gone meanwhile would be answered for nobody).
            if not answer_slots.acquire(timeout=API_SLOT_WAIT_S):
                return API_BUSY
            try:
                return handlers.api_ask(question, council, committee, since, until,
                                        user=getattr(request, "username", "") or "")
            finally:
                answer_slots.release()

        def index_now(shown, request: gr.Request):
            if signed_out(request):  # a page opened with a session that has since ended
                return SIGNED_OUT, gr.update(), gr.update(), gr.update(), shown
            try:
                now = handlers.index_now()
            except AssistantError:  # raised, it was an "Error" on the page at each check; a question says what is wrong
                return (gr.skip(),) * 5
            if now == shown:  # nothing sent: a list the member has open is left alone
                return (gr.skip(),) * 5
            status_line, councils, committees = now
            return (status_line, gr.update(choices=councils), gr.update(choices=committees),
                    gr.Dataset(samples=[[q] for q in handlers.example_questions() or [GENERIC_EXAMPLE]]), now)

        # The status line, the filters' choices and the examples follow the index while the page is open, not only
        # when it is loaded: a council ingested or fetched meanwhile could not be chosen until a reload. Checked
        # after each answer too (which has just followed the index), outside the queue, so as never to wait behind
        # answers, and without Gradio's progress, which would flash on the status line and be announced as "Done.".
        shows_index = [status, council, committee, examples.dataset, index_shown]
        demo.load(index_now, index_shown, shows_index, api_visibility="private")
        gr.Timer(index_check_s).tick(index_now, index_shown, shows_index, api_visibility="private", queue=False,
                                     show_progress="hidden")
        asking.then(index_now, index_shown, shows_index, api_visibility="private", queue=False,
                    show_progress="hidden")

        gr.api(ask_api, api_name="ask")
    demo.handlers = handlers  # for tests and the launcher
    return demo


def _assistant_once_readable(settings, writer_at_start: bool, wait_s: float = 5.0) -> Assistant:
    """The Assistant of the index; while a writer at work leaves the index out of step (a run part way through, a
    reset), it is waited for, saying so, rather than the app exiting: a service restarted during the nightly fetch
    starts as soon as the index can be read."""
    from assistant.index.write_lock import writer_at_work

    waiting = False
    while True:
        try:
            assistant = Assistant(settings)
        except IndexStaleError:
            if not writer_at_work(settings):
                raise
            if not waiting:
                print(f"An ingest or fetch is writing to {settings.data_dir}, and the index cannot be read part way "
                      "through: the app starts as soon as it can be (Ctrl-C stops waiting).", flush=True)
                waiting = True
            time.sleep(wait_s)
            continue
        if writer_at_start and not waiting:
            print(f"An ingest or fetch is writing to {settings.data_dir}: the app answers from the index as it "
                  "stands, and follows the changes as they are finished.", flush=True)
        return assistant


def set_up_sign_in(demo, sign_in, lifetime_s: float) -> None:
    """Have every sign-in to the launched app kept under its user's own name (`sign_in.as_signed_in`) and ended
    `lifetime_s` after it was made (auth.ExpiringSessions), and its sign-in page titled, with a refusal that is read
    out (auth.SignInPageHead)."""
    from assistant.present.auth import ExpiringSessions, SignInPageHead

    server = demo.server_app
    server.tokens = ExpiringSessions(lifetime_s, server.tokens, name_of=sign_in.as_signed_in)
    # Launched, the app has answered Gradio's own start-up check, so Starlette has built its middleware and takes no
    # more: the wrapper goes round what it built (once: called again, it had put the head in twice).
    if not isinstance(server.middleware_stack, SignInPageHead):
        server.middleware_stack = SignInPageHead(server.middleware_stack or server.build_middleware_stack(),
                                                 SIGN_IN_PAGE_HEAD)


def own_site_only(demo) -> None:
    """Let no other web site read the launched app with a member's cookies (auth.OwnSiteOnly), sign-in or none."""
    from assistant.present.auth import OwnSiteOnly

    server = demo.server_app
    if not isinstance(server.middleware_stack, OwnSiteOnly):
        server.middleware_stack = OwnSiteOnly(server.middleware_stack or server.build_middleware_stack())


def private_files_folder() -> Path:
    """Where the app's exported briefings are written, and served from: a folder this user alone may read, removed
    when the app stops. Gradio copies a file it serves into its own folder (GRADIO_TEMP_DIR, /tmp/gradio by default,
    which every user of the machine may read, and which it never empties) unless the file is in that folder already:
    so, unless the operator chose that folder, it is made here, private, and the exports are kept inside it. Set
    before the app's components are made, which each note the folder."""
    chosen = os.environ.get("GRADIO_TEMP_DIR", "").strip()
    # In the system's temporary folder, which every account writes in, an app's folder is one this user made: a link
    # another account named like one would lead the removal into any folder holding a 'briefings'.
    _remove_exports_killed_apps_left(Path(chosen).glob("briefings-*") if chosen
                                     else (folder / "briefings" for folder
                                           in Path(tempfile.gettempdir()).glob("minutes-assistant-app-*")
                                           if _own_folder(folder)))
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        briefings = Path(tempfile.mkdtemp(prefix="briefings-", dir=chosen))  # private (0700), within the operator's
        atexit.register(shutil.rmtree, briefings, ignore_errors=True)
        return briefings
    private = Path(tempfile.mkdtemp(prefix="minutes-assistant-app-"))
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    os.environ["GRADIO_TEMP_DIR"] = str(private)
    briefings = private / "briefings"
    briefings.mkdir(mode=0o700)
    return briefings


def _remove_exports_killed_apps_left(folders: Iterable[Path]) -> None:
    """A killed app (SIGKILL, out of memory, the power lost) removes nothing as it stops: the briefings it exported
    stayed for good, beyond any retention period. Those over their hour are removed as the next app starts, as each
    app removes its own; an app running meanwhile keeps its exports for their hour, as it would itself."""
    for briefings in folders:
        if _own_folder(briefings):
            remove_old_exports(briefings)


def _own_folder(path: Path) -> bool:
    """Is the path a folder of this user's, itself and not through a link?"""
    try:
        return not path.is_symlink() and path.is_dir() and path.stat().st_uid == os.getuid()
    except OSError:
        return False


def _exit_on_terminate(signum, frame) -> None:
    print("stopped (SIGTERM): the app is closed", file=sys.stderr, flush=True)
    raise SystemExit(0)


def launch_app(settings, corpus: Path | None, port: int | None = None, prevent_thread_lock: bool = False):
    """Bring the index in line with corpus/ (with progress on the console), then serve the chat."""
    from assistant.ingest.run import ensure_index

    summary = ensure_index(settings, corpus) if corpus is not None else None
    writer_at_start = False
    if corpus is None:  # serve the index as it is, once its keyword index is brought up to date
        from assistant.errors import no_index_yet
        from assistant.ingest.run import Index, refresh_lexical

        if not settings.manifest_path.is_file():
            raise no_index_yet(settings.data_dir)
        index = Index(settings, reading=True)  # never makes a store: a reset may be making it anew
        try:
            refresh_lexical(index)
        except AssistantError:
            from assistant.index.write_lock import writer_at_work

            if not writer_at_work(settings):
                raise
            # A restart during the nightly fetch (a crash, an upgrade) had the app exit and stay down for as long as
            # the fetch ran: it serves as a running app does while a writer works, and follows what it writes.
            writer_at_start = True
        finally:
            index.close()
    if summary is not None:  # what `assistant ingest` would print, failures included, before the app starts
        print(summary.report(), flush=True)
    elif corpus is not None:
        print(f"There is no {corpus} folder: serving the index in {settings.data_dir} as it is.", flush=True)
    auth = None
    if settings.auth_file:
        from assistant.present.auth import SignIn, readable_by_others

        auth = SignIn(Path(settings.auth_file))
        if warning := readable_by_others(Path(settings.auth_file)):
            print(f"warning: {warning}", file=sys.stderr, flush=True)
    else:
        print("Notice: ASSISTANT_AUTH is not set, so the app is open to anyone who can reach it.", flush=True)
    assistant = _assistant_once_readable(settings, writer_at_start)
    # The app's console says when it starts answering from minutes an ingest or fetch has changed (an operator had
    # no way to tell whether the nightly fetch had been picked up).
    service_log = logging.getLogger("assistant.answer.service")
    if service_log.getEffectiveLevel() > logging.INFO:
        service_log.setLevel(logging.INFO)
    from assistant.present.audit import AuditLog

    # Every answer the app gives is audited: a log it cannot write stops it now, as it stops `ask`, rather than
    # after a member has an answer that no record keeps.
    new_log = not settings.audit_path.exists()
    try:
        AuditLog(settings.audit_path).close()
    except BaseException:
        assistant.close()
        raise
    # Named at start, and said when it is new: a mistyped ASSISTANT_AUDIT_PATH would otherwise start a second log,
    # in folders made for it, unseen until someone looks for an answer's record in the first.
    print(f"Audit log: {settings.audit_path}" + (" (a new log: none was there)" if new_log else ""), flush=True)
    endpoint = model_endpoint(settings)
    print(f"Answering mode: {answering_mode(assistant.mode)}" + (f", asked at {endpoint}" if endpoint else ""),
          flush=True)
    if endpoint:
        from assistant.answer.llm import model_server_problem

        if problem := model_server_problem(settings):
            print(f"warning: {problem}", file=sys.stderr, flush=True)
    demo = build_app(assistant, briefing_dir=private_files_folder(), sign_out=auth is not None, sign_in=auth)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=64)
    if hasattr(sys.stdout, "reconfigure"):  # Gradio prints "Running on ..." once: a log file should get it at once
        sys.stdout.reconfigure(line_buffering=True)
    # An empty GRADIO_SERVER_NAME would listen on every interface: it is taken as unset, for this machine only.
    server_name = os.environ.get("GRADIO_SERVER_NAME", "").strip() or "127.0.0.1"
    # Quiet: Gradio's own lines end by suggesting `share=True`, which would publish the app, sign-in or none, through
    # a tunnel program it downloads. Its "Running on" line is kept, with what to do next.
    # Never shared through Gradio's tunnel, whatever GRADIO_SHARE says: that would publish the app to the internet.
    # Run history is off: its routes are served without sign-in and may use the host's Hugging Face token.
    demo.launch(server_name=server_name, server_port=port, auth=auth.check_in_thread if auth is not None else None,
                auth_message=SIGN_IN_NOTE if auth is not None else None, prevent_thread_lock=True, show_error=False,
                quiet=True, share=False, footer_links=["api"],
                run_history=False, **page_options())
    if auth is not None:
        set_up_sign_in(demo, auth, settings.session_hours * 3600 or float("inf"))
    own_site_only(demo)
    print(f"* Running on local URL:  {demo.local_url.rstrip('/')}\n  Open it in a web browser; Ctrl-C stops the app.",
          flush=True)
    if prevent_thread_lock:
        return demo  # still serving: `close()` stops it
    if threading.current_thread() is threading.main_thread():
        import signal

        # As a service manager stops it (systemd, docker stop): an orderly exit, so that what runs at exit does (the
        # private folder of exported briefings is removed), where Python's own handling of SIGTERM ends at once.
        signal.signal(signal.SIGTERM, _exit_on_terminate)
    try:
        threading.Event().wait()  # served by Gradio's threads until Ctrl-C
    except (KeyboardInterrupt, SystemExit):
        demo.close()
        raise  # Ctrl-C: the CLI says "interrupted" and exits 130, as every command does
