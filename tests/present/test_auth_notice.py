"""The README says what the app does when ASSISTANT_AUTH is unset: it prints a notice as it starts (the log warning
the README still described was taken out, so as not to say it twice)."""

from __future__ import annotations

from conftest import ROOT

NOTICE = "Notice: ASSISTANT_AUTH is not set, so the app is open to anyone who can reach it."


def test_the_open_app_notice_is_printed_as_the_readme_says(fake_settings, tmp_path, capsys):
    from assistant.present.app import launch_app
    from corpus_factory import write_markdown_corpus

    from servers import free_port

    assert not fake_settings.auth_file
    write_markdown_corpus(tmp_path / "minutes", 1)
    app = launch_app(fake_settings, tmp_path / "minutes", port=free_port(), prevent_thread_lock=True)
    app.close()
    assert capsys.readouterr().out.count(NOTICE) == 1

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith("| `ASSISTANT_AUTH` |")]
    assert f"prints `{NOTICE}` on standard output" in row
    assert "the log says" not in row
