from tests.present.test_browser import app_with_sign_in, chromium, CHROMIUM_ARGS

def test_probe(seed_index, minilm, tmp_path):
    from playwright.sync_api import sync_playwright
    with app_with_sign_in(seed_index, minilm, tmp_path) as url:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("button", name="Login").wait_for()
            print("TITLE", repr(page.title()), page.evaluate("document.documentElement.lang"))
            page.locator("input[type='text']").first.fill("alice")
            page.locator("input[type='password']").fill("wrong")
            page.locator("button:has-text('Login')").click()
            page.wait_for_timeout(2000)
            print(page.locator("form, .wrap, body").first.inner_html()[:100])
            html = page.content()
            i = html.find("Incorrect")
            print("AROUND", html[i-600:i+100])
            browser.close()
