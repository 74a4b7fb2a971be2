"""A merchant shows buyers who is behind the shop, through the pages in three real browsers: they
verify their e-mail with the code from the mail, send their business licence to a moderator who
approves it after looking at the document, register their shop's address, and an independent
certifier seals them. The badge then says "certified" on the merchant's own shop and "not
verified for this site" on a copycat shop that pasted the same snippet."""
import os
import re
import subprocess
import tempfile
import threading
import uuid
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium.webdriver.common.by import By

from fiducia_browser import BASE_URL, BrowserTestCase, make_driver

DEMO_PASSWORD = "fiducia-demo"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def start_shop(html_for):
    """A shop on its own loopback origin, serving one page built from `html_for()`."""

    class Shop(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = html_for().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def code_from_outbox(email):
    """The verification code mailed to `email`, read from the outbox as an operator would."""
    output = subprocess.run([os.environ["FIDUCIA_BIN"], "outbox", "--limit", "200"], check=True, capture_output=True, text=True).stdout
    block = output.split(f"to {email}:", 1)[1]
    return re.search(r"is (\d{6})", block).group(1)


class IdentityTest(BrowserTestCase):
    def as_(self, driver):
        self.driver = driver

    def badge_text(self, shop_url):
        """Opens the shop and reads the badge its frame shows (the badge is an SVG from Fiducia)."""
        self.driver.get(shop_url)
        self.driver.switch_to.frame(self.driver.find_element(By.ID, "badge-frame"))
        source = self.driver.page_source
        self.driver.switch_to.default_content()
        return source

    def test_a_merchant_verifies_is_certified_and_shows_the_badge(self):
        tag = uuid.uuid4().hex[:6]
        shop_name = f"Jade Teas {tag}"
        email = self.unique_email("jade")
        merchant = self.driver
        moderator, certifier = make_driver(), make_driver()
        snippet = {"html": ""}
        page = lambda: f"<!doctype html><title>shop</title>{snippet['html']}" + (
            f'<iframe id="badge-frame" src="{snippet["src"]}" width="270" height="70"></iframe>' if "src" in snippet else "")
        shop, shop_origin = start_shop(page)
        copycat, copycat_origin = start_shop(page)
        licence = tempfile.NamedTemporaryFile(suffix=".pdf", delete=False)
        licence.write(PDF)
        licence.close()
        try:
            self.sign_up(shop_name, email, seller=True)
            self.press('a[href="/verifications"]')

            # E-mail: the code arrives by mail.
            self.submit_start("email")
            self.assertIn("We sent a code to", self.text())
            self.fill(self.driver.find_element(By.CSS_SELECTOR, 'input[name="code"]').get_attribute("id"), code_from_outbox(email))
            self.press('form[action$="/code"] button')
            self.wait_for_text("Verified")

            # Business: details, then the licence as a PDF, to a moderator.
            self.fill("business-companyName", f"Jade Teas {tag} Ltd")
            self.fill("business-licenceNumber", f"HRB {tag}")
            self.fill("business-taxRegistration", f"DE{tag}")
            self.submit_start("business")
            self.driver.find_element(By.CSS_SELECTOR, 'form[action$="/document"] input[type="file"]').send_keys(licence.name)
            self.press('form[action$="/document"] button')
            self.wait_for_text("With a moderator")

            # The moderator reviews it: details and document on the review page, the view logged.
            self.as_(moderator)
            self.log_in("admin@demo.fiducia.test", DEMO_PASSWORD)
            self.visit("/moderation/verifications")
            row = self.driver.find_element(By.XPATH, f'//tr[td[a[text()="{shop_name}"]]]')
            self.click_and_wait(row.find_element(By.LINK_TEXT, "Review"))
            self.assertIn(f"HRB {tag}", self.driver.find_element(By.ID, "review-details").text)
            self.assertTrue(self.driver.find_element(By.ID, "review-document").get_attribute("src").endswith("/document"))
            self.driver.refresh()  # the second look is logged as well
            self.assertGreaterEqual(len(self.driver.find_elements(By.CSS_SELECTOR, "#review-views li")), 1)
            self.driver.find_element(By.ID, "decision-approve").click()
            self.press('form[action$="/decision"] button')
            self.wait_for_text("Decision recorded")

            # The merchant registers the shop's address.
            self.as_(merchant)
            self.visit("/verifications")
            states = [cell.text for cell in self.driver.find_elements(By.CSS_SELECTOR, "tbody .status")]
            self.assertEqual(["Verified", "Verified"], states)
            self.fill("origins", shop_origin)
            self.submit("/verifications/origins")
            self.wait_for_text("Shop addresses saved")
            self.visit("/account")
            account_id = self.driver.find_element(By.CSS_SELECTOR, "dd code").text

            # An independent certifier audits and seals the shop.
            self.as_(certifier)
            self.log_in("audit@demo.fiducia.test", DEMO_PASSWORD)
            self.press('a[href="/certifier"]')
            self.fill("merchant", f"{BASE_URL}/merchants/{account_id}")
            self.fill("checks", "Owner's identity\nReturns honoured within 14 days")
            self.driver.execute_script(
                "document.getElementById('validUntil').value = arguments[0]", (date.today() + timedelta(days=180)).isoformat())
            self.submit("/certifier/seals")
            self.wait_for_text("Seal issued and signed")
            self.assertIn(shop_name, self.text())

            # The merchant copies the snippet onto the shop; the badge says certified there...
            self.as_(merchant)
            self.visit("/verifications")
            embed = self.driver.find_element(By.CSS_SELECTOR, 'textarea[id^="embed-"]').get_attribute("value")
            self.assertIn("/badge.svg", embed)
            snippet["html"] = embed
            snippet["src"] = re.search(r'src="([^"]+)"', embed).group(1)
            self.driver.get(shop_origin)
            self.assertTrue(self.driver.execute_script("return document.images[0].complete && document.images[0].naturalWidth > 0"))
            self.assertIn("Certified by Audit Guild", self.badge_text(shop_origin))

            # ...and "not verified for this site" on a shop that copied it.
            self.assertIn("Not verified for this site", self.badge_text(copycat_origin))

            # The badge links to the seal's page, which names the registered shop and the live status.
            self.driver.get(shop_origin)
            self.click_and_wait(self.driver.find_element(By.CSS_SELECTOR, "a img"))
            self.assertEqual("Valid", self.driver.find_element(By.ID, "seal-status").text)
            self.assertIn(shop_origin, self.driver.find_element(By.ID, "seal-origins").text)
            self.assertIn("Owner's identity", self.text())

            # The public profile shows the levels and the seal, never the licence behind them.
            self.visit(f"/merchants/{account_id}")
            profile = self.text()
            self.assertIn("Business", profile)
            self.assertIn("Audit Guild", profile)
            self.assertNotIn(f"HRB {tag}", profile)
        finally:
            for driver in (moderator, certifier):
                driver.quit()
            self.driver = merchant
            for server in (shop, copycat):
                server.shutdown()
                server.server_close()
            os.unlink(licence.name)

    def submit_start(self, level):
        self.press(f'#start-{level} button[type="submit"]')
