"""A whole trade through the pages, in two real browsers: a buyer and a seller, no JavaScript."""
import unittest
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from fiducia_browser import BrowserTestCase, make_driver


class TradeTest(BrowserTestCase):
    def seller_id_from(self, order_url):
        """The seller's id, read from the order page's link to the seller profile."""
        current = self.driver.current_url
        self.driver.get(order_url)
        link = self.driver.find_element(By.CSS_SELECTOR, 'a[href^="/merchants/"]').get_attribute("href")
        self.driver.get(current)
        return link.rstrip("/").split("/")[-1]

    def test_buyer_pays_into_escrow_seller_ships_buyer_confirms(self):
        tag = uuid.uuid4().hex[:6]
        seller_name = f"Tea Shop {tag}"
        seller_email = self.unique_email("seller")
        buyer_email = self.unique_email("buyer")

        # The seller signs up in their own browser.
        seller = make_driver()
        try:
            self.driver, buyer_driver = seller, self.driver
            self.sign_up(seller_name, seller_email, seller=True)
            self.driver = buyer_driver

            # The buyer signs up and orders from the seller.
            self.sign_up(f"Buyer {tag}", buyer_email)
            self.visit("/orders/new")
            Select(self.driver.find_element(By.ID, "sellerId")).select_by_visible_text(seller_name)
            self.fill("title", "Longjing green tea, 100 g")
            self.fill("quantity", "2")
            self.fill("unitPrice", "12.50")
            self.submit("/orders")
            self.wait.until(lambda d: "/orders/ord_" in d.current_url)
            order_url = self.driver.current_url.split("?")[0]
            text = self.text()
            self.assertIn("25.00 EUR", text)
            self.assertIn("About this seller", text)
            self.assertIn("This seller is new", text)
            self.assertIn("Credit score", text)
            self.assertIn("of 1000 (New)", text)
            self.assertIn("7-day no-reason returns", text)

            # A declined card changes nothing; a good card pays into escrow. The page offers the
            # sandbox's test cards as a hint; the card itself is what the buyer types.
            self.assertIn("Sandbox test cards", self.text())
            self.driver.find_element(By.CSS_SELECTOR, 'input[name="method"][value="card"]').click()
            self.fill("cardToken", "tok_declined")
            self.press('form[action$="/pay"] button')
            self.assertIn("The payment was declined", self.text())
            self.driver.get(order_url)
            self.driver.find_element(By.CSS_SELECTOR, 'input[name="method"][value="card"]').click()
            self.fill("cardToken", "tok_visa")
            self.press('form[action$="/pay"] button')
            self.assertIn("notice=paid", self.driver.current_url, self.text())
            self.assertIn("held in escrow until the buyer confirms receipt", self.text())

            # The seller sees the paid order and ships it.
            self.driver = seller
            self.visit("/seller")
            self.assertIn("Paid orders to ship", self.text())
            self.driver.get(order_url)
            self.fill("carrier", "SF Express")
            self.fill("trackingNumber", "SF1234567")
            self.press('form[action$="/ship"] button')
            self.assertIn("notice=shipped", self.driver.current_url)
            self.assertIn("SF1234567", self.text())

            # The buyer confirms receipt; the money goes to the seller.
            self.driver = buyer_driver
            self.driver.get(order_url)
            self.assertIn("completes on its own", self.text())
            self.press('form[action$="/confirm"] button')
            self.assertIn("notice=confirmed", self.driver.current_url)
            self.assertIn("The payment was released to the seller", self.text())

            self.driver = seller
            self.visit("/wallet")
            self.assertIn("24.50 EUR", self.text())  # 25.00 minus the 2% fee

            # Both rate. The buyer's rating stays hidden until the seller rates too.
            self.driver = buyer_driver
            self.driver.get(order_url)
            self.driver.find_element(By.CSS_SELECTOR, 'input[name="overall"][value="positive"]').click()
            Select(self.driver.find_element(By.ID, "shippingSpeed")).select_by_value("4")
            self.fill("comment", "Fragrant tea, well packed")
            self.press('form[action$="/rate"] button')
            self.assertIn("hidden until published", self.text())
            self.visit(f"/merchants/{self.seller_id_from(order_url)}")
            self.assertNotIn("Fragrant tea, well packed", self.text())

            self.driver = seller
            self.driver.get(order_url)
            self.assertNotIn("Fragrant tea", self.text())
            self.driver.find_element(By.CSS_SELECTOR, 'input[name="overall"][value="positive"]').click()
            self.fill("comment", "Paid at once")
            self.press('form[action$="/rate"] button')
            text = self.text()
            self.assertIn("Their rating of you: Positive", text)
            self.assertIn("Fragrant tea, well packed", text)

            # Published for everyone: the seller's public profile shows it, and the seller replies.
            self.driver = buyer_driver
            self.driver.get(order_url)
            self.assertIn("Paid at once", self.text())
            self.visit(f"/merchants/{self.seller_id_from(order_url)}")
            self.assertIn("Fragrant tea, well packed", self.text())
            self.assertIn("Why the score is", self.text())
        finally:
            self.driver = buyer_driver
            seller.quit()


if __name__ == "__main__":
    unittest.main()
