"""A whole dispute through the pages, in four real browsers (buyer, seller, two moderators), no JavaScript:
the buyer opens it with a photo, the seller stays silent, the buyer escalates, a moderator rules a
partial refund, the money moves, the seller is penalised and appeals, and a second moderator overturns."""
import base64
import os
import tempfile
import unittest
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from fiducia_browser import BrowserTestCase, make_driver

# A 1×1 PNG: the dispute's evidence photo.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
DEMO_PASSWORD = "fiducia-demo"


class DisputeTest(BrowserTestCase):
    def as_(self, driver):
        self.driver = driver

    def test_a_dispute_from_opening_to_an_overturned_appeal(self):
        tag = uuid.uuid4().hex[:6]
        seller_name = f"Leaf Shop {tag}"
        buyer = self.driver
        seller, moderator, reviewer = make_driver(), make_driver(), make_driver()
        photo = tempfile.NamedTemporaryFile(suffix=".png", delete=False)
        photo.write(PNG)
        photo.close()
        try:
            self.as_(seller)
            self.sign_up(seller_name, self.unique_email("seller"), seller=True)
            self.as_(buyer)
            self.sign_up(f"Buyer {tag}", self.unique_email("buyer"))
            self.visit("/orders/new")
            Select(self.driver.find_element(By.ID, "sellerId")).select_by_visible_text(seller_name)
            self.fill("title", "Black tea, 250 g")
            self.fill("quantity", "1")
            self.fill("unitPrice", "25.00")
            self.submit("/orders")
            self.wait.until(lambda d: "/orders/ord_" in d.current_url)
            order_url = self.driver.current_url.split("?")[0]
            order_path = order_url[order_url.index("/orders/"):]
            self.driver.find_element(By.CSS_SELECTOR, 'input[name="method"][value="card"]').click()
            self.fill("cardToken", "tok_visa")
            self.press('form[action$="/pay"] button')

            self.as_(seller)
            self.driver.get(order_url)
            self.fill("carrier", "DHL")
            self.fill("trackingNumber", "JJD000123")
            self.press('form[action$="/ship"] button')
            seller_id = self.driver.find_element(By.CSS_SELECTOR, 'a[href^="/merchants/"]').get_attribute("href").rstrip("/").split("/")[-1]

            # The buyer opens a dispute from the order page, with a photo.
            self.as_(buyer)
            self.driver.get(order_url)
            self.driver.find_element(By.CSS_SELECTOR, "#open-dispute summary").click()
            Select(self.driver.find_element(By.ID, "dispute-reason")).select_by_value("notAsDescribed")
            self.fill("dispute-description", "Green tea arrived; the listing said black tea.")
            self.driver.find_element(By.ID, "dispute-files").send_keys(photo.name)
            self.press("#open-dispute-button")
            self.wait_for_path("/disputes/dsp_")
            dispute_path = self.driver.current_url.split("?")[0][self.driver.current_url.index("/disputes/"):]
            text = self.text()
            self.assertIn("Waiting for the seller", text)
            self.assertIn("left", text)  # the seller's deadline counting down
            self.assertIn("If the seller does not answer by then, the buyer is refunded.", text)
            self.assertIn(os.path.basename(photo.name), text)

            # The seller stays silent; the buyer asks a moderator.
            self.press("#escalate")
            self.assertIn("With a moderator", self.text())

            # A moderator takes it from the queue, sees both records, and rules a partial refund.
            self.as_(moderator)
            self.log_in("admin@demo.fiducia.test", DEMO_PASSWORD)
            self.visit("/moderation")
            self.driver.find_element(By.CSS_SELECTOR, f'#dispute-queue a[href="{dispute_path}"]').click()
            self.wait_for_path(dispute_path)
            self.press("#take")
            text = self.text()
            self.assertIn("Both parties' records", text)
            self.assertIn("Green tea arrived", text)
            self.fill("rule-amount", "10.00")
            self.fill("rule-reasons", "The photo shows green tea; the listing said black. A partial refund: the tea is usable.")
            self.press("#rule-form button")
            text = self.text()
            self.assertIn("Resolved", text)
            self.assertIn("10.00 EUR refunded to the buyer", text)

            # The money moved: 10.00 back to the buyer's card, the rest released to the seller
            # (15.00 less the 2% fee).
            self.as_(buyer)
            self.driver.get(order_url)
            self.assertIn("Completed", self.text())
            self.as_(seller)
            self.visit("/wallet")
            self.assertIn("14.70 EUR", self.text())

            # The lost dispute is on the seller's public record; the seller appeals it.
            self.visit(f"/merchants/{seller_id}")
            self.assertIn("Dispute lost", self.text())
            self.fill(self.driver.find_element(By.CSS_SELECTOR, 'textarea[name="statement"]').get_attribute("id"),
                      "The listing photo showed green leaves; the title was a typo.")
            self.press('form[action^="/penalties/"] button')
            self.assertIn("Appeal filed", self.text())

            # A second moderator, not the one who ruled, overturns it.
            self.as_(reviewer)
            self.log_in("mia@demo.fiducia.test", DEMO_PASSWORD)
            self.visit("/moderation")
            appeal = next(element for element in self.driver.find_elements(By.CSS_SELECTOR, ".appeal") if seller_name in element.text)
            appeal.find_element(By.CSS_SELECTOR, 'input[name="outcome"][value="overturned"]').click()
            reasons = appeal.find_element(By.CSS_SELECTOR, 'input[name="reasons"]')
            reasons.send_keys("The listing's photo matches what arrived.")
            self.click_and_wait(appeal.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
            self.assertIn("Appeal decided", self.text())

            self.visit(f"/merchants/{seller_id}")
            text = self.text()
            self.assertIn("overturned on appeal", text)
            self.assertIn("In good standing", text)
        finally:
            self.as_(buyer)
            for driver in (seller, moderator, reviewer):
                driver.quit()
            os.unlink(photo.name)


if __name__ == "__main__":
    unittest.main()
